/**
 * Matching end to end (issue 4): Wikidata, the dump scan and the REST summary
 * fill-in through the command line, against real test servers and a generated
 * dump, compared with the sequential order computed stage by stage: all
 * Wikidata answers first, then the scan, then the matching.
 */
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { dumpPieces, HEADER, TRAILER } from '../bench/generate.js';
import { urlFromKey, wikiTitleCase } from '../src/keys.js';
import { runAbstracts } from '../src/stages/abstracts.js';
import { fillAbstracts, pagesWithoutAbstract, runMatch, titleKeys } from '../src/stages/match.js';
import { runMetadata } from '../src/stages/metadata.js';
import { runSummaries } from '../src/stages/summaries.js';
import { runWikidata } from '../src/stages/wikidata.js';
import type { Film, FilmMatch } from '../src/types.js';
import { realCsvPath, runCli } from './helpers/cli.js';
import { loadedMatches, type MatchRow } from './helpers/oracle.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from './helpers/pg.js';
import { closedKeys, closedPort, quiet } from './helpers/recorder.js';
import { startSparqlServer, type FaultFn, type SparqlServer } from './helpers/sparql-server.js';
import { startSummaryServer, type SummaryServer } from './helpers/summary-server.js';

const TOP = 60;
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const doc = (key: string, abstract: string) =>
  `<doc>\n<title>Wikipedia: ${escape(key)}</title>\n<url>${urlFromKey(key)}</url>\n<abstract>${escape(abstract)}</abstract>\n<links>\n</links>\n</doc>\n`;

interface Scenario {
  films: Film[];
  /** imdb id -> article URLs, as the SPARQL server answers */
  table: Record<string, string[]>;
  /** page key -> REST extract (or a disambiguation page) */
  summaries: Record<string, string | { type: 'disambiguation'; extract: string }>;
  /** docs to put early in the dump, and the rest spread through it */
  early: string[];
  spread: string[];
}

/**
 * Roles by rank, so that every rule is exercised:
 *  0 Wikidata names "{T} ({Y} film)", the dump has it with prose
 *  1 Wikidata names "{T} (American film)": not a title candidate, so the scan finds it only through the
 *    late keys; its doc sits at the start of the dump, scanned before the answer arrives
 *  2 Wikidata names two articles: one the dump holds, one it does not (the held one wins)
 *  3 Wikidata knows the id but no article; the dump holds "{T} (film)" with infobox residue; the REST API fills in
 *  4 the id is not in Wikidata; the dump holds the bare title, whose abstract says "film"
 *  5 nothing anywhere, or a Wikidata page that neither the dump nor the API has
 */
function scenario(films: Film[]): Scenario {
  const s: Scenario = { films, table: {}, summaries: {}, early: [], spread: [] };
  films.forEach((f, i) => {
    const t = wikiTitleCase(f.title);
    const y = f.year ?? 2000;
    const id = f.imdbId!;
    switch (i % 6) {
      case 0:
        s.table[id] = [urlFromKey(`${t} (${y} film)`)];
        s.spread.push(doc(`${t} (${y} film)`, `${f.title} is a ${y} film, rank ${f.rank} here.`));
        break;
      case 1:
        s.table[id] = [urlFromKey(`${t} (American film)`)];
        s.early.push(doc(`${t} (American film)`, `${f.title} is an American film of ${y}.`));
        break;
      case 2:
        s.table[id] = [urlFromKey(`${t} (soundtrack)`), urlFromKey(`${t} (${y} feature)`)];
        s.spread.push(doc(`${t} (${y} feature)`, `${f.title} is a feature film released in ${y}.`));
        s.summaries[`${t} (soundtrack)`] = `${f.title} is the soundtrack album of the film.`;
        break;
      case 3:
        s.table[id] = [];
        s.spread.push(doc(`${t} (film)`, '| producer ='));
        if (i % 12 === 3) s.summaries[`${t} (film)`] = `${f.title} is a ${y} motion picture, per the API.`;
        else s.summaries[`${t} (film)`] = { type: 'disambiguation', extract: `${f.title} may refer to:` };
        break;
      case 4:
        s.spread.push(doc(t, `${f.title} is a ${y} film by somebody.`));
        break;
      case 5:
        if (i % 12 === 5) s.table[id] = [urlFromKey(`${t} (lost film)`)];
        break;
    }
  });
  // a second doc with an existing key, later in the file: the first one wins
  s.spread.push(doc(`${wikiTitleCase(films[0]!.title)} (${films[0]!.year} film)`, 'A later duplicate that must lose.'));
  return s;
}

async function writeDump(file: string, s: Scenario): Promise<void> {
  const out = createWriteStream(file);
  const write = async (text: string | Buffer) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(HEADER);
  for (const d of s.early) await write(d);
  let next = 0;
  for (const piece of dumpPieces(7, 24 << 20)) {
    let text = piece.toString('utf8');
    if (text.startsWith(HEADER)) text = text.slice(HEADER.length);
    if (text.endsWith(TRAILER)) text = text.slice(0, -TRAILER.length);
    await write(text);
    // spread the film docs through the generated ones
    for (let k = 0; k < 4 && next < s.spread.length; k++) await write(s.spread[next++]!);
  }
  for (; next < s.spread.length; next++) await write(s.spread[next]!);
  await write(TRAILER);
  out.end();
  await once(out, 'finish');
}

type Row = MatchRow;

let tmp: string;
let csv: string;
let dump: string;
let world: Scenario;
let sparql: SparqlServer;
let rest: SummaryServer;
let db: TestDatabase;
/** the sequential order's matches: every Wikidata answer, then the scan, then the API */
let sequential: Row[];
/** what offline title matching gives: no Wikidata answer, no API */
let titleOnly: Row[];

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-matching-'));
  await chmod(tmp, 0o755);
  csv = realCsvPath();
  const { films } = await runMetadata(csv, { top: TOP, minBudget: 1000, ui: quiet });
  assert.ok(films.every((f) => f.imdbId), 'every selected film has an IMDb id');
  world = scenario(films);
  dump = path.join(tmp, 'dump.xml');
  await writeDump(dump, world);
  sparql = await startSparqlServer({ table: world.table });
  rest = await startSummaryServer({ pages: world.summaries });

  // the sequential order, stage by stage
  const wd = await runWikidata(
    films.map((f) => f.imdbId!),
    { endpoint: sparql.url, dataDir: path.join(tmp, 'seq'), offline: false, require: false, ui: quiet },
  );
  const wanted = closedKeys([...titleKeys(films), ...[...wd.articles.values()].flat().map((a) => a.key)]);
  const scan = await runAbstracts([dump], wanted, { threads: 1, ui: quiet });
  const matched = runMatch({ films, wikidata: wd.articles, pages: scan.pages });
  const api = await runSummaries(pagesWithoutAbstract(matched.matches), {
    endpoint: rest.endpoint,
    dataDir: path.join(tmp, 'seq'),
    offline: false,
    ui: quiet,
    ratePerSecond: 50,
  });
  sequential = fillAbstracts(matched.matches, api.extracts);
  titleOnly = runMatch({ films, wikidata: new Map(), pages: scan.pages }).matches;
  sparql.requests.length = 0;
  rest.requests.length = 0;
  db = await freshDatabase((await testServers())[0]!);
});

after(async () => {
  await db?.drop();
  await sparql?.close();
  await rest?.close();
  await closeTestServers();
  await rm(tmp, { recursive: true, force: true });
});

const run = (dataDir: string, extra: string[] = [], endpoint = sparql.url) =>
  runCli([
    'run',
    '--metadata',
    csv,
    '--top',
    String(TOP),
    '--abstracts',
    dump,
    '--sparql-endpoint',
    endpoint,
    '--summary-endpoint',
    rest.endpoint,
    '--database-url',
    db.url,
    '--data-dir',
    dataDir,
    '--threads',
    '2',
    '--no-progress',
    ...extra,
  ]);

describe('matching end to end', () => {
  test('the scenario exercises every rule', () => {
    const count = (m: FilmMatch['method']) => sequential.filter((r) => r.method === m).length;
    assert.ok(count('wikidata') >= 25 && count('title') >= 15 && count('none') >= 5, JSON.stringify({ w: count('wikidata'), t: count('title'), n: count('none') }));
    assert.ok(sequential.some((r) => r.abstractSource === 'api') && sequential.some((r) => r.abstractSource === 'dump'));
    assert.ok(sequential.some((r) => r.title?.endsWith('(American film)') && r.abstract !== null), 'a page found only through a late key');
    assert.equal(sequential[0]!.abstract?.includes('must lose'), false, 'the first doc of a key wins');
  });

  test('Wikidata answering slowly and with faults during the scan gives exactly the sequential order’s matches', async () => {
    // the query's first try meets a 429 with Retry-After, the second a 500, the third a reset; then slow answers
    const faults: FaultFn = (req) =>
      req.attempt === 1
        ? { kind: 'status', status: 429, retryAfter: '1' }
        : req.attempt === 2
          ? { kind: 'status', status: 500 }
          : req.attempt === 3
            ? { kind: 'reset' }
            : { kind: 'slow', delayMs: 400 };
    const slow = await startSparqlServer({ table: world.table, faults });
    try {
      const reportFile = path.join(tmp, 'faulty.json');
      const result = await run(path.join(tmp, 'faulty'), ['--report', reportFile], slow.url);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(await loadedMatches(db), sequential);
      const report = JSON.parse(await readFile(reportFile, 'utf8'));
      assert.equal(report.wikidata.status, 'ok');
      assert.ok(report.wikidata.retries >= 3, `retries ${report.wikidata.retries}`);
      assert.equal(report.matches.wikidata, sequential.filter((r) => r.method === 'wikidata').length);
      assert.match(result.stdout, /Wikipedia matches: \d+ by Wikidata, \d+ by title, \d+ none; \d+ with an abstract\./);
      assert.ok(slow.requests.every((r) => r.userAgent?.startsWith('TrueFilm/')));
    } finally {
      await slow.close();
    }
  });

  test('a second run asks neither Wikidata nor the API anything, and gives the same matches', async () => {
    const dataDir = path.join(tmp, 'cached');
    assert.equal((await run(dataDir)).status, 0);
    const asked = { sparql: sparql.requests.length, rest: rest.requests.length };
    assert.ok(asked.sparql > 0 && asked.rest > 0);
    const reportFile = path.join(tmp, 'cached.json');
    const again = await run(dataDir, ['--report', reportFile]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual({ sparql: sparql.requests.length, rest: rest.requests.length }, asked, 'no request the second time');
    const report = JSON.parse(await readFile(reportFile, 'utf8'));
    assert.equal(report.wikidata.requests, 0);
    assert.equal(report.wikidata.cache_hits, TOP);
    assert.deepEqual(await loadedMatches(db), sequential);
  });

  test('--offline with no cache gives the title matches and the dump’s abstracts only', async () => {
    const before = { sparql: sparql.requests.length, rest: rest.requests.length };
    const reportFile = path.join(tmp, 'offline.json');
    const result = await run(path.join(tmp, 'offline'), ['--offline', '--report', reportFile]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual({ sparql: sparql.requests.length, rest: rest.requests.length }, before);
    assert.deepEqual(await loadedMatches(db), titleOnly);
    assert.equal(JSON.parse(await readFile(reportFile, 'utf8')).wikidata.status, 'offline');
  });

  test('Wikidata unreachable: one warning, title matching, exit 0; with --require-wikidata, exit 1', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}/sparql`;

    const reportFile = path.join(tmp, 'unavailable.json');
    const result = await run(path.join(tmp, 'unavailable'), ['--report', reportFile], endpoint);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.match(/warning: the Wikidata Query Service is unavailable/g)?.length, 1);
    const report = JSON.parse(await readFile(reportFile, 'utf8'));
    assert.equal(report.wikidata.status, 'unavailable');
    const loaded = await loadedMatches(db);
    assert.deepEqual(
      loaded.map((r) => [r.filmId, r.method, r.title]),
      titleOnly.map((r) => [r.filmId, r.method, r.title]),
    );

    const strict = await run(path.join(tmp, 'strict'), ['--require-wikidata'], endpoint);
    assert.equal(strict.status, 1);
    assert.match(strict.stderr, /the Wikidata Query Service is unavailable/);
    assert.deepEqual(await loadedMatches(db), loaded, 'nothing was loaded by the failed run');
  });
});
