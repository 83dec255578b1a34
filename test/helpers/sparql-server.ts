/**
 * A real HTTP server on 127.0.0.1 (listen(0)) that speaks the SPARQL protocol
 * as the Wikidata Query Service does, for the queries TrueFilm sends:
 *
 * - `POST` form-encoded `query=...` (or `GET ?query=...`);
 * - `application/sparql-results+json` when the Accept header asks for it,
 *   SPARQL XML otherwise (as WDQS does);
 * - 403 for a missing or empty User-Agent (WDQS's robot policy);
 * - answers from a table `imdb id -> article URLs` given by the test: the
 *   ids are read from the query's `VALUES` list, one binding per article.
 *
 * Faults are injected per request by a function the test gives; it sees the
 * request (with `attempt`: how often this same query came before) and may
 * wait (to hold requests in flight) before it answers. Every request is
 * recorded with the server's own timestamps and the number in flight.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** an error status, with an optional Retry-After and body */
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** the right answer, after a delay (a client may time out first) */
  | { kind: 'slow'; delayMs: number }
  /** 200 with a body that is not JSON (cut in the middle) */
  | { kind: 'malformed' }
  /** 200 with JSON that is not SPARQL results */
  | { kind: 'wrong-shape' }
  /** the connection reset (RST) before any response */
  | { kind: 'reset' }
  /** the headers and half the body, then the connection closed */
  | { kind: 'truncated' };

export interface RecordedRequest {
  /** 1-based arrival order */
  n: number;
  /** Date.now() when the request (headers and body) arrived */
  arrivedAt: number;
  method: string;
  userAgent: string | undefined;
  accept: string | undefined;
  contentType: string | undefined;
  query: string;
  /** the ids of the query's VALUES list, in order */
  ids: string[];
  /** 1 for the first time this exact query came, 2 for the next... */
  attempt: number;
  /** requests in flight when this one arrived, itself included */
  inFlight: number;
  fault: Fault['kind'] | null;
  /** the status sent (0 for a reset), once answered */
  status?: number;
  /** Date.now() when the response was sent */
  answeredAt?: number;
  /** the client went away before the answer */
  abandoned?: boolean;
}

export type FaultFn = (req: RecordedRequest, server: SparqlServer) => Fault | null | undefined | Promise<Fault | null | undefined>;

export interface SparqlServerOptions {
  /** imdb id -> English Wikipedia article URLs */
  table: Record<string, string[]>;
  faults?: FaultFn;
  /** delay before every answer (to make requests overlap) */
  delayMs?: number;
}

export interface SparqlServer {
  /** the endpoint URL, http://127.0.0.1:<port>/sparql */
  url: string;
  requests: RecordedRequest[];
  /** the most requests ever in flight at once */
  maxInFlight: number;
  inFlight: number;
  /** resolves when `inFlight` reaches n (at once if it has) */
  whenInFlight(n: number): Promise<void>;
  close(): Promise<void>;
}

const VALUES = /VALUES\s+\?\w+\s*\{([^}]*)\}/i;

/** The string literals of the query's VALUES block. */
export function valuesOf(query: string): string[] {
  const m = VALUES.exec(query);
  if (!m) return [];
  return [...m[1]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]!);
}

/** The SPARQL JSON results for `ids` from `table`. */
export function resultsFor(ids: string[], table: Record<string, string[]>): unknown {
  const bindings = [];
  for (const id of ids) {
    for (const url of table[id] ?? []) {
      bindings.push({ imdb: { type: 'literal', value: id }, article: { type: 'uri', value: url } });
    }
  }
  return { head: { vars: ['imdb', 'article'] }, results: { bindings } };
}

/** A fault function giving `faults[n - 1]` to the n-th request, nothing after. */
export function inOrder(...faults: Array<Fault | null>): FaultFn {
  return (req) => faults[req.n - 1] ?? null;
}

export async function startSparqlServer(options: SparqlServerOptions): Promise<SparqlServer> {
  const seen = new Map<string, number>();
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const state: SparqlServer = {
    url: '',
    requests: [],
    maxInFlight: 0,
    inFlight: 0,
    whenInFlight(n) {
      if (state.inFlight >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: async () => {},
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let query = url.searchParams.get('query') ?? '';
    if (req.method === 'POST' && (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      query = new URLSearchParams(body).get('query') ?? query;
    }
    const ids = valuesOf(query);
    const attempt = (seen.get(query) ?? 0) + 1;
    seen.set(query, attempt);
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    const record: RecordedRequest = {
      n: state.requests.length + 1,
      arrivedAt: Date.now(),
      method: req.method ?? '',
      userAgent: req.headers['user-agent'],
      accept: req.headers.accept,
      contentType: req.headers['content-type'],
      query,
      ids,
      attempt,
      inFlight: state.inFlight,
      fault: null,
    };
    state.requests.push(record);
    for (const w of waiters.filter((x) => state.inFlight >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }

    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      state.inFlight--;
    };
    // The client may give up (timeout, abort): the request is then no longer in flight.
    res.on('close', () => {
      if (!done) record.abandoned = true;
      finish();
    });
    const send = (status: number, type: string, text: string, headers: Record<string, string> = {}): void => {
      if (done) return;
      record.status = status;
      record.answeredAt = Date.now();
      finish(); // counted out before the client can see the answer and send the next one
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };

    const fault = (await options.faults?.(record, state)) ?? null;
    record.fault = fault?.kind ?? null;
    if (options.delayMs) await later(options.delayMs);
    if (done) return;

    const ua = req.headers['user-agent'];
    if (ua === undefined || ua.trim() === '') {
      send(403, 'text/plain; charset=utf-8', 'Please set a user-agent and respect our robot policy https://w.wiki/CX6');
      return;
    }
    if (req.method !== 'POST' && req.method !== 'GET') {
      send(405, 'text/plain', 'method not allowed');
      return;
    }
    if (query === '') {
      send(400, 'text/plain', 'no query');
      return;
    }

    const answer = (): void => {
      const results = resultsFor(ids, options.table);
      if ((req.headers.accept ?? '').includes('application/sparql-results+json')) {
        send(200, 'application/sparql-results+json;charset=utf-8', JSON.stringify(results));
      } else {
        send(200, 'application/sparql-results+xml;charset=utf-8', '<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"></sparql>');
      }
    };

    switch (fault?.kind) {
      case undefined:
        answer();
        return;
      case 'status':
        send(fault.status, 'text/plain; charset=utf-8', fault.body ?? `injected ${fault.status}`, fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter });
        return;
      case 'slow':
        await later(fault.delayMs);
        answer();
        return;
      case 'malformed': {
        const full = JSON.stringify(resultsFor(ids, options.table));
        send(200, 'application/sparql-results+json;charset=utf-8', full.slice(0, Math.max(1, Math.floor(full.length / 2))));
        return;
      }
      case 'wrong-shape':
        send(200, 'application/sparql-results+json;charset=utf-8', JSON.stringify({ head: { vars: [] }, boolean: true }));
        return;
      case 'reset':
        record.status = 0;
        record.answeredAt = Date.now();
        finish();
        req.socket.resetAndDestroy();
        return;
      case 'truncated': {
        const full = JSON.stringify(resultsFor(ids, options.table));
        record.status = 200;
        record.answeredAt = Date.now();
        finish();
        res.writeHead(200, { 'content-type': 'application/sparql-results+json;charset=utf-8', 'content-length': Buffer.byteLength(full) });
        res.write(full.slice(0, Math.floor(full.length / 2)), () => req.socket.destroy());
        return;
      }
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${port}/sparql`;
  state.close = async () => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}
