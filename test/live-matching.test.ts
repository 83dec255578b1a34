/**
 * Running online without a dump, end to end through the command
 * line: the real CSV's first 4,994 rows, --top 1000, no --abstracts, a SPARQL
 * test server and an Action API test server holding a made-up Wikipedia for
 * those films (test/helpers/wiki-world.ts). The loaded matches must equal, film
 * by film, what SPEC section 4's rule gives on that world (the oracle), with
 * faults and without; within the budget of at most 60 answered Action API
 * requests and 5 SPARQL requests; a second run asks nothing; --offline with a
 * warm cache gives the same; the wiki down costs one warning; Ctrl-C while
 * requests are in flight stops the run and keeps the previous load.
 * (The time the run takes against slow servers is measured by `npm run bench`.)
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runMetadata } from '../src/stages/metadata.js';
import type { Film } from '../src/types.js';
import { startActionApiServer, type ActionApiServer, type ApiFault } from './helpers/action-api-server.js';
import { realCsvPath, runCli, WITHOUT_REAL_DATA } from './helpers/cli.js';
import { loadedMatches } from './helpers/oracle.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from './helpers/pg.js';
import { closedPort, quiet } from './helpers/recorder.js';
import { startSparqlServer, type SparqlServer } from './helpers/sparql-server.js';
import { buildWorld, expectedMatches, ROLES, type World } from './helpers/wiki-world.js';
import { serveWorld, type ServeOptions, type WorldServers } from './helpers/world-servers.js';

const TOP = 1000;
const CSV = realCsvPath();
let tmp: string;
let films: Film[];
let world: World;
let sparql: SparqlServer;
let wiki: ActionApiServer;
let db: TestDatabase;

before(async () => {
  if (WITHOUT_REAL_DATA) return;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-live-'));
  await chmod(tmp, 0o755);
  films = (await runMetadata(CSV, { top: TOP, minBudget: 1000, ui: quiet })).films;
  world = buildWorld(films, { fallbackShare: 0.05 });
  ({ sparql, wiki } = await serveWorld(world));
  db = await freshDatabase((await testServers())[0]!);
});

after(async () => {
  await db?.drop();
  await sparql?.close();
  await wiki?.close();
  await closeTestServers();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Endpoints {
  sparql?: string;
  wiki?: string;
}

const args = (dataDir: string, extra: string[] = [], endpoints: Endpoints = {}) => [
  'run',
  '--metadata',
  CSV,
  '--top',
  String(TOP),
  '--sparql-endpoint',
  endpoints.sparql ?? sparql.url,
  '--wikipedia-endpoint',
  endpoints.wiki ?? wiki.endpoint,
  '--database-url',
  db.url,
  '--data-dir',
  dataDir,
  '--no-progress',
  ...extra,
];

async function run(name: string, extra: string[] = [], endpoints: Endpoints = {}) {
  const reportFile = path.join(tmp, `${name}.report.json`);
  const result = await runCli(args(path.join(tmp, name), ['--report', reportFile, ...extra], endpoints));
  assert.equal(result.status, 0, result.stderr);
  return { result, report: JSON.parse(await readFile(reportFile, 'utf8')), rows: await loadedMatches(db) };
}

/** Servers of their own, answering with `faults`, for one test. */
async function withServers<T>(faults: NonNullable<ServeOptions['faults']>, work: (e: Endpoints, s: WorldServers) => Promise<T>): Promise<T> {
  const servers = await serveWorld(world, { faults });
  try {
    return await work({ sparql: servers.sparql.url, wiki: servers.wiki.endpoint }, servers);
  } finally {
    await servers.close();
  }
}

describe('online, no dump: the live wiki does the title matching and gives the abstracts', { skip: WITHOUT_REAL_DATA }, () => {
  let first: Awaited<ReturnType<typeof run>>;
  let oracle: ReturnType<typeof expectedMatches>;

  before(async () => {
    oracle = expectedMatches(films, world, { wikidata: true, wiki: true });
    first = await run('first');
  });

  test('the top 1000 are matched and loaded as the rule says, within 60 Action API and 5 SPARQL answers', () => {
    assert.equal(first.rows.length, TOP);
    assert.deepEqual(first.rows, oracle);
    const answered = wiki.answered().length;
    assert.ok(answered <= 60, `${answered} Action API requests answered`);
    assert.ok(sparql.requests.length <= 5, `${sparql.requests.length} SPARQL requests`);
    assert.equal(first.report.wikipedia.requests, wiki.requests.length);
    assert.equal(first.report.wikidata.requests, sparql.requests.length);
  });

  test('the world exercises every rule, and the summary says how many films were matched online by title', () => {
    const count = (m: string) => oracle.filter((r) => r.method === m).length;
    const roles = new Set(world.roles.values());
    assert.deepEqual([...roles].sort(), [...ROLES].sort());
    const byOriginal = oracle.filter((r) => r.method === 'title' && ['t-novel', 't-year-original'].includes(world.roles.get(r.filmId)!));
    assert.ok(byOriginal.length >= 5, `${byOriginal.length} films matched by their original title`);
    assert.ok(count('wikidata') >= 850 && count('title') >= 60 && count('none') >= 10, JSON.stringify({ w: count('wikidata'), t: count('title'), n: count('none') }));
    assert.ok(oracle.filter((r) => r.abstractSource === 'api').length >= 900, 'abstracts from the live wiki');
    const { report, result } = first;
    assert.equal(report.matches.title_online, count('title'));
    assert.equal(report.matches.abstract_online, oracle.filter((r) => r.abstractSource === 'api').length);
    assert.match(result.stdout, new RegExp(`Wikipedia matches: ${count('wikidata')} by Wikidata, ${count('title')} by title \\(${count('title')} online\\), ${count('none')} none; `));
    assert.equal(report.wikipedia.status, 'ok');
    assert.ok(report.wikipedia.redirects > 0 && report.wikipedia.disambiguation > 0 && report.wikipedia.missing > 0, JSON.stringify(report.wikipedia));
    assert.equal(result.stderr.match(/set yours with --contact/g)?.length, 1, 'one notice: no contact was given');
  });

  test('a second run sends no request; --offline with the warm cache loads the same', async () => {
    const before = { sparql: sparql.requests.length, wiki: wiki.requests.length };
    const second = await run('first');
    assert.deepEqual({ sparql: sparql.requests.length, wiki: wiki.requests.length }, before, 'no request');
    assert.deepEqual(second.rows, oracle);
    assert.equal(second.report.wikipedia.requests, 0);
    assert.equal(second.report.wikipedia.cache_hits, second.report.wikipedia.titles);
    const offline = await run('first', ['--offline']);
    assert.deepEqual(offline.rows, oracle);
    assert.equal(offline.report.wikipedia.status, 'offline');
    assert.doesNotMatch(offline.result.stderr, /--contact/, 'no notice offline');
    assert.deepEqual({ sparql: sparql.requests.length, wiki: wiki.requests.length }, before);
  });

  test('maxlag, 429 and 503 with Retry-After, 5xx, slow answers, bad JSON and resets: the same matches', async () => {
    const kinds: ApiFault[] = [
      { kind: 'maxlag', lag: 8, retryAfter: '1' },
      { kind: 'status', status: 429, retryAfter: '1' },
      { kind: 'status', status: 503, retryAfter: '1' },
      { kind: 'status', status: 502 },
      { kind: 'slow', delayMs: 400 },
      { kind: 'malformed' },
      { kind: 'reset' },
      { kind: 'truncated' },
    ];
    const faulty = await withServers(
      {
        sparql: (r) => (r.attempt === 1 && r.n % 2 === 1 ? { kind: 'status', status: 429, retryAfter: '1' } : null),
        wiki: (r) => (r.attempt === 1 && r.n % 3 === 1 ? kinds[Math.floor(r.n / 3) % kinds.length] : null),
      },
      async (endpoints, servers) => {
        const got = await run('faulty', ['--contact', 'film-desk@example.org'], endpoints);
        assert.ok(servers.wiki.requests.some((r) => r.apiError === 'maxlag'), 'a maxlag error was played');
        assert.ok(servers.wiki.requests.every((r) => r.userAgent?.includes('(film-desk@example.org)')), 'the contact in every User-Agent');
        assert.ok(servers.sparql.requests.every((r) => r.userAgent?.includes('(film-desk@example.org)')), 'on the SPARQL requests too');
        return got;
      },
    );
    assert.deepEqual(faulty.rows, oracle);
    assert.ok(faulty.report.wikipedia.retries >= 5, `${faulty.report.wikipedia.retries} retries`);
    assert.doesNotMatch(faulty.result.stderr, /--contact|warning/);
  });

  test('the wiki asks for the intros of Wikidata’s first pages while a SPARQL batch is still unanswered: the same matches', async () => {
    // The last SPARQL batch is held until the wiki has been asked something; were the wiki to wait
    // for all of Wikidata, the hold would end only by its fallback, and `released` would say so.
    let released: 'by the wiki' | 'by the fallback' | null = null;
    let wikiAsked!: () => void;
    const asked = new Promise<void>((resolve) => (wikiAsked = resolve));
    const hold = async (): Promise<null> => {
      const fallback = setTimeout(() => wikiAsked(), 20_000);
      await asked.then(() => clearTimeout(fallback));
      released ??= sparqlHeld ? 'by the wiki' : 'by the fallback';
      return null;
    };
    let sparqlHeld = false;
    const overlapped = await withServers(
      {
        sparql: (r) => (r.n === 5 ? hold() : null),
        wiki: () => {
          sparqlHeld = true;
          wikiAsked();
          return null;
        },
      },
      async (endpoints, servers) => {
        const got = await run('overlap', [], endpoints);
        assert.equal(servers.sparql.requests.length, 5, 'five SPARQL batches');
        assert.ok(servers.wiki.answered().length <= 60, `${servers.wiki.answered().length} Action API requests answered`);
        assert.ok(servers.wiki.maxInFlight <= 2, `${servers.wiki.maxInFlight} in flight`);
        return got;
      },
    );
    assert.equal(released, 'by the wiki');
    assert.deepEqual(overlapped.rows, oracle);
  });

  test('the wiki down: one warning, exit 0; Wikidata’s pages are loaded without abstracts, no title match', async () => {
    const down = await run('down', [], { wiki: `http://127.0.0.1:${await closedPort()}/w/api.php` });
    assert.deepEqual(down.rows, expectedMatches(films, world, { wikidata: true, wiki: false }));
    assert.equal(down.result.stderr.match(/warning: the Wikipedia API is unavailable/g)?.length, 1, down.result.stderr);
    assert.equal(down.report.wikipedia.status, 'unavailable');
    assert.equal(down.report.matches.with_abstract, 0);
  });

  test('Ctrl-C while requests are in flight: exit 130 at once, the previous load untouched, the answers so far cached', async () => {
    await run('first');
    const previous = await loadedMatches(db);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await withServers({ wiki: async (r) => (r.n > 4 ? (await held, null) : null) }, async (endpoints, servers) => {
      let child!: ChildProcess;
      const dataDir = path.join(tmp, 'stopped');
      const running = runCli(args(dataDir, [], endpoints), { onSpawn: (c) => (child = c) });
      await servers.wiki.whenInFlight(2);
      child.kill('SIGINT');
      const result = await running;
      release();
      assert.equal(result.status, 130, result.stderr);
      assert.match(result.stderr, /stopped by SIGINT/);
      assert.deepEqual(await loadedMatches(db), previous);
      const cache = JSON.parse(await readFile(path.join(dataDir, 'cache', 'wikipedia.json'), 'utf8'));
      assert.ok(Object.keys(cache.entries).length >= 4 * 20, `${Object.keys(cache.entries).length} titles cached`);
    });
  });
});

describe('online, no dump: answers without bounds, and titles MediaWiki would refuse', { skip: WITHOUT_REAL_DATA }, () => {
  test('a gzip bomb (0.5 MB inflating to 512 MiB) from both services: exit 0, no bomb asked twice, one warning each naming the 4 MiB cap', async () => {
    const bomb = { kind: 'bomb', inflated: 512 << 20 } as const;
    const bombed = await withServers({ sparql: () => bomb, wiki: () => bomb }, async (endpoints, servers) => {
      const got = await run('bombed', [], endpoints);
      assert.ok(servers.sparql.requests.every((r) => r.attempt === 1), 'no SPARQL batch asked twice');
      assert.ok(servers.sparql.requests.length <= 4, `${servers.sparql.requests.length} SPARQL requests: none started after the first failed`);
      assert.ok(servers.wiki.requests.every((r) => r.attempt === 1), 'no Action API request asked twice');
      assert.ok(servers.wiki.requests.length <= 4, `${servers.wiki.requests.length} Action API requests: given up after three`);
      return got;
    });
    assert.deepEqual(bombed.rows, expectedMatches(films, world, { wikidata: false, wiki: false }));
    assert.equal(bombed.report.wikidata.status, 'unavailable');
    assert.equal(bombed.report.wikipedia.status, 'unavailable');
    assert.equal(bombed.report.wikidata.retries + bombed.report.wikipedia.retries, 0);
    const warnings = bombed.result.stderr.split('\n').filter((l) => /warning/.test(l));
    assert.equal(warnings.filter((l) => /over the 4 MiB an answer may have once inflated \(gzip\)/.test(l)).length, 2, bombed.result.stderr);
  });

  test('control characters in Wikidata’s article titles and in the API’s redirect targets: never a match, the rule goes on as if there were no page', async () => {
    const evil: World = { sparql: { ...world.sparql }, pages: { ...world.pages }, redirects: { ...world.redirects }, roles: world.roles };
    const oracle = expectedMatches(films, world, { wikidata: true, wiki: true });
    // three films Wikidata matches: their article's title now holds ESC [31m BEL
    const byWikidata = oracle.filter((r) => r.method === 'wikidata').slice(0, 3);
    for (const r of byWikidata) evil.sparql[films.find((f) => f.id === r.filmId)!.imdbId!] = [`https://en.wikipedia.org/wiki/Evil%1B%5B31m%07_${r.filmId}`];
    // three films matched by title on the wiki: their page now redirects to a title with a BEL in it
    const byTitle = oracle.filter((r) => r.method === 'title').slice(0, 3);
    for (const r of byTitle) {
      const bell = `${r.title!}\u0007`;
      evil.redirects[r.title!] = bell;
      evil.pages[bell] = evil.pages[r.title!]!;
    }
    const expected = expectedMatches(films, evil, { wikidata: true, wiki: true });
    for (const r of [...byWikidata, ...byTitle]) {
      assert.notDeepEqual(expected.find((e) => e.filmId === r.filmId), r, `film ${r.filmId}: the oracle no longer takes that page`);
    }
    const s = await startSparqlServer({ table: evil.sparql });
    const w = await startActionApiServer({ pages: evil.pages, redirects: evil.redirects });
    try {
      const got = await run('evil', [], { sparql: s.url, wiki: w.endpoint });
      assert.deepEqual(got.rows, expected);
      assert.ok(!got.rows.some((r) => /[\u0000-\u001f\u007f]/.test(`${r.title ?? ''}${r.url ?? ''}`)), 'no loaded title or URL holds a control character');
      const said = got.result.stderr.match(/warning: Wikidata named 3 English articles whose title MediaWiki would refuse \("Evil\\u001b\[31m\\u0007 \d+"/g);
      assert.equal(said?.length, 1, got.result.stderr);
      assert.doesNotMatch(got.result.stderr, /[\u0007\u001b]/, 'no control character reaches the terminal');
    } finally {
      await Promise.all([s.close(), w.close()]);
    }
  });
});
