// One measurement in a fresh process, so that its peak RSS is its own.
// Runs the BUILT code (dist/), as users do: no TypeScript loader in the workers.
// TRUEFILM_SCAN_SIMD=0 in the environment makes the workers find docs with Buffer.indexOf.
//   node bench/child.mjs scan KEYS.json THREADS FILE...    (KEYS.json: [keys] or { keys, imdb })
//   node bench/child.mjs late KEYS.json THREADS DELAY_MS FILE...  (half the keys come DELAY_MS late)
//   node bench/child.mjs inflate FILE.gz
//   node bench/child.mjs sax KEYS.json FILE
//   node bench/child.mjs probe                    (a fixed loop of arithmetic: how fast the CPU is now)
//   node bench/child.mjs metadata CSV [DIST]      (the metadata stage alone; DIST: another build's dist/, to compare)
// Prints one JSON line: { ms, rss, cpu, ... }.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';

const [mode, ...args] = process.argv.slice(2);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let extra = {};
/** the stage alone (runAbstracts: pool start-up, scan, merge), without loading modules and keys */
let stageMs = null;

if (mode === 'scan' || mode === 'late') {
  const [keysFile, threads, ...rest] = args;
  const delay = mode === 'late' ? Number(rest.shift()) : 0;
  const files = rest;
  const { runAbstracts, WantedKeys } = await import('../dist/stages/abstracts.js');
  const { createUi } = await import('../dist/ui.js');
  // an array of page keys, or { keys, imdb } (IMDb ids: CirrusSearch documents that link one are wanted too)
  const parsed = JSON.parse(readFileSync(keysFile, 'utf8'));
  const keys = Array.isArray(parsed) ? parsed : parsed.keys;
  const imdbIds = Array.isArray(parsed) ? [] : parsed.imdb;
  const wanted = new WantedKeys(mode === 'late' ? keys.filter((_, i) => i % 2 === 0) : keys);
  if (mode === 'late') {
    // as Wikidata answers do: the other half arrives while the scan runs
    setTimeout(() => {
      wanted.add(keys.filter((_, i) => i % 2 === 1));
      wanted.close();
    }, delay);
  } else {
    wanted.close();
  }
    // knobs for experiments (the benchmark itself runs the defaults)
  const knobs = {};
  if (process.env.BENCH_READ_SIZE) knobs.readSize = Number(process.env.BENCH_READ_SIZE);
  if (process.env.BENCH_RANGE_SIZE) knobs.rangeSize = Number(process.env.BENCH_RANGE_SIZE);
  if (process.env.BENCH_CHUNK_SIZE) knobs.chunkSize = Number(process.env.BENCH_CHUNK_SIZE);
  const stageStart = performance.now();
  const result = await runAbstracts(files, wanted, { threads: Number(threads), ui: createUi({ progress: false, quiet: true }), imdbIds, ...knobs });
  stageMs = performance.now() - stageStart;
  // how the workers found docs (they read the same TRUEFILM_SCAN_SIMD)
  const { docFinder } = await import('../dist/scan/docfind.js');
  const finder = docFinder();
  extra = {
    finder: finder === null ? 'indexOf' : 'simd',
    docs: result.report.docs,
    found: result.pages.size,
    imdb: result.imdb.size,
    bytes: result.report.bytes,
    malformed: result.report.malformed_docs,
    rescannedBytes: result.rescannedBytes,
  };
} else if (mode === 'metadata') {
  // the stage alone on a CSV (modules loaded first); the digest of its whole result tells two builds' results apart
  const [csv, dist] = args;
  const base = dist ? pathToFileURL(path.resolve(dist) + '/').href : new URL('../dist/', import.meta.url).href;
  const { runMetadata } = await import(new URL('stages/metadata.js', base).href);
  const { createUi } = await import(new URL('ui.js', base).href);
  const stageStart = performance.now();
  const { films, report } = await runMetadata(csv, { top: 1000, minBudget: 1000, ui: createUi({ progress: false, quiet: true }) });
  stageMs = performance.now() - stageStart;
  const digest = createHash('sha256').update(JSON.stringify({ films, report })).digest('hex').slice(0, 16);
  extra = { rows: report.rows, malformed: report.malformed, duplicates: report.duplicates, eligible: report.eligible, selected: report.selected, digest };
} else if (mode === 'probe') {
  // in a function: the same loop at a module's top level runs 7-10× slower (V8 optimizes it less)
  const spin = () => {
    let a = 0;
    let b = 1;
    for (let i = 0; i < 3e8; i++) {
      a = (a + i) | 0;
      b = (b ^ a) | 0;
    }
    return a === b;
  };
  extra = { kept: spin() }; // uses the result, so that the loop is not dropped
} else if (mode === 'inflate') {
  let bytes = 0;
  for await (const chunk of createReadStream(args[0], { highWaterMark: 1 << 20 }).pipe(createGunzip({ chunkSize: 1 << 20 }))) bytes += chunk.length;
  extra = { bytes };
} else if (mode === 'sax') {
  // the naive baseline: every doc parsed by sax on one thread
  const { default: sax } = await import('sax');
  const [keysFile, file] = args;
  const wanted = new Set(JSON.parse(readFileSync(keysFile, 'utf8')));
  const parser = sax.parser(true);
  let docs = 0;
  let found = 0;
  let field = null;
  let title = '';
  parser.onopentag = (tag) => {
    if (tag.name === 'doc') docs++;
    field = tag.name === 'title' ? 'title' : null;
    if (field) title = '';
  };
  parser.ontext = (text) => {
    if (field === 'title') title += text;
  };
  parser.onclosetag = (name) => {
    if (name === 'title' && wanted.has(title.replace(/^Wikipedia: /, ''))) found++;
    field = null;
  };
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    bytes += chunk.length;
    parser.write(decoder.write(chunk));
  }
  parser.write(decoder.end()).close();
  extra = { docs, found, bytes };
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}

const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ ms: stageMs ?? ms, processMs: ms, cpuMs: (cpu.user + cpu.system) / 1000, rss: process.resourceUsage().maxRSS * 1024, ...extra }));
