/**
 * The live wiki stage (src/stages/wikipedia.ts) through its public face,
 * runWikipedia, against a real server on 127.0.0.1 that speaks the MediaWiki
 * Action API (test/helpers/action-api-server.ts), which is itself held to the
 * real answers recorded in the real data's api/ folder (helpers/cli.ts REAL_DATA). Titles that MediaWiki
 * spells its own way, redirects, disambiguation pages, the 20-extract cap,
 * politeness (maxlag, Retry-After, 2 in flight, gzip, the User-Agent), faults
 * that must not change a single answer, the cache, --offline, the API down
 * and Ctrl-C; and the title rule on the live wiki, compared film by film with
 * the oracle of test/helpers/wiki-world.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { TrueFilmError } from '../src/errors.js';
import { USER_AGENT, userAgent } from '../src/http/client.js';
import { normalizeTitle } from '../src/keys.js';
import { liveQuestions, runMatch } from '../src/stages/match.js';
import { runWikipedia, WIKIPEDIA_CACHE_FILE, type AskFn, type WikipediaOptions } from '../src/stages/wikipedia.js';
import type { Film, LivePage, LiveQuestions } from '../src/types.js';
import { startActionApiServer, type ActionApiOptions, type ActionApiServer, type ApiFault, type FaultFn, type RecordedRequest, type WikiPage } from './helpers/action-api-server.js';
import { REAL_DATA, WITHOUT_REAL_DATA } from './helpers/cli.js';
import { closedPort, recordingUi, scratch } from './helpers/recorder.js';
import { expectedMatches, type World } from './helpers/wiki-world.js';

const { tempDir, keep } = scratch('wikipedia');

const RECORDED = (name: string) => JSON.parse(readFileSync(path.join(REAL_DATA, 'api', name), 'utf8')) as { request: string; response: Record<string, any> };

/** A few pages with the spellings that matter. */
const PAGES: Record<string, WikiPage | string> = {
  'Heat (1995 film)': { extract: 'Heat is a 1995 American crime film written and directed by Michael Mann.', description: '1995 film by Michael Mann', item: 'Q496255' },
  'Heat': { extract: 'Heat is energy in transfer.', description: 'Topics referred to by the same term', disambiguation: true },
  "Who's Afraid of Virginia Woolf? (film)": "Who's Afraid of Virginia Woolf? is a 1966 American drama film directed by Mike Nichols.",
  'Roger & Me': { extract: 'Roger & Me is a 1989 American documentary film by Michael Moore.', description: '1989 film by Michael Moore' },
  'Amélie': { extract: "Amélie is a 2001 French romantic comedy film directed by Jean-Pierre Jeunet.", description: '2001 film by Jean-Pierre Jeunet' },
  'XXx (2002 film)': 'xXx is a 2002 American action film directed by Rob Cohen.',
  'EXistenZ': { extract: 'eXistenZ is a 1999 science fiction body horror film written and directed by David Cronenberg.', description: '1999 film by David Cronenberg' },
  'Face/Off': { extract: 'Face/Off is a 1997 American science fiction action thriller film directed by John Woo.', description: '1997 film by John Woo' },
  'No Text (2004 film)': { extract: '', description: '2004 film' },
  'Help! (film)': 'Help! is a 1965 British musical comedy film directed by Richard Lester.',
  'Help!': { extract: 'Help! is the fifth studio album by the English rock band the Beatles.', description: '1965 studio album by the Beatles' },
};
const REDIRECTS: Record<string, string> = {
  'Heat (film)': 'Heat (1995 film)',
  'Dude, Where’s My Car? (2000 film)': 'Dude, Where’s My Car?',
  'Chain (1999 film)': 'Chain (film)',
  'Chain (film)': 'Chain (movie)',
  'Loop (2001 film)': 'Loop (film)',
  'Loop (film)': 'Loop (2001 film)',
};
PAGES['Dude, Where’s My Car?'] = { extract: 'Dude, Where’s My Car? is a 2000 American stoner comedy film.', description: '2000 film by Danny Leiner' };
PAGES['Chain (movie)'] = 'Chain is a 1999 film that this test reaches through two redirects.';

async function serve(options: Partial<ActionApiOptions> = {}): Promise<ActionApiServer> {
  return keep(await startActionApiServer({ pages: PAGES, redirects: REDIRECTS, ...options }));
}

/** Test settings: small waits, so that a run costs milliseconds. */
function options(endpoint: string, dataDir: string, extra: Partial<WikipediaOptions> = {}): WikipediaOptions {
  return { endpoint, dataDir, offline: false, ui: recordingUi().ui, backoffMs: 5, maxBackoffMs: 20, timeoutMs: 5_000, maxTotalMs: 30_000, ...extra };
}

/** An ask function for a fixed set of questions: lookups, and titles whose extract is wanted. */
function fixed(lookup: string[], extract: string[] = []): AskFn {
  return (known) => {
    const q: LiveQuestions = { lookup: new Set(), decide: new Set(), abstract: new Set() };
    for (const t of lookup) if (!known.has(t)) q.lookup.add(t);
    for (const t of extract) {
      const page = known.get(t);
      if (page === undefined || (page.kind === 'page' && page.extract === undefined)) q.abstract.add(t);
    }
    return q;
  };
}

const LOOKUPS = ['Heat (1995 film)', 'Heat (film)', 'Heat', 'Roger & Me', 'Amélie', 'XXx (2002 film)', 'Face/Off', 'Dude, Where’s My Car? (2000 film)', 'Chain (1999 film)', 'Loop (2001 film)', 'No Such Film (1999 film)', 'Q: The Winged Serpent', 'Category:Films'];
const EXTRACTS = ['Heat (1995 film)', 'Heat (film)', 'Face/Off', 'No Text (2004 film)', "Who's Afraid of Virginia Woolf? (film)", 'Chain (1999 film)'];

describe('the Action API test server answers as the real API does (recorded answers)', { skip: WITHOUT_REAL_DATA }, () => {
  test('formatversion 2: pages a list, the recorded fields and types, redirects and disambiguation as recorded', async () => {
    const server = await serve({
      pages: {
        'Douglas Adams': { extract: 'Douglas Noel Adams was an English author.', item: 'Q42' },
        'Douglas Adams (disambiguation)': { extract: 'Douglas Adams was an English writer.', disambiguation: true, item: 'Q5301194' },
      },
      redirects: { 'Adams, Douglas': 'Douglas Adams' },
    });
    for (const name of ['wptools-query.json', 'wptools-redirect.json', 'wptools-disambiguation.json']) {
      const recorded = RECORDED(name);
      const params = new URL(recorded.request).searchParams;
      params.set('format', 'json');
      const res = await fetch(`${server.endpoint}?${params}`, { headers: { 'user-agent': USER_AGENT } });
      const ours = (await res.json()) as Record<string, any>;
      assert.equal(ours.batchcomplete, recorded.response.batchcomplete, name);
      assert.deepEqual(ours.query.redirects, recorded.response.query.redirects, `${name}: redirects`);
      assert.equal(Array.isArray(ours.query.pages), true);
      const [mine, theirs] = [ours.query.pages[0], recorded.response.query.pages[0]];
      for (const [key, value] of Object.entries(mine)) {
        assert.ok(key in theirs, `${name}: the real page has "${key}" too`);
        assert.equal(typeof value, typeof theirs[key], `${name}: "${key}" has the real type`);
      }
      assert.deepEqual(mine.pageprops, theirs.pageprops, `${name}: pageprops`);
      assert.equal(mine.title, theirs.title);
      assert.match(mine.extract, /^<p>/, 'HTML without explaintext, as recorded');
    }
  });

  test('formatversion 1: pages keyed by id (negative for missing ones), flags as ""; normalisation, invalid titles, interwiki', async () => {
    const server = await serve();
    const titles = ['heat_(1995 film)', 'Nope', 'Bad<title', 'q:Something', ' Roger  &  Me '];
    const res = await fetch(`${server.endpoint}?action=query&format=json&prop=pageprops&titles=${encodeURIComponent(titles.join('|'))}`, { headers: { 'user-agent': 'test' } });
    const body = (await res.json()) as Record<string, any>;
    assert.equal(body.batchcomplete, '');
    assert.deepEqual(body.query.normalized, [
      { from: 'heat_(1995 film)', to: 'Heat (1995 film)' },
      { from: ' Roger  &  Me ', to: 'Roger & Me' },
    ]);
    assert.deepEqual(body.query.interwiki, [{ title: 'q:Something', iw: 'q' }]);
    const pages = Object.entries(body.query.pages) as [string, any][];
    assert.deepEqual(pages.find(([, p]) => p.title === 'Nope'), ['-2', { ns: 0, title: 'Nope', missing: '' }]);
    assert.equal(pages.find(([, p]) => p.title === 'Bad<title')![1].invalid, '');
    assert.match(pages.find(([, p]) => p.title === 'Bad<title')![1].invalidreason, /invalid characters: "<"/);
    assert.equal(pages.find(([, p]) => p.title === 'Heat (1995 film)')![1].pageprops.wikibase_item, 'Q496255');
  });

  test('more than 50 titles is an error; the 21st intro extract waits for "continue"; maxlag only for a request that sets it', async () => {
    const server = await serve();
    const get = async (query: string) => (await fetch(`${server.endpoint}?action=query&format=json&formatversion=2&${query}`, { headers: { 'user-agent': 'test' } })).json() as Promise<Record<string, any>>;
    const many = Array.from({ length: 51 }, (_, i) => `T${i}`).join('|');
    assert.equal((await get(`titles=${encodeURIComponent(many)}`)).error.code, 'toomanyvalues');
    const extra: Record<string, string> = {};
    for (let i = 0; i < 25; i++) extra[`Film ${i}`] = `Film ${i} is a film.`;
    const big = await serve({ pages: extra });
    const titles = encodeURIComponent(Object.keys(extra).join('|'));
    const first = (await (await fetch(`${big.endpoint}?action=query&format=json&formatversion=2&prop=extracts|pageprops&exintro=1&explaintext=1&exlimit=max&titles=${titles}`, { headers: { 'user-agent': 't' } })).json()) as Record<string, any>;
    assert.equal(first.query.pages.filter((p: any) => 'extract' in p).length, 20);
    assert.deepEqual(first.continue, { excontinue: 20, continue: '||pageprops' });
    const next = (await (await fetch(`${big.endpoint}?action=query&format=json&formatversion=2&prop=extracts|pageprops&exintro=1&explaintext=1&exlimit=max&titles=${titles}&excontinue=20&continue=${encodeURIComponent('||pageprops')}`, { headers: { 'user-agent': 't' } })).json()) as Record<string, any>;
    assert.equal(next.query.pages.filter((p: any) => 'extract' in p).length, 5);
    assert.equal(next.batchcomplete, true);
  });
});

describe('runWikipedia', () => {
  test('answers every title: pages, redirects (a chain, a loop), disambiguation, missing, another wiki or namespace', async () => {
    const server = await serve();
    const { answers, report } = await runWikipedia(fixed(LOOKUPS, EXTRACTS), options(server.endpoint, await tempDir()));
    const page = (t: string) => answers.get(t) as Extract<LivePage, { kind: 'page' }>;
    assert.deepEqual(page('Heat (film)'), {
      kind: 'page',
      title: 'Heat (1995 film)',
      redirected: true,
      disambiguation: false,
      description: '1995 film by Michael Mann',
      extract: (PAGES['Heat (1995 film)'] as WikiPage).extract,
    });
    assert.equal(page('Heat').disambiguation, true);
    assert.equal(page('Chain (1999 film)').title, 'Chain (movie)', 'a chain of redirects is followed');
    assert.equal(page('Chain (1999 film)').extract, PAGES['Chain (movie)']);
    assert.equal(page('Dude, Where’s My Car? (2000 film)').title, 'Dude, Where’s My Car?');
    assert.equal(page('No Text (2004 film)').extract, null, 'a page without intro text');
    assert.equal(page("Who's Afraid of Virginia Woolf? (film)").extract, PAGES["Who's Afraid of Virginia Woolf? (film)"]);
    for (const t of ['Loop (2001 film)', 'No Such Film (1999 film)', 'Q: The Winged Serpent', 'Category:Films']) assert.deepEqual(answers.get(t), { kind: 'missing' }, t);
    assert.deepEqual(report, { status: 'ok', titles: new Set([...LOOKUPS, ...EXTRACTS]).size, requests: server.requests.length, retries: 0, cache_hits: 0, redirects: 3, disambiguation: 1, missing: 4 });
  });

  test('asks politely: GET, formatversion 2, maxlag=5, redirects, gzip, the User-Agent with the contact, ≤ 50 titles, ≤ 2 in flight', async () => {
    // the first request is answered only once a second one is in flight (or, failing that, after 20 s):
    // the client keeps two going, and never a third
    let server!: ActionApiServer;
    const secondInFlight = () => Promise.race([server.whenInFlight(2), delay(20_000)]);
    server = await serve({ faults: async (r) => (r.n === 1 ? (await secondInFlight(), null) : null) });
    const many = Array.from({ length: 180 }, (_, i) => `Film number ${i}`);
    await runWikipedia(fixed([...many, ...LOOKUPS], EXTRACTS), options(server.endpoint, await tempDir(), { userAgent: userAgent('film-desk@example.org') }));
    assert.ok(server.requests.length >= 4, `${server.requests.length} requests`);
    for (const r of server.requests) {
      assert.equal(r.method, 'GET');
      assert.equal(r.params.action, 'query');
      assert.equal(r.params.format, 'json');
      assert.equal(r.params.formatversion, '2');
      assert.equal(r.params.maxlag, '5');
      assert.equal(r.params.redirects, '1');
      assert.equal(r.userAgent, `TrueFilm/0.1.0 (film-desk@example.org) undici`);
      assert.match(r.acceptEncoding ?? '', /\bgzip\b/);
      assert.ok(r.titles.length <= 50, `${r.titles.length} titles`);
    }
    assert.equal(server.maxInFlight, 2, 'two in flight, never more');
  });

  test('a maxlag error waits for its Retry-After, and so do 429 and 503; the answers are those of a clean run', async () => {
    const clean = await runWikipedia(fixed(LOOKUPS, EXTRACTS), options((await serve()).endpoint, await tempDir()));
    for (const fault of [{ kind: 'maxlag', lag: 7, retryAfter: '1' }, { kind: 'status', status: 429, retryAfter: '1' }, { kind: 'status', status: 503, retryAfter: '1' }] as ApiFault[]) {
      const server = await serve({ faults: (r) => (r.n === 1 ? fault : null) });
      const got = await runWikipedia(fixed(LOOKUPS, EXTRACTS), options(server.endpoint, await tempDir()));
      assert.deepEqual(got.answers, clean.answers, fault.kind);
      const [first, retry] = server.requests;
      assert.deepEqual(retry!.titles, first!.titles, 'the same request again');
      assert.ok(retry!.arrivedAt - first!.answeredAt! >= 990, `${fault.kind}: waited ${retry!.arrivedAt - first!.answeredAt!} ms for Retry-After: 1`);
      assert.equal(got.report.retries, 1);
    }
  });

  test('bad JSON, a reset, a cut-off body, a 500, a wrong shape and a slow answer are retried: the same answers as a clean run', async () => {
    const titles = [...Array.from({ length: 120 }, (_, i) => `Film number ${i}`), ...LOOKUPS];
    const clean = await runWikipedia(fixed(titles, EXTRACTS), options((await serve()).endpoint, await tempDir()));
    // the slow answer never comes: the client's timeout, far above a real answer's time, gives up on it
    const kinds: ApiFault[] = [{ kind: 'malformed' }, { kind: 'reset' }, { kind: 'truncated' }, { kind: 'status', status: 500 }, { kind: 'wrong-shape' }, { kind: 'slow', delayMs: 60_000 }];
    const faults: FaultFn = (r) => (r.attempt === 1 ? kinds[(r.n - 1) % kinds.length] : null);
    const server = await serve({ faults });
    const rec = recordingUi();
    const got = await runWikipedia(fixed(titles, EXTRACTS), options(server.endpoint, await tempDir(), { timeoutMs: 2_000, ui: rec.ui }));
    assert.deepEqual(got.answers, clean.answers);
    assert.equal(got.report.status, 'ok');
    assert.deepEqual(rec.warnings, []);
    assert.ok(got.report.retries >= 3, `${got.report.retries} retries`);
  });

  test('extracts past the cap: continuations are followed until every extract is in', async () => {
    const pages: Record<string, string> = {};
    for (let i = 0; i < 30; i++) pages[`Capped film ${i}`] = `Capped film ${i} is a 2001 film.`;
    const server = await serve({ pages, extractLimit: 3 });
    const { answers } = await runWikipedia(fixed([], Object.keys(pages)), options(server.endpoint, await tempDir()));
    for (const [title, text] of Object.entries(pages)) assert.equal((answers.get(title) as { extract?: string }).extract, text, title);
    const continued = server.requests.filter((r) => r.continued);
    assert.ok(continued.length >= 6, `${continued.length} continuations`);
    assert.ok(continued.every((r) => r.params.excontinue !== undefined && r.params.continue === '||pageprops|description'), 'the continue parameters sent back');
  });

  test('the cache: a second run sends nothing; --offline answers from the cache alone, the rest unknown', async () => {
    const server = await serve();
    const dataDir = await tempDir();
    const first = await runWikipedia(fixed(LOOKUPS, EXTRACTS), options(server.endpoint, dataDir));
    const sent = server.requests.length;
    const again = await runWikipedia(fixed(LOOKUPS, EXTRACTS), options(server.endpoint, dataDir));
    assert.equal(server.requests.length, sent, 'no request the second time');
    assert.deepEqual(again.answers, first.answers);
    assert.equal(again.report.cache_hits, again.report.titles);
    assert.equal(again.report.requests, 0);
    const cache = JSON.parse(await readFile(path.join(dataDir, WIKIPEDIA_CACHE_FILE), 'utf8'));
    assert.equal(cache.version, 1);
    assert.equal(cache.entries['Heat (film)'].title, 'Heat (1995 film)');

    const offline = await runWikipedia(fixed([...LOOKUPS, 'Never Asked Before'], EXTRACTS), options('http://127.0.0.1:9/w/api.php', dataDir, { offline: true }));
    assert.equal(offline.report.status, 'offline');
    assert.deepEqual(offline.answers.get('Never Asked Before'), { kind: 'unknown' });
    assert.deepEqual(offline.answers.get('Heat (film)'), first.answers.get('Heat (film)'));
    assert.equal(server.requests.length, sent);
  });

  test('the API down: one warning, every title unknown, status unavailable; an API error that is not worth retrying too', async () => {
    const rec = recordingUi();
    const down = await runWikipedia(fixed(LOOKUPS, EXTRACTS), options(`http://127.0.0.1:${await closedPort()}/w/api.php`, await tempDir(), { ui: rec.ui }));
    assert.equal(down.report.status, 'unavailable');
    assert.equal(rec.warnings.length, 1);
    assert.match(rec.warnings[0]!, /the Wikipedia API is unavailable \(http:\/\/127\.0\.0\.1:\d+\/w\/api\.php\): .*ECONNREFUSED/);
    assert.equal(down.answers.size, new Set([...LOOKUPS, ...EXTRACTS]).size, 'every title answered');
    assert.ok([...down.answers.values()].every((a) => a.kind === 'unknown'), 'every title unknown');

    const wrong = await serve();
    const rec2 = recordingUi();
    const refused = await runWikipedia(fixed(LOOKUPS), options(wrong.endpoint.replace('/w/api.php', '/wiki/api.php'), await tempDir(), { ui: rec2.ui }));
    assert.equal(refused.report.status, 'unavailable');
    assert.equal(rec2.warnings.length, 1);
    assert.ok(wrong.requests.length >= 1, 'the API was asked');
    assert.ok(wrong.requests.every((r) => r.attempt === 1), 'a 404 is not retried');
  });

  test('Ctrl-C while requests are in flight: INTERRUPTED at once, and what was answered is cached', async () => {
    // requests after the first are held until the test lets them go (or, failing that, for 20 s): the stop
    // must come while they are held
    let release!: () => void;
    let released = false;
    const held = new Promise<void>((resolve) => (release = resolve)).then(() => void (released = true));
    const fallback = setTimeout(() => release(), 20_000);
    const server = await serve({ faults: async (r) => (r.n > 1 ? (await held, null) : null) });
    const dataDir = await tempDir();
    const controller = new AbortController();
    const titles = Array.from({ length: 150 }, (_, i) => `Film number ${i}`);
    const running = runWikipedia(fixed(['Heat (1995 film)', ...titles]), options(server.endpoint, dataDir, { signal: controller.signal }));
    await server.whenInFlight(2);
    controller.abort(new TrueFilmError('INTERRUPTED', 'stopped by SIGINT'));
    await assert.rejects(running, (err: unknown) => err instanceof TrueFilmError && err.code === 'INTERRUPTED');
    assert.equal(released, false, 'stopped while the requests were still held: it did not wait for them');
    clearTimeout(fallback);
    release();
    const cache = JSON.parse(await readFile(path.join(dataDir, WIKIPEDIA_CACHE_FILE), 'utf8'));
    assert.ok(Object.keys(cache.entries).length >= 1, 'the first answer is kept');
  });
});

/** Films with the titles that MediaWiki spells its own way; none is known to Wikidata. */
function film(id: number, title: string, year: number | null, originalTitle: string | null = null): Film {
  return { id, imdbId: null, title, originalTitle, releaseDate: null, year, budget: 1, revenue: 1, ratio: 1, rank: id, rating: null, voteCount: null, genres: [], companies: [] };
}
const FILMS = [
  film(1, 'Heat', 1995),
  film(2, "Who's Afraid of Virginia Woolf?", 1966),
  film(3, 'Roger & Me', 1989),
  film(4, 'Ame\u0301lie', 2001, "Le Fabuleux Destin d'Amélie Poulain"),
  film(5, 'xXx', 2002),
  film(6, 'eXistenZ', 1999),
  film(7, 'Face/Off', 1997),
  film(8, 'Dude, Where’s My Car?', 2000),
  film(9, 'Q: The Winged Serpent', 1982),
  film(10, '[REC]', 2007),
  film(11, 'Help!', 1965),
  film(12, 'No Text', 2004),
  film(13, 'Chain', 1999),
  film(14, 'Loop', 2001),
  film(15, 'Nothing At All', 1990, 'Rien du tout'),
  film(16, 'Heat', null, 'Heat'),
];
const WORLD: World = { sparql: {}, pages: {}, redirects: REDIRECTS, roles: new Map() };
for (const [title, page] of Object.entries(PAGES)) WORLD.pages[title] = typeof page === 'string' ? { extract: page } : page;

async function matchLive(endpoint: string, dataDir: string, extra: Partial<WikipediaOptions> = {}) {
  const input = { films: FILMS, wikidata: new Map(), pages: new Map() };
  const live = await runWikipedia((known) => liveQuestions({ ...input, live: known }), options(endpoint, dataDir, extra));
  const { matches, report } = runMatch({ ...input, live: live.answers });
  return { rows: matches.map(({ filmId, method, url, title, abstract, abstractSource }) => ({ filmId, method, url, title, abstract, abstractSource })), report, live };
}

describe('the title rule on the live wiki', () => {
  test('apostrophes, &, ?, /, a decomposed é, a lower-case first letter, an interwiki prefix and an invalid title: each film as the rule says', async () => {
    const server = await serve();
    const { rows, report, live } = await matchLive(server.endpoint, await tempDir());
    assert.deepEqual(rows, expectedMatches(FILMS, WORLD, { wikidata: false, wiki: true }));
    const byId = (id: number) => rows.find((r) => r.filmId === id)!;
    assert.deepEqual([byId(1).title, byId(1).abstractSource], ['Heat (1995 film)', 'api']);
    assert.equal(byId(4).title, 'Amélie', 'NFC, as MediaWiki stores it');
    assert.equal(byId(5).title, 'XXx (2002 film)', 'the first letter upper case');
    assert.equal(byId(5).url, 'https://en.wikipedia.org/wiki/XXx_(2002_film)');
    assert.equal(byId(6).title, 'EXistenZ', 'the bare title, whose short description says film');
    assert.equal(byId(8).url, 'https://en.wikipedia.org/wiki/Dude,_Where%E2%80%99s_My_Car%3F');
    assert.equal(byId(9).method, 'none', 'Q: is another wiki');
    assert.equal(byId(10).method, 'none', '[REC] is no title: never asked');
    assert.equal(byId(11).title, 'Help! (film)', 'the bare title is the album');
    assert.deepEqual([byId(12).method, byId(12).abstract], ['title', null]);
    assert.equal(byId(13).title, 'Chain (movie)');
    assert.equal(byId(14).method, 'none', 'a redirect loop is no page');
    assert.equal(report.title_online, rows.filter((r) => r.method === 'title').length);
    assert.ok(!server.requests.some((r) => r.titles.some((t) => t.includes('['))), 'an invalid title is not sent');
    assert.ok(live.report.redirects >= 3 && live.report.missing >= 3, JSON.stringify(live.report));
  });

  test('with a fault on every first try, the same matches', async () => {
    const kinds: ApiFault[] = [{ kind: 'maxlag', lag: 6, retryAfter: '0' }, { kind: 'status', status: 503, retryAfter: '0' }, { kind: 'reset' }, { kind: 'malformed' }, { kind: 'status', status: 429, retryAfter: '0' }];
    const server = await serve({ faults: (r: RecordedRequest) => (r.attempt === 1 ? kinds[(r.n - 1) % kinds.length] : null) });
    const { rows } = await matchLive(server.endpoint, await tempDir());
    assert.deepEqual(rows, expectedMatches(FILMS, WORLD, { wikidata: false, wiki: true }));
    assert.ok(server.requests.some((r) => r.apiError === 'maxlag'), 'a maxlag error was played');
  });

  test('the wiki down: no title match from it, and no error', async () => {
    const { rows, live } = await matchLive(`http://127.0.0.1:${await closedPort()}/w/api.php`, await tempDir());
    assert.deepEqual(rows, expectedMatches(FILMS, WORLD, { wikidata: false, wiki: false }));
    assert.equal(live.report.status, 'unavailable');
  });

  test('normalizeTitle spells titles as MediaWiki does', () => {
    assert.equal(normalizeTitle('xXx_(2002 film)'), 'XXx (2002 film)');
    assert.equal(normalizeTitle('  Roger   &\u00a0Me '), 'Roger & Me');
    assert.equal(normalizeTitle('Ame\u0301lie'), 'Amélie');
    assert.equal(normalizeTitle('\u200eLéon'), 'Léon');
    for (const bad of ['', '   ', '[REC]', 'A|B', 'Foo#bar', 'Bad%20title', 'x'.repeat(256)]) assert.equal(normalizeTitle(bad), null, bad);
    assert.equal(normalizeTitle('é'.repeat(127)), 'É' + 'é'.repeat(126), '254 bytes is a title');
  });
});

describe('answers no MediaWiki would give', () => {
  test('a title MediaWiki would refuse, reached through a redirect or `normalized`, is no page: missing, never a match', async () => {
    const evil = 'Evil\u001b[31m\u0007';
    const bell = 'Bell\u0007 (1999 film)';
    const server = await serve({
      pages: { ...PAGES, [evil]: { extract: 'Evil is a 2001 American horror film.', description: '2001 film' } },
      redirects: { ...REDIRECTS, 'Evil (2001 film)': evil },
      // a server that says "Bell (1999 film)" is spelt with a BEL, and holds that page
      tamper(body, req) {
        if (!req.titles.includes('Bell (1999 film)')) return;
        const query = body.query as { normalized?: unknown[]; pages?: Array<Record<string, unknown>> };
        query.normalized = [...(query.normalized ?? []), { fromencoded: false, from: 'Bell (1999 film)', to: bell }];
        query.pages = [...(query.pages ?? []).filter((p) => p.title !== 'Bell (1999 film)'), { pageid: 1, ns: 0, title: bell, extract: 'Bell is a 1999 film.', description: '1999 film' }];
      },
    });
    const films = [film(30, 'Evil', 2001), film(31, 'Bell', 1999), film(1, 'Heat', 1995)];
    const input = { films, wikidata: new Map(), pages: new Map() };
    const live = await runWikipedia((known) => liveQuestions({ ...input, live: known }), options(server.endpoint, await tempDir()));
    const { matches } = runMatch({ ...input, live: live.answers });
    assert.deepEqual(
      matches.map((m) => [m.filmId, m.method, m.title]),
      [
        [30, 'none', null],
        [31, 'none', null],
        [1, 'title', 'Heat (1995 film)'],
      ],
    );
    assert.deepEqual(live.answers.get('Evil (2001 film)'), { kind: 'missing' });
    assert.deepEqual(live.answers.get('Bell (1999 film)'), { kind: 'missing' });
    assert.ok(![...live.answers.keys()].some((t) => /[\u0000-\u001f]/.test(t)), 'no such title is an answer');
    assert.ok(live.report.missing >= 6, `counted with the missing pages: ${JSON.stringify(live.report)}`);
    assert.equal(live.report.status, 'ok');
  });

  test('answers over the 4 MiB cap (a gzip bomb): none asked again; three in a row and the API counts as unavailable, one warning naming the cap', async () => {
    const server = await serve({ faults: () => ({ kind: 'bomb', inflated: 512 << 20 }) });
    const rec = recordingUi();
    const titles = Array.from({ length: 400 }, (_, i) => `Film number ${i}`);
    const { answers, report } = await runWikipedia(fixed(titles), options(server.endpoint, await tempDir(), { ui: rec.ui }));
    assert.equal(report.status, 'unavailable');
    assert.ok(server.requests.every((r) => r.attempt === 1), 'no answer over the cap is asked again');
    assert.ok(server.requests.length <= 4, `${server.requests.length} requests: the API is given up after three failures, with at most one more in flight`);
    assert.equal(report.retries, 0);
    assert.ok(titles.every((t) => answers.get(t)?.kind === 'unknown'), 'every title unknown');
    assert.equal(rec.warnings.length, 1, rec.warnings.join('\n'));
    assert.match(rec.warnings[0]!, /over the 4 MiB an answer may have once inflated \(gzip\)/);
  });

  test('an intro extract of 3 MB is cut to 10,000 characters at a sentence end, a short description of 100 KB to 500', async () => {
    const text = 'Long is a 2001 American film. ' + 'It goes on and on. '.repeat(150_000);
    const server = await serve({ pages: { 'Long (2001 film)': { extract: text, description: 'd'.repeat(100_000) } } });
    const dataDir = await tempDir();
    const { answers } = await runWikipedia(fixed([], ['Long (2001 film)']), options(server.endpoint, dataDir));
    const page = answers.get('Long (2001 film)') as Extract<LivePage, { kind: 'page' }>;
    assert.ok(page.extract!.length <= 10_000 && page.extract!.length > 9_900, `${page.extract!.length} characters`);
    assert.equal(page.extract, text.slice(0, page.extract!.length), 'the start of the text');
    assert.ok(page.extract!.endsWith('on and on.'), 'cut after a full stop');
    assert.equal(page.description, 'd'.repeat(500));
    const cache = JSON.parse(await readFile(path.join(dataDir, WIKIPEDIA_CACHE_FILE), 'utf8'));
    assert.equal(cache.entries['Long (2001 film)'].extract, page.extract, 'the cache keeps the cut text');
  });
});
