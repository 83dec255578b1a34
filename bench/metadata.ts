/**
 * The metadata stage alone (runMetadata: read, parse, select the top 1,000)
 * on the real-size movies CSV (bench/generate-csv.ts: 45,466 rows, 37.7 MB),
 * each run in a fresh process running the built code (bench/child.mjs).
 *
 * With `--against DIR` (another build's dist/, e.g. one copied before a
 * change), the two builds run in turns (A B A B ...), so that a load that
 * comes and goes on the machine falls on both alike; their whole results
 * (films and report) must be the same, and their digests say so.
 *
 *   node --import tsx bench/metadata.ts [--runs 7] [--rows 45466] [--against DIR]
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCsv, REAL_ROWS } from './generate-csv.js';
import { flag, median } from './args.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));


interface Run {
  ms: number;
  cpuMs: number;
  rss: number;
  rows: number;
  digest: string;
}

const runs = Number(flag('runs', '7'));
const rows = Number(flag('rows', String(REAL_ROWS)));
const against = flag('against', '');
const csv = path.join(HERE, 'data', `movies-${rows}-seed1.csv`);
await ensureCsv(csv, rows);
const bytes = statSync(csv).size;

const builds: Record<string, string[]> = { this: [] };
if (against) builds.against = [against];
const all: Record<string, Run[]> = Object.fromEntries(Object.keys(builds).map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, extra] of Object.entries(builds)) {
    const out = execFileSync(process.execPath, [path.join(HERE, 'child.mjs'), 'metadata', csv, ...extra], { encoding: 'utf8' });
    all[name]!.push(JSON.parse(out.trim().split('\n').pop()!) as Run);
  }
}

const summary = Object.fromEntries(
  Object.entries(all).map(([name, list]) => {
    const ms = list.map((r) => r.ms);
    return [name, { min: Math.min(...ms), median: median(ms), max: Math.max(...ms), cpu: median(list.map((r) => r.cpuMs)), rss: Math.max(...list.map((r) => r.rss)), digests: [...new Set(list.map((r) => r.digest))] }];
  }),
);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`metadata stage on ${path.basename(csv)} (${rows.toLocaleString('en-US')} rows), ${runs} runs each${against ? ', in turns' : ''}`);
for (const [name, s] of Object.entries(summary)) {
  console.log(
    `${name.padEnd(8)} min ${fmt(s.min)} ms, median ${fmt(s.median)} ms, max ${fmt(s.max)} ms; CPU ${fmt(s.cpu)} ms; peak RSS ${fmt(s.rss / 1e6)} MB; ` +
      `${(bytes / 1e6 / (s.median / 1000)).toFixed(0)} MB/s; runs ${all[name]!.map((r) => fmt(r.ms)).join(' ')}; result ${s.digests.join(',')}`,
  );
}
if (summary.against) {
  const a = summary.this!;
  const b = summary.against;
  console.log(`against / this: min ${(b.min / a.min).toFixed(2)}×, median ${(b.median / a.median).toFixed(2)}×`);
  const same = a.digests.length === 1 && b.digests.length === 1 && a.digests[0] === b.digests[0];
  console.log(same ? 'results: the same' : 'results: DIFFER');
  if (!same) process.exitCode = 1;
}
