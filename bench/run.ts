/**
 * `npm run bench`: the dump scan on one generated 1 GiB dump in page cache.
 *
 * Measures, each in a fresh process running the built code (bench/child.mjs):
 * our scan at 1 thread and at every thread (also with half the wanted keys
 * arriving while it runs), the same on the .gz, Node's zlib
 * inflating the .gz and nothing else, a single-thread full sax parse (the
 * naive baseline), and `wc -l` (the memory-speed yardstick). Prints MB/s,
 * ratios, peak RSS and the scan's targets; writes bench/results/*.json.
 *
 * The scan is also measured with the WebAssembly SIMD finder turned off
 * (TRUEFILM_SCAN_SIMD=0: Buffer.indexOf and the fast path in JS, the
 * fallback), in turns with the default (A B A B ...), so that a load that
 * comes and goes on the machine falls on each alike.
 *
 * Then the same scan on a CirrusSearch dump of the same size (bench/generate.ts
 * --format cirrus): .json at 1 thread and at every thread, .json.gz, and
 * .json.bz2 beside the system's bzip2 decompressing alone (one run each: bzip2
 * is slow; `--no-bz2` skips them, `--no-cirrus` skips the whole part).
 *
 * First, the whole run at real size (bench/whole.ts): the whole `truefilm run`
 * process on a 45,466-row CSV and a 7.5 GB dump, against `wc -l` on the same
 * dump, `node -e 0` against `--version` and `--help`, and Python's iterparse,
 * in the same run; it needs a local database (`--database-url` or
 * DATABASE_URL), `--no-whole` skips it, `--only-whole` runs nothing else.
 *
 * Then the online run with no dump (bench/online.ts): the real first 4,994
 * rows, --top 1000, against SPARQL and Action API test servers answering
 * after 150 ms (`--online-delay MS`): the run's time, the requests, and the
 * floor those requests set; `--no-online` skips it, `--only-online` runs
 * nothing else (the embedded PostgreSQL without a database URL).
 *
 * Then what hostile endpoints and caches cost (bench/hostile.ts): the whole
 * run's peak RSS and time, top 1000 online, against servers that send a gzip
 * bomb, 500 MB bodies, bodies that never end, huge extracts, and beside caches
 * of 500 MB and just under the 8 MiB limit; the goal is a peak RSS of at most
 * 300 MB in every case; `--no-hostile` skips it, `--only-hostile` runs nothing
 * else (the embedded PostgreSQL without a database URL).
 *
 * Before all, the swap under load (bench/swap.ts): `wrk -c50` on the dashboard's
 * /api/films?limit=50 while 20 runs replace the load; the goal is 0 errors, 0
 * empty answers and 0 answers mixing two loads (Debian's wrk is installed when
 * missing); `--no-swap` skips it, `--only-swap` runs nothing else.
 *
 *   npm run bench -- [--size 1G] [--runs 5] [--no-sax] [--rss-size 4G] [--no-cirrus] [--no-bz2]
 *                    [--no-whole | --only-whole] [--whole-size 7G] [--database-url URL] [--iterparse-slice 512M | --iterparse-full]
 *                    [--no-online | --only-online] [--online-delay 150] [--no-swap | --only-swap] [--swaps 20]
 *                    [--no-dashboard | --only-dashboard] [--dashboard-films 1000,88128] [--dashboard-duration 15s]
 *                    [--no-hostile | --only-hostile]
 *
 * Then the dashboard under load (bench/dashboard.ts): `wrk -t2 -c50 -d15s` on each
 * API endpoint beside the static page, at 1,000 and 88,128 generated films; the
 * goal is each endpoint at a tenth of the page's req/s or more, p99 <= 100 ms, 0
 * errors. `--no-dashboard` skips it, `--only-dashboard` runs nothing else
 * (`--dashboard-films 1000,88128`, `--dashboard-duration 15s`).
 *
 * Generated files stay in bench/data/ (git-ignored) and are reused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { textTable } from '../src/format.js';
import { cirrusKeysFile as cirrusKeysIn, ensureDump, keysFile as keysIn } from './generate.js';
import { benchDashboard, dashboardGoalMet, printDashboard } from './dashboard.js';
import { benchHostile, printHostile } from './hostile.js';
import { benchOnline, printOnline } from './online.js';
import { benchSwap, printSwap } from './swap.js';
import { measureWholeRun, printWholeRun, type WholeResult } from './whole.js';
import { flag } from './args.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.join(HERE, 'data');
const RESULTS = path.join(HERE, 'results');
const SEED = 1;
const keysFile = (docs: number): string => keysIn(DATA, SEED, docs);
const cirrusKeysFile = (docs: number): string => cirrusKeysIn(DATA, SEED, docs);


function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(text);
  if (!m) throw new Error(`bad size ${text}`);
  return Math.round(Number(m[1]) * { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G']);
}

interface Measure {
  ms: number;
  /** how the workers found docs: 'simd' (the default) or 'indexOf' */
  finder?: string;
  cpuMs: number;
  rss: number;
  bytes?: number;
  docs?: number;
  found?: number;
  imdb?: number;
  rescannedBytes?: number;
}

function child(args: string[], env: Record<string, string> = {}): Measure {
  const out = execFileSync(process.execPath, [path.join(HERE, 'child.mjs'), ...args], { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, ...env } });
  return JSON.parse(out.trim().split('\n').pop()!) as Measure;
}

/** the fastest of some runs (the machine may be shared: the best run is the one least disturbed) */
function bestOf(all: Measure[]): Measure & { all: number[] } {
  const top = all.reduce((a, b) => (b.ms < a.ms ? b : a));
  return { ...top, rss: Math.max(...all.map((m) => m.rss)), all: all.map((m) => Math.round(m.ms)) };
}

function best(runs: number, args: string[], env: Record<string, string> = {}): Measure & { all: number[] } {
  const all: Measure[] = [];
  for (let i = 0; i < runs; i++) all.push(child(args, env));
  return bestOf(all);
}

/** Several measures taken in turns, `runs` rounds of each (A B C A B C ...); the best of each. */
function inTurns(runs: number, measures: Record<string, { args: string[]; env?: Record<string, string> }>): Record<string, Measure & { all: number[] }> {
  const all = new Map<string, Measure[]>(Object.keys(measures).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) for (const [key, m] of Object.entries(measures)) all.get(key)!.push(child(m.args, m.env));
  return Object.fromEntries([...all].map(([key, list]) => [key, bestOf(list)]));
}

function wc(file: string, runs: number): Measure & { all: number[] } {
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync('wc', ['-l', file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`wc failed: ${r.stderr}`);
    all.push(performance.now() - t);
  }
  return { ms: Math.min(...all), cpuMs: NaN, rss: NaN, all: all.map(Math.round) };
}

async function gzipped(file: string): Promise<string> {
  const gz = `${file}.gz`;
  if (!existsSync(gz)) {
    console.error(`compressing ${path.basename(file)} (once)...`);
    const r = spawnSync('sh', ['-c', `gzip -6 -c "${file}" > "${gz}.tmp" && mv "${gz}.tmp" "${gz}"`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('gzip failed');
  }
  return gz;
}

async function bzipped(file: string): Promise<string> {
  const bz = `${file}.bz2`;
  if (!existsSync(bz)) {
    console.error(`compressing ${path.basename(file)} with bzip2 (once, a few minutes)...`);
    const r = spawnSync('sh', ['-c', `bzip2 -9 -c "${file}" > "${bz}.tmp" && mv "${bz}.tmp" "${bz}"`], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bzip2 failed');
  }
  return bz;
}

/** `command` run on `file`, output to /dev/null: the decompressor alone */
function alone(command: string, file: string, runs: number): Measure & { all: number[] } {
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync('sh', ['-c', `${command} < "${file}" > /dev/null`]);
    if (r.status !== 0) throw new Error(`${command} failed`);
    all.push(performance.now() - t);
  }
  return { ms: Math.min(...all), cpuMs: NaN, rss: NaN, all: all.map(Math.round) };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

const size = parseSize(flag('size', '1G'));
const runs = Number(flag('runs', '5'));
const threads = os.availableParallelism();
const sizeLabel = flag('size', '1G');
mkdirSync(DATA, { recursive: true });
mkdirSync(RESULTS, { recursive: true });

const only = (part: string): boolean => process.argv.includes(`--only-${part}`);
const onlyOther = (part: string): boolean => ['swap', 'whole', 'online', 'dashboard', 'hostile'].some((p) => p !== part && only(p));

// ---- the dashboard under load: wrk on each endpoint beside the static page ----
if (!process.argv.includes('--no-dashboard') && !onlyOther('dashboard')) {
  const databaseUrl = flag('database-url', '');
  const dashboard = await benchDashboard({
    films: flag('dashboard-films', '1000,88128').split(',').map(Number),
    duration: flag('dashboard-duration', '15s'),
    ...(databaseUrl ? { databaseUrl } : {}),
  });
  printDashboard(dashboard);
  const out = path.join(RESULTS, `dashboard-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), load_average: os.loadavg()[0], runs: dashboard }, null, 2) + '\n');
  console.log(`written: ${path.relative(process.cwd(), out)}`);
  if (only('dashboard')) process.exit(dashboardGoalMet(dashboard) ? 0 : 1);
}

// ---- the swap under load: wrk on the dashboard while runs replace the load ----
if (!process.argv.includes('--no-swap') && !onlyOther('swap')) {
  const databaseUrl = flag('database-url', '');
  const swap = await benchSwap({ swaps: Number(flag('swaps', '20')), ...(databaseUrl ? { databaseUrl } : {}) });
  printSwap(swap);
  const out = path.join(RESULTS, `swap-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), load_average: os.loadavg()[0], ...swap }, null, 2) + '\n');
  console.log(`written: ${path.relative(process.cwd(), out)}`);
  if (process.argv.includes('--only-swap')) process.exit(swap.socketErrors + swap.non2xx + swap.empty + swap.mixed === 0 ? 0 : 1);
}

// ---- the whole run at real size ----
let whole: WholeResult | null = null;
if (!process.argv.includes('--no-whole') && !onlyOther('whole')) {
  const databaseUrl = flag('database-url', process.env.DATABASE_URL ?? '');
  if (!databaseUrl) {
    console.error('whole run skipped: it needs a local database made for it (--database-url URL or DATABASE_URL)');
  } else {
    const wholeSize = flag('whole-size', '7G');
    const loadBefore = os.loadavg()[0]!;
    whole = await measureWholeRun({
      size: wholeSize,
      bytes: parseSize(wholeSize),
      runs,
      databaseUrl,
      threads: 2,
      iterparseSlice: process.argv.includes('--iterparse-full') ? 0 : parseSize(flag('iterparse-slice', '512M')),
    });
    printWholeRun(whole);
    const machine = { cpu: cpuModel(), cores: os.availableParallelism(), memory_gb: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, node: process.version, load_average_before: loadBefore, load_average_after: os.loadavg()[0]! };
    console.log(`machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; load average ${loadBefore.toFixed(2)} before, ${machine.load_average_after.toFixed(2)} after`);
    const out = path.join(RESULTS, `whole-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine, ...whole }, null, 2) + '\n');
    console.log(`written: ${path.relative(process.cwd(), out)}`);
  }
}
if (process.argv.includes('--only-whole')) process.exit(whole ? 0 : 1);

// ---- online, no dump: the live wiki against servers answering after 150 ms ----
if (!process.argv.includes('--no-online') && !onlyOther('online')) {
  const databaseUrl = flag('database-url', process.env.DATABASE_URL ?? '');
  const online = await benchOnline({ runs: Math.min(runs, 3), delayMs: Number(flag('online-delay', '150')), ...(databaseUrl ? { databaseUrl } : { embedded: true }) });
  printOnline(online);
  const out = path.join(RESULTS, `online-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), load_average: os.loadavg()[0], ...online }, null, 2) + '\n');
  console.log(`written: ${path.relative(process.cwd(), out)}`);
}
if (process.argv.includes('--only-online')) process.exit(0);

// ---- hostile endpoints and caches: the whole run's peak RSS ----
if (!process.argv.includes('--no-hostile') && !onlyOther('hostile')) {
  const databaseUrl = flag('database-url', process.env.DATABASE_URL ?? '');
  const hostile = await benchHostile(databaseUrl ? { databaseUrl } : { embedded: true });
  printHostile(hostile);
  const out = path.join(RESULTS, `hostile-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), load_average: os.loadavg()[0], goal_peak_rss_mb: 300, scenarios: hostile }, null, 2) + '\n');
  console.log(`written: ${path.relative(process.cwd(), out)}`);
  if (only('hostile')) process.exit(hostile.every((f) => f.exit === 0 && f.peakRssMb <= 300) ? 0 : 1);
}

const xml = path.join(DATA, `dump-${sizeLabel.toLowerCase()}-seed${SEED}.xml`);
if (!existsSync(xml)) console.error(`generating ${path.basename(xml)} (once)...`);
await ensureDump(xml, size, { seed: SEED });
const gz = await gzipped(xml);
const bytes = statSync(xml).size;
// warm the page cache
execFileSync('sh', ['-c', `cat "${xml}" "${gz}" > /dev/null`]);

// how many docs: one scan tells (and gives the keys)
const probe = child(['scan', keysFile(1), '1', xml]);
const keys = keysFile(probe.docs!);
console.error(`${path.basename(xml)}: ${bytes.toLocaleString('en-US')} bytes, ${probe.docs!.toLocaleString('en-US')} docs; ${runs} runs each, best kept`);

/**
 * A fixed piece of arithmetic, timed in a fresh process: how fast this
 * machine's CPU is right now. The VM's speed changes with what else its host
 * runs, whatever its own load average says (the same loop took 30% longer an
 * hour apart, with the machine otherwise idle both times): runs are
 * comparable only when their probes agree. (Timed in this process instead,
 * the loop read up to 10× slower in some runs than in others: V8 does not
 * always optimize it the same way there.)
 */
function cpuProbe(): number {
  return child(['probe']).ms;
}

const probeBefore = cpuProbe();
const loadBefore = os.loadavg()[0]!;
const results: Record<string, Measure & { all: number[] }> = {};
const INDEXOF = { TRUEFILM_SCAN_SIMD: '0' };
results.wc = wc(xml, runs);
Object.assign(
  results,
  inTurns(runs, {
    scan1: { args: ['scan', keys, '1', xml] },
    scan1Indexof: { args: ['scan', keys, '1', xml], env: INDEXOF },
    scanN: { args: ['scan', keys, String(threads), xml] },
    scanNIndexof: { args: ['scan', keys, String(threads), xml], env: INDEXOF },
  }),
);
// half the keys arrive 0.3 s into the scan (Wikidata answers do): the price of looking for them late
results.late = best(runs, ['late', keys, String(threads), '300', xml]);
Object.assign(
  results,
  inTurns(runs, {
    inflate: { args: ['inflate', gz] },
    gzN: { args: ['scan', keys, String(threads), gz] },
    gzNIndexof: { args: ['scan', keys, String(threads), gz], env: INDEXOF },
  }),
);
if (!process.argv.includes('--no-sax')) results.sax = best(1, ['sax', keys, xml]);

// ---- the CirrusSearch dump of the same size ----
let cirrus: { name: string; bytes: number; gz_bytes: number; bz2_bytes: number | null; docs: number; keys: string } | null = null;
if (!process.argv.includes('--no-cirrus')) {
  const json = path.join(DATA, `cirrus-${sizeLabel.toLowerCase()}-seed${SEED}.json`);
  if (!existsSync(json)) console.error(`generating ${path.basename(json)} (once)...`);
  await ensureDump(json, size, { seed: SEED, format: 'cirrus' });
  const jsonGz = await gzipped(json);
  const jsonBz2 = process.argv.includes('--no-bz2') ? null : await bzipped(json);
  execFileSync('sh', ['-c', `cat "${json}" "${jsonGz}" ${jsonBz2 ? `"${jsonBz2}"` : ''} > /dev/null`]);
  const cprobe = child(['scan', keysFile(1), '1', json]);
  const ckeys = cirrusKeysFile(cprobe.docs!);
  cirrus = { name: path.basename(json), bytes: statSync(json).size, gz_bytes: statSync(jsonGz).size, bz2_bytes: jsonBz2 ? statSync(jsonBz2).size : null, docs: cprobe.docs!, keys: ckeys };
  console.error(`${cirrus.name}: ${cirrus.bytes.toLocaleString('en-US')} bytes, ${cirrus.docs.toLocaleString('en-US')} documents`);
  results.cirrusWc = wc(json, runs);
  results.cirrus1 = best(runs, ['scan', ckeys, '1', json]);
  results.cirrusN = best(runs, ['scan', ckeys, String(threads), json]);
  results.cirrusInflate = best(runs, ['inflate', jsonGz]);
  results.cirrusGzN = best(runs, ['scan', ckeys, String(threads), jsonGz]);
  if (jsonBz2) {
    results.bunzip = alone('bzip2 -dc', jsonBz2, 1);
    results.cirrusBz2N = best(1, ['scan', ckeys, String(threads), jsonBz2]);
  }
}
const loadAfter = os.loadavg()[0]!;
const probeAfter = cpuProbe();

let rssLarge: { size: string; bytes: number; ms: number; rss: number } | null = null;
const rssSize = flag('rss-size', '');
if (rssSize) {
  const big = path.join(DATA, `dump-${rssSize.toLowerCase()}-seed${SEED}.xml`);
  if (!existsSync(big)) console.error(`generating ${path.basename(big)} (once)...`);
  await ensureDump(big, parseSize(rssSize), { seed: SEED });
  execFileSync('sh', ['-c', `cat "${big}" > /dev/null`]);
  const m = best(Math.min(runs, 3), ['scan', keys, String(threads), big]);
  rssLarge = { size: rssSize, bytes: statSync(big).size, ms: m.ms, rss: m.rss };
}

const mbps = (m: Measure, n = bytes): number => n / 1e6 / (m.ms / 1000);
const r = results;
const rows: [string, Measure & { all: number[] }, number][] = [
  ['wc -l (memory-speed yardstick)', r.wc!, bytes],
  ['truefilm scan, 1 thread', r.scan1!, bytes],
  [`truefilm scan, ${threads} threads`, r.scanN!, bytes],
  [`same, half the keys 0.3 s late`, r.late!, bytes],
  ['zlib inflate only (.gz)', r.inflate!, bytes],
  [`truefilm scan of the .gz, ${threads} threads`, r.gzN!, bytes],
];
if (r.sax) rows.push(['sax full parse, 1 thread (naive)', r.sax, bytes]);
const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');
console.log(
  '\n' +
    textTable(
      ['measure', 'time (ms)', 'MB/s', 'vs scan', 'CPU (ms)', 'peak RSS (MB)', 'runs (ms)'],
      rows.map(([label, m, n]) => [label, fmt(m.ms), fmt(mbps(m, n)), fmt(m.ms / r.scanN!.ms, 2) + '×', fmt(m.cpuMs), fmt(m.rss / 1e6), m.all.join(' ')]),
      'lrrrrrl',
    ),
);

if (cirrus) {
  const c = cirrus;
  const crows: [string, Measure & { all: number[] }, number][] = [
    ['wc -l (memory-speed yardstick)', r.cirrusWc!, c.bytes],
    ['truefilm scan, 1 thread', r.cirrus1!, c.bytes],
    [`truefilm scan, ${threads} threads`, r.cirrusN!, c.bytes],
    ['zlib inflate only (.json.gz)', r.cirrusInflate!, c.bytes],
    [`truefilm scan of the .json.gz, ${threads} threads`, r.cirrusGzN!, c.bytes],
  ];
  if (r.bunzip && r.cirrusBz2N) {
    crows.push(['bzip2 -dc only (.json.bz2)', r.bunzip, c.bytes]);
    crows.push([`truefilm scan of the .json.bz2, ${threads} threads`, r.cirrusBz2N, c.bytes]);
  }
  console.log(`\nCirrusSearch dump ${c.name}: ${fmt(c.bytes)} bytes, ${fmt(c.docs)} documents (.gz ${fmt(c.gz_bytes)}, .bz2 ${c.bz2_bytes === null ? '-' : fmt(c.bz2_bytes)})`);
  console.log(
    textTable(
      ['measure', 'time (ms)', 'MB/s', 'vs scan', 'CPU (ms)', 'peak RSS (MB)', 'runs (ms)'],
      crows.map(([label, m, n]) => [label, fmt(m.ms), fmt(mbps(m, n)), fmt(m.ms / r.cirrusN!.ms, 2) + '×', fmt(m.cpuMs), fmt(m.rss / 1e6), m.all.join(' ')]),
      'lrrrrrl',
    ),
  );
  const cfound = ['cirrus1', 'cirrusN', 'cirrusGzN', 'cirrusBz2N'].filter((k) => results[k]).map((k) => `${results[k]!.found}/${results[k]!.imdb}`);
  console.log(`pages/IMDb links found: ${cfound.join(', ')} (1 thread, ${threads} threads, .gz${r.cirrusBz2N ? ', .bz2' : ''})${new Set(cfound).size === 1 ? '' : '  MISMATCH'}`);
}

// the WebAssembly SIMD finder against Buffer.indexOf, measured in turns
const simdRows: [string, string, string][] = [
  ['scan, 1 thread', 'scan1', 'scan1Indexof'],
  [`scan, ${threads} threads`, 'scanN', 'scanNIndexof'],
  [`scan of the .gz, ${threads} threads`, 'gzN', 'gzNIndexof'],
];
const cell = (m: Measure | undefined): string => (m ? `${fmt(m.ms)} ms, ${fmt(mbps(m))} MB/s` : '-');
console.log('\nfinding docs: WebAssembly SIMD (the default) against Buffer.indexOf (TRUEFILM_SCAN_SIMD=0), in turns');
console.log(
  textTable(
    ['measure', 'SIMD', 'indexOf', 'indexOf / SIMD', 'CPU indexOf / SIMD'],
    simdRows.map(([label, simd, indexOf]) => [
      label,
      cell(r[simd]),
      cell(r[indexOf]),
      fmt(r[indexOf]!.ms / r[simd]!.ms, 2) + '×',
      fmt(r[indexOf]!.cpuMs / r[simd]!.cpuMs, 2) + '×',
    ]),
    'lrrrr',
  ),
);
// (the CirrusSearch scan reads into the finder's memory too, but finds its lines with Buffer.indexOf)
const paths = Object.entries(results).filter(([k, m]) => m.finder !== undefined && !k.startsWith('cirrus')).map(([k, m]) => `${k}: ${m.finder}`);
console.log(`finder used: ${paths.join(', ')}`);

const found = ['scan1', 'scanN', 'late', 'gzN', 'scan1Indexof', 'scanNIndexof', 'gzNIndexof'].map((k) => results[k]!.found);
const agree = found.every((f) => f === found[0]);
console.log(`\npages found: ${found.join(', ')} (1 thread, ${threads} threads, late keys, .gz; then with indexOf)${agree ? '' : '  MISMATCH'}`);

const targets = [
  { name: `scan at ${threads} threads >= 2 GB/s`, value: mbps(r.scanN!) / 1000, unit: 'GB/s', met: mbps(r.scanN!) >= 2000 },
  { name: `${threads} threads >= 1.7x one thread`, value: r.scan1!.ms / r.scanN!.ms, unit: '×', met: r.scan1!.ms / r.scanN!.ms >= 1.7 },
  { name: '.gz scan within 15% of zlib inflate alone', value: r.gzN!.ms / r.inflate!.ms, unit: '×', met: r.gzN!.ms <= 1.15 * r.inflate!.ms },
  {
    name: 'peak RSS under 300 MB',
    value: Math.max(r.scanN!.rss, r.gzN!.rss, rssLarge?.rss ?? 0) / 1e6,
    unit: 'MB',
    met: Math.max(r.scanN!.rss, r.gzN!.rss, rssLarge?.rss ?? 0) < 300e6,
  },
];
console.log('\n' + textTable(['target', 'measured', 'met'], targets.map((t) => [t.name, `${fmt(t.value, 2)} ${t.unit}`, t.met ? 'yes' : 'NO']), 'lrl'));
if (rssLarge) {
  console.log(
    `\n${rssLarge.size} dump, ${threads} threads: ${fmt(rssLarge.ms)} ms, ${fmt(rssLarge.bytes / 1e6 / (rssLarge.ms / 1000))} MB/s, ` +
      `peak RSS ${fmt(rssLarge.rss / 1e6)} MB (on ${sizeLabel}: ${fmt(r.scanN!.rss / 1e6)} MB)`,
  );
}
const machine = {
  cpu: cpuModel(),
  cores: os.availableParallelism(),
  memory_gb: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`,
  node: process.version,
  load_average_before: loadBefore,
  load_average_after: loadAfter,
  cpu_probe_ms_before: probeBefore,
  cpu_probe_ms_after: probeAfter,
};
console.log(
  `\nmachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gb} GB, Node ${machine.node}; load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after; ` +
    `CPU probe ${fmt(probeBefore)} ms before, ${fmt(probeAfter)} ms after (lower is faster)`,
);

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const json = {
  date: new Date().toISOString(),
  machine,
  file: { name: path.basename(xml), bytes, gz_bytes: statSync(gz).size, docs: probe.docs, seed: SEED, wanted_keys: JSON.parse(readFileSync(keys, 'utf8')).length },
  results: Object.fromEntries(Object.entries(results).map(([k, m]) => [k, { ...m, mb_per_s: mbps(m, cirrus && /^(cirrus|bunzip)/.test(k) ? cirrus.bytes : bytes) }])),
  rss_large: rssLarge,
  pages_found_agree: agree,
  simd_vs_indexof: Object.fromEntries(
    simdRows.map(([, simd, indexOf]) => [simd, { simd_ms: r[simd]!.ms, indexof_ms: r[indexOf]!.ms, speedup: r[indexOf]!.ms / r[simd]!.ms, cpu_ratio: r[indexOf]!.cpuMs / r[simd]!.cpuMs }]),
  ),
  cirrus: cirrus && (() => {
    const wanted = JSON.parse(readFileSync(cirrus.keys, 'utf8')) as { keys: string[]; imdb: string[] };
    return { name: cirrus.name, bytes: cirrus.bytes, gz_bytes: cirrus.gz_bytes, bz2_bytes: cirrus.bz2_bytes, docs: cirrus.docs, wanted_keys: wanted.keys.length, wanted_imdb_ids: wanted.imdb.length };
  })(),
  targets,
  whole,
};
const out = path.join(RESULTS, `scan-${stamp}.json`);
writeFileSync(out, JSON.stringify(json, null, 2) + '\n');
writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify(json, null, 2) + '\n');
console.log(`\nwritten: ${path.relative(process.cwd(), out)}`);
