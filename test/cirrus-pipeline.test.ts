/**
 * The CirrusSearch content dump as the --abstracts input, end to end through
 * the command line into real PostgreSQL, against a SPARQL test server and an
 * Action API test server (the live wiki).
 *
 * The CirrusSearch sample is built here from the real pages of the abstract
 * dump excerpts (the real data's enwiki_2021_film_pages.xml and
 * data/sample/enwiki-abstract-sample.xml): the same titles, `opening_text` =
 * the dump's abstract, as Elasticsearch bulk NDJSON (.json.bz2 and .json.gz,
 * as data_download.sh keeps them), with IMDb title links in `external_link`
 * for the films of the real CSV's first 4,994 rows whose page (a film
 * infobox's residue, or "... (YEAR film)") the dump holds. Run with Wikidata
 * answering every film, the abstract dump gives the oracle; the CirrusSearch
 * sample must give the same pages and abstracts, from 'cirrus', and match by
 * its IMDb links ('cirrus') the films Wikidata does not answer, offline too.
 */
import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { phpJson } from '../bench/generate.js';
import { judgeAbstract } from '../src/abstract-quality.js';
import { urlFromKey } from '../src/keys.js';
import { titleCandidates } from '../src/stages/match.js';
import { runMetadata } from '../src/stages/metadata.js';
import type { Film } from '../src/types.js';
import { REAL_DATA, realCsvPath, runCli, SAMPLE, WITHOUT_REAL_DATA } from './helpers/cli.js';
import { bzip2 } from './helpers/download.js';
import { loadedMatches, type MatchRow } from './helpers/oracle.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from './helpers/pg.js';
import { quiet } from './helpers/recorder.js';
import { startSparqlServer, type SparqlServer } from './helpers/sparql-server.js';
import { startActionApiServer, type ActionApiServer } from './helpers/action-api-server.js';

/** the real CSV's first 4,994 rows, every eligible film of them */
const CSV = realCsvPath();
const TOP = 2000;
const XML = [path.join(REAL_DATA, 'enwiki_2021_film_pages.xml'), path.join(SAMPLE, 'enwiki-abstract-sample.xml')];
/** the first fields of an infobox film that the dump's residue abstracts start with: such a page is the film's */
const FILM_INFOBOX = /^\|\s*(?:producer|starring|screenplay|music|voice|director|writers?|based_on|story|cinematography|editing|distributor)\s*=/;

interface XmlDoc {
  key: string;
  url: string;
  abstract: string;
}

const decode = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

async function xmlDocs(file: string): Promise<XmlDoc[]> {
  const text = await readFile(file, 'utf8');
  const docs: XmlDoc[] = [];
  for (const m of text.matchAll(/<doc>\s*<title>Wikipedia: ([^<]*)<\/title>\s*<url>([^<]*)<\/url>\s*<abstract>([^<]*)<\/abstract>/g)) {
    docs.push({ key: decode(m[1]!), url: m[2]!, abstract: decode(m[3]!) });
  }
  return docs;
}

/** A CirrusSearch document for a page of the abstract dump, its fields in the dump's order. */
function cirrusDoc(doc: XmlDoc, pageId: number, links: string[], redirects: string[], namespace = 0): Record<string, unknown> {
  const title = namespace === 1 ? `Talk:${doc.key}` : doc.key;
  return {
    template: ['Template:Short description'],
    content_model: 'wikitext',
    opening_text: doc.abstract,
    wiki: 'enwiki',
    auxiliary_text: [],
    language: 'en',
    title,
    text: `${doc.abstract} The rest of the article.`,
    defaultsort: false,
    timestamp: '2025-08-01T00:00:00Z',
    redirect: redirects.map((r) => ({ namespace: 0, title: r })),
    version_type: 'external',
    heading: ['Plot', 'Cast', 'Reception'],
    source_text: `'''${doc.key}''' ...`,
    version: 1_290_000_000 + pageId,
    external_link: links,
    namespace_text: namespace === 1 ? 'Talk' : '',
    namespace,
    text_bytes: doc.abstract.length + 24,
    incoming_links: pageId % 97,
    category: ['Articles with short description'],
    outgoing_link: [],
    popularity_score: 1e-6,
    page_id: pageId,
  };
}

type Row = MatchRow;

let tmp: string;
let films: Film[];
let cirrusFiles: string[];
/** film id -> the page its IMDb link is on */
const linked = new Map<number, string>();
/** the films whose Wikidata answer is withheld in the CirrusSearch run */
const withheld = new Set<number>();
let fullTable: Record<string, string[]>;
let partialTable: Record<string, string[]>;
let wiki: ActionApiServer;
let db: TestDatabase;
let xmlDocCount = 0;

before(async () => {
  if (WITHOUT_REAL_DATA) return;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-cirrus-e2e-'));
  await chmod(tmp, 0o755);
  films = (await runMetadata(CSV, { top: TOP, minBudget: 1000, ui: quiet })).films;
  const [real, sample] = await Promise.all(XML.map(xmlDocs));
  xmlDocCount = real!.length + sample!.length;
  assert.equal(xmlDocCount, 811 + 31);
  const pages = new Map<string, XmlDoc>();
  for (const doc of [...real!, ...sample!]) if (!pages.has(doc.key)) pages.set(doc.key, doc);

  // the films whose page the dumps hold, where that page is the film's (its residue is a film infobox's, or it is "... (YEAR film)")
  const links = new Map<string, string[]>();
  const redirects = new Map<string, string[]>();
  let found = 0;
  for (const film of films) {
    for (const candidate of titleCandidates(film)) {
      const page = pages.get(candidate.key);
      if (!page || !(/ \(\d{4} film\)$/.test(candidate.key) || FILM_INFOBOX.test(page.abstract))) continue;
      if (found++ % 2 === 1) break;
      linked.set(film.id, candidate.key);
      const n = linked.size;
      // the IMDb links as articles spell them: www., m., none, http
      const url = [`https://www.imdb.com/title/${film.imdbId}/`, `http://m.imdb.com/title/${film.imdbId}/`, `https://imdb.com/title/${film.imdbId}/fullcredits`][n % 3]!;
      links.set(candidate.key, [`https://www.boxofficemojo.com/movies/?id=${film.id}.htm`, url, `https://www.rottentomatoes.com/m/${film.id}`]);
      // a redirect spelled as the title matcher asks ("{T} ({Y} film)") is not the page's key
      if (film.year !== null && !candidate.key.endsWith('film)')) redirects.set(candidate.key, [`${candidate.key} (${film.year} film)`]);
      break;
    }
  }
  assert.ok(linked.size >= 50, `${linked.size} films linked`);

  const lines = (docs: XmlDoc[], first: number): string[] =>
    docs.flatMap((doc, i) => {
      const fields = cirrusDoc(doc, first + i, links.get(doc.key) ?? [], redirects.get(doc.key) ?? []);
      // one document in five as PHP's json_encode writes it (\/ and \uXXXX)
      return [`{"index":{"_type":"_doc","_id":"${first + i}"}}`, i % 5 === 0 ? phpJson(fields) : JSON.stringify(fields)];
    });
  // a talk page that links a film's IMDb id comes first: not an article, it does not count;
  // a list that links the linked films comes last: each film's own page came first
  const [firstFilm, firstPage] = [...linked][0]!;
  const talk = cirrusDoc(pages.get(firstPage)!, 1, [`https://www.imdb.com/title/${films.find((f) => f.id === firstFilm)!.imdbId}/`], [], 1);
  const list = cirrusDoc(
    { key: 'List of films in this test', url: '', abstract: 'This is a list of films.' },
    2,
    films.filter((f) => linked.has(f.id)).map((f) => `https://www.imdb.com/title/${f.imdbId}/`),
    [],
  );
  const shard0 = ['{"index":{"_type":"_doc","_id":"1"}}', JSON.stringify(talk), ...lines(real!, 10)].join('\n') + '\n';
  const shard1 = [...lines(sample!, 5000), '{"index":{"_type":"_doc","_id":"2"}}', JSON.stringify(list)].join('\n') + '\n';
  cirrusFiles = [path.join(tmp, 'enwiki_content-20250809-00000.json.bz2'), path.join(tmp, 'enwiki_content-20250809-00001.json.gz')];
  await writeFile(cirrusFiles[0]!, bzip2(Buffer.from(shard0)));
  await writeFile(cirrusFiles[1]!, gzipSync(shard1));

  // Wikidata: every linked film, and two films whose article neither dump holds
  fullTable = {};
  for (const [id, key] of linked) fullTable[films.find((f) => f.id === id)!.imdbId!] = [urlFromKey(key)];
  for (const film of films.filter((f) => !linked.has(f.id)).slice(0, 2)) fullTable[film.imdbId!] = [urlFromKey(`${film.title} (${film.year} film)`)];
  // the CirrusSearch run: Wikidata does not know half of the linked films
  partialTable = { ...fullTable };
  [...linked.keys()].forEach((id, i) => {
    if (i % 2 === 0) return;
    withheld.add(id);
    delete partialTable[films.find((f) => f.id === id)!.imdbId!];
  });
  // the live wiki knows one of the linked pages that Wikidata is silent on (its dump abstract is residue)
  const apiPage = [...linked].find(([id, key]) => withheld.has(id) && judgeAbstract(pages.get(key)!.abstract) !== 'prose')![1];
  wiki = await startActionApiServer({ pages: { [apiPage]: `${apiPage} is a film, as the live wiki says in prose.` } });
  db = await freshDatabase((await testServers())[0]!);
});

after(async () => {
  await db?.drop();
  await wiki?.close();
  await closeTestServers();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function run(name: string, abstracts: string[], extra: string[]): Promise<{ rows: Row[]; report: Record<string, Record<string, number>>; stdout: string }> {
  const reportFile = path.join(tmp, `${name}.json`);
  const result = await runCli([
    'run',
    '--metadata',
    CSV,
    '--top',
    String(TOP),
    ...abstracts.flatMap((file) => ['--abstracts', file]),
    '--wikipedia-endpoint',
    wiki.endpoint,
    '--database-url',
    db.url,
    '--data-dir',
    path.join(tmp, name),
    '--threads',
    '2',
    '--no-progress',
    '--report',
    reportFile,
    ...extra,
  ]);
  assert.equal(result.status, 0, result.stderr);
  return { rows: await loadedMatches(db), report: JSON.parse(await readFile(reportFile, 'utf8')), stdout: result.stdout };
}

async function withSparql<T>(table: Record<string, string[]>, work: (url: string) => Promise<T>): Promise<T> {
  const sparql: SparqlServer = await startSparqlServer({ table });
  try {
    return await work(sparql.url);
  } finally {
    await sparql.close();
  }
}

const asCirrus = (row: Row): Row => ({ ...row, abstractSource: row.abstractSource === 'dump' ? 'cirrus' : row.abstractSource });

describe('the CirrusSearch dump as --abstracts, end to end', { skip: WITHOUT_REAL_DATA }, () => {
  let oracle: Awaited<ReturnType<typeof run>>;
  let xmlOffline: Awaited<ReturnType<typeof run>>;

  before(async () => {
    oracle = await withSparql(fullTable, (url) => run('xml', XML, ['--sparql-endpoint', url]));
    xmlOffline = await run('xml-offline', XML, ['--offline']);
  });

  test('the oracle: Wikidata answering, the abstract dump gives the linked films their pages', () => {
    for (const [id, key] of linked) {
      const row = oracle.rows.find((r) => r.filmId === id)!;
      assert.deepEqual([row.method, row.title], ['wikidata', key]);
    }
    assert.ok(oracle.rows.some((r) => r.abstractSource === 'api'));
    assert.equal(oracle.report.matches!.cirrus, 0);
  });

  test('with Wikidata silent on half of them, the CirrusSearch dump gives the same pages and abstracts, matched by its IMDb links', async () => {
    // the live wiki's answers of the oracle's run, from its cache: most titles are asked again
    await mkdir(path.join(tmp, 'cirrus', 'cache'), { recursive: true });
    await copyFile(path.join(tmp, 'xml', 'cache', 'wikipedia.json'), path.join(tmp, 'cirrus', 'cache', 'wikipedia.json'));
    const cirrus = await withSparql(partialTable, (url) => run('cirrus', cirrusFiles, ['--sparql-endpoint', url]));
    const expected = oracle.rows.map((row) => asCirrus(withheld.has(row.filmId) ? { ...row, method: 'cirrus' } : row));
    assert.deepEqual(cirrus.rows, expected);
    assert.ok(cirrus.rows.some((r) => r.method === 'cirrus' && r.abstractSource === 'api'), 'the live wiki fills a cirrus match');
    // the prose ones are title matches ("Speed 2: Cruise Control", "Johnny Mnemonic"); the bare
    // "The Tailor of Panama" is the 1996 novel, refused for the 2001 film by the year check
    assert.ok(cirrus.rows.filter((r) => r.abstractSource === 'cirrus').length >= 2, 'abstracts from the CirrusSearch dump');
    assert.equal(cirrus.report.matches!.cirrus, withheld.size);
    assert.equal(cirrus.report.matches!.wikidata, oracle.report.matches!.wikidata! - withheld.size);
    assert.equal(cirrus.report.matches!.with_abstract, oracle.report.matches!.with_abstract);
    // the same pages, two more documents (the talk page and the list); nothing malformed
    assert.deepEqual(
      { files: cirrus.report.abstracts!.files, docs: cirrus.report.abstracts!.docs, malformed: cirrus.report.abstracts!.malformed_docs },
      { files: 2, docs: xmlDocCount + 2, malformed: 0 },
    );
    assert.match(cirrus.stdout, new RegExp(`Wikipedia matches: \\d+ by Wikidata, ${withheld.size} by CirrusSearch, `));
  });

  test('offline, the IMDb links alone match every linked film; the other films match by title as with the abstract dump', async () => {
    const cirrus = await run('cirrus-offline', cirrusFiles, ['--offline']);
    const expected = xmlOffline.rows.map((row) => {
      const key = linked.get(row.filmId);
      if (key === undefined) return asCirrus(row);
      const online = oracle.rows.find((r) => r.filmId === row.filmId)!;
      // the page Wikidata gives, with its dump abstract (no live wiki offline)
      const abstract = online.abstractSource === 'dump' ? online.abstract : null;
      return { ...online, method: 'cirrus' as const, abstract, abstractSource: abstract === null ? null : ('cirrus' as const) };
    });
    assert.deepEqual(cirrus.rows, expected);
    assert.equal(cirrus.report.matches!.cirrus, linked.size);
    // title matching alone found fewer of them: their bare titles' residue never says "film"
    const byTitle = xmlOffline.rows.filter((r) => linked.has(r.filmId) && r.method === 'title').length;
    assert.ok(byTitle < linked.size, `${byTitle} of ${linked.size} by title`);
  });
});
