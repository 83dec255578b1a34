/**
 * The online run with no dump, timed: the real CSV's first 4,994
 * rows, --top 1000, no --abstracts, against a SPARQL test server and an Action
 * API test server that answer every request after 150 ms (the world of
 * test/helpers/wiki-world.ts). The built program, as users run it, into the
 * machine's PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
 * or, with `--embedded`, the embedded one.
 *
 * Prints and returns: the whole run's time, the requests each service
 * answered, the floor those requests set at 150 ms each with the etiquette's
 * concurrency (2 to Wikipedia, 4 to Wikidata), the ratio of the run to that
 * floor, and a second run (everything cached: no request).
 *
 *   node --import tsx bench/online.ts [--delay 150] [--runs 3] [--embedded]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMetadata } from '../src/stages/metadata.js';
import { createUi } from '../src/ui.js';
import { realCsvPath, WITHOUT_REAL_DATA } from '../test/helpers/cli.js';
import { buildWorld } from '../test/helpers/wiki-world.js';
import { flag, median } from './args.js';
import { serveWorld } from '../test/helpers/world-servers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOP = 1000;

export interface OnlineFigures {
  delayMs: number;
  /** each cold run: wall time (ms) */
  coldMs: number[];
  /** each warm run (everything cached): wall time (ms) */
  warmMs: number[];
  wikipediaRequests: number;
  sparqlRequests: number;
  /** the requests' 150 ms answers alone, at the etiquette's concurrency */
  floorMs: number;
  films: { wikidata: number; title: number; titleOnline: number; none: number; withAbstract: number };
}


export async function benchOnline(options: { delayMs?: number; runs?: number; embedded?: boolean; databaseUrl?: string } = {}): Promise<OnlineFigures> {
  const delayMs = options.delayMs ?? 150;
  const runs = options.runs ?? 3;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'truefilm-bench-online-'));
  if (WITHOUT_REAL_DATA) throw new Error(`the online bench needs the real CSV: ${WITHOUT_REAL_DATA}`);
  const csv = realCsvPath();
  const { films } = await runMetadata(csv, { top: TOP, minBudget: 1000, ui: createUi({ progress: false, quiet: true }) });
  const world = buildWorld(films, { fallbackShare: 0.05 });
  const servers = await serveWorld(world, { delayMs });
  const { sparql, wiki } = servers;
  const database = options.embedded ? [] : ['--database-url', options.databaseUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'];

  const run = (dataDir: string) => {
    const report = path.join(tmp, 'report.json');
    const args = ['dist/main.js', 'run', '--metadata', csv, '--top', String(TOP), '--sparql-endpoint', sparql.url, '--wikipedia-endpoint', wiki.endpoint, '--contact', 'bench@example.org', '--data-dir', dataDir, '--no-progress', '--report', report, ...database];
    const t = performance.now();
    // async: the servers live in this process
    return new Promise<{ ms: number; report: any }>((resolve, reject) => {
      // spawn, not spawnSync: the test servers answer from this process
      const env = { ...process.env };
      delete env.TRUEFILM_CONTACT;
      const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        const ms = performance.now() - t;
        if (code !== 0) reject(new Error(`the run failed (exit ${code}):\n${stderr}`));
        else resolve({ ms, report: JSON.parse(readFileSync(report, 'utf8')) });
      });
    });
  };

  try {
    const coldMs: number[] = [];
    const warmMs: number[] = [];
    let last: any = null;
    let wikipediaRequests = 0;
    let sparqlRequests = 0;
    for (let i = 0; i < runs; i++) {
      const dataDir = path.join(tmp, `data-${i}`);
      const before = { wiki: wiki.requests.length, sparql: sparql.requests.length };
      const cold = await run(dataDir);
      coldMs.push(cold.ms);
      wikipediaRequests = wiki.requests.length - before.wiki;
      sparqlRequests = sparql.requests.length - before.sparql;
      last = cold.report;
      const warm = await run(dataDir);
      warmMs.push(warm.ms);
      if (wiki.requests.length - before.wiki !== wikipediaRequests) throw new Error('the warm run sent requests');
    }
    const floorMs = Math.ceil(wikipediaRequests / 2) * delayMs + Math.ceil(sparqlRequests / 4) * delayMs;
    const m = last.matches;
    return {
      delayMs,
      coldMs,
      warmMs,
      wikipediaRequests,
      sparqlRequests,
      floorMs,
      films: { wikidata: m.wikidata, title: m.title, titleOnline: m.title_online, none: m.none, withAbstract: m.with_abstract },
    };
  } finally {
    await servers.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function printOnline(f: OnlineFigures): void {
  const min = (xs: number[]) => Math.min(...xs);
  const lines = [
    `online, no dump, top ${TOP}, servers answering after ${f.delayMs} ms:`,
    `  requests answered: ${f.wikipediaRequests} Action API (budget 60), ${f.sparqlRequests} SPARQL (budget 5)`,
    `  whole run: ${(min(f.coldMs) / 1000).toFixed(2)} s best, ${(median(f.coldMs) / 1000).toFixed(2)} s median of ${f.coldMs.length} (budget 20 s)`,
    `  the requests' answers alone (at 2 and 4 in flight): ${(f.floorMs / 1000).toFixed(2)} s; the run is ${(min(f.coldMs) / f.floorMs).toFixed(2)}x that`,
    `  second run (all cached, no request): ${(min(f.warmMs) / 1000).toFixed(2)} s; the cold run is ${(min(f.coldMs) / min(f.warmMs)).toFixed(2)}x it`,
    `  films: ${f.films.wikidata} by Wikidata, ${f.films.title} by title (${f.films.titleOnline} online), ${f.films.none} none; ${f.films.withAbstract} with an abstract`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const figures = await benchOnline({ delayMs: Number(flag('delay', '150')), runs: Number(flag('runs', '3')), embedded: process.argv.includes('--embedded') });
  printOnline(figures);
}
