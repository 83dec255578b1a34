/**
 * What endpoints and caches that send too much cost the run: the peak RSS and
 * the wall time of the whole `truefilm run` process (GNU time's "Maximum
 * resident set size"), the real CSV's first 4,994 rows, --top 1000, no dump,
 * against the SPARQL and Action API test servers of test/helpers (the world
 * of test/helpers/wiki-world.ts), each scenario in a fresh data directory:
 *
 * - clean: the servers answer as they should (the yardstick);
 * - a gzip bomb from both services on every request: 0.5 MB that inflates to
 *   512 MiB;
 * - a body of 500 MB from both, with its Content-Length, and without one
 *   (chunked); a body that never ends; a 503 whose body never ends (a status
 *   that is retried: only the start of each body is read);
 * - huge intro extracts: 5 MB each (every answer over the cap), and 190 KB
 *   each (20 to an answer: 3.8 MB, just under the cap, every one read);
 * - caches of 500 MB (sparse files: their size is what counts), and caches
 *   just under the 8 MiB read limit (valid, realistic entries);
 * - all at once: caches just under the limit, 190 KB extracts, SPARQL bombs.
 *
 * The goal: a peak RSS of at most 300 MB whatever the endpoints send.
 * The built program (dist/), into the machine's PostgreSQL (DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/test) or, with `--embedded`, the
 * embedded one. Needs /usr/bin/time (Debian's `time`).
 *
 *   node --import tsx bench/hostile.ts [--embedded] [--only NAME]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMetadata } from '../src/stages/metadata.js';
import { createUi } from '../src/ui.js';
import type { FaultFn as ApiFaultFn } from '../test/helpers/action-api-server.js';
import { realCsvPath, WITHOUT_REAL_DATA } from '../test/helpers/cli.js';
import type { Fault } from '../test/helpers/fault-server.js';
import { buildWorld, type World } from '../test/helpers/wiki-world.js';
import { flag } from './args.js';
import { serveWorld } from '../test/helpers/world-servers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOP = 1000;
const TIME = '/usr/bin/time';
const GOAL_MB = 300;

interface Scenario {
  name: string;
  /** what the servers send */
  sparql?: Fault;
  wiki?: Fault;
  /** every page's intro extract padded to this many characters */
  extractChars?: number;
  /** what lies in the data directory's cache/ before the run */
  caches?: 'sparse-500MB' | 'near-limit';
}

const MiB = 1 << 20;
const BOMB: Fault = { kind: 'bomb', inflated: 512 * MiB };

export const SCENARIOS: Scenario[] = [
  { name: 'clean' },
  { name: 'gzip bomb 0.5 MB -> 512 MiB, both services', sparql: BOMB, wiki: BOMB },
  { name: '500 MB body with Content-Length, both', sparql: { kind: 'flood', bytes: 500_000_000, declared: true }, wiki: { kind: 'flood', bytes: 500_000_000, declared: true } },
  { name: '500 MB body, chunked, both', sparql: { kind: 'flood', bytes: 500_000_000 }, wiki: { kind: 'flood', bytes: 500_000_000 } },
  { name: 'a body that never ends, both', sparql: { kind: 'flood' }, wiki: { kind: 'flood' } },
  { name: '503 with a body that never ends (retried), both', sparql: { kind: 'flood', status: 503 }, wiki: { kind: 'flood', status: 503 } },
  { name: 'intro extracts of 5 MB', extractChars: 5_000_000 },
  { name: 'intro extracts of 190 KB (3.8 MB answers)', extractChars: 190_000 },
  { name: 'caches of 500 MB', caches: 'sparse-500MB' },
  { name: 'caches just under 8 MiB', caches: 'near-limit' },
  { name: 'all at once: caches under 8 MiB, 190 KB extracts, SPARQL bombs', caches: 'near-limit', extractChars: 190_000, sparql: BOMB },
];

export interface HostileFigure {
  name: string;
  exit: number | null;
  peakRssMb: number;
  wallMs: number;
  sparqlRequests: number;
  wikiRequests: number;
  /** the run's warnings, shortened */
  warnings: string[];
}


/**
 * The world with every page's extract padded to about `chars` characters of
 * plain sentences. A getter: each answer makes its own text, which goes when
 * the answer is sent (a stored string would be flattened and kept, a few GB).
 */
function withHugeExtracts(world: World, chars: number): World {
  const pad = ' It goes on and on.'.repeat(Math.ceil(chars / 19));
  const pages: World['pages'] = {};
  for (const [title, page] of Object.entries(world.pages)) {
    const text = page.extract;
    pages[title] = text ? Object.defineProperty({ ...page }, 'extract', { enumerable: true, get: () => text + pad }) : page;
  }
  return { ...world, pages };
}

async function sparseFile(file: string, bytes: number): Promise<void> {
  const handle = await open(file, 'w');
  await handle.truncate(bytes);
  await handle.close();
}

/**
 * Caches just under the 8 MiB read limit, of entries shaped like the real
 * ones (ids and titles no run asks for): Wikidata entries with an article and
 * a budget statement, Wikipedia entries with a 1,500-character intro.
 */
async function nearLimitCaches(dir: string): Promise<void> {
  const limit = 8 * MiB - 64 * 1024;
  const intro = 'The film was directed by somebody and stars several actors in an American drama released in cinemas. '.repeat(15).slice(0, 1500);
  const fill = async (file: string, entry: (n: number) => [string, object]): Promise<void> => {
    const lines: string[] = [];
    let size = 40;
    for (let n = 0; size < limit; n++) {
      const [key, value] = entry(n);
      const line = `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`;
      size += Buffer.byteLength(line) + 2;
      lines.push(line);
    }
    await writeFile(file, `{\n "version": 1,\n "entries": {\n${lines.join(',\n')}\n }\n}\n`);
  };
  const fetched = '2025-01-01T00:00:00.000Z';
  await fill(path.join(dir, 'wikidata.json'), (n) => [
    `tt${9_000_000 + n}`,
    { articles: [`https://en.wikipedia.org/wiki/Some_Title_${n}_(film)`], money: [{ property: 'P2130', rank: 'normal', amount: '1000000', unit: 'Q4917', currency: 'USD', places: [] }], fetched },
  ]);
  await fill(path.join(dir, 'wikipedia.json'), (n) => [`Some Title ${n} (film)`, { kind: 'page', title: `Some Title ${n} (film)`, description: '1999 film', extract: intro, fetched }]);
}

function timedRun(args: string[]): Promise<{ exit: number | null; peakRssMb: number; wallMs: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.TRUEFILM_CONTACT;
    const t = performance.now();
    // spawn, not spawnSync: the test servers answer from this process
    const child = spawn(TIME, ['-v', process.execPath, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', () => {
      const wallMs = performance.now() - t;
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      const status = /Exit status: (\d+)/.exec(stderr);
      if (!rss) return reject(new Error(`no figures from ${TIME}:\n${stderr}`));
      resolve({ exit: status ? Number(status[1]) : null, peakRssMb: Number(rss[1]) / 1000, wallMs, stderr });
    });
  });
}

async function runScenario(s: Scenario, clean: World, tmp: string, database: string[]): Promise<HostileFigure> {
  const world = s.extractChars ? withHugeExtracts(clean, s.extractChars) : clean;
  const servers = await serveWorld(world, { faults: { sparql: s.sparql ? () => s.sparql : undefined, wiki: s.wiki ? ((() => s.wiki) as ApiFaultFn) : undefined } });
  const { sparql, wiki } = servers;
  const dataDir = await mkdtemp(path.join(tmp, 'data-'));
  try {
    const cache = path.join(dataDir, 'cache');
    await mkdir(cache, { recursive: true });
    if (s.caches === 'sparse-500MB') for (const f of ['wikidata.json', 'wikipedia.json']) await sparseFile(path.join(cache, f), 500_000_000);
    if (s.caches === 'near-limit') await nearLimitCaches(cache);
    const args = ['dist/main.js', 'run', '--metadata', realCsvPath(), '--top', String(TOP), '--sparql-endpoint', sparql.url, '--wikipedia-endpoint', wiki.endpoint, '--contact', 'bench@example.org', '--data-dir', dataDir, '--no-progress', ...database];
    const r = await timedRun(args);
    const warnings = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('warning'))
      .map((l) => (l.length > 160 ? `${l.slice(0, 160)}...` : l));
    return { name: s.name, exit: r.exit, peakRssMb: r.peakRssMb, wallMs: r.wallMs, sparqlRequests: sparql.requests.length, wikiRequests: wiki.requests.length, warnings };
  } finally {
    await servers.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function benchHostile(options: { embedded?: boolean; databaseUrl?: string; only?: string } = {}): Promise<HostileFigure[]> {
  if (WITHOUT_REAL_DATA) throw new Error(`the hostile bench needs the real CSV: ${WITHOUT_REAL_DATA}`);
  if (!existsSync(TIME)) throw new Error(`the hostile bench needs ${TIME} (apt-get install time)`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-bench-hostile-'));
  const { films } = await runMetadata(realCsvPath(), { top: TOP, minBudget: 1000, ui: createUi({ progress: false, quiet: true }) });
  const world = buildWorld(films, { fallbackShare: 0.05 });
  const database = options.embedded ? [] : ['--database-url', options.databaseUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'];
  const figures: HostileFigure[] = [];
  try {
    for (const s of SCENARIOS) {
      if (options.only !== undefined && !s.name.includes(options.only)) continue;
      figures.push(await runScenario(s, world, tmp, database));
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return figures;
}

export function printHostile(figures: HostileFigure[]): void {
  const lines = [`hostile endpoints and caches, top ${TOP}, no dump (goal: peak RSS <= ${GOAL_MB} MB):`];
  for (const f of figures) {
    const mark = f.peakRssMb <= GOAL_MB ? 'ok' : 'OVER';
    lines.push(
      `  ${f.name.padEnd(64)} ${f.peakRssMb.toFixed(0).padStart(5)} MB ${mark.padEnd(4)} ${(f.wallMs / 1000).toFixed(1).padStart(6)} s  exit ${f.exit}  ` +
        `requests ${f.sparqlRequests} SPARQL, ${f.wikiRequests} Action API; ${f.warnings.length} warning${f.warnings.length === 1 ? '' : 's'}`,
    );
    for (const w of f.warnings) lines.push(`      ${w}`);
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const figures = await benchHostile({ embedded: process.argv.includes('--embedded'), ...(process.argv.includes('--only') ? { only: flag('only', '') } : {}) });
  printHostile(figures);
  process.exitCode = figures.every((f) => f.exit === 0 && f.peakRssMb <= GOAL_MB) ? 0 : 1;
}
