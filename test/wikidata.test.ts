/**
 * The Wikidata stage through its public face, runWikidata, against a real
 * SPARQL server on 127.0.0.1 (test/helpers/sparql-server.ts): the answers,
 * the cache, --offline, unavailability, and a run under injected faults that
 * must give exactly the answers of a fault-free run.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { TrueFilmError } from '../src/errors.js';
import { USER_AGENT, userAgent } from '../src/http/client.js';
import { keyFromUrl } from '../src/keys.js';
import { CACHE_FILE, runWikidata, type WikiArticle, type WikidataOptions } from '../src/stages/wikidata.js';
import { closedPort, recordingUi, scratch } from './helpers/recorder.js';
import { startSparqlServer, type Fault, type FaultFn, type SparqlServer } from './helpers/sparql-server.js';

const W = 'https://en.wikipedia.org/wiki/';

/** Real titles (from a 2021 dump's film pages): non-ASCII, %27 apostrophes, %26, %3F. */
const TABLE: Record<string, string[]> = {
  tt0024216: [`${W}King_Kong_(1933_film)`],
  tt0074751: [`${W}King_Kong_(1976_film)`],
  tt0211915: [`${W}Am%C3%A9lie`],
  tt0402022: [`${W}%C3%86on_Flux`],
  tt0409847: [`${W}Cowboys_%26_Aliens`],
  tt1247704: [`${W}Did_You_Hear_About_the_Morgans%3F`],
  tt0138304: [`${W}The_Astronaut%27s_Wife`],
  tt0424600: [`${W}Joyeux_No%C3%ABl`],
  tt4513674: [`${W}Caf%C3%A9_Society`],
  // one IMDb id, two articles (an item for the film and one for its cut, say): both come back
  tt0119925: [`${W}The_Postman_(film)`, `${W}The_Postman_(1997_film)`],
  // on Wikidata, but with no English article: no binding at all, as the real service gives
  tt9999991: [],
};
const ABSENT = ['tt9999991', 'tt0000404'];

const { tempDir, keep } = scratch('wikidata');

async function serve(options: { faults?: FaultFn; table?: Record<string, string[]>; delayMs?: number } = {}): Promise<SparqlServer> {
  const server = await startSparqlServer({ table: options.table ?? TABLE, faults: options.faults, delayMs: options.delayMs });
  return keep(server);
}

/** Test settings: small waits so that retries cost milliseconds. */
function options(endpoint: string, dataDir: string, extra: Partial<WikidataOptions> = {}): WikidataOptions {
  return {
    endpoint,
    dataDir,
    offline: false,
    require: false,
    ui: recordingUi().ui,
    backoffMs: 5,
    maxBackoffMs: 20,
    timeoutMs: 5_000,
    maxTries: 4,
    maxTotalMs: 20_000,
    ...extra,
  };
}

/** What the table says, as runWikidata should give it: articles sorted by key. */
function expected(ids: string[], table = TABLE): Map<string, WikiArticle[]> {
  return new Map(
    ids.map((id) => [
      id,
      (table[id] ?? []).map((url) => ({ key: keyFromUrl(url)!, url })).sort((a, b) => (a.key < b.key ? -1 : 1)),
    ]),
  );
}

const sorted = (m: Map<string, WikiArticle[]>): Array<[string, WikiArticle[]]> => [...m].sort(([a], [b]) => (a < b ? -1 : 1));

const ALL = [...Object.keys(TABLE), 'tt0000404'];

describe('runWikidata: answers', () => {
  test('parses the bindings: several articles, none, non-ASCII and percent-encoded titles', async () => {
    const server = await serve();
    const { articles, report } = await runWikidata(ALL, options(server.url, await tempDir()));
    assert.deepEqual(sorted(articles), sorted(expected(ALL)));
    assert.deepEqual(articles.get('tt0211915'), [{ key: 'Amélie', url: `${W}Am%C3%A9lie` }]);
    assert.deepEqual(articles.get('tt0138304'), [{ key: "The Astronaut's Wife", url: `${W}The_Astronaut%27s_Wife` }]);
    assert.deepEqual(articles.get('tt0409847')!.map((a) => a.key), ['Cowboys & Aliens']);
    assert.deepEqual(articles.get('tt1247704')!.map((a) => a.key), ['Did You Hear About the Morgans?']);
    assert.deepEqual(articles.get('tt0119925')!.map((a) => a.key), ['The Postman (1997 film)', 'The Postman (film)']);
    for (const id of ABSENT) assert.deepEqual(articles.get(id), [], `${id} is known to have no article`);
    assert.deepEqual(report, { status: 'ok', ids: ALL.length, resolved: ALL.length - ABSENT.length, requests: 1, retries: 0, cache_hits: 0 });
  });

  test('an article title MediaWiki would refuse (control characters, a tab, a bracket) is no article: dropped, said once, escaped', async () => {
    const table = {
      tt0000001: [`${W}Evil%1B%5B31m%07`],
      tt0000002: [`${W}Good_Film`, `${W}Tab%09Film`],
      tt0000003: [`${W}Del%7F`, `${W}%EF%BF%BD`],
    };
    const server = await serve({ table });
    const dir = await tempDir();
    const rec = recordingUi();
    const ids = Object.keys(table);
    const { articles, report } = await runWikidata(ids, options(server.url, dir, { ui: rec.ui }));
    assert.deepEqual(sorted(articles), [
      ['tt0000001', []],
      ['tt0000002', [{ key: 'Good Film', url: `${W}Good_Film` }]],
      ['tt0000003', []],
    ]);
    assert.equal(report.resolved, 1);
    assert.equal(rec.warnings.length, 1, rec.warnings.join('\n'));
    const said = /^Wikidata named 4 English articles whose title MediaWiki would refuse \((.*), \.\.\.\): no page has such a title/.exec(rec.warnings[0]!);
    assert.ok(said, rec.warnings[0]);
    // the first three met, in the answer's order
    const escaped = ['"Evil\\u001b[31m\\u0007"', '"Tab\\tFilm"', '"Del\\u007f"', '"\ufffd"'];
    const shown = said[1]!.split(', ');
    assert.equal(shown.length, 3, said[1]);
    for (const title of shown) assert.ok(escaped.includes(title), title);
    assert.doesNotMatch(rec.warnings[0]!, /[\u0000-\u001f\u007f]/, 'no control character reaches the terminal');
    // the cache keeps Wikidata's answer as given; it is read by the same rule
    const again = recordingUi();
    const cached = await runWikidata(ids, options(server.url, dir, { offline: true, ui: again.ui }));
    assert.deepEqual(sorted(cached.articles), sorted(articles));
    assert.equal(again.warnings.length, 1);
  });

  test('asks as the service wants: POST form, SPARQL JSON, User-Agent, P345 and enwiki in the query', async () => {
    const server = await serve();
    await runWikidata(['tt0024216'], options(server.url, await tempDir()));
    const [req] = server.requests;
    assert.equal(req!.method, 'POST');
    assert.equal(req!.contentType, 'application/x-www-form-urlencoded');
    assert.equal(req!.accept, 'application/sparql-results+json');
    assert.equal(req!.userAgent, USER_AGENT);
    assert.match(req!.query, /wdt:P345/);
    assert.match(req!.query, /schema:about/);
    assert.match(req!.query, /schema:isPartOf <https:\/\/en\.wikipedia\.org\/>/);
    assert.deepEqual(req!.ids, ['tt0024216']);
  });

  test("the User-Agent carries the user's contact when one is given", async () => {
    const server = await serve();
    await runWikidata(['tt0024216'], options(server.url, await tempDir(), { userAgent: userAgent('film-desk@example.org') }));
    assert.match(server.requests[0]!.userAgent ?? '', /^TrueFilm\/\S+ \(film-desk@example\.org\) undici$/);
  });

  test('sends only valid ids, each once, in batches of batchSize', async () => {
    const server = await serve();
    const asked = ['tt0024216', 'nm0000001', '', 'TT0074751', 'tt12x', ' tt0211915', 'tt0024216', 'tt0402022', 'tt0409847', 'tt0074751', 'tt0138304'];
    const rec = recordingUi();
    const { articles, report } = await runWikidata(asked, options(server.url, await tempDir(), { batchSize: 2, concurrency: 1, ui: rec.ui }));
    const valid = ['tt0024216', 'tt0402022', 'tt0409847', 'tt0074751', 'tt0138304'];
    assert.deepEqual(server.requests.map((r) => r.ids), [valid.slice(0, 2), valid.slice(2, 4), valid.slice(4)]);
    assert.deepEqual(sorted(articles), sorted(expected(valid)));
    assert.equal(report.ids, 5);
    assert.equal(report.requests, 3);
    assert.deepEqual(rec.tasks, [{ label: 'wikidata', total: 3, done: 3, stopped: true }]);
  });

  test('onArticles hears the cache hits first, then every batch', async () => {
    const server = await serve();
    const dir = await tempDir();
    await runWikidata(['tt0024216', 'tt0074751'], options(server.url, dir));
    const calls: Array<Map<string, WikiArticle[]>> = [];
    const ids = ['tt0024216', 'tt0074751', 'tt0211915', 'tt0402022', 'tt0000404'];
    const { articles } = await runWikidata(ids, options(server.url, dir, { batchSize: 2, onArticles: (m) => calls.push(m) }));
    assert.deepEqual([...calls[0]!.keys()].sort(), ['tt0024216', 'tt0074751'], 'the cache hits come first');
    assert.equal(calls.length, 3);
    const heard = new Map(calls.flatMap((m) => [...m]));
    assert.deepEqual(sorted(heard), sorted(articles));
  });
});

test('an error in onArticles is not taken for Wikidata being unavailable: it stops the stage', async () => {
  const server = await serve();
  const bug = new TypeError('the listener broke');
  const rec = recordingUi();
  const running = runWikidata(['tt0024216', 'tt0074751', 'tt0211915'], {
    ...options(server.url, await tempDir(), { batchSize: 1, concurrency: 1, ui: rec.ui }),
    onArticles: () => {
      throw bug;
    },
  });
  await assert.rejects(running, (err: unknown) => err === bug);
  assert.equal(server.requests.length, 1);
  assert.deepEqual(rec.warnings, []);
});

describe('runWikidata: cache and --offline', () => {
  test('a second run issues no request and gives the same answers', async () => {
    const server = await serve();
    const dir = await tempDir();
    const first = await runWikidata(ALL, options(server.url, dir, { batchSize: 4 }));
    const sent = server.requests.length;
    assert.equal(sent, 3);
    const second = await runWikidata(ALL, options(server.url, dir, { batchSize: 4 }));
    assert.equal(server.requests.length, sent, 'no request on the second run');
    assert.deepEqual(sorted(second.articles), sorted(first.articles));
    assert.deepEqual(second.report, { status: 'ok', ids: ALL.length, resolved: first.report.resolved, requests: 0, retries: 0, cache_hits: ALL.length });

    const cache = JSON.parse(await readFile(path.join(dir, CACHE_FILE), 'utf8')) as { entries: Record<string, { articles: string[]; fetched: string }> };
    assert.deepEqual(cache.entries.tt0000404!.articles, [], 'known-absent ids are cached too');
    assert.ok(!Number.isNaN(Date.parse(cache.entries.tt0000404!.fetched)), 'with the date fetched');
  });

  test('a rerun asks only for the ids it lacks', async () => {
    const server = await serve();
    const dir = await tempDir();
    await runWikidata(['tt0024216', 'tt0074751'], options(server.url, dir));
    const { articles, report } = await runWikidata(['tt0024216', 'tt0074751', 'tt0211915', 'tt0000404'], options(server.url, dir));
    assert.deepEqual(server.requests.map((r) => r.ids), [['tt0024216', 'tt0074751'], ['tt0211915', 'tt0000404']]);
    assert.equal(report.cache_hits, 2);
    assert.equal(report.requests, 1);
    assert.deepEqual(sorted(articles), sorted(expected(['tt0024216', 'tt0074751', 'tt0211915', 'tt0000404'])));
  });

  test('--offline answers from the cache alone and sends nothing', async () => {
    const server = await serve();
    const dir = await tempDir();
    await runWikidata(['tt0024216', 'tt0000404'], options(server.url, dir));
    const sent = server.requests.length;
    const rec = recordingUi();
    const calls: Array<Map<string, WikiArticle[]>> = [];
    const { articles, report } = await runWikidata(['tt0024216', 'tt0000404', 'tt0211915'], {
      ...options(server.url, dir),
      offline: true,
      ui: rec.ui,
      onArticles: (m) => calls.push(m),
    });
    assert.equal(server.requests.length, sent);
    assert.deepEqual(sorted(articles), sorted(expected(['tt0024216', 'tt0000404'])), 'tt0211915 is unknown: absent, not []');
    assert.deepEqual(report, { status: 'offline', ids: 3, resolved: 1, requests: 0, retries: 0, cache_hits: 2 });
    assert.equal(calls.length, 1);
    assert.deepEqual(rec.warnings, []);
  });

  test('an unreadable cache is rebuilt with a warning', async () => {
    const server = await serve();
    const dir = await tempDir();
    await mkdir(path.join(dir, 'cache'), { recursive: true });
    await writeFile(path.join(dir, CACHE_FILE), '{"version": 1, "entries": {"tt00');
    const rec = recordingUi();
    const { articles } = await runWikidata(['tt0024216'], options(server.url, dir, { ui: rec.ui }));
    assert.deepEqual(sorted(articles), sorted(expected(['tt0024216'])));
    assert.equal(rec.warnings.length, 1);
    assert.match(rec.warnings[0]!, /cache .* is unreadable/);
    const again = await runWikidata(['tt0024216'], options(server.url, dir));
    assert.equal(again.report.cache_hits, 1);
  });
});

describe('runWikidata: unavailable', () => {
  test('an unreachable endpoint: status unavailable, one warning, the cache still used', async () => {
    const server = await serve();
    const dir = await tempDir();
    await runWikidata(['tt0024216'], options(server.url, dir));
    const endpoint = `http://127.0.0.1:${await closedPort()}/sparql`;
    const rec = recordingUi();
    const ids = ['tt0024216', ...Object.keys(TABLE).slice(1, 8)];
    const { articles, report } = await runWikidata(ids, options(endpoint, dir, { ui: rec.ui, batchSize: 2 }));
    assert.equal(report.status, 'unavailable');
    assert.equal(report.cache_hits, 1);
    assert.equal(report.resolved, 1);
    assert.deepEqual(sorted(articles), sorted(expected(['tt0024216'])));
    assert.equal(rec.warnings.length, 1, rec.warnings.join('\n'));
    assert.match(rec.warnings[0]!, /unavailable/);
    assert.ok(rec.warnings[0]!.includes(endpoint));
    assert.match(rec.warnings[0]!, /ECONNREFUSED/);
    assert.match(rec.warnings[0]!, /7 of 8 IMDb ids have no answer/);
  });

  test('--require-wikidata makes it an error that names the endpoint and what to do', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}/sparql`;
    const rec = recordingUi();
    await assert.rejects(runWikidata(['tt0024216'], options(endpoint, await tempDir(), { require: true, ui: rec.ui })), (err: unknown) => {
      assert.ok(err instanceof TrueFilmError);
      assert.equal(err.code, 'SPARQL_UNAVAILABLE');
      assert.equal(err.input, endpoint);
      assert.match(err.hint ?? '', /--require-wikidata/);
      assert.ok(err.cause instanceof TrueFilmError && err.cause.code === 'HTTP_UNREACHABLE');
      return true;
    });
    assert.deepEqual(rec.warnings, []);
  });

  test('--require-wikidata: the first batch that fails for good stops the others in flight', async () => {
    // Batch 1 fails once both are in flight; batch 2 would answer only in a minute.
    const server = await serve({
      faults: async (req, srv) => {
        if (req.n > 2) return null;
        await srv.whenInFlight(2);
        return req.ids[0] === 'tt0024216' ? { kind: 'status', status: 503 } : { kind: 'slow', delayMs: 60_000 };
      },
    });
    const dir = await tempDir();
    const ids = ['tt0024216', 'tt0074751', 'tt0211915', 'tt0402022'];
    await assert.rejects(
      runWikidata(ids, options(server.url, dir, { batchSize: 1, concurrency: 2, maxTries: 1, timeoutMs: 120_000, maxTotalMs: 120_000, require: true })),
      (err: unknown) => err instanceof TrueFilmError && err.code === 'SPARQL_UNAVAILABLE' && /HTTP 503/.test(err.message),
    );
    assert.equal(server.requests.length, 2, 'no batch started after the failure');
    assert.equal(server.requests.find((r) => r.ids[0] === 'tt0074751')!.abandoned, true, 'the batch in flight was stopped');
  });

  test('a batch that keeps failing: the others that succeeded are kept and cached, no new batch starts', async () => {
    const server = await serve({ faults: (req) => (req.ids.includes('tt0211915') ? { kind: 'status', status: 503 } : null) });
    const dir = await tempDir();
    const rec = recordingUi();
    const ids = ['tt0024216', 'tt0074751', 'tt0211915', 'tt0402022', 'tt0409847', 'tt1247704'];
    const { articles, report } = await runWikidata(ids, options(server.url, dir, { batchSize: 2, concurrency: 1, maxTries: 3, ui: rec.ui }));
    assert.equal(report.status, 'unavailable');
    assert.deepEqual(sorted(articles), sorted(expected(['tt0024216', 'tt0074751'])));
    assert.deepEqual(server.requests.map((r) => r.status), [200, 503, 503, 503], 'the third batch was never sent');
    assert.equal(report.requests, 4);
    assert.equal(report.retries, 2);
    assert.equal(rec.warnings.length, 1);
    assert.match(rec.warnings[0]!, /HTTP 503/);
    const cached = await runWikidata(['tt0024216', 'tt0074751'], options(server.url, dir, { offline: true }));
    assert.equal(cached.report.cache_hits, 2, 'the batch that succeeded is cached');
  });

  test('answers without bounds (a gzip bomb, a body that never ends): each batch asked once, unavailable, one warning naming the 4 MiB cap', async () => {
    for (const fault of [{ kind: 'bomb', inflated: 512 << 20 }, { kind: 'flood' }] satisfies Fault[]) {
      const server = await serve({ faults: (req) => (req.ids.includes('tt0211915') ? fault : null) });
      const rec = recordingUi();
      const ids = ['tt0024216', 'tt0074751', 'tt0211915', 'tt0402022', 'tt0409847', 'tt1247704'];
      const { articles, report } = await runWikidata(ids, options(server.url, await tempDir(), { batchSize: 2, concurrency: 1, ui: rec.ui }));
      assert.equal(report.status, 'unavailable');
      assert.deepEqual(sorted(articles), sorted(expected(['tt0024216', 'tt0074751'])));
      assert.deepEqual(server.requests.map((r) => r.attempt), [1, 1], 'the answer over the cap is not asked again, and no batch starts after it');
      assert.equal(report.retries, 0);
      assert.equal(rec.warnings.length, 1, rec.warnings.join('\n'));
      assert.match(rec.warnings[0]!, /over the 4 MiB an answer may have/);
    }
  });

  test('malformed JSON that persists is reported as such', async () => {
    const server = await serve({ faults: () => ({ kind: 'malformed' }) });
    const rec = recordingUi();
    const { articles, report } = await runWikidata(['tt0024216'], options(server.url, await tempDir(), { maxTries: 3, ui: rec.ui }));
    assert.equal(report.status, 'unavailable');
    assert.equal(articles.size, 0);
    assert.equal(server.requests.length, 3);
    assert.equal(rec.warnings.length, 1);
    assert.match(rec.warnings[0]!, /malformed SPARQL results: not valid JSON/);
    assert.match(rec.warnings[0]!, /gave up after 3 tries/);
  });

  test('Ctrl-C aborts the requests in flight and keeps what was answered', async () => {
    const server = await serve({ faults: (req) => (req.n === 1 ? null : { kind: 'slow', delayMs: 60_000 }) });
    const dir = await tempDir();
    const controller = new AbortController();
    const running = runWikidata(['tt0024216', 'tt0074751', 'tt0211915'], options(server.url, dir, { batchSize: 1, concurrency: 1, signal: controller.signal }));
    await server.whenInFlight(1);
    while (server.requests.length < 2) await new Promise((r) => setImmediate(r));
    controller.abort();
    await assert.rejects(running, (err: unknown) => err instanceof TrueFilmError && err.code === 'INTERRUPTED');
    assert.equal(server.requests[1]!.abandoned, true);
    const cached = await runWikidata(['tt0024216'], options(server.url, dir, { offline: true }));
    assert.equal(cached.report.cache_hits, 1);
  });
});

describe('runWikidata: politeness under faults', () => {
  test('never more than the limit in flight; the limit never goes above 5', async () => {
    for (const [asked, limit] of [
      [undefined, 4],
      [2, 2],
      [50, 5],
    ] as const) {
      // Requests are held until `limit` are in flight, and 50 ms more: fewer would hang, more would show.
      const server = await serve({
        faults: async (_req, srv) => {
          await srv.whenInFlight(limit);
          await delay(50);
          return null;
        },
      });
      const ids = Array.from({ length: 4 * limit }, (_, i) => `tt${9_000_000 + i}`);
      const { report } = await runWikidata(ids, options(server.url, await tempDir(), { batchSize: 1, concurrency: asked }));
      assert.equal(report.status, 'ok');
      assert.equal(server.requests.length, 4 * limit);
      assert.equal(server.maxInFlight, limit, `concurrency ${asked}`);
    }
  });

  test('a run with faults injected gives exactly the answers of a fault-free run', async () => {
    const ids = [...ALL, ...Array.from({ length: 29 }, (_, i) => `tt${1_000_000 + i}`)];
    const table: Record<string, string[]> = { ...TABLE };
    for (let i = 0; i < 29; i += 2) table[`tt${1_000_000 + i}`] = [`${W}Film_No._${i}_(${1990 + i}_film)`];

    const clean = await serve({ table });
    const reference = await runWikidata(ids, options(clean.url, await tempDir(), { batchSize: 4 }));
    assert.equal(reference.report.retries, 0);

    // Every query fails on its first try, some on the second too, each in a different way.
    const kinds: Fault[] = [
      { kind: 'status', status: 429, retryAfter: '0' },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 503, retryAfter: '0' },
      { kind: 'slow', delayMs: 60_000 },
      { kind: 'malformed' },
      { kind: 'wrong-shape' },
      { kind: 'reset' },
      { kind: 'truncated' },
      { kind: 'status', status: 502 },
    ];
    let queries = 0;
    const order = new Map<string, number>();
    const faulty = await serve({
      table,
      faults: (req) => {
        const key = req.ids.join();
        if (!order.has(key)) order.set(key, queries++);
        const q = order.get(key)!;
        if (req.attempt === 1) return kinds[q % kinds.length]!;
        if (req.attempt === 2 && q % 3 === 0) return kinds[(q + 4) % kinds.length]!;
        return null;
      },
    });
    const rec = recordingUi();
    // the slow fault never answers; a real answer comes far within the timeout, so the counts below are exact
    const faulted = await runWikidata(ids, options(faulty.url, await tempDir(), { batchSize: 4, timeoutMs: 2_000, ui: rec.ui }));

    assert.deepEqual(sorted(faulted.articles), sorted(reference.articles));
    assert.deepEqual(sorted(reference.articles), sorted(expected(ids, table)));
    assert.equal(faulted.report.status, 'ok');
    assert.deepEqual(rec.warnings, []);
    const batches = Math.ceil(ids.length / 4);
    assert.equal(faulted.report.requests, faulty.requests.length);
    assert.equal(faulted.report.retries, faulty.requests.length - batches);
    assert.equal(faulty.requests.length, batches * 2 + Math.ceil(batches / 3));
    assert.ok(faulty.maxInFlight <= 4);
    for (const r of [...faulty.requests, ...clean.requests]) assert.equal(r.userAgent, USER_AGENT, `request ${r.n}`);
  });
});
