/**
 * A real HTTP server on 127.0.0.1 (listen(0)) that speaks the SPARQL protocol
 * as the Wikidata Query Service does, and evaluates every query with a real
 * SPARQL engine (oxigraph) over a graph in Wikidata's RDF model
 * (test/helpers/wikidata-rdf.ts), so that a wrong query gets a wrong answer:
 *
 * - `POST` form-encoded `query=...` (or `GET ?query=...`);
 * - WDQS's prefixes predeclared (`wd:`, `wdt:`, `p:`, `ps:`, `psv:`, `pq:`,
 *   `wikibase:`, `schema:`...): a query may use them without declaring them;
 * - `application/sparql-results+json` when the Accept header asks for it,
 *   SPARQL XML otherwise (as WDQS does); an unbound variable is absent from
 *   its binding;
 * - 400 with the parser's message for a query that does not parse;
 * - 403 for a missing or empty User-Agent (WDQS's robot policy); 405 for
 *   another method than GET and POST.
 *
 * The world is `items` (and `currencies`), or the older `table`
 * `imdb id -> article URLs`, one item per IMDb id; both may be given.
 *
 * Faults are injected per request by a function the test gives; it sees the
 * request (with `attempt`: how often this same query came before) and may
 * wait (to hold requests in flight) before it answers. Every request is
 * recorded with the server's own timestamps and the number in flight.
 */
import type http from 'node:http';
import { Store } from 'oxigraph';
import { playFault, startFaultServer, type BaseRecord, type Fault, type FaultServerState } from './fault-server.js';
import { itemsFromTable, toNTriples, type Item } from './wikidata-rdf.js';

export type { Fault } from './fault-server.js';

export interface RecordedRequest extends BaseRecord {
  contentType: string | undefined;
  query: string;
  /** the ids of the query's VALUES list, in order */
  ids: string[];
}

export type FaultFn = (req: RecordedRequest, server: SparqlServer) => Fault | null | undefined | Promise<Fault | null | undefined>;

export interface SparqlServerOptions {
  /** imdb id -> article URLs: one item for each IMDb id, with those sitelinks */
  table?: Record<string, string[]>;
  /** the items of the world */
  items?: readonly Item[];
  /** currency Q-id -> ISO 4217 code, beside the usual ones (wikidata-rdf.ts CURRENCIES) */
  currencies?: Record<string, string>;
  faults?: FaultFn;
  /** delay before every answer (to make requests overlap) */
  delayMs?: number;
}

export interface SparqlServer extends FaultServerState<RecordedRequest> {
  /** the endpoint URL, http://127.0.0.1:<port>/sparql */
  url: string;
}

const VALUES = /VALUES\s+\?\w+\s*\{([^}]*)\}/i;

/** The string literals of the query's first one-variable VALUES block: recorded for the tests that count the ids sent. */
function valuesOf(query: string): string[] {
  const m = VALUES.exec(query);
  if (!m) return [];
  return [...m[1]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]!);
}

/** A fault function giving `faults[n - 1]` to the n-th request, nothing after. */
export function inOrder(...faults: Array<Fault | null>): FaultFn {
  return (req) => faults[req.n - 1] ?? null;
}

/** The prefixes WDQS declares for every query (its user manual's list). */
export const WDQS_PREFIXES: Readonly<Record<string, string>> = {
  wd: 'http://www.wikidata.org/entity/',
  wds: 'http://www.wikidata.org/entity/statement/',
  wdv: 'http://www.wikidata.org/value/',
  wdref: 'http://www.wikidata.org/reference/',
  wdt: 'http://www.wikidata.org/prop/direct/',
  wdtn: 'http://www.wikidata.org/prop/direct-normalized/',
  wdno: 'http://www.wikidata.org/prop/novalue/',
  wdata: 'http://www.wikidata.org/wiki/Special:EntityData/',
  wikibase: 'http://wikiba.se/ontology#',
  p: 'http://www.wikidata.org/prop/',
  ps: 'http://www.wikidata.org/prop/statement/',
  psv: 'http://www.wikidata.org/prop/statement/value/',
  psn: 'http://www.wikidata.org/prop/statement/value-normalized/',
  pq: 'http://www.wikidata.org/prop/qualifier/',
  pqv: 'http://www.wikidata.org/prop/qualifier/value/',
  pqn: 'http://www.wikidata.org/prop/qualifier/value-normalized/',
  pr: 'http://www.wikidata.org/prop/reference/',
  prv: 'http://www.wikidata.org/prop/reference/value/',
  prn: 'http://www.wikidata.org/prop/reference/value-normalized/',
  schema: 'http://schema.org/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
  owl: 'http://www.w3.org/2002/07/owl#',
  skos: 'http://www.w3.org/2004/02/skos/core#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  prov: 'http://www.w3.org/ns/prov#',
  dct: 'http://purl.org/dc/terms/',
  cc: 'http://creativecommons.org/ns#',
  geo: 'http://www.opengis.net/ont/geosparql#',
  geof: 'http://www.opengis.net/def/function/geosparql/',
  ontolex: 'http://www.w3.org/ns/lemon/ontolex#',
  bd: 'http://www.bigdata.com/rdf#',
  bds: 'http://www.bigdata.com/rdf/search#',
  gas: 'http://www.bigdata.com/rdf/gas#',
  hint: 'http://www.bigdata.com/queryHints#',
  mediawiki: 'https://www.mediawiki.org/ontology#',
  mwapi: 'https://www.mediawiki.org/ontology#API/',
};

/**
 * Put before every query, on one line, so that the query's own line numbers
 * are the parser's minus one. A query that declares a prefix again wins: the
 * later declaration is the one SPARQL uses.
 */
const PROLOGUE = Object.entries(WDQS_PREFIXES).map(([name, ns]) => `PREFIX ${name}: <${ns}>`).join(' ') + '\n';

const JSON_RESULTS = 'application/sparql-results+json;charset=utf-8';
const XML_RESULTS = 'application/sparql-results+xml;charset=utf-8';

interface Answer {
  status: number;
  type: string;
  text: string;
}

/**
 * The service's answer to `query`: its results (JSON or XML; Turtle for
 * CONSTRUCT and DESCRIBE), 400 with the parser's message when it does not
 * parse (as WDQS answers a MalformedQueryException), 500 when evaluation fails.
 */
export function evaluate(store: Store, query: string, json: boolean): Answer {
  const text = PROLOGUE + query;
  try {
    const type = json ? JSON_RESULTS : XML_RESULTS;
    return { status: 200, type, text: store.query(text, { results_format: type.split(';')[0] }) as string };
  } catch (err) {
    const message = (err as Error).message;
    const at = /^error at (\d+):(\d+)/.exec(message);
    if (at) {
      const where = `error at ${Number(at[1]) - 1}:${at[2]}`;
      return { status: 400, type: 'text/plain; charset=utf-8', text: `MalformedQueryException: ${where}${message.slice(at[0].length)}` };
    }
    // a graph-building query: its results are a graph, not a table
    if (message.startsWith('Not supported RDF format')) {
      return { status: 200, type: 'text/turtle;charset=utf-8', text: store.query(text, { results_format: 'text/turtle' }) as string };
    }
    return { status: 500, type: 'text/plain; charset=utf-8', text: `QueryEvaluationException: ${message}` };
  }
}

/** The store holding the world of `options`, in Wikidata's RDF model. */
export function storeFor(options: Pick<SparqlServerOptions, 'table' | 'items' | 'currencies'>): Store {
  const items = [...itemsFromTable(options.table ?? {}), ...(options.items ?? [])];
  const store = new Store();
  store.load(toNTriples({ items, currencies: options.currencies }), { format: 'application/n-triples' });
  return store;
}

function queryOf(req: http.IncomingMessage, body: string): string {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'POST' && (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return new URLSearchParams(body).get('query') ?? url.searchParams.get('query') ?? '';
  }
  return url.searchParams.get('query') ?? '';
}

export async function startSparqlServer(options: SparqlServerOptions): Promise<SparqlServer> {
  const store = storeFor(options);
  const state = { url: '', requests: [], maxInFlight: 0, inFlight: 0 } as unknown as SparqlServer;
  const port = await startFaultServer<RecordedRequest>(state, {
    describe(req, body) {
      const query = queryOf(req, body);
      return { attemptKey: query, fields: { contentType: req.headers['content-type'], query, ids: valuesOf(query) } };
    },
    async serve(x) {
      const { req, record } = x;
      const fault = (await options.faults?.(record, state)) ?? null;
      const wantsJson = (req.headers.accept ?? '').includes('application/sparql-results+json');
      const answers = new Map<boolean, Answer>();
      const answer = (json: boolean): Answer => answers.get(json) ?? answers.set(json, evaluate(store, record.query, json)).get(json)!;
      // A server answering after `delayMs` answers after that time in all, its own evaluation included.
      const started = performance.now();
      if (options.delayMs && req.method !== undefined && record.query !== '') answer(wantsJson);
      await playFault(x, fault, {
        delayMs: options.delayMs === undefined ? undefined : Math.max(0, options.delayMs - (performance.now() - started)),
        noUserAgent: 'Please set a user-agent and respect our robot policy https://w.wiki/CX6',
        refuse() {
          if (req.method !== 'POST' && req.method !== 'GET') x.send(405, 'text/plain', 'method not allowed');
          else if (record.query === '') x.send(400, 'text/plain', 'no query');
          else {
            // a query that does not parse, or fails, is answered so before any fault
            const { status, type, text } = answer(wantsJson);
            if (status === 200) return false;
            x.send(status, type, text);
          }
          return true;
        },
        answer() {
          const { status, type, text } = answer(wantsJson);
          x.send(status, type, text);
        },
        full: () => answer(true),
        errorType: 'text/plain; charset=utf-8',
        errorBody: (status) => `injected ${status}`,
        wrongShape: () => JSON.stringify({ head: { vars: [] }, boolean: true }),
      });
    },
  });
  state.url = `http://127.0.0.1:${port}/sparql`;
  return state;
}
