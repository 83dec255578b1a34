/**
 * The page-summary stage (issue 8): for pages matched to a film but without a
 * prose abstract from the dump, asks the Wikipedia REST API
 * (`GET {endpoint}{title}`, https://en.wikipedia.org/api/rest_v1/page/summary/)
 * for the page's summary and keeps its `extract` when it is prose.
 *
 * - The title in the URL is the page key with spaces as underscores,
 *   percent-encoded as Wikipedia spells URLs, and `/` encoded too (`AC%2FDC`):
 *   the title is one path segment.
 * - Redirects (301/302/303/307/308 with a Location, relative or absolute) are
 *   followed, at most MAX_REDIRECTS hops; a loop or a longer chain counts as
 *   missing for this run and is not cached (a page move in progress settles).
 * - `type: "disambiguation"` is not a film page; a 404 (the API's problem+json
 *   not-found answer) is a missing page; both are null, counted and cached.
 * - Politeness: the descriptive User-Agent, `ratePerSecond` request starts per
 *   second across all requests in flight (retries and redirect hops included),
 *   at most `concurrency` in flight, 429/5xx/timeouts retried honouring
 *   Retry-After (src/http/client.ts).
 * - A cache in the data directory: every answer (missing pages too) is kept,
 *   so a rerun asks only for what it lacks; `offline` reads only the cache.
 * - When the API is unreachable or keeps failing, the stage warns once, keeps
 *   (and caches) what was answered and reports 'unavailable'; it throws only
 *   INTERRUPTED, when `signal` aborts.
 */
import path from 'node:path';
import { judgeAbstract } from '../abstract-quality.js';
import { readCache, writeCache, type CacheSpec } from '../cache.js';
import { runWorkers } from '../concurrency.js';
import { TrueFilmError } from '../errors.js';
import { HttpClient, retryOptions, type HttpResponse, type RetryOptions } from '../http/client.js';
import { urlFromKey, WIKI_URL_PREFIX } from '../keys.js';
import type { SummaryReport } from '../types.js';
import type { Ui } from '../ui.js';

/** The retry options (RetryOptions) apply to each request: one try 15 s, 4 tries, 60 s in all by default. */
export interface SummaryOptions extends RetryOptions {
  /** the REST page summary base URL (--summary-endpoint); the encoded title is appended */
  endpoint: string;
  /** the cache is <dataDir>/cache/summaries.json */
  dataDir: string;
  /** the cache only: no request at all (status 'offline') */
  offline: boolean;
  ui: Ui;
  /** aborts the requests in flight: the stage then throws INTERRUPTED */
  signal?: AbortSignal;
  /** request starts per second, retries and redirects included: default 5, never above 50 */
  ratePerSecond?: number;
  /** requests in flight at once: default 2, never above 4 */
  concurrency?: number;
}

export interface SummaryResult {
  /**
   * page key -> the extract when the page is a 'standard' page whose extract
   * is prose (judgeAbstract), else null. Keys never answered (offline and not
   * cached, or the API unavailable) are absent.
   */
  extracts: Map<string, string | null>;
  report: SummaryReport;
}

const SUMMARY_DEFAULTS = {
  ratePerSecond: 5,
  /** Wikimedia documents 200 requests/s as the hard limit: stay well under */
  maxRatePerSecond: 50,
  concurrency: 2,
  maxConcurrency: 4,
  timeoutMs: 15_000,
  maxTries: 4,
  maxTotalMs: 60_000,
  backoffMs: 1_000,
  maxBackoffMs: 30_000,
} as const;

/** Redirect hops followed from one title; more (or a loop) counts as missing. */
export const MAX_REDIRECTS = 5;
/** Keys failing one after another before the API counts as unavailable. */
const MAX_CONSECUTIVE_FAILURES = 3;

export const SUMMARY_CACHE_FILE = path.join('cache', 'summaries.json');
const CACHE_VERSION = 1;

const REDIRECTS = [301, 302, 303, 307, 308];
const MISSING = 404;
const ACCEPT = 'application/json; charset=utf-8; profile="https://www.mediawiki.org/wiki/Specs/Summary/1.4.2"';

interface CacheEntry {
  /** the summary's `type` ('standard', 'disambiguation', ...), or 'missing' for a 404 */
  type: string;
  /** the extract as the API gave it; null when it gave none */
  extract: string | null;
  /** the page that answered, when a redirect led elsewhere */
  title?: string;
  /** when it was fetched (ISO 8601) */
  fetched: string;
}


/** What one request got: a page, a missing page, a redirect to follow, or something that is not the API. */
type Answer =
  | { kind: 'page'; type: string; title: string | null; extract: string | null }
  | { kind: 'missing' }
  | { kind: 'redirect'; location: string }
  | { kind: 'refused'; message: string };

/** What asking for one key came to, redirects followed. */
type Outcome = { kind: 'entry'; entry: CacheEntry } | { kind: 'loop'; hops: number } | { kind: 'refused'; message: string };

/**
 * The title as one path segment: the key with spaces as underscores,
 * percent-encoded as Wikipedia spells its URLs (src/keys.ts urlFromKey), and
 * `/` encoded too, since a raw one would end the segment: `AC/DC` -> `AC%2FDC`.
 */
export function titleSegment(key: string): string {
  return urlFromKey(key).slice(WIKI_URL_PREFIX.length).replace(/\//g, '%2F');
}

/** The summary URL of a page key under `endpoint`. */
export function summaryUrl(endpoint: string, key: string): string {
  return (endpoint.endsWith('/') ? endpoint : endpoint + '/') + titleSegment(key);
}

/**
 * One response as an Answer. Throws (the client retries, then reports) when a
 * 200 or a redirect is not what the API sends: a body that is not a summary,
 * a redirect without a Location.
 */
export function readAnswer(res: HttpResponse): Answer {
  const type = String(res.headers['content-type'] ?? '');
  if (REDIRECTS.includes(res.status)) {
    const location = res.headers.location;
    if (typeof location !== 'string' || location === '') throw new Error(`HTTP ${res.status} without a Location header`);
    return { kind: 'redirect', location };
  }
  if (res.status === MISSING) {
    // The API says "no such page" as problem+json; an HTML 404 means the endpoint is wrong, not the page.
    let problem: unknown = null;
    try {
      problem = type.includes('json') ? JSON.parse(res.body) : null;
    } catch {
      problem = null;
    }
    if (problem !== null && typeof problem === 'object' && !Array.isArray(problem)) return { kind: 'missing' };
    return { kind: 'refused', message: `HTTP 404 that is not the REST API's not-found answer (content-type ${type || 'none'}): is the endpoint right?` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(res.body);
  } catch (err) {
    throw new Error(`malformed page summary: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const summary = doc as { type?: unknown; title?: unknown; titles?: { normalized?: unknown }; extract?: unknown } | null;
  if (summary === null || typeof summary !== 'object' || Array.isArray(summary) || typeof summary.type !== 'string') {
    throw new Error('malformed page summary: no "type" field');
  }
  if (summary.extract !== undefined && summary.extract !== null && typeof summary.extract !== 'string') {
    throw new Error('malformed page summary: "extract" is not a string');
  }
  const normalized = summary.titles?.normalized;
  const title = typeof normalized === 'string' ? normalized : typeof summary.title === 'string' ? summary.title.replace(/_/g, ' ') : null;
  return { kind: 'page', type: summary.type, title, extract: typeof summary.extract === 'string' ? summary.extract : null };
}

/** The extract of an answer when it is a standard page with a prose extract, else null. */
function extractOf(entry: CacheEntry): string | null {
  if (entry.type !== 'standard' || entry.extract === null) return null;
  const text = entry.extract.trim();
  return judgeAbstract(text) === 'prose' ? text : null;
}

function cacheSpec(dataDir: string): CacheSpec<CacheEntry> {
  return {
    file: path.join(dataDir, SUMMARY_CACHE_FILE),
    version: CACHE_VERSION,
    name: 'the page summary cache',
    without: 'asking Wikipedia again',
    validate(_key, raw) {
      const entry = raw as Partial<CacheEntry> | null;
      if (typeof entry?.type !== 'string' || (entry.extract !== null && typeof entry.extract !== 'string')) return null;
      return {
        type: entry.type,
        extract: entry.extract ?? null,
        ...(typeof entry.title === 'string' ? { title: entry.title } : {}),
        fetched: typeof entry.fetched === 'string' ? entry.fetched : '',
      };
    },
  };
}

/** `value` when it is a positive number, else `fallback`; never above `max`. */
function positive(value: number | undefined, fallback: number, max: number): number {
  return Math.min(max, value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback);
}

export async function runSummaries(keys: string[], options: SummaryOptions): Promise<SummaryResult> {
  const { endpoint, ui } = options;
  const rate = positive(options.ratePerSecond, SUMMARY_DEFAULTS.ratePerSecond, SUMMARY_DEFAULTS.maxRatePerSecond);
  const concurrency = Math.max(1, Math.floor(positive(options.concurrency, SUMMARY_DEFAULTS.concurrency, SUMMARY_DEFAULTS.maxConcurrency)));
  const cacheFile = cacheSpec(options.dataDir);

  const asked = [...new Set(keys.filter((k) => k.trim() !== ''))];
  const report: SummaryReport = {
    status: options.offline ? 'offline' : 'ok',
    asked: asked.length,
    fetched: 0,
    cache_hits: 0,
    requests: 0,
    retries: 0,
    disambiguation: 0,
    missing: 0,
    not_prose: 0,
  };
  const extracts = new Map<string, string | null>();
  const answer = (key: string, entry: CacheEntry): void => {
    const text = extractOf(entry);
    extracts.set(key, text);
    if (text !== null) return;
    if (entry.type === 'disambiguation') report.disambiguation++;
    else if (entry.type === 'missing') report.missing++;
    else report.not_prose++;
  };

  const cache = asked.length > 0 ? await readCache(cacheFile, ui) : new Map<string, CacheEntry>();
  const todo: string[] = [];
  for (const key of asked) {
    const entry = cache.get(key);
    if (entry) {
      answer(key, entry);
      report.cache_hits++;
    } else {
      todo.push(key);
    }
  }
  if (options.offline || todo.length === 0) return { extracts, report };

  // A worker that throws (Ctrl-C, or a bug) stops the others too.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const client = new HttpClient({ ...retryOptions(options, SUMMARY_DEFAULTS), concurrency, ratePerSecond: rate, signal });

  /** One key, redirects followed. Throws the client's TrueFilmError when a request fails for good. */
  const ask = async (key: string): Promise<Outcome> => {
    let url = summaryUrl(endpoint, key);
    const seen = new Set([URL.canParse(url) ? new URL(url).href : url]);
    for (let hops = 0; ; hops++) {
      const got = await client.request({ url, headers: { accept: ACCEPT }, readStatuses: [...REDIRECTS, MISSING] }, readAnswer);
      const fetched = new Date().toISOString();
      switch (got.kind) {
        case 'page':
          return { kind: 'entry', entry: { type: got.type, extract: got.extract, ...(hops > 0 && got.title !== null ? { title: got.title } : {}), fetched } };
        case 'missing':
          return { kind: 'entry', entry: { type: 'missing', extract: null, fetched } };
        case 'refused':
          return { kind: 'refused', message: `${url}: ${got.message}` };
        case 'redirect': {
          let next: URL;
          try {
            next = new URL(got.location, url);
          } catch {
            return { kind: 'refused', message: `${url}: a redirect to something that is not a URL: ${JSON.stringify(got.location)}` };
          }
          if (next.protocol !== 'http:' && next.protocol !== 'https:') {
            return { kind: 'refused', message: `${url}: a redirect to a ${next.protocol} URL` };
          }
          if (seen.has(next.href) || hops >= MAX_REDIRECTS) return { kind: 'loop', hops: hops + 1 };
          seen.add(next.href);
          url = next.href;
        }
      }
    }
  };

  const task = ui.task('summaries', todo.length, 'items');
  const fresh = new Map<string, CacheEntry>();
  const failures: Array<{ key: string; why: string }> = [];
  let giveUp: string | null = null;
  let consecutive = 0;
  let next = 0;

  const worker = async (): Promise<void> => {
    while (giveUp === null && next < todo.length) {
      const key = todo[next++]!;
      let outcome: Outcome;
      try {
        outcome = await ask(key);
      } catch (err) {
        // Only the API failing makes it unavailable: a stop by the user, or a bug, goes up.
        if (!(err instanceof TrueFilmError) || err.code === 'INTERRUPTED') throw err;
        outcome = { kind: 'refused', message: err.message };
        // Nothing listening, or no answer even after the retries: no point in asking for the rest.
        if (err.code === 'HTTP_UNREACHABLE' || err.code === 'HTTP_TIMEOUT') giveUp ??= err.message;
      }
      task.increment(1);
      if (outcome.kind === 'refused') {
        failures.push({ key, why: outcome.message });
        if (++consecutive >= MAX_CONSECUTIVE_FAILURES) giveUp ??= outcome.message;
        continue;
      }
      consecutive = 0;
      report.fetched++;
      if (outcome.kind === 'loop') {
        // Not cached: a redirect loop is a page move in progress, asked again next run.
        extracts.set(key, null);
        report.missing++;
        continue;
      }
      fresh.set(key, outcome.entry);
      answer(key, outcome.entry);
    }
  };

  // A bug in one worker interrupts the others: the bug is the cause to report.
  try {
    await runWorkers(Math.min(concurrency, todo.length), worker, stop);
  } finally {
    task.stop();
    report.requests = client.stats.requests;
    report.retries = client.stats.retries;
    await client.close();
    // Whatever was answered is kept, even when the run fails or is stopped.
    if (fresh.size > 0) await writeCache(cacheFile, fresh, ui);
  }

  if (giveUp !== null || failures.length > 0) {
    report.status = 'unavailable';
    const unanswered = asked.length - extracts.size;
    const why = giveUp ?? `${failures[0]!.key}: ${failures[0]!.why}`;
    const head =
      giveUp !== null
        ? `the Wikipedia REST API is unavailable (${endpoint}): ${why}.`
        : `${failures.length} of ${todo.length} page summaries could not be fetched from the Wikipedia REST API (${endpoint}); the first: ${why}.`;
    ui.warn(
      `${head} ${unanswered} of ${asked.length} pages have no summary; those films keep the dump's abstract, if any ` +
        '(the answers so far are cached; the next run asks only for the rest).',
    );
  }
  return { extracts, report };
}
