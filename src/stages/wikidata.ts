/**
 * The Wikidata stage (SPEC sections 4.1, 4a and 8): asks the Wikidata Query
 * Service which English Wikipedia articles are about the items with each
 * IMDb id (`wdt:P345`), and those items' budget and box-office statements,
 * in batches of `VALUES` (one query a batch for both), with a cache in the
 * data directory so that a rerun asks only for what it lacks.
 *
 * The answers are the authority for matching; the matcher (not this stage)
 * chooses among several articles for one id. When the service cannot be
 * reached or keeps failing, the stage warns once and returns what it has
 * (status 'unavailable'), unless `require` makes that an error.
 */
import path from 'node:path';
import { readCache, writeCache, type CacheSpec } from '../cache.js';
import { forEachLimited } from '../concurrency.js';
import { TrueFilmError } from '../errors.js';
import { HttpClient, retryOptions, type HttpResponse, type RetryOptions } from '../http/client.js';
import { isValidTitle, keyFromUrl, WIKI_URL_PREFIX } from '../keys.js';
import type { ArticleRef, MoneyStatement, WikidataReport } from '../types.js';
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
  /**
   * imdb id -> the budget and box-office statements of its items (SPEC 4a);
   * an empty array: none. Absent when not answered, as for `articles`.
   */
  money: Map<string, MoneyStatement[]>;
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
  /** the items' money statements; an entry written before they were asked has none and is asked again */
  money: MoneyStatement[];
  /** when it was fetched (ISO 8601) */
  fetched: string;
}

const MONEY_PROPERTIES = ['P2130', 'P2769', 'P2142'] as const;
const RANKS = { PreferredRank: 'preferred', NormalRank: 'normal', DeprecatedRank: 'deprecated' } as const;
const ENTITY = 'http://www.wikidata.org/entity/';
const ONTOLOGY = 'http://wikiba.se/ontology#';

/**
 * The query for one batch: every English Wikipedia article about an item
 * with one of these IMDb ids, and every cost (P2130), budget (P2769) and box
 * office (P2142) statement of those items, through the full statement (rank,
 * amount, unit and its ISO code, "valid in place" qualifiers): `wdt:` would
 * keep only the best rank's bare amount, without its unit. One branch per
 * property: a predicate bound by VALUES is matched over the whole graph
 * before the join on ?item (8x slower in oxigraph at 200 ids).
 */
export function buildQuery(ids: string[]): string {
  // Each branch starts from the ids: an engine that does not push a join into a UNION (oxigraph
  // does not) would otherwise match every statement of the graph first (60x slower at 200 ids).
  const items = [`    VALUES ?imdb { ${ids.map((id) => `"${id}"`).join(' ')} }`, '    ?item wdt:P345 ?imdb .'];
  return [
    'PREFIX wd: <http://www.wikidata.org/entity/>',
    'PREFIX wdt: <http://www.wikidata.org/prop/direct/>',
    'PREFIX p: <http://www.wikidata.org/prop/>',
    'PREFIX psv: <http://www.wikidata.org/prop/statement/value/>',
    'PREFIX pq: <http://www.wikidata.org/prop/qualifier/>',
    'PREFIX wikibase: <http://wikiba.se/ontology#>',
    'PREFIX schema: <http://schema.org/>',
    'SELECT ?imdb ?article ?statement ?property ?rank ?amount ?unit ?currency ?place WHERE {',
    '  {',
    ...items,
    '    ?article schema:about ?item ;',
    '             schema:isPartOf <https://en.wikipedia.org/> .',
    ...MONEY_PROPERTIES.flatMap((p) => [
      '  } UNION {',
      ...items,
      `    ?item p:${p} ?statement .`,
      `    ?statement psv:${p} ?node ;`,
      '               wikibase:rank ?rank .',
      '    ?node wikibase:quantityAmount ?amount ;',
      '          wikibase:quantityUnit ?unit .',
      '    OPTIONAL { ?unit wdt:P498 ?currency . }',
      '    OPTIONAL { ?statement pq:P3005 ?place . }',
      `    BIND("${p}" AS ?property)`,
    ]),
    '  }',
    '}',
  ].join('\n');
}

/**
 * Articles from URLs: deduplicated by key, sorted by key; non-article URLs
 * dropped, and so are titles MediaWiki would refuse (a control character,
 * `<>[]{}|`...): no page has one. They are counted in `refused`.
 */
function articlesOf(urls: Iterable<string>, refused: Refused): WikiArticle[] {
  const byKey = new Map<string, WikiArticle>();
  for (const url of urls) {
    if (!url.startsWith(WIKI_URL_PREFIX)) continue;
    const key = keyFromUrl(url);
    if (key === null || byKey.has(key)) continue;
    if (isValidTitle(key)) {
      byKey.set(key, { key, url });
    } else {
      refused.count++;
      if (refused.samples.length < 3) refused.samples.push(key);
    }
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Article titles MediaWiki would refuse: how many, and the first few. */
interface Refused {
  count: number;
  samples: string[];
}

/** A title as a warning shows it: quoted, control characters escaped (never sent raw to a terminal), cut short. */
function shownTitle(key: string): string {
  return JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}...` : key).replace(/[\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What one batch says of each IMDb id asked. */
interface BatchAnswer {
  /** article URLs, as given */
  articles: string[];
  money: MoneyStatement[];
}

const suffix = (iri: string | undefined, prefix: string): string | null => (iri?.startsWith(prefix) ? iri.slice(prefix.length) : null);

/** A binding's value of `name` when it has that type; undefined otherwise. */
function value(binding: Record<string, { type?: unknown; value?: unknown } | undefined>, name: string, type: 'uri' | 'literal'): string | undefined {
  const v = binding[name];
  return v?.type === type && typeof v.value === 'string' ? v.value : undefined;
}

/**
 * SPARQL JSON results -> imdb id -> its articles and money statements, for
 * the ids asked (each of them present; empty lists when no binding names it).
 * A statement comes in one row per qualifier value (and per ISO code of its
 * unit): the rows are merged. Throws SPARQL_BAD_RESPONSE when the body is not
 * SPARQL JSON results.
 */
function parseResults(body: string, asked: string[], input?: string): Map<string, BatchAnswer> {
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
  const answers = new Map<string, BatchAnswer>(asked.map((id) => [id, { articles: [], money: [] }]));
  const statements = new Map<string, MoneyStatement>();
  for (const binding of bindings) {
    if (binding === null || typeof binding !== 'object') continue;
    const b = binding as Record<string, { type?: unknown; value?: unknown } | undefined>;
    const answer = answers.get(value(b, 'imdb', 'literal') ?? '');
    if (answer === undefined) continue;
    const article = value(b, 'article', 'uri');
    if (article !== undefined) answer.articles.push(article);
    const statement = value(b, 'statement', 'uri');
    if (statement === undefined) continue;
    const property = value(b, 'property', 'literal') as MoneyStatement['property'] | undefined;
    const rank = RANKS[suffix(value(b, 'rank', 'uri'), ONTOLOGY) as keyof typeof RANKS];
    const amount = value(b, 'amount', 'literal');
    const unit = suffix(value(b, 'unit', 'uri'), ENTITY);
    if (property === undefined || !MONEY_PROPERTIES.includes(property) || rank === undefined || amount === undefined || unit === null) continue;
    const currency = value(b, 'currency', 'literal') ?? null;
    const place = suffix(value(b, 'place', 'uri'), ENTITY);
    let s = statements.get(statement);
    if (s === undefined) {
      s = { property, rank, amount, unit, currency, places: [] };
      statements.set(statement, s);
      answer.money.push(s);
    }
    // a unit with several ISO codes: the first in order, so that every answer reads alike
    if (currency !== null && (s.currency === null || currency < s.currency)) s.currency = currency;
    if (place !== null && !s.places.includes(place)) s.places.push(place);
  }
  for (const answer of answers.values()) for (const s of answer.money) s.places.sort();
  return answers;
}

const isStatement = (raw: unknown): raw is MoneyStatement => {
  const s = raw as Partial<MoneyStatement> | null;
  return (
    s !== null &&
    MONEY_PROPERTIES.includes(s.property as MoneyStatement['property']) &&
    Object.values(RANKS).includes(s.rank as MoneyStatement['rank']) &&
    typeof s.amount === 'string' &&
    typeof s.unit === 'string' &&
    (s.currency === null || typeof s.currency === 'string') &&
    Array.isArray(s.places) &&
    s.places.every((p) => typeof p === 'string')
  );
};

function cacheSpec(dataDir: string): CacheSpec<CacheEntry> {
  return {
    file: path.join(dataDir, CACHE_FILE),
    version: CACHE_VERSION,
    name: 'the Wikidata cache',
    without: 'asking Wikidata again',
    validate(id, raw) {
      const entry = raw as Partial<CacheEntry> | null;
      if (!IMDB_TITLE_ID.test(id) || !Array.isArray(entry?.articles) || !entry.articles.every((u) => typeof u === 'string')) return null;
      if (!Array.isArray(entry.money) || !entry.money.every(isStatement)) return null;
      return { articles: entry.articles, money: entry.money, fetched: typeof entry.fetched === 'string' ? entry.fetched : '' };
    },
  };
}

function clamp(value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value === undefined || !Number.isFinite(value) ? fallback : Math.floor(value);
  return Math.min(max, Math.max(min, v));
}

/** What is known of the ids: the answers from the cache and the service, and this run's for the cache. */
class Answers {
  readonly articles = new Map<string, WikiArticle[]>();
  readonly money = new Map<string, MoneyStatement[]>();
  /** this run's answers, to keep */
  readonly fetched = new Map<string, CacheEntry>();

  /** article titles MediaWiki would refuse: said once, in the result */
  readonly refused: Refused = { count: 0, samples: [] };

  /** One id's answer; `fetched` when it came from the service now. Returns its articles. */
  add(id: string, answer: BatchAnswer, fetched?: string): WikiArticle[] {
    const articles = articlesOf(answer.articles, this.refused);
    this.articles.set(id, articles);
    this.money.set(id, answer.money);
    if (fetched !== undefined) this.fetched.set(id, { ...answer, fetched });
    return articles;
  }

  result(report: WikidataReport, ui: Ui): WikidataResult {
    for (const list of this.articles.values()) if (list.length > 0) report.resolved++;
    const { count, samples } = this.refused;
    if (count > 0) {
      const shown = samples.map(shownTitle).join(', ') + (count > samples.length ? ', ...' : '');
      ui.warn(
        `Wikidata named ${count} English article${count === 1 ? '' : 's'} whose title MediaWiki would refuse ` +
          `(${shown}): no page has such a title, so none is taken for a film's page.`,
      );
    }
    return { articles: this.articles, money: this.money, report };
  }
}

/** The service's answers to `batches`, at most `concurrency` in flight. Returns the failure that made it unavailable, or null. */
async function askService(batches: string[][], answers: Answers, options: WikidataOptions, report: WikidataReport): Promise<unknown> {
  const { endpoint } = options;
  const concurrency = clamp(options.concurrency, WIKIDATA_DEFAULTS.concurrency, 1, WIKIDATA_DEFAULTS.maxConcurrency);
  // `require` stops the other batches at the first failure; Ctrl-C stops everything.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const client = new HttpClient({ ...retryOptions(options, WIKIDATA_DEFAULTS), concurrency, signal });
  const task = options.ui.task('wikidata', batches.length, 'items');
  let failure: unknown = null;

  const ask = async (batch: string[]): Promise<void> => {
    // once one batch has failed for good, no new batch starts
    if (failure !== null) return;
    let answered: Map<string, BatchAnswer>;
    try {
      answered = await client.request(
        {
          url: endpoint,
          method: 'POST',
          headers: { accept: 'application/sparql-results+json', 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ query: buildQuery(batch) }).toString(),
        },
        (res: HttpResponse) => parseResults(res.body, batch, endpoint),
      );
    } catch (err) {
      // Only the service failing makes it unavailable: a stop by the user, or a bug, goes up.
      if (!(err instanceof TrueFilmError) || (err.code === 'INTERRUPTED' && options.signal?.aborted)) throw err;
      if (err.code === 'INTERRUPTED' && stop.signal.aborted) return; // another batch failed under `require`
      failure ??= err;
      if (options.require) stop.abort(err);
      return;
    }
    const now = new Date().toISOString();
    const known = new Map([...answered].map(([id, answer]) => [id, answers.add(id, answer, now)]));
    task.increment(1);
    options.onArticles?.(known);
  };

  try {
    // a batch that throws (Ctrl-C, or a bug in onArticles) stops the others too
    await forEachLimited(batches, concurrency, ask, stop);
  } finally {
    task.stop();
    report.requests = client.stats.requests;
    report.retries = client.stats.retries;
    await client.close();
  }
  return failure;
}

/** The service failed for good: an error under `require`, else one warning and the status. */
function unavailable(failure: unknown, ids: string[], answers: Answers, options: WikidataOptions, report: WikidataReport): void {
  const why = failure instanceof Error ? failure.message : String(failure);
  const unanswered = ids.filter((id) => !answers.articles.has(id)).length;
  if (options.require) {
    throw new TrueFilmError('SPARQL_UNAVAILABLE', `the Wikidata Query Service is unavailable: ${why}`, {
      input: options.endpoint,
      hint:
        `${unanswered} of ${ids.length} IMDb ids have no answer. Try again later (answers so far are cached), check --sparql-endpoint, ` +
        'or run without --require-wikidata to fall back to title matching.',
      cause: failure,
    });
  }
  report.status = 'unavailable';
  options.ui.warn(
    `the Wikidata Query Service is unavailable (${options.endpoint}): ${why}. ` +
      `${unanswered} of ${ids.length} IMDb ids have no answer; those films fall back to title matching ` +
      `(--require-wikidata makes this an error; the answers so far are cached for the next run).`,
  );
}

export async function runWikidata(imdbIds: string[], options: WikidataOptions): Promise<WikidataResult> {
  const batchSize = clamp(options.batchSize, WIKIDATA_DEFAULTS.batchSize, 1, 10_000);
  const cache = cacheSpec(options.dataDir);
  const ids = [...new Set(imdbIds.filter((id) => IMDB_TITLE_ID.test(id)))];
  const report: WikidataReport = { status: options.offline ? 'offline' : 'ok', ids: ids.length, resolved: 0, requests: 0, retries: 0, cache_hits: 0 };
  const answers = new Answers();

  const cached = ids.length > 0 ? await readCache(cache, options.ui) : new Map<string, CacheEntry>();
  const hits = new Map<string, WikiArticle[]>();
  for (const id of ids) {
    const entry = cached.get(id);
    if (entry !== undefined) hits.set(id, answers.add(id, entry));
  }
  report.cache_hits = hits.size;
  if (hits.size > 0) options.onArticles?.(hits);

  const missing = ids.filter((id) => !hits.has(id));
  if (options.offline || missing.length === 0) return answers.result(report, options.ui);
  const batches: string[][] = [];
  for (let i = 0; i < missing.length; i += batchSize) batches.push(missing.slice(i, i + batchSize));
  let failure: unknown;
  try {
    failure = await askService(batches, answers, options, report);
  } finally {
    // whatever was answered is kept, even when the run fails or is stopped
    if (answers.fetched.size > 0) await writeCache(cache, answers.fetched, options.ui);
  }
  if (failure !== null) unavailable(failure, ids, answers, options, report);
  return answers.result(report, options.ui);
}
