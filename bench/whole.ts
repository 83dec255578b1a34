/**
 * The whole-run case of `npm run bench`: the whole `truefilm run` process at
 * real size, against yardsticks measured in the same run, in turns.
 *
 *   - the movies CSV at the real file's size (bench/generate-csv.ts: the real
 *     first 4,994 rows repeated to 45,466 with new ids, 37.7 MB);
 *   - a generated abstract dump (bench/generate.ts) of `size` (7G: 7.5 GB,
 *     the real English dump's size), in the page cache;
 *   - `node dist/main.js run --metadata CSV --abstracts DUMP --threads 2
 *     --offline --no-progress --database-url URL --report ...`, timed from
 *     outside (spawn to exit), peak RSS from /usr/bin/time;
 *   - `wc -l` on the same dump (the memory-speed yardstick);
 *   - `node -e 0` against `node dist/main.js --version` and `--help`;
 *   - Python's iterparse (bench/iterparse.py) on a slice of the same dump,
 *     the better of two runs, scaled to the dump's size (it runs at 50-85
 *     MB/s: about two minutes on 7.5 GB), or once on the whole dump with
 *     `--iterparse-full`.
 *
 * The run loads into the database at `--database-url` (or DATABASE_URL): a
 * local one, made for the benchmark; without one the case is skipped (the
 * embedded server would add its start and stop to every run).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { maskUrl, textTable } from '../src/format.js';
import { ensureCsv, REAL_ROWS } from './generate-csv.js';
import { ensureDump } from './generate.js';
import { median } from './args.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..');
const DATA = path.join(HERE, 'data');
const MAIN = path.join(ROOT, 'dist', 'main.js');
const TIME = '/usr/bin/time';

export interface WholeOptions {
  /** the dump's size, as bench/run.ts's --size takes it: 7G */
  size: string;
  bytes: number;
  runs: number;
  databaseUrl: string;
  threads: number;
  /** bytes of the dump Python's iterparse reads (scaled to the whole); 0: the whole dump */
  iterparseSlice: number;
}

export interface Timing {
  min: number;
  median: number;
  all: number[];
}

export interface WholeResult {
  csv: { name: string; bytes: number; rows: number };
  dump: { name: string; bytes: number };
  command: string;
  whole: Timing & { peak_rss_mb: number; cpu_ms: number; stages_ms: Record<string, number> };
  wc: Timing;
  node: Timing;
  version: Timing;
  help: Timing;
  iterparse: { ms: number; slice_bytes: number; scaled_ms: number; docs: number; scaled: boolean; all: number[] };
  ratios: { whole_vs_wc_min: number; whole_vs_wc_median: number; iterparse_vs_whole: number; version_vs_node: number; help_vs_node: number };
  targets: { name: string; value: number; unit: string; met: boolean }[];
}

const timing = (all: number[]): Timing => ({ min: Math.min(...all), median: median(all), all: all.map((x) => Math.round(x)) });

/** Wall time of a command, spawn to exit. */
function timed(command: string, args: string[]): number {
  const t = performance.now();
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

/** The first `bytes` of the dump, cut after its last whole doc, closed: Python parses that. */
function slice(dump: string, bytes: number): string {
  const out = dump.replace(/\.xml$/, `-slice${Math.round(bytes / 2 ** 20)}m.xml`);
  if (!existsSync(out)) {
    const buf = Buffer.alloc(bytes);
    const fd = openSync(dump, 'r');
    const n = readSync(fd, buf, 0, bytes, 0);
    closeSync(fd);
    const end = buf.subarray(0, n).lastIndexOf('</doc>\n');
    writeFileSync(out, Buffer.concat([buf.subarray(0, end + '</doc>\n'.length), Buffer.from('</feed>\n')]));
  }
  return out;
}

export async function measureWholeRun(o: WholeOptions): Promise<WholeResult> {
  const csv = path.join(DATA, `movies-${REAL_ROWS}-seed1.csv`);
  await ensureCsv(csv);
  const dump = path.join(DATA, `dump-${o.size.toLowerCase()}-seed1.xml`);
  if (!existsSync(dump)) console.error(`generating ${path.basename(dump)} (once; a few minutes for 7.5 GB)...`);
  await ensureDump(dump, o.bytes, { seed: 1 });
  const dumpBytes = statSync(dump).size;
  const pySource = o.iterparseSlice > 0 && o.iterparseSlice < dumpBytes ? slice(dump, o.iterparseSlice) : dump;
  // warm the page cache
  spawnSync('sh', ['-c', `cat "${dump}" "${csv}" > /dev/null`]);

  const report = path.join(os.tmpdir(), `truefilm-bench-report-${process.pid}.json`);
  const timeOut = path.join(os.tmpdir(), `truefilm-bench-time-${process.pid}.txt`);
  const runArgs = ['run', '--metadata', csv, '--abstracts', dump, '--threads', String(o.threads), '--offline', '--no-progress', '--database-url', o.databaseUrl, '--report', report];
  const hasTime = existsSync(TIME);
  const whole: number[] = [];
  const rss: number[] = [];
  const cpu: number[] = [];
  const stages: Record<string, number[]> = {};
  const wc: number[] = [];
  const node: number[] = [];
  const version: number[] = [];
  const help: number[] = [];
  console.error(`whole run: ${o.runs} runs of each, in turns (wc -l, the run, node -e 0, --version, --help)...`);
  try {
    for (let i = 0; i < o.runs; i++) {
      wc.push(timed('wc', ['-l', dump]));
      whole.push(hasTime ? timed(TIME, ['-f', '%M %U %S', '-o', timeOut, process.execPath, MAIN, ...runArgs]) : timed(process.execPath, [MAIN, ...runArgs]));
      if (hasTime) {
        const [kb, user, sys] = readFileSync(timeOut, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        rss.push(kb! * 1024);
        cpu.push((user! + sys!) * 1000);
      }
      const timings = (JSON.parse(readFileSync(report, 'utf8')) as { timings_ms: Record<string, number> }).timings_ms;
      for (const [stage, ms] of Object.entries(timings)) (stages[stage] ??= []).push(ms);
      // the start-up yardsticks are quick: several of each per round
      for (let j = 0; j < 3; j++) {
        node.push(timed(process.execPath, ['-e', '0']));
        version.push(timed(process.execPath, [MAIN, '--version']));
        help.push(timed(process.execPath, [MAIN, '--help']));
      }
    }
  } finally {
    rmSync(report, { force: true });
    rmSync(timeOut, { force: true });
  }

  console.error(`Python iterparse on ${pySource === dump ? 'the whole dump' : `the first ${(statSync(pySource).size / 1e6).toFixed(0)} MB of it`}, twice...`);
  // the better of two runs: one run is at the mercy of whatever else the machine does meanwhile
  const pyRuns: { ms: number; docs: number; bytes: number }[] = [];
  for (let i = 0; i < (pySource === dump ? 1 : 2); i++) {
    const py = spawnSync('python3', [path.join(HERE, 'iterparse.py'), pySource], { encoding: 'utf8' });
    if (py.status !== 0) throw new Error(`iterparse failed: ${py.stderr}`);
    pyRuns.push(JSON.parse(py.stdout.trim()) as { ms: number; docs: number; bytes: number });
  }
  const pyResult = pyRuns.reduce((a, b) => (b.ms < a.ms ? b : a));
  const iterparse = { ms: pyResult.ms, slice_bytes: pyResult.bytes, scaled_ms: pyResult.ms * (dumpBytes / pyResult.bytes), docs: pyResult.docs, scaled: pySource !== dump, all: pyRuns.map((r) => Math.round(r.ms)) };

  const w = { ...timing(whole), peak_rss_mb: rss.length ? Math.max(...rss) / 1e6 : NaN, cpu_ms: cpu.length ? median(cpu) : NaN, stages_ms: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, median(v)])) };
  const t = { wc: timing(wc), node: timing(node), version: timing(version), help: timing(help) };
  const ratios = {
    whole_vs_wc_min: w.min / t.wc.min,
    whole_vs_wc_median: w.median / t.wc.median,
    iterparse_vs_whole: iterparse.scaled_ms / w.median,
    version_vs_node: t.version.median / t.node.median,
    help_vs_node: t.help.median / t.node.median,
  };
  return {
    csv: { name: path.basename(csv), bytes: statSync(csv).size, rows: REAL_ROWS },
    dump: { name: path.basename(dump), bytes: dumpBytes },
    command: `node dist/main.js ${runArgs.slice(0, -2).join(' ').replace(csv, path.relative(ROOT, csv)).replace(dump, path.relative(ROOT, dump)).replace(o.databaseUrl, maskUrl(o.databaseUrl))}`,
    whole: w,
    ...t,
    iterparse,
    ratios,
    targets: [
      { name: 'whole run <= 2.1x wc -l (medians)', value: ratios.whole_vs_wc_median, unit: '×', met: ratios.whole_vs_wc_median <= 2.1 },
      { name: 'whole run >= 80x faster than iterparse', value: ratios.iterparse_vs_whole, unit: '×', met: ratios.iterparse_vs_whole >= 80 },
      { name: '--version <= 1.5x node -e 0 (medians)', value: ratios.version_vs_node, unit: '×', met: ratios.version_vs_node <= 1.5 },
      { name: '--help <= 1.5x node -e 0 (medians)', value: ratios.help_vs_node, unit: '×', met: ratios.help_vs_node <= 1.5 },
      { name: 'peak RSS <= 200 MB', value: w.peak_rss_mb, unit: 'MB', met: w.peak_rss_mb <= 200 },
    ],
  };
}

export function printWholeRun(r: WholeResult): void {
  const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');
  const row = (label: string, m: Timing, extra = ''): string[] => [label, fmt(m.min), fmt(m.median), m.all.join(' '), extra];
  console.log(`\nwhole run: ${r.csv.name} (${fmt(r.csv.bytes / 1e6, 1)} MB, ${fmt(r.csv.rows)} rows) and ${r.dump.name} (${fmt(r.dump.bytes / 1e9, 2)} GB)`);
  console.log(`  ${r.command}`);
  console.log(
    textTable(
      ['measure', 'min (ms)', 'median (ms)', 'runs (ms)', ''],
      [
        row('wc -l on the dump (yardstick)', r.wc, `${fmt(r.dump.bytes / 1e6 / (r.wc.median / 1000))} MB/s`),
        row('truefilm run, whole process', r.whole, `peak RSS ${fmt(r.whole.peak_rss_mb)} MB, CPU ${fmt(r.whole.cpu_ms)} ms`),
        row('node -e 0', r.node),
        row('truefilm --version', r.version),
        row('truefilm --help', r.help),
      ],
      'lrrll',
    ),
  );
  console.log(`stages (medians, ms): ${Object.entries(r.whole.stages_ms).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
  console.log(
    `Python iterparse: ${fmt(r.iterparse.ms)} ms on ${fmt(r.iterparse.slice_bytes / 1e6)} MB (${fmt(r.iterparse.docs)} docs; runs ${r.iterparse.all.join(' ')} ms)` +
      (r.iterparse.scaled ? `, ${fmt(r.iterparse.scaled_ms / 1000, 1)} s scaled to the whole dump` : ''),
  );
  console.log(
    `ratios: whole / wc -l ${fmt(r.ratios.whole_vs_wc_median, 2)}× (medians; mins ${fmt(r.ratios.whole_vs_wc_min, 2)}×), iterparse / whole ${fmt(r.ratios.iterparse_vs_whole)}×, ` +
      `--version / node -e 0 ${fmt(r.ratios.version_vs_node, 2)}×, --help / node -e 0 ${fmt(r.ratios.help_vs_node, 2)}×`,
  );
  console.log('\n' + textTable(['target', 'measured', 'met'], r.targets.map((t) => [t.name, `${fmt(t.value, 2)} ${t.unit}`, t.met ? 'yes' : 'NO']), 'lrl'));
}
