/**
 * Matching end to end (issues 4 and 13): Wikidata, the dump scan and the live
 * wiki through the command line, against real test servers and a generated
 * dump, compared with the sequential order computed stage by stage: all
 * Wikidata answers first, then the scan, then the live wiki, then the matching.
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
import { liveQuestions, runMatch, titleKeys } from '../src/stages/match.js';
import { runMetadata } from '../src/stages/metadata.js';
import { runWikidata } from '../src/stages/wikidata.js';
import { runWikipedia } from '../src/stages/wikipedia.js';
import type { Film, FilmMatch } from '../src/types.js';
import { realCsvPath, runCli, WITHOUT_REAL_DATA } from './helpers/cli.js';
import { loadedMatches, type MatchRow } from './helpers/oracle.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from './helpers/pg.js';
import { closedKeys, closedPort, quiet } from './helpers/recorder.js';
import { startSparqlServer, type FaultFn, type SparqlServer } from './helpers/sparql-server.js';
import { startActionApiServer, type ActionApiServer, type WikiPage } from './helpers/action-api-server.js';

const TOP = 60;
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const doc = (key: string, abstract: string) =>
  `<doc>\n<title>Wikipedia: ${escape(key)}</title>\n<url>${urlFromKey(key)}</url>\n<abstract>${escape(abstract)}</abstract>\n<links>\n</links>\n</doc>\n`;

interface Scenario {
  films: Film[];
  /** imdb id -> article URLs, as the SPARQL server answers */
  table: Record<string, string[]>;
  /** title -> the live wiki's page (a string: its intro) */
  wiki: Record<string, WikiPage | string>;
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
 *  3 Wikidata knows the id but no article; the dump holds "{T} (film)" with infobox residue; the live wiki
 *    gives its intro (or it is a disambiguation page there: no abstract)
 *  4 the id is not in Wikidata; the dump holds the bare title, whose abstract says "film"
 *  5 nothing anywhere, or a Wikidata page that neither the dump nor the wiki has
 *  6 the id is not in Wikidata; the dump has nothing; the live wiki has "{T} ({Y} film)" (or, one in two, only the
 *    bare title, whose short description says film)
 *  7 the id is not in Wikidata; the dump holds "{T} (film)" as a disambiguation page ("may refer to"): never a film's
 *    page; the live wiki has the bare title, whose intro says film
 */
function scenario(films: Film[]): Scenario {
  const s: Scenario = { films, table: {}, wiki: {}, early: [], spread: [] };
  films.forEach((f, i) => {
    const t = wikiTitleCase(f.title);
    const y = f.year ?? 2000;
    const id = f.imdbId!;
    switch (i % 8) {
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
        s.wiki[`${t} (soundtrack)`] = `${f.title} is the soundtrack album of the film.`;
        break;
      case 3:
        s.table[id] = [];
        s.spread.push(doc(`${t} (film)`, '| producer ='));
        if (i % 16 === 3) s.wiki[`${t} (film)`] = `${f.title} is a ${y} motion picture, per the live wiki.`;
        else s.wiki[`${t} (film)`] = { extract: `${f.title} may refer to:`, disambiguation: true };
        break;
      case 4:
        s.spread.push(doc(t, `${f.title} is a ${y} film by somebody.`));
        break;
      case 5:
        if (i % 16 === 5) s.table[id] = [urlFromKey(`${t} (lost film)`)];
        break;
      case 6:
        if (i % 16 === 6) s.wiki[`${t} (${y} film)`] = `${f.title} is a ${y} film, as the live wiki says.`;
        else s.wiki[t] = { extract: `${f.title} is a ${y} picture.`, description: `${y} film by somebody` };
        break;
      case 7:
        s.spread.push(doc(`${t} (film)`, `${f.title} may refer to:`));
        s.wiki[t] = { extract: `${f.title} is a ${y} American film.`, description: 'motion picture' };
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
let wiki: ActionApiServer;
let db: TestDatabase;
/** the sequential order's matches: every Wikidata answer, then the scan, then the live wiki */
let sequential: Row[];
/** what offline title matching gives: no Wikidata answer, no live wiki */
let titleOnly: Row[];
/** what Wikidata down gives: title matching in the dump, then on the live wiki */
let noWikidata: Row[];
/** what the live wiki down gives: Wikidata's pages and the dump's, the dump's abstracts */
let dumpOnly: Row[];

before(async () => {
  if (WITHOUT_REAL_DATA) return;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-matching-'));
  await chmod(tmp, 0o755);
  csv = realCsvPath();
  const { films } = await runMetadata(csv, { top: TOP, minBudget: 1000, ui: quiet });
  assert.ok(films.every((f) => f.imdbId), 'every selected film has an IMDb id');
  world = scenario(films);
  dump = path.join(tmp, 'dump.xml');
  await writeDump(dump, world);
  sparql = await startSparqlServer({ table: world.table });
  wiki = await startActionApiServer({ pages: world.wiki });

  // the sequential order, stage by stage
  const wd = await runWikidata(
    films.map((f) => f.imdbId!),
    { endpoint: sparql.url, dataDir: path.join(tmp, 'seq'), offline: false, require: false, ui: quiet },
  );
  const wanted = closedKeys([...titleKeys(films), ...[...wd.articles.values()].flat().map((a) => a.key)]);
  const scan = await runAbstracts([dump], wanted, { threads: 1, ui: quiet });
  const input = { films, wikidata: wd.articles, pages: scan.pages };
  const live = await runWikipedia((known) => liveQuestions({ ...input, live: known }), { endpoint: wiki.endpoint, dataDir: path.join(tmp, 'seq'), offline: false, ui: quiet });
  sequential = runMatch({ ...input, live: live.answers }).matches;
  titleOnly = runMatch({ films, wikidata: new Map(), pages: scan.pages }).matches;
  dumpOnly = runMatch(input).matches;
  const down = { films, wikidata: new Map(), pages: scan.pages };
  const liveDown = await runWikipedia((known) => liveQuestions({ ...down, live: known }), { endpoint: wiki.endpoint, dataDir: path.join(tmp, 'seq'), offline: false, ui: quiet });
  noWikidata = runMatch({ ...down, live: liveDown.answers }).matches;
  sparql.requests.length = 0;
  wiki.requests.length = 0;
  db = await freshDatabase((await testServers())[0]!);
});

after(async () => {
  await db?.drop();
  await sparql?.close();
  await wiki?.close();
  await closeTestServers();
  if (tmp) await rm(tmp, { recursive: true, force: true });
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
    '--wikipedia-endpoint',
    wiki.endpoint,
    '--database-url',
    db.url,
    '--data-dir',
    dataDir,
    '--threads',
    '2',
    '--no-progress',
    ...extra,
  ]);

describe('matching end to end', { skip: WITHOUT_REAL_DATA }, () => {
  test('the scenario exercises every rule', () => {
    const count = (m: FilmMatch['method']) => sequential.filter((r) => r.method === m).length;
    assert.ok(count('wikidata') >= 20 && count('title') >= 20 && count('none') >= 3, JSON.stringify({ w: count('wikidata'), t: count('title'), n: count('none') }));
    assert.ok(sequential.some((r) => r.abstractSource === 'api') && sequential.some((r) => r.abstractSource === 'dump'));
    const onlineTitles = sequential.filter((r) => r.method === 'title' && !titleOnly.some((o) => o.filmId === r.filmId && o.title === r.title));
    assert.ok(onlineTitles.length >= 10, `${onlineTitles.length} films matched by title on the live wiki only`);
    assert.ok(sequential.some((r) => r.method === 'title' && r.title === wikiTitleCase(world.films.find((f) => f.id === r.filmId)!.title)), 'a bare title');
    assert.ok(world.spread.some((d) => d.includes('may refer to')) && !sequential.some((r) => r.abstract?.includes('may refer to')));
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
      const count = (f: (r: (typeof sequential)[number]) => boolean): number => sequential.filter(f).length;
      const [api, dump] = [count((r) => r.abstractSource === 'api'), count((r) => r.abstractSource === 'dump')];
      assert.ok(api > 0 && dump > 0, `abstracts from both sources: ${api} from the live wiki, ${dump} from the dump`);
      assert.match(
        result.stdout,
        new RegExp(
          `Wikipedia matches: ${count((r) => r.method === 'wikidata')} by Wikidata, ${count((r) => r.method === 'title')} by title \\(\\d+ online\\), ` +
            `${count((r) => r.method === 'none')} none; ${count((r) => r.abstract !== null)} with an abstract \\(${api} from the live wiki, ${dump} from the dump\\)\\.`,
        ),
      );
      assert.ok(slow.requests.every((r) => r.userAgent?.startsWith('TrueFilm/')));
    } finally {
      await slow.close();
    }
  });

  test('a second run asks neither Wikidata nor the API anything, and gives the same matches', async () => {
    const dataDir = path.join(tmp, 'cached');
    assert.equal((await run(dataDir)).status, 0);
    const asked = { sparql: sparql.requests.length, wiki: wiki.requests.length };
    assert.ok(asked.sparql > 0 && asked.wiki > 0);
    const reportFile = path.join(tmp, 'cached.json');
    const again = await run(dataDir, ['--report', reportFile]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual({ sparql: sparql.requests.length, wiki: wiki.requests.length }, asked, 'no request the second time');
    const report = JSON.parse(await readFile(reportFile, 'utf8'));
    assert.equal(report.wikidata.requests, 0);
    assert.equal(report.wikidata.cache_hits, TOP);
    assert.equal(report.wikipedia.requests, 0);
    assert.equal(report.wikipedia.cache_hits, report.wikipedia.titles);
    assert.deepEqual(await loadedMatches(db), sequential);
  });

  test('--offline with no cache gives the title matches and the dump’s abstracts only', async () => {
    const before = { sparql: sparql.requests.length, wiki: wiki.requests.length };
    const reportFile = path.join(tmp, 'offline.json');
    const result = await run(path.join(tmp, 'offline'), ['--offline', '--report', reportFile]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual({ sparql: sparql.requests.length, wiki: wiki.requests.length }, before);
    assert.deepEqual(await loadedMatches(db), titleOnly);
    assert.equal(JSON.parse(await readFile(reportFile, 'utf8')).wikidata.status, 'offline');
  });

  test('the live wiki unreachable: one warning, exit 0, what Wikidata and the dump give', async () => {
    const reportFile = path.join(tmp, 'wiki-down.json');
    const result = await run(path.join(tmp, 'wiki-down'), ['--report', reportFile, '--wikipedia-endpoint', `http://127.0.0.1:${await closedPort()}/w/api.php`]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.match(/warning: the Wikipedia API is unavailable/g)?.length, 1, result.stderr);
    assert.deepEqual(await loadedMatches(db), dumpOnly);
    assert.ok(dumpOnly.some((r) => r.abstractSource === 'dump') && !dumpOnly.some((r) => r.abstractSource === 'api'), 'the dump\'s abstracts only');
    assert.equal(JSON.parse(await readFile(reportFile, 'utf8')).wikipedia.status, 'unavailable');
  });

  test('Wikidata unreachable: one warning, title matching in the dump and on the live wiki, exit 0; with --require-wikidata, exit 1', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}/sparql`;

    const reportFile = path.join(tmp, 'unavailable.json');
    const result = await run(path.join(tmp, 'unavailable'), ['--report', reportFile], endpoint);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr.match(/warning: the Wikidata Query Service is unavailable/g)?.length, 1);
    const report = JSON.parse(await readFile(reportFile, 'utf8'));
    assert.equal(report.wikidata.status, 'unavailable');
    const loaded = await loadedMatches(db);
    assert.deepEqual(loaded, noWikidata);
    assert.ok(noWikidata.filter((r) => r.method === 'title').length > titleOnly.filter((r) => r.method === 'title').length, 'the live wiki finds more');

    const strict = await run(path.join(tmp, 'strict'), ['--require-wikidata'], endpoint);
    assert.equal(strict.status, 1);
    assert.match(strict.stderr, /the Wikidata Query Service is unavailable/);
    assert.deepEqual(await loadedMatches(db), loaded, 'nothing was loaded by the failed run');
  });
});
