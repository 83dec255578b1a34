/**
 * The HTTP client (src/http): retries, Retry-After, timeouts, bounds and
 * concurrency, against a real server on 127.0.0.1 (test/helpers/sparql-server.ts)
 * whose own timestamps and in-flight counts are the evidence.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { VERSION } from '../src/config.js';
import { HttpClient, USER_AGENT, userAgent, type HttpClientOptions, type HttpResponse } from '../src/http/client.js';
import { backoffDelay, isRetryableStatus, parseRetryAfter } from '../src/http/retry.js';
import type { Fault } from './helpers/fault-server.js';
import { TrueFilmError } from '../src/errors.js';
import { inOrder, startSparqlServer, type FaultFn, type SparqlServer } from './helpers/sparql-server.js';
import { closedPort, scratch } from './helpers/recorder.js';

const { keep } = scratch('http');

async function serve(faults?: FaultFn): Promise<SparqlServer> {
  return keep(await startSparqlServer({ table: { tt0000001: ['https://en.wikipedia.org/wiki/Example'] }, faults }));
}

/** Fast settings: tests wait milliseconds, not seconds. */
function client(options: HttpClientOptions = {}): HttpClient {
  return new HttpClient({ backoffMs: 5, maxBackoffMs: 20, timeoutMs: 5_000, maxTries: 4, maxTotalMs: 20_000, ...options });
}

/** A form POST as the SPARQL client sends it; `read` returns the bindings count (1 for tt0000001, 0 for an id nobody has). */
function ask(c: HttpClient, server: SparqlServer, id = 'tt0000001'): Promise<number> {
  return c.request(
    {
      url: server.url,
      method: 'POST',
      headers: { accept: 'application/sparql-results+json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: `SELECT ?article WHERE { VALUES ?imdb { "${id}" } ?item wdt:P345 ?imdb . ?article schema:about ?item }` }).toString(),
    },
    (res: HttpResponse) => (JSON.parse(res.body) as { results: { bindings: unknown[] } }).results.bindings.length,
  );
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<TrueFilmError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TrueFilmError, `expected a TrueFilmError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, got success`);
}

describe('retry policy', () => {
  test('Retry-After in seconds and as an HTTP-date', () => {
    const now = Date.parse('2025-02-01T12:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Sat, 01 Feb 2025 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Saturday, 01-Feb-25 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Sat, 01 Feb 2025 11:00:00 GMT', now), 0, 'a date in the past means now');
    assert.equal(parseRetryAfter(['5', '9'], now), 5_000);
    for (const bad of [undefined, '', '-1', '1.5', 'soon', 'Sat, 99 Foo'] as const) assert.equal(parseRetryAfter(bad, now), null, String(bad));
  });

  test('backoff doubles up to its cap, with jitter in the upper half', () => {
    assert.equal(backoffDelay(1, 100, 1000, () => 0), 50);
    assert.equal(backoffDelay(1, 100, 1000, () => 1), 100);
    assert.equal(backoffDelay(3, 100, 1000, () => 1), 400);
    assert.equal(backoffDelay(10, 100, 1000, () => 1), 1000);
    assert.equal(backoffDelay(10, 100, 1000, () => 0), 500);
  });

  test('retryable statuses: 408, 429, 5xx only', () => {
    assert.deepEqual(
      [200, 400, 403, 404, 408, 429, 500, 502, 503, 504].filter(isRetryableStatus),
      [408, 429, 500, 502, 503, 504],
    );
  });
});

describe('HttpClient', () => {
  test('sends a descriptive User-Agent: the tool, its version, the user\'s contact and the library', async () => {
    const server = await serve();
    const c = client();
    assert.equal(await ask(c, server), 1);
    await c.close();
    assert.equal(server.requests[0]!.userAgent, USER_AGENT);
    assert.match(USER_AGENT, /^TrueFilm\/\d+\.\d+\.\d+ \(no contact given; see truefilm --help, --contact\) undici$/, 'without a contact it says so');
    assert.equal(userAgent('film-desk@example.org'), `TrueFilm/${VERSION} (film-desk@example.org) undici`);
    assert.equal(userAgent('https://example.org/truefilm'), `TrueFilm/${VERSION} (https://example.org/truefilm) undici`);
    assert.doesNotMatch(USER_AGENT, /github\.com\/truefilm/, 'no contact that is not the user\'s');
  });

  test('an empty User-Agent gets 403, which is not retried', async () => {
    const server = await serve();
    const c = client({ userAgent: '' });
    const err = await rejectsWith(ask(c, server), 'HTTP_STATUS');
    await c.close();
    assert.match(err.message, /HTTP 403/);
    assert.match(err.hint ?? '', /User-Agent/);
    assert.equal(err.input, server.url);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(c.stats, { requests: 1, retries: 0 });
  });

  test('429 with Retry-After in seconds: no request before the time', async () => {
    const server = await serve(inOrder({ kind: 'status', status: 429, retryAfter: '1' }));
    const c = client({ concurrency: 1 });
    assert.equal(await ask(c, server), 1);
    await c.close();
    const [first, second] = server.requests;
    assert.equal(first!.status, 429);
    assert.equal(second!.status, 200);
    assert.ok(second!.arrivedAt >= first!.answeredAt! + 1000, `retry came ${second!.arrivedAt - first!.answeredAt!} ms after the 429`);
    assert.deepEqual(c.stats, { requests: 2, retries: 1 });
  });

  test('503 with Retry-After as an HTTP-date: no request before that date', async () => {
    let date = 0;
    const server = await serve((req) => {
      if (req.n !== 1) return null;
      date = Math.ceil((Date.now() + 100) / 1000) * 1000; // HTTP-dates have whole seconds: 0.1 to 1.1 s ahead
      return { kind: 'status', status: 503, retryAfter: new Date(date).toUTCString() };
    });
    const c = client({ concurrency: 1 });
    assert.equal(await ask(c, server), 1);
    await c.close();
    assert.equal(server.requests.length, 2);
    assert.ok(server.requests[1]!.arrivedAt >= date, `retry came ${date - server.requests[1]!.arrivedAt} ms before the date`);
  });

  test('a 429 pauses every request to that origin, not only the throttled one', async () => {
    // Two requests are held in flight together; one gets 429 (Retry-After: 1), the other a
    // plain 500 whose own backoff (150-300 ms) would bring it back well before the second.
    const server = await serve(async (req, srv) => {
      if (req.n > 2) return null;
      await srv.whenInFlight(2);
      return req.n === 1 ? { kind: 'status', status: 429, retryAfter: '1' } : { kind: 'status', status: 500 };
    });
    const c = client({ concurrency: 2, backoffMs: 300, maxBackoffMs: 300 });
    assert.deepEqual(await Promise.all([ask(c, server), ask(c, server)]), [1, 1]);
    await c.close();
    const throttledAt = server.requests.find((r) => r.status === 429)!.answeredAt!;
    const later = server.requests.slice(2);
    assert.equal(later.length, 2);
    for (const r of later) assert.ok(r.arrivedAt >= throttledAt + 1000, `request ${r.n} came ${r.arrivedAt - throttledAt} ms after the 429`);
  });

  test('5xx answers are retried until one succeeds', async () => {
    const server = await serve(inOrder({ kind: 'status', status: 500 }, { kind: 'status', status: 502 }, { kind: 'status', status: 503 }));
    const c = client();
    assert.equal(await ask(c, server), 1);
    await c.close();
    assert.deepEqual(server.requests.map((r) => r.status), [500, 502, 503, 200]);
    assert.deepEqual(c.stats, { requests: 4, retries: 3 });
  });

  test('a slow answer times out and is retried', async () => {
    const server = await serve(inOrder({ kind: 'slow', delayMs: 60_000 }));
    // the slow answer never comes; a real one comes far within the timeout
    const c = client({ timeoutMs: 2_000 });
    assert.equal(await ask(c, server), 1);
    await c.close();
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[0]!.abandoned, true, 'the client gave up on the slow request');
    assert.equal(server.requests[1]!.status, 200);
  });

  test('connection resets and bodies cut short are retried', async () => {
    const server = await serve(inOrder({ kind: 'reset' }, { kind: 'truncated' }));
    const c = client({ concurrency: 1 });
    assert.equal(await ask(c, server), 1);
    await c.close();
    assert.deepEqual(server.requests.map((r) => r.fault), ['reset', 'truncated', null]);
    assert.deepEqual(c.stats, { requests: 3, retries: 2 });
  });

  test('a response the caller cannot read is retried; if it persists the error says why', async () => {
    const server = await serve(() => ({ kind: 'malformed' }));
    const c = client({ maxTries: 3 });
    const err = await rejectsWith(ask(c, server), 'HTTP_BAD_RESPONSE');
    await c.close();
    assert.match(err.message, /JSON/);
    assert.match(err.message, /gave up after 3 tries/);
    assert.ok(err.cause instanceof SyntaxError);
    assert.equal(server.requests.length, 3);
  });

  test('tries are bounded', async () => {
    const server = await serve(() => ({ kind: 'status', status: 500, body: 'java.util.concurrent.TimeoutException' }));
    const c = client({ maxTries: 3 });
    const err = await rejectsWith(ask(c, server), 'HTTP_STATUS');
    await c.close();
    assert.match(err.message, /^HTTP 500 Internal Server Error: java\.util\.concurrent\.TimeoutException \(gave up after 3 tries/);
    assert.equal(server.requests.length, 3);
    assert.deepEqual(c.stats, { requests: 3, retries: 2 });
  });

  test('total time is bounded: a Retry-After past the budget is not waited for', async () => {
    const server = await serve(() => ({ kind: 'status', status: 429, retryAfter: '3600' }));
    const c = client({ maxTotalMs: 10_000 });
    const err = await rejectsWith(ask(c, server), 'HTTP_STATUS');
    await c.close();
    assert.match(err.message, /HTTP 429.*asked to wait 60 min 0 s/);
    assert.equal(server.requests.length, 1);
  });

  test('other 4xx statuses are not retried', async () => {
    const server = await serve(inOrder({ kind: 'status', status: 404, body: 'no such endpoint' }));
    const c = client();
    const err = await rejectsWith(ask(c, server), 'HTTP_STATUS');
    await c.close();
    assert.match(err.message, /HTTP 404 Not Found: no such endpoint$/);
    assert.equal(server.requests.length, 1);
  });

  test('a closed port is unreachable at once (nothing listens: no retry)', async () => {
    const port = await closedPort();
    const c = client();
    const url = `http://127.0.0.1:${port}/sparql`;
    const err = await rejectsWith(c.request({ url }, (r) => r.body), 'HTTP_UNREACHABLE');
    await c.close();
    assert.match(err.message, /ECONNREFUSED/);
    assert.equal(err.input, url);
    assert.deepEqual(c.stats, { requests: 1, retries: 0 });
  });

  test('a host that never completes the connection (TLS never answers) is unreachable after the connect timeout, not retried', async () => {
    const connections: net.Socket[] = [];
    const silent = net.createServer((socket) => void connections.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      // a try may take longer than a connection may: the connect timeout is what ends it
      const c = client({ timeoutMs: 15_000 });
      const url = `https://127.0.0.1:${(silent.address() as net.AddressInfo).port}/sparql`;
      const err = await rejectsWith(c.request({ url }, (r) => r.body), 'HTTP_UNREACHABLE');
      await c.close();
      assert.match(err.message, /no answer to connect within 5\.0 s/);
      assert.deepEqual(c.stats, { requests: 1, retries: 0 });
      assert.equal(connections.length, 1, 'one connection tried');
    } finally {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('a URL that does not parse is an error at once, with nothing sent', async () => {
    const c = client();
    const err = await rejectsWith(c.request({ url: 'http://exa mple.org/sparql' }, (r) => r.body), 'HTTP_UNREACHABLE');
    await c.close();
    assert.match(err.message, /not a valid URL/);
    assert.deepEqual(c.stats, { requests: 0, retries: 0 });
  });

  test('never more requests in flight than the limit', async () => {
    // Every request is held until three are in flight, and a little longer: a client that kept
    // to two would hang, one that sent a fourth would show it in maxInFlight. (The grace only
    // gives an extra request time to arrive; a slow machine cannot make the test fail.)
    const server = await serve(async (_req, srv) => {
      await srv.whenInFlight(3);
      await delay(50);
      return null;
    });
    const c = client({ concurrency: 3 });
    const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => ask(c, server, `tt${i}`)));
    await c.close();
    assert.deepEqual(answers, Array(9).fill(0));
    assert.equal(server.maxInFlight, 3);
    assert.equal(server.requests.length, 9);
  });

  test('an abort stops a request in flight and a wait between tries', async () => {
    const slow = await serve(() => ({ kind: 'slow', delayMs: 60_000 }));
    const controller = new AbortController();
    const c = client({ signal: controller.signal });
    const pending = ask(c, slow);
    await slow.whenInFlight(1);
    controller.abort();
    await rejectsWith(pending, 'INTERRUPTED');
    await c.close();
    assert.equal(slow.requests[0]!.abandoned, true);

    const throttled = await serve(() => ({ kind: 'status', status: 429, retryAfter: '3' }));
    const controller2 = new AbortController();
    const c2 = client({ signal: controller2.signal });
    const waiting = ask(c2, throttled);
    while (throttled.requests[0]?.status === undefined) await new Promise((r) => setImmediate(r));
    controller2.abort();
    await rejectsWith(waiting, 'INTERRUPTED');
    await c2.close();
    assert.equal(throttled.requests.length, 1);
  });
});

describe('HttpClient: answers without bounds', () => {
  const MiB = 1 << 20;
  /** The body's length in characters, as a reader that takes any body sees it. */
  const bodyLength = (c: HttpClient, server: SparqlServer): Promise<number> => c.request({ url: server.url, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'query=ASK{}' }, (res) => res.body.length);

  test('a gzip bomb (0.5 MB that inflates to 512 MiB) is inflated only to the 4 MiB cap: HTTP_TOO_LARGE, not asked again', async () => {
    const server = await serve(() => ({ kind: 'bomb', inflated: 512 * MiB }));
    const c = client();
    const err = await rejectsWith(ask(c, server), 'HTTP_TOO_LARGE');
    await c.close();
    assert.match(err.message, /^the answer is over the 4 MiB an answer may have once inflated \(gzip\); not asked again/);
    assert.match(err.hint ?? '', /No real answer of this service comes near that size/);
    assert.equal(err.input, server.url);
    assert.deepEqual(c.stats, { requests: 1, retries: 0 });
  });

  test('a gzip body that never stops inflating ends at the cap too: it is inflated as it arrives, never whole', async () => {
    const server = await serve(() => ({ kind: 'bomb' }));
    const c = client();
    await rejectsWith(ask(c, server), 'HTTP_TOO_LARGE');
    await c.close();
    assert.equal(server.requests.length, 1);
  });

  test('a body that never ends, and one of 500 MB: HTTP_TOO_LARGE at the cap, each asked once', async () => {
    for (const fault of [{ kind: 'flood' }, { kind: 'flood', bytes: 500_000_000 }] satisfies Fault[]) {
      const server = await serve(() => fault);
      const c = client();
      const err = await rejectsWith(ask(c, server), 'HTTP_TOO_LARGE');
      await c.close();
      assert.match(err.message, /^the answer is over the 4 MiB an answer may have; not asked again/, JSON.stringify(fault));
      assert.deepEqual(c.stats, { requests: 1, retries: 0 }, JSON.stringify(fault));
    }
  });

  test('a Content-Length over the cap is refused before the body is read', async () => {
    const server = await serve(() => ({ kind: 'flood', bytes: 500_000_000, declared: true }));
    const c = client();
    const err = await rejectsWith(ask(c, server), 'HTTP_TOO_LARGE');
    await c.close();
    assert.match(err.message, /^the answer declares 476\.8 MiB \(Content-Length\), over the 4 MiB an answer may have/);
    assert.deepEqual(c.stats, { requests: 1, retries: 0 });
  });

  test('an answer of exactly 4 MiB is read whole, plain or gzip; one byte more is refused', async () => {
    for (const [fault, over] of [
      [{ kind: 'flood', bytes: 4 * MiB, declared: true }, { kind: 'flood', bytes: 4 * MiB + 1, declared: true }],
      [{ kind: 'flood', bytes: 4 * MiB }, { kind: 'flood', bytes: 4 * MiB + 1 }],
      [{ kind: 'bomb', inflated: 4 * MiB }, { kind: 'bomb', inflated: 4 * MiB + 1 }],
    ] satisfies Array<[Fault, Fault]>) {
      const c = client();
      assert.equal(await bodyLength(c, await serve(() => fault)), 4 * MiB, JSON.stringify(fault));
      await rejectsWith(bodyLength(c, await serve(() => over)), 'HTTP_TOO_LARGE');
      await c.close();
    }
  });

  test('the cap is the client\'s option', async () => {
    const c = client({ maxBodyBytes: 1000 });
    const err = await rejectsWith(bodyLength(c, await serve(() => ({ kind: 'bomb', inflated: 1001 }))), 'HTTP_TOO_LARGE');
    assert.match(err.message, /over the 1000 bytes an answer may have once inflated/);
    assert.equal(await bodyLength(c, await serve(() => ({ kind: 'bomb', inflated: 1000 }))), 1000);
    await c.close();
  });

  test('an error status with a body that never ends: only its start is read, and the status is retried as usual', async () => {
    const server = await serve(inOrder({ kind: 'flood', status: 503 }, { kind: 'bomb', status: 502 }));
    const c = client();
    assert.equal(await ask(c, server), 1);
    await c.close();
    assert.deepEqual(server.requests.map((r) => r.status), [503, 502, 200]);
    assert.deepEqual(c.stats, { requests: 3, retries: 2 });

    const down = await serve(() => ({ kind: 'flood', status: 500 }));
    const c2 = client({ maxTries: 2 });
    const err = await rejectsWith(ask(c2, down), 'HTTP_STATUS');
    await c2.close();
    // the 64 KiB read are spaces: nothing to show
    assert.match(err.message, /^HTTP 500 Internal Server Error \(gave up after 2 tries/);
  });

  test('a body that says gzip and is not: HTTP_BAD_RESPONSE, retried', async () => {
    const server = await serve(inOrder({ kind: 'flood', bytes: 1000, encoding: 'gzip' }));
    const c = client();
    assert.equal(await ask(c, server), 1);
    await c.close();
    assert.deepEqual(c.stats, { requests: 2, retries: 1 });

    const always = await serve(() => ({ kind: 'flood', bytes: 1000, encoding: 'gzip' }));
    const c2 = client({ maxTries: 2 });
    const err = await rejectsWith(ask(c2, always), 'HTTP_BAD_RESPONSE');
    await c2.close();
    assert.match(err.message, /^a gzip body that does not inflate: incorrect header check \(gave up after 2 tries/);
  });
});
