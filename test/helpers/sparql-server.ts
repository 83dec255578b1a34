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
import type http from 'node:http';
import { playFault, startFaultServer, type BaseRecord, type Fault, type FaultServerState } from './fault-server.js';

export type { Fault } from './fault-server.js';

export interface RecordedRequest extends BaseRecord {
  contentType: string | undefined;
  query: string;
  /** the ids of the query's VALUES list, in order */
  ids: string[];
}

export type FaultFn = (req: RecordedRequest, server: SparqlServer) => Fault | null | undefined | Promise<Fault | null | undefined>;

export interface SparqlServerOptions {
  /** imdb id -> English Wikipedia article URLs */
  table: Record<string, string[]>;
  faults?: FaultFn;
  /** delay before every answer (to make requests overlap) */
  delayMs?: number;
}

export interface SparqlServer extends FaultServerState<RecordedRequest> {
  /** the endpoint URL, http://127.0.0.1:<port>/sparql */
  url: string;
}

const VALUES = /VALUES\s+\?\w+\s*\{([^}]*)\}/i;

/** The string literals of the query's VALUES block. */
function valuesOf(query: string): string[] {
  const m = VALUES.exec(query);
  if (!m) return [];
  return [...m[1]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]!);
}

/** The SPARQL JSON results for `ids` from `table`. */
function resultsFor(ids: string[], table: Record<string, string[]>): unknown {
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

const JSON_RESULTS = 'application/sparql-results+json;charset=utf-8';

function queryOf(req: http.IncomingMessage, body: string): string {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'POST' && (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return new URLSearchParams(body).get('query') ?? url.searchParams.get('query') ?? '';
  }
  return url.searchParams.get('query') ?? '';
}

export async function startSparqlServer(options: SparqlServerOptions): Promise<SparqlServer> {
  const state = { url: '', requests: [], maxInFlight: 0, inFlight: 0 } as unknown as SparqlServer;
  const port = await startFaultServer<RecordedRequest>(state, {
    describe(req, body) {
      const query = queryOf(req, body);
      return { attemptKey: query, fields: { contentType: req.headers['content-type'], query, ids: valuesOf(query) } };
    },
    async serve(x) {
      const { req, record } = x;
      const fault = (await options.faults?.(record, state)) ?? null;
      const full = () => ({ type: JSON_RESULTS, text: JSON.stringify(resultsFor(record.ids, options.table)) });
      await playFault(x, fault, {
        delayMs: options.delayMs,
        noUserAgent: 'Please set a user-agent and respect our robot policy https://w.wiki/CX6',
        refuse() {
          if (req.method !== 'POST' && req.method !== 'GET') x.send(405, 'text/plain', 'method not allowed');
          else if (record.query === '') x.send(400, 'text/plain', 'no query');
          else return false;
          return true;
        },
        answer() {
          if ((req.headers.accept ?? '').includes('application/sparql-results+json')) {
            const { type, text } = full();
            x.send(200, type, text);
          } else {
            x.send(200, 'application/sparql-results+xml;charset=utf-8', '<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"></sparql>');
          }
        },
        full,
        errorType: 'text/plain; charset=utf-8',
        errorBody: (status) => `injected ${status}`,
        wrongShape: () => JSON.stringify({ head: { vars: [] }, boolean: true }),
      });
    },
  });
  state.url = `http://127.0.0.1:${port}/sparql`;
  return state;
}
