/**
 * The page-summary stage through its public face, runSummaries, against a
 * real server on 127.0.0.1 that speaks the Wikipedia REST page summary API
 * (test/helpers/summary-server.ts): extracts, disambiguation and missing
 * pages, redirects, title encoding, the rate limit (from the server's own
 * timestamps), retries, the cache, --offline, unavailability, Ctrl-C, and a
 * run under injected faults that must give exactly the answers of a
 * fault-free run.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULTS, HELP, parseCommandLine, type RunConfig } from '../src/config.js';
import { TrueFilmError } from '../src/errors.js';
import { USER_AGENT } from '../src/http/client.js';
import { MAX_REDIRECTS, runSummaries, SUMMARY_CACHE_FILE, summaryUrl, titleSegment, type SummaryOptions, type SummaryResult } from '../src/stages/summaries.js';
import { closedPort, recordingUi, scratch } from './helpers/recorder.js';
import { startSummaryServer, type Fault, type FaultFn, type RecordedRequest, type SummaryPage, type SummaryServer, type SummaryServerOptions } from './helpers/summary-server.js';

const AMELIE = 'Amélie (French: Le Fabuleux Destin d\'Amélie Poulain) is a 2001 French romantic comedy film directed by Jean-Pierre Jeunet.';
const FACE_OFF = 'Face/Off is a 1997 American science fiction action thriller film directed by John Woo and written by Mike Werb and Michael Colleary.';

/** Pages as the API would give them; titles chosen for their spelling in URLs. */
const PAGES: Record<string, SummaryPage | string> = {
  'Amélie': AMELIE,
  'Face/Off': FACE_OFF,
  "The Astronaut's Wife": "The Astronaut's Wife is a 1999 American science fiction thriller film written and directed by Rand Ravich.",
  'Cowboys & Aliens': 'Cowboys & Aliens is a 2011 American science fiction Western film directed by Jon Favreau.',
  'Did You Hear About the Morgans?': 'Did You Hear About the Morgans? is a 2009 American romantic comedy film written and directed by Marc Lawrence.',
  'Æon Flux': 'Æon Flux is a 2005 American science fiction action film directed by Karyn Kusama.',
  '100% Love (2011 film)': '100% Love is a 2011 Indian Telugu-language romantic comedy film written and directed by Sukumar.',
  'Léon: The Professional': 'Léon: The Professional is a 1994 English-language French action thriller film written and directed by Luc Besson.',
  // answered, but not a film's prose
  'Hard Rain': { type: 'disambiguation', extract: 'Hard Rain may refer to:' },
  'Blank Page (2004 film)': { type: 'no-extract', extract: '' },
  'Main Page': { type: 'mainpage', extract: 'Welcome to Wikipedia, the free encyclopedia that anyone can edit.' },
  'Residue (film)': '| producer = Jane Doe | starring = John Doe',
  'Set index film': { type: 'standard', extract: 'Red Dawn may refer to:' },
};

/** What runSummaries should make of each key of PAGES, plus a missing page. */
const EXPECTED: Record<string, string | null> = {
  'Amélie': AMELIE,
  'Face/Off': FACE_OFF,
  "The Astronaut's Wife": PAGES["The Astronaut's Wife"] as string,
  'Cowboys & Aliens': PAGES['Cowboys & Aliens'] as string,
  'Did You Hear About the Morgans?': PAGES['Did You Hear About the Morgans?'] as string,
  'Æon Flux': PAGES['Æon Flux'] as string,
  '100% Love (2011 film)': PAGES['100% Love (2011 film)'] as string,
  'Léon: The Professional': PAGES['Léon: The Professional'] as string,
  'Hard Rain': null,
  'Blank Page (2004 film)': null,
  'Main Page': null,
  'Residue (film)': null,
  'Set index film': null,
  'No Such Film (1999 film)': null,
};
const KEYS = Object.keys(EXPECTED);
/** disambiguation: Hard Rain; missing: No Such Film; not prose: the other four nulls */
const COUNTS = { disambiguation: 1, missing: 1, not_prose: 4 };

const { tempDir, keep } = scratch('summaries');

async function serve(options: Partial<SummaryServerOptions> = {}): Promise<SummaryServer> {
  const server = await startSummaryServer({ pages: PAGES, ...options });
  return keep(server);
}

/** Test settings: the highest rate allowed and small waits, so that a run costs milliseconds. */
function options(endpoint: string, dataDir: string, extra: Partial<SummaryOptions> = {}): SummaryOptions {
  return {
    endpoint,
    dataDir,
    offline: false,
    ui: recordingUi().ui,
    ratePerSecond: 50,
    backoffMs: 5,
    maxBackoffMs: 20,
    timeoutMs: 5_000,
    maxTries: 4,
    maxTotalMs: 20_000,
    ...extra,
  };
}

const sorted = (m: Map<string, string | null>): Array<[string, string | null]> => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
const expected = (keys: string[]): Array<[string, string | null]> => sorted(new Map(keys.map((k) => [k, EXPECTED[k]!])));

async function readCacheFile(dir: string): Promise<Record<string, { type: string; extract: string | null; title?: string; fetched: string }>> {
  const doc = JSON.parse(await readFile(path.join(dir, SUMMARY_CACHE_FILE), 'utf8')) as { version: number; entries: Record<string, never> };
  assert.equal(doc.version, 1);
  return doc.entries;
}

describe('runSummaries: answers', () => {
  test('keeps prose extracts of standard pages; disambiguation, missing and non-prose answers are null and counted', async () => {
    const server = await serve();
    const rec = recordingUi();
    const { extracts, report } = await runSummaries(KEYS, options(server.endpoint, await tempDir(), { ui: rec.ui }));
    assert.deepEqual(sorted(extracts), expected(KEYS));
    assert.deepEqual(report, {
      status: 'ok',
      asked: KEYS.length,
      fetched: KEYS.length,
      cache_hits: 0,
      requests: KEYS.length,
      retries: 0,
      ...COUNTS,
    });
    assert.deepEqual(rec.warnings, []);
    assert.deepEqual(rec.tasks, [{ label: 'summaries', total: KEYS.length, done: KEYS.length, stopped: true }]);
    assert.deepEqual(server.requests.map((r) => r.status).sort(), [...Array(KEYS.length - 1).fill(200), 404].sort());
  });

  test('asks each distinct key once, never an empty one', async () => {
    const server = await serve();
    const { extracts, report } = await runSummaries(['Amélie', '', 'Amélie', '  ', 'Face/Off', 'Face/Off'], options(server.endpoint, await tempDir()));
    assert.deepEqual(sorted(extracts), expected(['Amélie', 'Face/Off']));
    assert.equal(report.asked, 2);
    assert.deepEqual(server.requests.map((r) => r.key).sort(), ['Amélie', 'Face/Off']);
  });

  test('titles go in the URL as Wikipedia spells them: underscores, percent-encoding, a slash encoded', async () => {
    const server = await serve();
    const keys = ['Face/Off', 'Amélie', "The Astronaut's Wife", 'Cowboys & Aliens', 'Did You Hear About the Morgans?', 'Æon Flux', '100% Love (2011 film)', 'Léon: The Professional'];
    const { extracts } = await runSummaries(keys, options(server.endpoint, await tempDir()));
    assert.deepEqual(sorted(extracts), expected(keys));
    const segments = new Map(server.requests.map((r) => [r.key, r.segment]));
    assert.deepEqual(Object.fromEntries(segments), {
      'Face/Off': 'Face%2FOff',
      'Amélie': 'Am%C3%A9lie',
      "The Astronaut's Wife": 'The_Astronaut%27s_Wife',
      'Cowboys & Aliens': 'Cowboys_%26_Aliens',
      'Did You Hear About the Morgans?': 'Did_You_Hear_About_the_Morgans%3F',
      'Æon Flux': '%C3%86on_Flux',
      '100% Love (2011 film)': '100%25_Love_(2011_film)',
      'Léon: The Professional': 'L%C3%A9on:_The_Professional',
    });
    // every title was already in the normalized form: no 301 on the way
    assert.deepEqual(server.requests.map((r) => r.status), Array(keys.length).fill(200));
    assert.equal(titleSegment('AC/DC'), 'AC%2FDC');
    assert.equal(summaryUrl('http://h/api/rest_v1/page/summary', 'AC/DC'), 'http://h/api/rest_v1/page/summary/AC%2FDC');
  });

  test('sends the descriptive User-Agent and asks for JSON', async () => {
    const server = await serve();
    await runSummaries(['Amélie', 'Hard Rain', 'No Such Film (1999 film)'], options(server.endpoint, await tempDir()));
    assert.equal(server.requests.length, 3);
    for (const r of server.requests) {
      assert.equal(r.userAgent, USER_AGENT);
      assert.equal(r.method, 'GET');
      assert.match(r.accept ?? '', /^application\/json/);
    }
  });

  test('an empty User-Agent gets 403: not retried, the API counts as unavailable after a few, one warning', async () => {
    const server = await serve();
    const rec = recordingUi();
    const { extracts, report } = await runSummaries(KEYS, options(server.endpoint, await tempDir(), { userAgent: '', ui: rec.ui, concurrency: 1 }));
    assert.equal(extracts.size, 0);
    assert.equal(report.status, 'unavailable');
    assert.deepEqual(server.requests.map((r) => r.status), [403, 403, 403], 'three keys refused, then no more requests');
    assert.equal(report.retries, 0);
    assert.equal(rec.warnings.length, 1);
    assert.match(rec.warnings[0]!, /HTTP 403/);
    assert.match(rec.warnings[0]!, new RegExp(`${KEYS.length} of ${KEYS.length} pages have no summary`));
  });
});

describe('runSummaries: redirects', () => {
  test('follows 301/302/303/307/308, relative and absolute Locations, through chains', async () => {
    const server = await serve({
      redirects: {
        Amelie: 'Amélie', // 302, relative: what the API sends for a redirect page
        'Face Off (film)': { to: 'Face/Off', status: 301, absolute: true },
        'Chain 1': { to: 'Chain 2', status: 307 },
        'Chain 2': { to: 'Chain 3', status: 308, absolute: true },
        'Chain 3': { to: 'Hard Rain', status: 303 },
        'Gone (film)': 'No Such Film (1999 film)',
      },
    });
    const dir = await tempDir();
    const keys = ['Amelie', 'Face Off (film)', 'Chain 1', 'Gone (film)'];
    const { extracts, report } = await runSummaries(keys, options(server.endpoint, dir));
    assert.deepEqual(sorted(extracts), sorted(new Map([['Amelie', AMELIE], ['Face Off (film)', FACE_OFF], ['Chain 1', null], ['Gone (film)', null]])));
    assert.equal(report.disambiguation, 1, 'the chain ends on a disambiguation page');
    assert.equal(report.missing, 1, 'the redirect leads to a missing page');
    assert.equal(report.requests, 2 + 2 + 4 + 2);
    const paths = server.requests.map((r) => r.segment).sort();
    assert.deepEqual(paths, ['Am%C3%A9lie', 'Amelie', 'Chain_1', 'Chain_2', 'Chain_3', 'Face%2FOff', 'Face_Off_(film)', 'Gone_(film)', 'Hard_Rain', 'No_Such_Film_(1999_film)'].sort());
    // cached under the key asked, with the page that answered
    const cache = await readCacheFile(dir);
    assert.equal(cache['Amelie']!.extract, AMELIE);
    assert.equal(cache['Amelie']!.title, 'Amélie');
    assert.equal(cache['Gone (film)']!.type, 'missing');
  });

  test('a title not in the normalized form is redirected (301) to it and answered', async () => {
    const server = await serve();
    const { extracts } = await runSummaries(['amélie'], options(server.endpoint, await tempDir()));
    assert.deepEqual(sorted(extracts), [['amélie', AMELIE]]);
    assert.deepEqual(server.requests.map((r) => r.status), [301, 200]);
  });

  test('a redirect loop or an over-long chain is bounded: missing for this run, not cached, asked again next run', async () => {
    const chain: Record<string, string> = {};
    for (let i = 0; i < MAX_REDIRECTS + 3; i++) chain[`Long ${i}`] = `Long ${i + 1}`;
    chain[`Long ${MAX_REDIRECTS + 3}`] = 'Amélie';
    const server = await serve({ redirects: { 'Loop A': 'Loop B', 'Loop B': { to: 'Loop A', absolute: true }, ...chain } });
    const dir = await tempDir();
    const rec = recordingUi();
    const first = await runSummaries(['Loop A', 'Long 0', 'Amélie'], options(server.endpoint, dir, { ui: rec.ui }));
    assert.deepEqual(sorted(first.extracts), sorted(new Map([['Loop A', null], ['Long 0', null], ['Amélie', AMELIE]])));
    assert.equal(first.report.missing, 2);
    assert.equal(first.report.status, 'ok');
    assert.deepEqual(rec.warnings, []);
    const asked = (prefix: string): number => server.requests.filter((r) => r.key?.startsWith(prefix)).length;
    assert.equal(asked('Loop'), 2, 'A, B, and the way back to A is seen as a loop');
    assert.equal(asked('Long'), MAX_REDIRECTS + 1, 'the first request and MAX_REDIRECTS hops');
    const cache = await readCacheFile(dir);
    assert.deepEqual(Object.keys(cache), ['Amélie']);

    const before = server.requests.length;
    const second = await runSummaries(['Loop A', 'Long 0', 'Amélie'], options(server.endpoint, dir));
    assert.equal(second.report.cache_hits, 1);
    assert.equal(server.requests.length - before, 2 + MAX_REDIRECTS + 1);
  });
});

describe('runSummaries: the rate limit', () => {
  /**
   * Arrival times are the client's start times plus a delay that a loaded
   * machine (CI has 2 cores) makes uneven: two requests started 50 ms apart
   * may be seen 10 ms apart. So the rate is checked over windows of 5 starts,
   * with one interval of slack, which an unpaced client misses by far.
   */
  const WINDOW = 5;
  function windows(requests: RecordedRequest[]): number[] {
    const at = requests.map((r) => r.arrivedAt).sort((a, b) => a - b);
    return at.slice(WINDOW).map((t, i) => t - at[i]!);
  }

  /**
   * A first run's cold start (module loading, compilation, the first
   * connection) can hold one request back by tens of ms on a busy machine and
   * squeeze the next gap: the measured runs come after a warm-up run.
   */
  async function warmUp(server: SummaryServer): Promise<number> {
    await runSummaries(['Amélie', 'Face/Off', 'Hard Rain'], options(server.endpoint, await tempDir(), { concurrency: 4 }));
    return server.requests.length;
  }

  test('request starts are spaced 1/rate apart across concurrent requests', async () => {
    // Each answer takes 150 ms while a start is due every 50 ms: several are in flight at once.
    const server = await serve({ delayMs: 150 });
    const warm = await warmUp(server);
    const keys = Array.from({ length: 20 }, (_, i) => `Paced ${i}`);
    const { report } = await runSummaries(keys, options(server.endpoint, await tempDir(), { ratePerSecond: 20, concurrency: 4 }));
    const requests = server.requests.slice(warm);
    assert.equal(report.requests, 20);
    const inFlight = Math.max(...requests.map((r) => r.inFlight));
    assert.ok(inFlight >= 2 && inFlight <= 4, `requests overlapped, within the concurrency (${inFlight} in flight at most)`);
    const w = windows(requests);
    assert.ok(Math.min(...w) >= (WINDOW - 1) * 50, `spans of ${WINDOW + 1} starts (ms): ${w.join(' ')}`);
    const span = requests[19]!.arrivedAt - requests[0]!.arrivedAt;
    assert.ok(span >= 18 * 50, `20 starts at 20/s span about 950 ms, got ${span}`);
  });

  test('retries keep to the rate too, and a rate above 50/s is held to 50/s', async () => {
    const server = await serve({ faults: (req) => (req.attempt === 1 && req.key?.startsWith('Capped') ? { kind: 'status', status: 503 } : null) });
    const warm = await warmUp(server);
    const keys = Array.from({ length: 10 }, (_, i) => `Capped ${i}`);
    const { report } = await runSummaries(keys, options(server.endpoint, await tempDir(), { ratePerSecond: 10_000, concurrency: 4, backoffMs: 1, maxBackoffMs: 1 }));
    const requests = server.requests.slice(warm);
    assert.equal(report.requests, 20);
    assert.equal(report.retries, 10);
    const w = windows(requests);
    assert.ok(Math.min(...w) >= (WINDOW - 1) * 20, `spans of ${WINDOW + 1} starts (ms): ${w.join(' ')}`);
    const span = Math.max(...requests.map((r) => r.arrivedAt)) - Math.min(...requests.map((r) => r.arrivedAt));
    assert.ok(span >= 18 * 20, `20 starts at 50/s span about 380 ms, got ${span}`);
  });
});

describe('runSummaries: retries', () => {
  test('429 with Retry-After: the retry waits as asked', async () => {
    const server = await serve({ faults: (req) => (req.n === 1 ? { kind: 'status', status: 429, retryAfter: '1' } : null) });
    const { extracts, report } = await runSummaries(['Amélie', 'Face/Off'], options(server.endpoint, await tempDir(), { concurrency: 1 }));
    assert.deepEqual(sorted(extracts), expected(['Amélie', 'Face/Off']));
    const [throttled, ...rest] = server.requests;
    assert.equal(throttled!.status, 429);
    for (const r of rest) assert.ok(r.arrivedAt >= throttled!.answeredAt! + 1000, `a request came ${r.arrivedAt - throttled!.answeredAt!} ms after the 429`);
    assert.equal(report.retries, 1);
    assert.equal(report.status, 'ok');
  });

  test('5xx answers are retried until one succeeds', async () => {
    const statuses = [500, 502, 503, 504];
    const server = await serve({ faults: (req) => (req.attempt <= 2 ? { kind: 'status', status: statuses[req.n % 4]! } : null) });
    const keys = ['Amélie', 'Face/Off', 'Hard Rain'];
    const { extracts, report } = await runSummaries(keys, options(server.endpoint, await tempDir()));
    assert.deepEqual(sorted(extracts), expected(keys));
    assert.equal(report.requests, 9);
    assert.equal(report.retries, 6);
    assert.equal(report.status, 'ok');
  });

  test('malformed JSON is retried; when it persists, the key is left unanswered and reported once', async () => {
    const server = await serve({ faults: (req) => (req.key === 'Face/Off' || (req.key === 'Amélie' && req.attempt === 1) ? { kind: 'malformed' } : null) });
    const dir = await tempDir();
    const rec = recordingUi();
    const keys = ['Amélie', 'Face/Off', 'Hard Rain', 'Æon Flux'];
    const { extracts, report } = await runSummaries(keys, options(server.endpoint, dir, { ui: rec.ui }));
    assert.deepEqual(sorted(extracts), expected(['Amélie', 'Hard Rain', 'Æon Flux']));
    assert.equal(server.requests.filter((r) => r.key === 'Face/Off').length, 4, 'maxTries tries');
    assert.equal(server.requests.filter((r) => r.key === 'Amélie').length, 2);
    assert.equal(report.status, 'unavailable');
    assert.equal(report.fetched, 3);
    assert.equal(rec.warnings.length, 1);
    assert.match(rec.warnings[0]!, /Face\/Off/);
    assert.match(rec.warnings[0]!, /not valid JSON/);
    assert.match(rec.warnings[0]!, /1 of 4 pages have no summary/);
    assert.deepEqual(Object.keys(await readCacheFile(dir)).sort(), ['Amélie', 'Hard Rain', 'Æon Flux'].sort());
  });

  test('a run under injected faults gives exactly what a fault-free run gives', async () => {
    const redirects = { Amelie: 'Amélie', 'Face Off (film)': { to: 'Face/Off', status: 301 as const, absolute: true } };
    const keys = [...KEYS, 'Amelie', 'Face Off (film)'];
    const clean = await serve({ redirects });
    const cleanDir = await tempDir();
    const reference = await runSummaries(keys, options(clean.endpoint, cleanDir));

    const faults: Fault[] = [
      { kind: 'status', status: 429, retryAfter: '0' },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503, retryAfter: '0' },
      { kind: 'reset' },
      { kind: 'truncated' },
      { kind: 'malformed' },
      { kind: 'status', status: 502 },
      { kind: 'slow', delayMs: 5_000 },
    ];
    // The first try of every path (redirect hops included) fails, each with the next fault in turn.
    let i = 0;
    const faulty: FaultFn = (req) => (req.attempt === 1 ? faults[i++ % faults.length]! : null);
    const server = await serve({ redirects, faults: faulty });
    const dir = await tempDir();
    const rec = recordingUi();
    const run = await runSummaries(keys, options(server.endpoint, dir, { ui: rec.ui, timeoutMs: 1_000 }));

    assert.deepEqual(sorted(run.extracts), sorted(reference.extracts));
    const counts = (r: SummaryResult): unknown => ({ ...r.report, requests: 0, retries: 0 });
    assert.deepEqual(counts(run), counts(reference));
    assert.equal(run.report.status, 'ok');
    assert.deepEqual(rec.warnings, []);
    // Amélie and Face/Off are asked by key and again through a redirect: the second time, no fault.
    assert.equal(run.report.retries, new Set(clean.requests.map((r) => r.segment)).size, 'every path failed once and was tried again');
    assert.ok(server.requests.some((r) => r.fault === 'slow' && r.abandoned), 'the slow answer was given up on');
    const entries = async (d: string): Promise<unknown> =>
      Object.fromEntries(Object.entries(await readCacheFile(d)).map(([k, e]) => [k, { ...e, fetched: '' }]));
    assert.deepEqual(await entries(dir), await entries(cleanDir));
  });
});

describe('runSummaries: cache and --offline', () => {
  test('a second run asks nothing and gives the same answers; missing pages are cached too', async () => {
    const server = await serve();
    const dir = await tempDir();
    const first = await runSummaries(KEYS, options(server.endpoint, dir));
    const asked = server.requests.length;
    const cache = await readCacheFile(dir);
    assert.deepEqual(Object.keys(cache).sort(), [...KEYS].sort());
    assert.deepEqual(cache['No Such Film (1999 film)'], { type: 'missing', extract: null, fetched: cache['No Such Film (1999 film)']!.fetched });
    assert.equal(cache['Hard Rain']!.type, 'disambiguation');
    assert.ok(!Number.isNaN(Date.parse(cache['Amélie']!.fetched)));

    const rec = recordingUi();
    const second = await runSummaries(KEYS, options(server.endpoint, dir, { ui: rec.ui }));
    assert.equal(server.requests.length, asked, 'no request at all');
    assert.deepEqual(sorted(second.extracts), sorted(first.extracts));
    assert.deepEqual(second.report, { status: 'ok', asked: KEYS.length, fetched: 0, cache_hits: KEYS.length, requests: 0, retries: 0, ...COUNTS });
    assert.deepEqual(rec.tasks, [], 'no progress bar when there is nothing to fetch');
  });

  test('a later run asks only for the keys it lacks and merges them into the cache', async () => {
    const server = await serve();
    const dir = await tempDir();
    await runSummaries(['Amélie', 'Hard Rain'], options(server.endpoint, dir));
    const { extracts, report } = await runSummaries(['Amélie', 'Hard Rain', 'Face/Off'], options(server.endpoint, dir));
    assert.deepEqual(sorted(extracts), expected(['Amélie', 'Hard Rain', 'Face/Off']));
    assert.deepEqual(server.requests.slice(2).map((r) => r.key), ['Face/Off'], 'the second run asked for the new key only');
    assert.equal(report.cache_hits, 2);
    assert.equal(report.fetched, 1);
    assert.deepEqual(Object.keys(await readCacheFile(dir)).sort(), ['Amélie', 'Face/Off', 'Hard Rain'].sort());
  });

  test('--offline answers from the cache only and sends nothing', async () => {
    const server = await serve();
    const dir = await tempDir();
    await runSummaries(['Amélie', 'Hard Rain', 'No Such Film (1999 film)'], options(server.endpoint, dir));
    const before = server.requests.length;
    const { extracts, report } = await runSummaries(KEYS, options(server.endpoint, dir, { offline: true }));
    assert.equal(server.requests.length, before);
    assert.deepEqual(sorted(extracts), expected(['Amélie', 'Hard Rain', 'No Such Film (1999 film)']));
    assert.deepEqual(report, { status: 'offline', asked: KEYS.length, fetched: 0, cache_hits: 3, requests: 0, retries: 0, disambiguation: 1, missing: 1, not_prose: 0 });
  });

  test('an unreadable cache is reported and rebuilt', async () => {
    const server = await serve();
    const dir = await tempDir();
    await mkdir(path.dirname(path.join(dir, SUMMARY_CACHE_FILE)), { recursive: true });
    await writeFile(path.join(dir, SUMMARY_CACHE_FILE), '{"version": 1, "entries": {"Amé');
    const rec = recordingUi();
    const { extracts } = await runSummaries(['Amélie'], options(server.endpoint, dir, { ui: rec.ui }));
    assert.deepEqual(sorted(extracts), expected(['Amélie']));
    assert.equal(rec.warnings.length, 1);
    assert.match(rec.warnings[0]!, /unreadable/);
    assert.deepEqual(Object.keys(await readCacheFile(dir)), ['Amélie']);
  });
});

describe('runSummaries: when the API cannot be reached', () => {
  test('an unreachable endpoint: status unavailable, one warning, no throw, nothing cached', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}/api/rest_v1/page/summary/`;
    const dir = await tempDir();
    const rec = recordingUi();
    const { extracts, report } = await runSummaries(KEYS, options(endpoint, dir, { ui: rec.ui }));
    assert.equal(extracts.size, 0);
    assert.equal(report.status, 'unavailable');
    assert.ok(report.requests >= 1 && report.requests <= 2, `stops at once (${report.requests} requests, concurrency 2)`);
    assert.equal(rec.warnings.length, 1);
    assert.match(rec.warnings[0]!, /Wikipedia REST API is unavailable/);
    assert.match(rec.warnings[0]!, new RegExp(endpoint.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    await assert.rejects(readFile(path.join(dir, SUMMARY_CACHE_FILE)), { code: 'ENOENT' });
  });

  test('an API that keeps failing: the answers so far are kept and cached, then no more keys are asked', async () => {
    // The first two keys are answered, then every request gets a 500.
    const server = await serve({ faults: (req) => (req.n > 2 ? { kind: 'status', status: 500 } : null) });
    const dir = await tempDir();
    const rec = recordingUi();
    const keys = ['Amélie', 'Face/Off', ...KEYS.filter((k) => k !== 'Amélie' && k !== 'Face/Off')];
    const { extracts, report } = await runSummaries(keys, options(server.endpoint, dir, { ui: rec.ui, concurrency: 1 }));
    assert.deepEqual(sorted(extracts), expected(['Amélie', 'Face/Off']));
    assert.equal(report.status, 'unavailable');
    assert.equal(server.requests.length, 2 + 3 * 4, 'two answers, then three keys of four tries each');
    assert.equal(rec.warnings.length, 1);
    assert.match(rec.warnings[0]!, /HTTP 500/);
    assert.deepEqual(Object.keys(await readCacheFile(dir)).sort(), ['Amélie', 'Face/Off'].sort());
  });

  test('a Retry-After past the time allowed is not waited for: unavailable at once, nothing more sent', async () => {
    const server = await serve({ faults: () => ({ kind: 'status', status: 429, retryAfter: '3600' }) });
    const rec = recordingUi();
    const { extracts, report } = await runSummaries(KEYS, options(server.endpoint, await tempDir(), { ui: rec.ui }));
    assert.equal(extracts.size, 0);
    assert.equal(report.status, 'unavailable');
    assert.ok(server.requests.length >= 1 && server.requests.length <= 2, `${server.requests.length} requests (concurrency 2): after the first 429 none is sent`);
    assert.equal(rec.warnings.length, 1);
    assert.match(rec.warnings[0]!, /429/);
  });

  test('a wrong endpoint (an HTML 404) is not taken for missing pages: nothing cached', async () => {
    const server = await serve();
    const dir = await tempDir();
    const rec = recordingUi();
    const { extracts, report } = await runSummaries(KEYS, options(`${server.origin}/wiki/`, dir, { ui: rec.ui, concurrency: 1 }));
    assert.equal(extracts.size, 0);
    assert.equal(report.status, 'unavailable');
    assert.equal(server.requests.length, 3);
    assert.equal(report.missing, 0);
    assert.match(rec.warnings[0]!, /not the REST API's not-found answer/);
    await assert.rejects(readFile(path.join(dir, SUMMARY_CACHE_FILE)), { code: 'ENOENT' });
  });

  test('Ctrl-C stops the requests in flight: INTERRUPTED, and what was answered is cached', async () => {
    const server = await serve({ faults: (req) => (req.n >= 2 ? { kind: 'slow', delayMs: 60_000 } : null) });
    const dir = await tempDir();
    const controller = new AbortController();
    const running = runSummaries(['Amélie', 'Face/Off', 'Hard Rain'], options(server.endpoint, dir, { signal: controller.signal, concurrency: 1 }));
    await server.whenInFlight(1);
    while (server.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await assert.rejects(running, (err: unknown) => err instanceof TrueFilmError && err.code === 'INTERRUPTED');
    assert.equal(server.requests.length, 2);
    assert.deepEqual(Object.keys(await readCacheFile(dir)), ['Amélie']);
  });
});

describe('--summary-endpoint', () => {
  const run = (argv: string[], env: Record<string, string> = {}): RunConfig => parseCommandLine(argv, env) as RunConfig;

  test('flag > environment > default, and the help names it', () => {
    assert.equal(run([]).summaryEndpoint, DEFAULTS.summaryEndpoint);
    assert.equal(DEFAULTS.summaryEndpoint, 'https://en.wikipedia.org/api/rest_v1/page/summary/');
    assert.equal(run([], { TRUEFILM_SUMMARY_ENDPOINT: 'http://127.0.0.1:9/s/' }).summaryEndpoint, 'http://127.0.0.1:9/s/');
    assert.equal(run(['--summary-endpoint', 'http://localhost:1/x/'], { TRUEFILM_SUMMARY_ENDPOINT: 'http://127.0.0.1:9/s/' }).summaryEndpoint, 'http://localhost:1/x/');
    assert.match(HELP.run, /--summary-endpoint URL/);
    assert.match(HELP.run, /TRUEFILM_SUMMARY_ENDPOINT/);
  });

  test('anything but an http(s) URL is a usage error naming the flag', () => {
    assert.throws(
      () => parseCommandLine(['--summary-endpoint', 'ftp://x', '--top', 'abc'], {}),
      (err: unknown) => err instanceof TrueFilmError && err.code === 'USAGE' && /--summary-endpoint must be an http:\/\/ or https:\/\/ URL, got "ftp:\/\/x"/.test(err.message) && /--top/.test(err.message),
    );
  });
});
