/**
 * Two builds side by side, in turns (A B, then B A, ...), so that a load that
 * comes and goes on a shared machine falls on both alike: the dump scan
 * (each checkout's bench/child.mjs on the data `npm run bench` generates) and,
 * with `--whole`, the whole run at real size against `wc -l`.
 *
 *   node --import tsx bench/ab.ts --against DIR [--rounds 9] [--no-scan] [--whole --database-url URL]
 *
 * DIR is another checkout with its dist/ built, for instance the branch's base:
 *   git archive BASE | tar -x -C DIR && ln -s "$PWD/node_modules" DIR/ && (cd DIR && npx tsc -p tsconfig.json)
 * Each case prints, per build, the best and the median time, the median CPU
 * and the peak RSS, and the median of the per-round ratios (this build over
 * DIR's); writes bench/results/ab-*.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { textTable } from '../src/format.js';
import { ensureCsv, REAL_ROWS } from './generate-csv.js';
import { cirrusKeysFile, ensureDump, keysFile } from './generate.js';
import { flag, median } from './args.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(HERE, 'data');
const RESULTS = path.join(HERE, 'results');


interface Run {
  ms: number;
  cpuMs: number;
  rss: number;
  /** what the run found: the same for both builds, or something is wrong */
  found: string;
  /** the whole run's dump scan (its report's timings_ms.abstracts) */
  scanMs?: number;
}

const against = path.resolve(flag('against', ''));
if (!existsSync(path.join(against, 'dist', 'main.js'))) {
  console.error('bench/ab.ts: --against DIR must be a checkout with its dist/ built');
  process.exit(2);
}
const BUILDS = { this: path.join(HERE, '..'), against };
type Build = keyof typeof BUILDS;
const rounds = Number(flag('rounds', '9'));

function scan(build: Build, args: string[], env: Record<string, string> = {}): Run {
  const out = execFileSync(process.execPath, [path.join(BUILDS[build], 'bench', 'child.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const m = JSON.parse(out.trim().split('\n').pop()!) as { ms: number; cpuMs: number; rss: number; docs: number; found: number; imdb: number };
  return { ms: m.ms, cpuMs: m.cpuMs, rss: m.rss, found: `${m.docs} docs, ${m.found} pages, ${m.imdb} IMDb links` };
}

function whole(build: Build, csv: string, dump: string, databaseUrl: string): Run {
  const report = path.join(os.tmpdir(), `truefilm-ab-report-${process.pid}.json`);
  const times = path.join(os.tmpdir(), `truefilm-ab-time-${process.pid}.txt`);
  const args = ['run', '--metadata', csv, '--abstracts', dump, '--threads', '2', '--offline', '--no-progress', '--database-url', databaseUrl, '--report', report];
  try {
    const t = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', times, process.execPath, path.join(BUILDS[build], 'dist', 'main.js'), ...args], { encoding: 'utf8' });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`the run failed: ${r.stderr}`);
    const [kb, user, sys] = readFileSync(times, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    const { abstracts, timings_ms: timings } = JSON.parse(readFileSync(report, 'utf8')) as { abstracts: { docs: number }; timings_ms: Record<string, number> };
    return { ms, cpuMs: (user! + sys!) * 1000, rss: kb! * 1024, found: `${abstracts.docs} docs`, scanMs: timings.abstracts };
  } finally {
    rmSync(report, { force: true });
    rmSync(times, { force: true });
  }
}

function wc(file: string): Run {
  const t = performance.now();
  const r = spawnSync('wc', ['-l', file]);
  if (r.status !== 0) throw new Error('wc failed');
  return { ms: performance.now() - t, cpuMs: NaN, rss: NaN, found: '' };
}

/** Each case run `rounds` times for each build, in turns. */
function inTurns(cases: Record<string, (build: Build) => Run>, yardstick?: () => Run): Record<string, Record<Build | 'yardstick', Run[]>> {
  const all: Record<string, Record<Build | 'yardstick', Run[]>> = {};
  for (let i = 0; i < rounds; i++) {
    for (const [name, run] of Object.entries(cases)) {
      const entry = (all[name] ??= { this: [], against: [], yardstick: [] });
      if (yardstick) entry.yardstick.push(yardstick());
      for (const build of (i % 2 ? ['this', 'against'] : ['against', 'this']) as Build[]) entry[build].push(run(build));
    }
    console.error(`round ${i + 1} of ${rounds}, load average ${os.loadavg()[0]!.toFixed(2)}`);
  }
  return all;
}

function print(all: Record<string, Record<Build | 'yardstick', Run[]>>): void {
  const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
  const rows: string[][] = [];
  for (const [name, runs] of Object.entries(all)) {
    for (const build of ['against', 'this'] as Build[]) {
      const list = runs[build];
      const ms = list.map((r) => r.ms);
      const scanMs = list.filter((r) => r.scanMs !== undefined).map((r) => r.scanMs!);
      const found = [...new Set(list.map((r) => r.found))].join(' | ') + (scanMs.length > 0 ? `; the scan ${fmt(Math.min(...scanMs))} / ${fmt(median(scanMs))} ms` : '');
      rows.push([name, build === 'this' ? 'this' : path.basename(against), fmt(Math.min(...ms)), fmt(median(ms)), fmt(median(list.map((r) => r.cpuMs))), fmt(Math.max(...list.map((r) => r.rss)) / 1e6), found]);
    }
    const ratios = runs.this.map((r, i) => r.ms / runs.against[i]!.ms);
    const yard = runs.yardstick.length > 0 ? `; wc -l ${fmt(Math.min(...runs.yardstick.map((r) => r.ms)))} / ${fmt(median(runs.yardstick.map((r) => r.ms)))} ms` : '';
    rows.push(['', 'this / it', '', `${median(ratios).toFixed(3)}×`, '', '', `per round ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}${yard}`]);
  }
  console.log(textTable(['case', 'build', 'best (ms)', 'median (ms)', 'CPU (ms)', 'peak RSS (MB)', 'found'], rows, 'llrrrrl'));
}

mkdirSync(RESULTS, { recursive: true });
const loadBefore = os.loadavg()[0]!;
const results: Record<string, unknown> = {};
if (!process.argv.includes('--no-scan')) {
  const xml = path.join(DATA, 'dump-1g-seed1.xml');
  const json = path.join(DATA, 'cirrus-1g-seed1.json');
  await ensureDump(xml, 1 << 30, { seed: 1 });
  await ensureDump(json, 1 << 30, { seed: 1, format: 'cirrus' });
  const gz = `${xml}.gz`;
  execFileSync('sh', ['-c', `cat "${xml}" "${json}" ${existsSync(gz) ? `"${gz}"` : ''} > /dev/null`]);
  const keys = keysFile(DATA, 1, Number(JSON.parse(execFileSync(process.execPath, [path.join(HERE, 'child.mjs'), 'scan', keysFile(DATA, 1, 1), '1', xml], { encoding: 'utf8' }).trim().split('\n').pop()!).docs));
  const ckeys = cirrusKeysFile(DATA, 1, Number(JSON.parse(execFileSync(process.execPath, [path.join(HERE, 'child.mjs'), 'scan', keysFile(DATA, 1, 1), '1', json], { encoding: 'utf8' }).trim().split('\n').pop()!).docs));
  const cases: Record<string, (build: Build) => Run> = {
    'scan .xml, 2 threads': (b) => scan(b, ['scan', keys, '2', xml]),
    'scan .xml, 1 thread': (b) => scan(b, ['scan', keys, '1', xml]),
    'scan .xml, half the keys 0.3 s late': (b) => scan(b, ['late', keys, '2', '300', xml]),
    'scan .xml, TRUEFILM_SCAN_SIMD=0': (b) => scan(b, ['scan', keys, '2', xml], { TRUEFILM_SCAN_SIMD: '0' }),
    'scan CirrusSearch .json, 2 threads': (b) => scan(b, ['scan', ckeys, '2', json]),
  };
  if (existsSync(gz)) cases['scan .xml.gz, 2 threads'] = (b) => scan(b, ['scan', keys, '2', gz]);
  const all = inTurns(cases);
  print(all);
  results.scan = all;
}
if (process.argv.includes('--whole')) {
  const databaseUrl = flag('database-url', process.env.DATABASE_URL ?? '');
  if (!databaseUrl) throw new Error('--whole needs a local database made for it (--database-url URL)');
  const csv = path.join(DATA, `movies-${REAL_ROWS}-seed1.csv`);
  const dump = path.join(DATA, 'dump-7g-seed1.xml');
  await ensureCsv(csv);
  await ensureDump(dump, 7 * 2 ** 30, { seed: 1 });
  execFileSync('sh', ['-c', `cat "${dump}" > /dev/null`]);
  const all = inTurns({ 'whole run, 7 GiB dump': (b) => whole(b, csv, dump, databaseUrl) }, () => wc(dump));
  print(all);
  results.whole = all;
}
const loadAfter = os.loadavg()[0]!;
console.log(`load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after; ${os.cpus()[0]?.model ?? ''}, ${os.availableParallelism()} cores, Node ${process.version}`);
const out = path.join(RESULTS, `ab-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), against, rounds, load_average_before: loadBefore, load_average_after: loadAfter, ...results }, null, 2) + '\n');
console.log(`written: ${path.relative(process.cwd(), out)}`);
