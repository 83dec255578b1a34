/**
 * The Wikidata stage (SPEC sections 4.1 and 8): asks the Wikidata Query
 * Service which English Wikipedia articles are about the items with each
 * IMDb id (`wdt:P345`), in batches of `VALUES`, with a cache in the data
 * directory so that a rerun asks only for what it lacks.
 *
 * The answers are the authority for matching; the matcher (not this stage)
 * chooses among several articles for one id. When the service cannot be
 * reached or keeps failing, the stage warns once and returns what it has
 * (status 'unavailable'), unless `require` makes that an error.
 */
import path from 'node:path';
import { readCache, writeCache, type CacheSpec } from '../cache.js';
import { runWorkers } from '../concurrency.js';
import { TrueFilmError } from '../errors.js';
import { HttpClient, retryOptions, type HttpResponse, type RetryOptions } from '../http/client.js';
import { keyFromUrl, WIKI_URL_PREFIX } from '../keys.js';
import type { ArticleRef, WikidataReport } from '../types.js';
import type { Ui } from '../ui.js';

/** An English Wikipedia article as Wikidata names it. */
export type WikiArticle = ArticleRef;

/** The retry options (RetryOptions) apply to each query: one try 65 s (a little over the service's own 60 s), 5 tries, 180 s in all by default. */
export interface WikidataOptions extends RetryOptions {
  /** the SPARQL endpoint (--sparql-endpoint) */
  endpoint: string;
  /** the cache is <dataDir>/cache/wikidata.json */
  dataDir: string;
  /** the cache only: no request at all */
  offline: boolean;
  /** the service unavailable is an error (SPARQL_UNAVAILABLE) instead of a warning */
  require: boolean;
  ui: Ui;
  /** aborts the requests in flight: the stage then throws INTERRUPTED */
  signal?: AbortSignal;
  /** requests in flight at once: default 4, never above 5 (WDQS allows 5 per IP) */
  concurrency?: number;
  /** ids per query (default 200) */
  batchSize?: number;
  /**
   * Called as answers become known: first the cache hits, then each batch.
   * An id with an empty array has no English article on Wikidata.
   */
  onArticles?: (answers: Map<string, WikiArticle[]>) => void;
}

interface WikidataResult {
  /**
   * imdb id -> its English Wikipedia articles, sorted by key; an empty array:
   * Wikidata has none. An id that is absent was not answered (offline and not
   * in the cache, or the service was unavailable).
   */
  articles: Map<string, WikiArticle[]>;
  report: WikidataReport;
}

const WIKIDATA_DEFAULTS = {
  concurrency: 4,
  maxConcurrency: 5,
  batchSize: 200,
  timeoutMs: 65_000, // a little over the service's 60 s, so that its own timeout error comes first
  maxTries: 5,
  maxTotalMs: 180_000,
  backoffMs: 1_000,
  maxBackoffMs: 30_000,
} as const;

export const CACHE_FILE = path.join('cache', 'wikidata.json');
const CACHE_VERSION = 1;

/** IMDb title ids: `tt` and digits. Anything else is never sent. */
const IMDB_TITLE_ID = /^tt\d+$/;

interface CacheEntry {
  /** article URLs as Wikidata gave them; [] when it has none */
  articles: string[];
  /** when it was fetched (ISO 8601) */
  fetched: string;
}


/** The query for one batch: every English Wikipedia article about an item with one of these IMDb ids. */
export function buildQuery(ids: string[]): string {
  return [
    'PREFIX wdt: <http://www.wikidata.org/prop/direct/>',
    'PREFIX schema: <http://schema.org/>',
    'SELECT ?imdb ?article WHERE {',
    `  VALUES ?imdb { ${ids.map((id) => `"${id}"`).join(' ')} }`,
    '  ?item wdt:P345 ?imdb .',
    '  ?article schema:about ?item ;',
    '           schema:isPartOf <https://en.wikipedia.org/> .',
    '}',
  ].join('\n');
}

/** Articles from URLs: deduplicated by key, sorted by key; non-article URLs dropped. */
function articlesOf(urls: Iterable<string>): WikiArticle[] {
  const byKey = new Map<string, WikiArticle>();
  for (const url of urls) {
    if (!url.startsWith(WIKI_URL_PREFIX)) continue;
    const key = keyFromUrl(url);
    if (key !== null && !byKey.has(key)) byKey.set(key, { key, url });
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * SPARQL JSON results -> imdb id -> article URLs, for the ids asked (each of
 * them present, with [] when no binding names it). Throws SPARQL_BAD_RESPONSE
 * when the body is not SPARQL JSON results.
 */
export function parseResults(body: string, asked: string[], input?: string): Map<string, string[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new TrueFilmError('SPARQL_BAD_RESPONSE', `malformed SPARQL results: not valid JSON (${(err as Error).message})`, { input, cause: err });
  }
  const bindings = (doc as { results?: { bindings?: unknown } } | null)?.results?.bindings;
  if (!Array.isArray(bindings)) {
    throw new TrueFilmError('SPARQL_BAD_RESPONSE', 'malformed SPARQL results: no results.bindings list', { input });
  }
  const answers = new Map<string, string[]>(asked.map((id) => [id, []]));
  for (const binding of bindings) {
    const b = binding as { imdb?: { value?: unknown }; article?: { value?: unknown } } | null;
    const id = b?.imdb?.value;
    const url = b?.article?.value;
    if (typeof id !== 'string' || typeof url !== 'string') continue;
    answers.get(id)?.push(url);
  }
  return answers;
}

function cacheSpec(dataDir: string): CacheSpec<CacheEntry> {
  return {
    file: path.join(dataDir, CACHE_FILE),
    version: CACHE_VERSION,
    name: 'the Wikidata cache',
    without: 'asking Wikidata again',
    validate(id, raw) {
      const entry = raw as Partial<CacheEntry> | null;
      if (!IMDB_TITLE_ID.test(id) || !Array.isArray(entry?.articles) || !entry.articles.every((u) => typeof u === 'string')) return null;
      return { articles: entry.articles, fetched: typeof entry.fetched === 'string' ? entry.fetched : '' };
    },
  };
}

function clamp(value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value === undefined || !Number.isFinite(value) ? fallback : Math.floor(value);
  return Math.min(max, Math.max(min, v));
}

export async function runWikidata(imdbIds: string[], options: WikidataOptions): Promise<WikidataResult> {
  const { endpoint, ui } = options;
  const concurrency = clamp(options.concurrency, WIKIDATA_DEFAULTS.concurrency, 1, WIKIDATA_DEFAULTS.maxConcurrency);
  const batchSize = clamp(options.batchSize, WIKIDATA_DEFAULTS.batchSize, 1, 10_000);
  const cache = cacheSpec(options.dataDir);

  const ids = [...new Set(imdbIds.filter((id) => IMDB_TITLE_ID.test(id)))];
  const report: WikidataReport = { status: options.offline ? 'offline' : 'ok', ids: ids.length, resolved: 0, requests: 0, retries: 0, cache_hits: 0 };
  const articles = new Map<string, WikiArticle[]>();
  const finish = (): WikidataResult => {
    for (const list of articles.values()) if (list.length > 0) report.resolved++;
    return { articles, report };
  };

  const cached = ids.length > 0 ? await readCache(cache, ui) : new Map<string, CacheEntry>();
  const hits = new Map<string, WikiArticle[]>();
  for (const id of ids) {
    const entry = cached.get(id);
    if (entry) hits.set(id, articlesOf(entry.articles));
  }
  for (const [id, list] of hits) articles.set(id, list);
  report.cache_hits = hits.size;
  if (hits.size > 0) options.onArticles?.(hits);

  const missing = ids.filter((id) => !hits.has(id));
  if (options.offline || missing.length === 0) return finish();

  const batches: string[][] = [];
  for (let i = 0; i < missing.length; i += batchSize) batches.push(missing.slice(i, i + batchSize));

  // `require` stops the other batches at the first failure; Ctrl-C stops everything.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const client = new HttpClient({ ...retryOptions(options, WIKIDATA_DEFAULTS), concurrency, signal });
  const task = ui.task('wikidata', batches.length, 'items');
  const fetched = new Map<string, CacheEntry>();
  let failure: unknown = null;
  let next = 0;

  const ask = async (batch: string[]): Promise<Map<string, WikiArticle[]>> => {
    const answers = await client.request(
      {
        url: endpoint,
        method: 'POST',
        headers: { accept: 'application/sparql-results+json', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: buildQuery(batch) }).toString(),
      },
      (res: HttpResponse) => parseResults(res.body, batch, endpoint),
    );
    const now = new Date().toISOString();
    const known = new Map<string, WikiArticle[]>();
    for (const [id, urls] of answers) {
      fetched.set(id, { articles: urls, fetched: now });
      known.set(id, articlesOf(urls));
    }
    return known;
  };

  // A few workers take batches in turn; once one batch has failed for good, no new batch starts.
  const worker = async (): Promise<void> => {
    while (failure === null && next < batches.length) {
      const batch = batches[next++]!;
      let known: Map<string, WikiArticle[]>;
      try {
        known = await ask(batch);
      } catch (err) {
        // Only the service failing makes it unavailable: a stop by the user, or a bug, goes up.
        if (!(err instanceof TrueFilmError) || (err.code === 'INTERRUPTED' && options.signal?.aborted)) throw err;
        if (err.code === 'INTERRUPTED' && stop.signal.aborted) return; // another batch failed under `require`
        failure ??= err;
        if (options.require) stop.abort(err);
        return;
      }
      for (const [id, list] of known) articles.set(id, list);
      task.increment(1);
      options.onArticles?.(known);
    }
  };

  // A worker that throws (Ctrl-C, or a bug in onArticles) stops the others too.
  try {
    await runWorkers(Math.min(concurrency, batches.length), worker, stop);
  } finally {
    task.stop();
    report.requests = client.stats.requests;
    report.retries = client.stats.retries;
    await client.close();
    // Whatever was answered is kept, even when the run fails or is stopped.
    if (fetched.size > 0) await writeCache(cache, fetched, ui);
  }

  if (failure !== null) {
    const why = failure instanceof Error ? failure.message : String(failure);
    const unanswered = ids.filter((id) => !articles.has(id)).length;
    if (options.require) {
      throw new TrueFilmError('SPARQL_UNAVAILABLE', `the Wikidata Query Service is unavailable: ${why}`, {
        input: endpoint,
        hint:
          `${unanswered} of ${ids.length} IMDb ids have no answer. Try again later (answers so far are cached), check --sparql-endpoint, ` +
          'or run without --require-wikidata to fall back to title matching.',
        cause: failure,
      });
    }
    report.status = 'unavailable';
    ui.warn(
      `the Wikidata Query Service is unavailable (${endpoint}): ${why}. ` +
        `${unanswered} of ${ids.length} IMDb ids have no answer; those films fall back to title matching ` +
        `(--require-wikidata makes this an error; the answers so far are cached for the next run).`,
    );
  }
  return finish();
}
