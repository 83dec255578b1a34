/**
 * The live wiki stage: answers the matching's questions about
 * titles from English Wikipedia's MediaWiki Action API
 * (https://en.wikipedia.org/w/api.php), with a cache in the data directory.
 *
 * The matching (src/stages/match.ts) says what it needs: which titles exist,
 * where they redirect, whether they are disambiguation pages, their short
 * description (`lookup`), and the intro extract of some (`decide`: to tell
 * whether a bare title is a film; `abstract`: the text of a matched page).
 * This stage answers, then asks the matching again, until it needs nothing
 * more. Every title it was asked about ends with an answer: from the cache,
 * from the API, or `unknown` (offline, or the API unavailable), which the
 * matching reads as "the wiki lacks it".
 *
 * Requests (GET, or POST for a long title list):
 *   action=query&format=json&formatversion=2&redirects=1&maxlag=5
 *   &prop=extracts|pageprops|description&ppprop=disambiguation
 *   &exintro=1&explaintext=1&exlimit=20&titles=A|B|...
 * - at most 50 titles a request, of which at most 20 want their intro:
 *   TextExtracts gives 20 intro extracts a response, to pages that exist only,
 *   so the titles asked only whether they exist ride free (planBatch);
 * - `query.normalized` and `query.redirects` map each title asked to its
 *   page (chains followed); `pages[]` with `missing` or `invalid`,
 *   `query.interwiki` and other namespaces are no article;
 * - formatversion 2, and 1 read alike (`pages` keyed by id, `""` flags).
 *
 * Politeness, as API:Etiquette asks: at most 2 requests in flight; `maxlag=5`
 * on every request; a `maxlag` error (HTTP 200 with an error body), 429 and
 * 503 wait for Retry-After; bounded retries (src/http/client.ts); gzip.
 */
import path from 'node:path';
import { readCache, writeCache, type CacheSpec } from '../cache.js';
import { Changes } from '../concurrency.js';
import { TrueFilmError } from '../errors.js';
import { AnswerError, HttpClient, retryOptions, type HttpResponse, type RetryOptions } from '../http/client.js';
import { parseRetryAfter } from '../http/retry.js';
import { isValidTitle, normalizeTitle } from '../keys.js';
import type { LivePage, LiveQuestions, WikipediaReport } from '../types.js';
import type { Task, Ui } from '../ui.js';

/** The retry options apply to each request: one try 30 s, 5 tries, 120 s in all by default. */
export interface WikipediaOptions extends RetryOptions {
  /** the Action API endpoint (--wikipedia-endpoint), an api.php URL */
  endpoint: string;
  /** the cache is <dataDir>/cache/wikipedia.json */
  dataDir: string;
  /** the cache only: no request at all (status 'offline') */
  offline: boolean;
  ui: Ui;
  /** aborts the requests in flight: the stage then throws INTERRUPTED */
  signal?: AbortSignal;
  /** requests in flight at once: default 2, never above 2 (API:Etiquette) */
  concurrency?: number;
  /**
   * The questions may still grow until this settles (Wikidata's answers
   * arriving): the stage starts with what is asked already, and ends only
   * once it has settled and nothing is left to ask.
   */
  more?: Changes;
}

export interface WikipediaResult {
  /** normalised title → what the wiki says: every title the matching asked about */
  answers: Map<string, LivePage>;
  report: WikipediaReport;
}

/** What the matching asks, given what is known so far (src/stages/match.ts liveQuestions). */
export type AskFn = (known: ReadonlyMap<string, LivePage>) => LiveQuestions;

const WIKIPEDIA_DEFAULTS = {
  concurrency: 2,
  maxConcurrency: 2,
  /** the API's `titles` limit for clients without the apihighlimits right */
  titlesPerRequest: 50,
  /** TextExtracts' limit on intro extracts a response */
  extractBatch: 20,
  maxLag: 5,
  /** what to wait after a maxlag error without a Retry-After (the API sends one) */
  maxLagWaitMs: 5_000,
  timeoutMs: 30_000,
  maxTries: 5,
  maxTotalMs: 120_000,
  backoffMs: 1_000,
  maxBackoffMs: 30_000,
  /** continuations of one request, a bound against an API that never ends */
  maxContinuations: 50,
  /** requests that may carry one title without settling it (its extract cut by TextExtracts' limit each time) */
  maxSendsPerTitle: 8,
} as const;

/** Keys failing one after another before the API counts as unavailable. */
const MAX_CONSECUTIVE_FAILURES = 3;
/** Longer query strings go in a POST body. */
const MAX_GET_URL = 4_000;
/** API error codes worth another try, after Retry-After or a backoff. */
const RETRYABLE_ERRORS = new Set(['maxlag', 'ratelimited', 'readonly', 'internal_api_error_DBQueryError', 'internal_api_error_DBConnectionError']);

export const WIKIPEDIA_CACHE_FILE = path.join('cache', 'wikipedia.json');
const CACHE_VERSION = 1;

/** What is cached per normalised title. A redirect's extract lives on its target's entry. */
type Entry =
  | {
      kind: 'page';
      /** the article (the target, when the title redirects) */
      title: string;
      redirected?: true;
      disambiguation?: true;
      description?: string;
      /** absent: not asked; null: the page has no intro text */
      extract?: string | null;
      fetched: string;
    }
  | { kind: 'missing'; why: string; fetched: string };

/** One response's query part, both formatversions read alike. */
interface QueryPart {
  normalized: Map<string, string>;
  redirects: Map<string, string>;
  interwiki: Set<string>;
  pages: Map<string, ApiPage>;
  /** the `continue` object to send back, when the answer is not complete */
  cont: Record<string, string> | null;
}

interface ApiPage {
  title: string;
  ns: number | null;
  missing: boolean;
  invalid: string | null;
  disambiguation: boolean;
  description: string | null;
  /** undefined when this response carries none for the page */
  extract?: string;
}

/**
 * The longest intro extract kept, in characters: a real lead section runs to
 * a few thousand (WP:LEAD asks for at most four paragraphs); what a server
 * sends past this is cut, so that a thousand films' intros stay a few MB.
 */
const MAX_EXTRACT_CHARS = 10_000;
/** The longest short description kept (a real one is a few words). */
const MAX_DESCRIPTION_CHARS = 500;

/**
 * `text` cut to at most `max` characters: at its last paragraph, else
 * sentence, else word end within the limit when that keeps at least half of
 * it. A copy: the cut must not keep the whole answer's text alive.
 */
function clipText(text: string | null, max: number): string | null {
  if (text === null || text.length <= max) return text;
  let cut = text.lastIndexOf('\n', max);
  if (cut < max / 2) cut = text.lastIndexOf('. ', max - 1) + 1;
  if (cut < max / 2) cut = text.lastIndexOf(' ', max);
  if (cut < max / 2) cut = /[\ud800-\udbff]/.test(text[max - 1]!) ? max - 1 : max;
  return Buffer.from(text.slice(0, cut).trimEnd(), 'utf8').toString('utf8');
}

const isFlag = (v: unknown): boolean => v !== undefined && v !== null && v !== false;
const asString = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The query string of one request. */
function queryParams(titles: readonly string[], cont: Record<string, string> | null): URLSearchParams {
  const params = new URLSearchParams({
    action: 'query',
    format: 'json',
    formatversion: '2',
    redirects: '1',
    maxlag: String(WIKIPEDIA_DEFAULTS.maxLag),
    prop: 'extracts|pageprops|description',
    ppprop: 'disambiguation',
    exintro: '1',
    explaintext: '1',
    exlimit: String(WIKIPEDIA_DEFAULTS.extractBatch),
  });
  params.set('titles', titles.join('|'));
  for (const [k, v] of Object.entries(cont ?? {})) params.set(k, v);
  return params;
}

/**
 * One response as its query part. Throws AnswerError for what is not one: an
 * API error (`maxlag` and a few others are retried, after Retry-After), a body
 * that is not JSON or not the query's shape.
 */
function readQuery(res: HttpResponse): QueryPart {
  let doc: unknown;
  try {
    doc = JSON.parse(res.body);
  } catch (err) {
    throw new AnswerError(`not valid JSON (${(err as Error).message})`, { retryable: true, cause: err });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new AnswerError('not a JSON object', { retryable: true });
  const body = doc as { error?: { code?: unknown; info?: unknown }; query?: Record<string, unknown>; continue?: unknown; batchcomplete?: unknown };
  if (body.error !== undefined) {
    const code = asString(body.error?.code) ?? 'unknown';
    const info = asString(body.error?.info) ?? '';
    const retryAfter = parseRetryAfter(res.headers['retry-after']);
    if (code === 'maxlag') {
      throw new AnswerError(`the API is lagged (maxlag: ${info})`, { retryable: true, retryAfterMs: retryAfter ?? WIKIPEDIA_DEFAULTS.maxLagWaitMs });
    }
    throw new AnswerError(`the API refused the request: ${code}${info ? `: ${info}` : ''}`, { retryable: RETRYABLE_ERRORS.has(code), retryAfterMs: retryAfter });
  }
  const query = body.query;
  if (query === undefined || query === null || typeof query !== 'object') throw new AnswerError('no "query" in the answer: is this a MediaWiki api.php?', { retryable: false });
  const pairs = (list: unknown): Map<string, string> => {
    const map = new Map<string, string>();
    for (const item of Array.isArray(list) ? list : []) {
      const from = asString((item as { from?: unknown })?.from);
      const to = asString((item as { to?: unknown })?.to);
      if (from !== null && to !== null) map.set(from, to);
    }
    return map;
  };
  const interwiki = new Set<string>();
  for (const item of Array.isArray(query.interwiki) ? query.interwiki : []) {
    const title = asString((item as { title?: unknown })?.title);
    if (title !== null) interwiki.add(title);
  }
  const pages = new Map<string, ApiPage>();
  const rawPages = Array.isArray(query.pages) ? query.pages : query.pages && typeof query.pages === 'object' ? Object.values(query.pages) : [];
  for (const raw of rawPages) {
    const p = raw as Record<string, unknown> | null;
    const title = asString(p?.title);
    if (p === null || title === null) throw new AnswerError('a page without a title', { retryable: true });
    const props = (p.pageprops ?? {}) as Record<string, unknown>;
    const extract = clipText(asString(p.extract), MAX_EXTRACT_CHARS);
    pages.set(title, {
      title,
      ns: typeof p.ns === 'number' ? p.ns : null,
      missing: isFlag(p.missing),
      invalid: isFlag(p.invalid) ? (asString(p.invalidreason) ?? 'invalid title') : null,
      disambiguation: isFlag(props.disambiguation),
      description: clipText(asString(p.description), MAX_DESCRIPTION_CHARS),
      ...(extract !== null ? { extract } : {}),
    });
  }
  let cont: Record<string, string> | null = null;
  if (body.continue !== undefined && body.continue !== null && typeof body.continue === 'object') {
    cont = {};
    for (const [k, v] of Object.entries(body.continue)) cont[k] = String(v);
  }
  return { normalized: pairs(query.normalized), redirects: pairs(query.redirects), interwiki, pages, cont };
}

/** Merges a continuation's query part into the first: extracts and props come in several answers. */
function mergeQuery(into: QueryPart, part: QueryPart): void {
  for (const [k, v] of part.normalized) into.normalized.set(k, v);
  for (const [k, v] of part.redirects) into.redirects.set(k, v);
  for (const t of part.interwiki) into.interwiki.add(t);
  for (const [title, page] of part.pages) {
    const had = into.pages.get(title);
    if (!had) {
      into.pages.set(title, page);
      continue;
    }
    had.disambiguation ||= page.disambiguation;
    had.description ??= page.description;
    if (page.extract !== undefined) had.extract = page.extract;
  }
}

/**
 * How far an answer covers the intro extracts: `some` (cut by TextExtracts'
 * limit and not continued: a page without an `extract` is not known yet) or
 * `all` (a page without one has no intro).
 */
type ExtractCover = 'some' | 'all';

/**
 * Each title sent → its entry, from one (merged) answer: normalised, then
 * redirects followed (a chain, a loop is no article), then its page. Also the
 * entries of the pages themselves (a redirect's target), so that a later
 * question about the target needs no request. Throws when a title sent has
 * no answer at all (a truncated or foreign answer: retried).
 */
function entriesOf(sent: readonly string[], part: QueryPart, cover: ExtractCover, fetched: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const pageEntry = (page: ApiPage, redirected: boolean): Entry => {
    if (page.invalid !== null) return { kind: 'missing', why: `invalid: ${page.invalid}`, fetched };
    if (page.missing) return { kind: 'missing', why: 'missing', fetched };
    if (page.ns !== null && page.ns !== 0) return { kind: 'missing', why: `namespace ${page.ns}`, fetched };
    const extract = page.extract !== undefined ? (page.extract.trim() === '' ? null : page.extract.trim()) : cover === 'all' ? null : undefined;
    return {
      kind: 'page',
      title: page.title,
      ...(redirected ? { redirected: true as const } : {}),
      ...(page.disambiguation ? { disambiguation: true as const } : {}),
      ...(page.description !== null && page.description !== '' ? { description: page.description } : {}),
      ...(extract !== undefined ? { extract } : {}),
      fetched,
    };
  };
  for (const page of part.pages.values()) {
    const key = normalizeTitle(page.title);
    if (key !== null) out.set(key, pageEntry(page, false));
  }
  for (const title of sent) {
    let at = part.normalized.get(title) ?? title;
    if (part.interwiki.has(at) || part.interwiki.has(title)) {
      out.set(title, { kind: 'missing', why: 'another wiki', fetched });
      continue;
    }
    const seen = new Set([at]);
    let looped = false;
    for (let next = part.redirects.get(at); next !== undefined; next = part.redirects.get(at)) {
      if (seen.has(next)) {
        looped = true;
        break;
      }
      seen.add(next);
      at = next;
    }
    if (looped) {
      out.set(title, { kind: 'missing', why: 'a redirect loop', fetched });
      continue;
    }
    // a title MediaWiki would refuse (a control character...) is no page, whatever the answer says of it
    if (!isValidTitle(at)) {
      out.set(title, { kind: 'missing', why: 'invalid: a title MediaWiki would refuse', fetched });
      continue;
    }
    const page = part.pages.get(at);
    if (page === undefined) throw new AnswerError(`no page in the answer for ${JSON.stringify(title)}`, { retryable: true });
    out.set(title, pageEntry(page, at !== (part.normalized.get(title) ?? title)));
  }
  return out;
}

function cacheSpec(dataDir: string): CacheSpec<Entry> {
  return {
    file: path.join(dataDir, WIKIPEDIA_CACHE_FILE),
    version: CACHE_VERSION,
    name: 'the Wikipedia cache',
    without: 'asking Wikipedia again',
    validate(key, raw) {
      const e = raw as Record<string, unknown> | null;
      const fetched = asString(e?.fetched) ?? '';
      if (!isValidTitle(key)) return null;
      if (e?.kind === 'missing') return { kind: 'missing', why: asString(e.why) ?? 'missing', fetched };
      if (e?.kind !== 'page' || typeof e.title !== 'string' || !isValidTitle(e.title)) return null;
      if (e.extract !== undefined && e.extract !== null && typeof e.extract !== 'string') return null;
      return {
        kind: 'page',
        title: e.title,
        ...(e.redirected === true ? { redirected: true as const } : {}),
        ...(e.disambiguation === true ? { disambiguation: true as const } : {}),
        ...(typeof e.description === 'string' ? { description: clipText(e.description, MAX_DESCRIPTION_CHARS)! } : {}),
        ...(e.extract !== undefined ? { extract: clipText(e.extract as string | null, MAX_EXTRACT_CHARS) } : {}),
        fetched,
      };
    },
  };
}

/** A title's entry joined with its target's extract. */
function livePage(entries: ReadonlyMap<string, Entry>, title: string): LivePage | undefined {
  const entry = entries.get(title);
  if (entry === undefined) return undefined;
  if (entry.kind === 'missing') return { kind: 'missing' };
  const target = entry.redirected ? entries.get(normalizeTitle(entry.title) ?? entry.title) : entry;
  const extract = target?.kind === 'page' ? target.extract : undefined;
  return {
    kind: 'page',
    title: entry.title,
    redirected: entry.redirected === true,
    disambiguation: entry.disambiguation === true,
    description: entry.description ?? null,
    ...(extract !== undefined ? { extract } : {}),
  };
}

/** One request's worth of titles. */
interface Batch {
  /** the titles sent: a known redirect's target in place of the title asked, for its extract */
  titles: string[];
  /** the questions it answers: title asked → whether its extract is wanted */
  asked: Map<string, boolean>;
  /** follow TextExtracts' `continue` to get every extract (else the ones past its limit are asked again later) */
  follow: boolean;
  /** it asks lookups or decisions, whose answers may raise new questions */
  deciding: boolean;
}

/** A new entry never loses an extract an older one had (a lookup after an extract request). */
function keepExtract(old: Entry | undefined, entry: Entry): Entry {
  if (old?.kind === 'page' && entry.kind === 'page' && entry.extract === undefined && old.extract !== undefined && old.title === entry.title) {
    return { ...entry, extract: old.extract };
  }
  return entry;
}

/**
 * Sends batches to the API, following continuations; what it learns goes to
 * `learn`. A batch that fails for good comes back as failed; once the API
 * looks unavailable (`giveUp`), nothing more is sent.
 */
class Asker {
  giveUp: string | null = null;
  firstFailure: string | null = null;
  private consecutive = 0;
  private readonly client: HttpClient;
  private readonly stop = new AbortController();
  private readonly task: Task;
  private titles = 0;

  constructor(
    private readonly options: WikipediaOptions,
    concurrency: number,
    private readonly learn: (entries: Map<string, Entry>) => void,
  ) {
    this.client = new HttpClient({
      ...retryOptions(options, WIKIPEDIA_DEFAULTS),
      concurrency,
      signal: options.signal ? AbortSignal.any([options.signal, this.stop.signal]) : this.stop.signal,
    });
    this.task = options.ui.task('wikipedia', 0, 'items');
  }

  get stats(): { requests: number; retries: number } {
    return this.client.stats;
  }

  /** Ends the requests in flight at once (on the way out of a failed run). */
  abort(reason: unknown): void {
    this.stop.abort(reason);
  }

  /** Stops the progress bar and closes the connections once the requests in flight are over. */
  async close(): Promise<void> {
    this.task.stop();
    await this.client.close();
  }

  /** One batch: whether it was answered (false: it failed for good). A stop by the user, or a bug, throws. */
  async send(batch: Batch): Promise<boolean> {
    this.task.setTotal((this.titles += batch.titles.length));
    try {
      this.learn(await this.ask(batch));
      this.consecutive = 0;
      return true;
    } catch (err) {
      // Only the API failing makes it unavailable: a stop by the user, or a bug, goes up.
      if (!(err instanceof TrueFilmError) || err.code === 'INTERRUPTED') throw err;
      this.firstFailure ??= err.message;
      // Nothing listening, or no answer even after the retries: no point in asking for the rest.
      if (err.code === 'HTTP_UNREACHABLE' || err.code === 'HTTP_TIMEOUT' || ++this.consecutive >= MAX_CONSECUTIVE_FAILURES) this.giveUp ??= err.message;
      return false;
    } finally {
      this.task.increment(batch.titles.length);
    }
  }

  /** One batch, continuations followed. Throws the client's TrueFilmError when a request fails for good. */
  private async ask(batch: Batch): Promise<Map<string, Entry>> {
    let merged: QueryPart | null = null;
    let cont: Record<string, string> | null = null;
    for (let n = 0; ; n++) {
      const query: string = queryParams(batch.titles, cont).toString();
      const long: boolean = this.options.endpoint.length + 1 + query.length > MAX_GET_URL;
      const part: QueryPart = await this.client.request(
        long
          ? { url: this.options.endpoint, method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' }, body: query }
          : { url: `${this.options.endpoint}${this.options.endpoint.includes('?') ? '&' : '?'}${query}`, headers: { accept: 'application/json' } },
        readQuery,
      );
      if (merged === null) merged = part;
      else mergeQuery(merged, part);
      cont = part.cont;
      // Past TextExtracts' limit, only extracts are left: they are followed when the batch wants
      // them all, else asked again with other titles. Any other module left unfinished is followed.
      if (cont === null || (!batch.follow && onlyExtractsLeft(cont))) break;
      if (n >= WIKIPEDIA_DEFAULTS.maxContinuations) {
        throw new TrueFilmError('HTTP_BAD_RESPONSE', `the API kept answering "continue" (${n} times) for one request`, { input: this.options.endpoint });
      }
    }
    const cover: ExtractCover = cont === null ? 'all' : 'some';
    try {
      return entriesOf(batch.titles, merged!, cover, new Date().toISOString());
    } catch (err) {
      throw new TrueFilmError('HTTP_BAD_RESPONSE', (err as Error).message, { input: this.options.endpoint, cause: err });
    }
  }
}

/** A `continue` that only TextExtracts needs: the other modules are listed as done (`||pageprops|description`). */
function onlyExtractsLeft(cont: Record<string, string>): boolean {
  const done = new Set((cont.continue ?? '').split('||')[1]?.split('|') ?? []);
  return Object.keys(cont).every((k) => k === 'continue' || k.startsWith('ex')) && done.has('pageprops') && done.has('description');
}

/** The open questions, by what they want, each title once: a title wanting its extract is not also a lookup. */
interface OpenQuestions {
  lookup: string[];
  decide: string[];
  abstract: string[];
}

/**
 * The next request, or null when it is better to wait. TextExtracts spends its
 * 20 extracts a response on pages that exist only, so a title whose existence
 * is asked rides free in a request for extracts: while decisions are being
 * made, a request carries up to 20 titles wanting an extract (those that
 * decide first, then matched pages' abstracts) and fills up to 50 with
 * lookups; it goes at once, since its answers move films on to their next
 * candidate. Abstracts alone go 20 a request, with continuations followed;
 * fewer than 20 wait while more may come (`final` false), to fill a request.
 * An extract a request could not carry (more pages than its limit) is asked
 * again later, with other titles.
 */
function planBatch(open: OpenQuestions, pageTitle: (t: string) => string, final: boolean): Batch | null {
  const { extractBatch: perExtract, titlesPerRequest: perRequest } = WIKIPEDIA_DEFAULTS;
  const deciding = open.lookup.length > 0 || open.decide.length > 0;
  if (!deciding && open.abstract.length < perExtract && !final) return null;
  const asked = new Map<string, boolean>();
  const sent = new Set<string>();
  for (const t of [...open.decide, ...open.abstract]) {
    const page = pageTitle(t);
    if (!sent.has(page) && sent.size >= perExtract) continue;
    sent.add(page);
    asked.set(t, true);
  }
  if (deciding) {
    for (const t of open.lookup) {
      if (sent.size >= perRequest) break;
      if (asked.has(t)) continue;
      sent.add(t);
      asked.set(t, false);
    }
  }
  return asked.size === 0 ? null : { titles: [...sent], asked, follow: !deciding, deciding };
}

/**
 * What is known of titles: the cache's entries with this run's answers over
 * them, and what the matching has been told (`answers`, for the titles it
 * asked about).
 */
class Knowledge {
  /** this run's answers, for the cache */
  readonly fresh = new Map<string, Entry>();
  readonly answers = new Map<string, LivePage>();
  readonly asked = new Set<string>();
  cacheHits = 0;
  /** grows with every answer given to the matching: a change means it may ask something new */
  told = 0;
  /** requests that carried each title without settling it (an extract past TextExtracts' limit) */
  private readonly sends = new Map<string, number>();

  constructor(private readonly entries: Map<string, Entry>) {}

  learn(got: Map<string, Entry>): void {
    for (const [title, entry] of got) {
      const merged = keepExtract(this.entries.get(title), entry);
      this.entries.set(title, merged);
      this.fresh.set(title, merged);
    }
  }

  /** Answers `title` from what is known; false when that is not enough yet. */
  settle(title: string, needsExtract: boolean): boolean {
    const page = livePage(this.entries, title);
    if (page === undefined || (needsExtract && page.kind === 'page' && page.extract === undefined)) return false;
    this.answers.set(title, page);
    this.told++;
    return true;
  }

  unknown(titles: Iterable<string>): void {
    for (const t of titles) {
      this.answers.set(t, { kind: 'unknown' });
      this.told++;
    }
  }

  /** The title to send for an extract: the page's own (a known redirect's target). */
  pageTitle(title: string): string {
    const entry = this.entries.get(title);
    return entry?.kind === 'page' ? (normalizeTitle(entry.title) ?? title) : title;
  }

  /** The questions that what is known does not answer (the others are answered now), but those `busy` already carries. */
  open(questions: LiveQuestions, busy: ReadonlySet<string>): OpenQuestions {
    const open: OpenQuestions = { lookup: [], decide: [], abstract: [] };
    const take = (title: string, needsExtract: boolean): boolean => {
      if (busy.has(title)) return false;
      const first = !this.asked.has(title);
      this.asked.add(title);
      if (this.settle(title, needsExtract)) {
        if (first && !this.fresh.has(title)) this.cacheHits++;
        return false;
      }
      return true;
    };
    for (const t of questions.decide) if (take(t, true)) open.decide.push(t);
    for (const t of questions.abstract) if (!questions.decide.has(t) && take(t, true)) open.abstract.push(t);
    for (const t of questions.lookup) if (!questions.decide.has(t) && !questions.abstract.has(t) && take(t, false)) open.lookup.push(t);
    return open;
  }

  /**
   * After a batch: what its answers settle. A title of a failed batch is
   * unknown; one left open (its extract did not fit) is asked again, a few
   * times at most.
   */
  afterBatch(batch: Batch, answered: boolean): void {
    for (const [t, needsExtract] of batch.asked) {
      if (this.settle(t, needsExtract)) continue;
      const sends = (this.sends.get(t) ?? 0) + 1;
      this.sends.set(t, sends);
      if (!answered || sends >= WIKIPEDIA_DEFAULTS.maxSendsPerTitle) this.unknown([t]);
    }
  }

  /** The report's counts of the titles asked. */
  tally(report: WikipediaReport): void {
    report.titles = this.asked.size;
    report.cache_hits = this.cacheHits;
    for (const title of this.asked) {
      const page = this.answers.get(title);
      if (page?.kind === 'missing') report.missing++;
      if (page?.kind === 'page' && page.redirected) report.redirects++;
      if (page?.kind === 'page' && page.disambiguation) report.disambiguation++;
    }
  }
}

const count = (q: OpenQuestions): number => q.lookup.length + q.decide.length + q.abstract.length;
const isEmpty = (q: LiveQuestions): boolean => q.lookup.size === 0 && q.decide.size === 0 && q.abstract.size === 0;

/**
 * Runs requests one by one as one of the `concurrency` in flight ends, each
 * planned from what the matching asks at that moment, until it asks nothing
 * more and nothing more can come (no request in flight that could raise
 * questions, and `options.more` settled). Titles go to `unknown` when no
 * request may be sent (offline, or the API given up).
 */
class Scheduler {
  /** the titles of the requests in flight */
  private readonly busy = new Set<string>();
  /** the requests in flight: at most `concurrency` */
  private readonly running = new Set<Batch>();
  private readonly woken = new Changes();
  /** the first request that failed in a way that stops the stage (a stop by the user, a bug) */
  private failure: unknown = null;
  asker: Asker | null = null;

  constructor(
    private readonly ask: AskFn,
    private readonly known: Knowledge,
    private readonly options: WikipediaOptions,
    private readonly concurrency: number,
  ) {}

  async run(): Promise<void> {
    const more = this.options.more;
    for (;;) {
      if (this.failure !== null) throw this.failure;
      if (this.options.signal?.aborted) throw new TrueFilmError('INTERRUPTED', 'stopped while asking Wikipedia', { cause: this.options.signal.reason });
      const questions = this.ask(this.known.answers);
      const told = this.known.told;
      const open = this.known.open(questions, this.busy);
      // what is known answered some questions just now: the matching may ask further
      if (this.known.told !== told) continue;
      const waiting = more !== undefined && !more.settled;
      if (count(open) > 0 && (this.options.offline || this.asker?.giveUp != null)) {
        this.known.unknown([...open.lookup, ...open.decide, ...open.abstract]);
        continue;
      }
      this.fill(open, waiting);
      if (this.running.size === 0 && !waiting && count(open) === 0) return;
      await Promise.race([this.woken.next(), ...(waiting ? [more.next()] : [])]);
    }
  }

  /** Starts requests for what is open, while fewer than `concurrency` are in flight and a request is worth sending. */
  private fill(open: OpenQuestions, waiting: boolean): void {
    while (this.running.size < this.concurrency) {
      // nothing in flight can raise new questions, and nothing more comes from outside
      const final = !waiting && ![...this.running].some((b) => b.deciding);
      const batch = planBatch(open, (t) => this.known.pageTitle(t), final);
      if (batch === null) return;
      const sent = (t: string): boolean => !batch.asked.has(t);
      open.lookup = open.lookup.filter(sent);
      open.decide = open.decide.filter(sent);
      open.abstract = open.abstract.filter(sent);
      this.start(batch).catch((err: unknown) => {
        this.failure ??= err;
        this.woken.notify();
      });
    }
  }

  /** Waits for the requests in flight, whatever they give (on the way out of a failed run). */
  async drain(): Promise<void> {
    while (this.running.size > 0) await this.woken.next();
  }

  /** Sends one batch; it counts as in flight from the call on (before its first await), so that fill() sees it. */
  private async start(batch: Batch): Promise<void> {
    this.running.add(batch);
    for (const t of batch.asked.keys()) this.busy.add(t);
    try {
      this.asker ??= new Asker(this.options, this.concurrency, (got) => this.known.learn(got));
      const answered = await this.asker.send(batch);
      this.known.afterBatch(batch, answered);
    } finally {
      this.running.delete(batch);
      for (const t of batch.asked.keys()) this.busy.delete(t);
      this.woken.notify();
    }
  }
}

export async function runWikipedia(ask: AskFn, options: WikipediaOptions): Promise<WikipediaResult> {
  const { endpoint, ui } = options;
  const concurrency = Math.max(1, Math.min(WIKIPEDIA_DEFAULTS.maxConcurrency, Math.floor(options.concurrency ?? WIKIPEDIA_DEFAULTS.concurrency)));
  const spec = cacheSpec(options.dataDir);
  const report: WikipediaReport = { status: options.offline ? 'offline' : 'ok', titles: 0, requests: 0, retries: 0, cache_hits: 0, redirects: 0, disambiguation: 0, missing: 0 };

  // The cache is read only when there is something to ask (an offline run with nothing open never reads it).
  while (isEmpty(ask(new Map()))) {
    if (options.more === undefined || options.more.settled) return { answers: new Map(), report };
    await options.more.next();
  }
  const known = new Knowledge(await readCache(spec, ui));
  const scheduler = new Scheduler(ask, known, options, concurrency);
  let failed: unknown = null;
  try {
    await scheduler.run();
  } catch (err) {
    failed = err;
    throw err;
  } finally {
    const asker = scheduler.asker;
    if (asker !== null) {
      if (failed !== null) asker.abort(failed);
      await scheduler.drain();
      report.requests = asker.stats.requests;
      report.retries = asker.stats.retries;
      await asker.close();
    }
    // Whatever was answered is kept, even when the run fails or is stopped.
    if (known.fresh.size > 0) await writeCache(spec, known.fresh, ui);
  }

  known.tally(report);
  const asker = scheduler.asker;
  const unanswered = [...known.asked].filter((t) => known.answers.get(t)?.kind === 'unknown').length;
  if (asker !== null && (asker.giveUp !== null || asker.firstFailure !== null)) {
    report.status = 'unavailable';
    ui.warn(
      `the Wikipedia API is unavailable (${endpoint}): ${asker.giveUp ?? asker.firstFailure}. ` +
        `${unanswered} of ${known.asked.size} titles have no answer; those films keep what the dump gives, if anything ` +
        '(the answers so far are cached; the next run asks only for the rest).',
    );
  }
  return { answers: known.answers, report };
}
