/**
 * A polite HTTP client on undici for the services the pipeline asks (the
 * Wikidata Query Service, Wikipedia's Action API):
 *
 * - a descriptive User-Agent with a contact URL on every request;
 * - at most `concurrency` requests in flight, on a connection pool of that size;
 * - a timeout per try covering the headers and the whole body;
 * - retries only on 408, 429, 5xx, timeouts, connection resets and responses
 *   the caller cannot read, honouring `Retry-After` (seconds or an HTTP-date)
 *   for every request to that origin, else exponential backoff with jitter;
 * - a bounded number of tries and a bounded total time per request;
 * - a bounded body: an answer over `maxBodyBytes` (4 MiB), as sent or once
 *   inflated, fails at once and is not asked again (the server would send it
 *   again); of an error status's body, only the first 64 KiB are read;
 * - every response body read to its end (or the socket destroyed), never left
 *   hanging on a pooled connection.
 *
 * Final failures are TrueFilmError: HTTP_STATUS, HTTP_BAD_RESPONSE,
 * HTTP_TOO_LARGE, HTTP_TIMEOUT, HTTP_UNREACHABLE, or INTERRUPTED when
 * `signal` aborts.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent, Dispatcher } from 'undici';
import { VERSION } from '../config.js';
import { Slots } from '../concurrency.js';
import { TrueFilmError, type ErrorCode } from '../errors.js';
import { formatDuration } from '../format.js';
import { BodyNotInflating, BodyTooLarge, readBody } from './body.js';
import { CONNECT_TIMEOUT_MS, isRetryableStatus, isTransientNetworkError, networkErrorCode, networkReason, OriginHolds, parseRetryAfter, statusText } from './retry.js';

/**
 * Wikimedia's User-Agent policy (https://meta.wikimedia.org/wiki/User-Agent_policy):
 * `tool/version (contact) library`, the contact being the user's own
 * (--contact): an e-mail address or a URL. Without one the tool says so.
 */
export function userAgent(contact: string | null): string {
  return `TrueFilm/${VERSION} (${contact ?? 'no contact given; see truefilm --help, --contact'}) undici`;
}

export const USER_AGENT = userAgent(null);

/**
 * Thrown by a response reader for an answer that is not the data: an API
 * error in a 200 (MediaWiki's `maxlag`), a shape it cannot read. Retried when
 * `retryable`, after `retryAfterMs` when the server said how long to wait.
 */
export class AnswerError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;

  constructor(message: string, options: { retryable: boolean; retryAfterMs?: number | null; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AnswerError';
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/** undici, loaded with the first request: an offline run, --version and --help never need it */
let undici: Promise<typeof import('undici')> | null = null;
const loadUndici = (): Promise<typeof import('undici')> => (undici ??= import('undici'));

const HTTP_DEFAULTS = {
  userAgent: USER_AGENT,
  concurrency: 4,
  timeoutMs: 60_000,
  maxTries: 5,
  maxTotalMs: 180_000,
  backoffMs: 1_000,
  maxBackoffMs: 30_000,
  /**
   * The largest answer read, as sent and once inflated. The largest real ones
   * are an Action API answer with 20 intro extracts (a few hundred KB at
   * most) and a SPARQL answer for 200 IMDb ids with their money statements
   * (well under 1 MB): 4 MiB leaves room for several times either, and
   * bounds what a server can make the run hold.
   */
  maxBodyBytes: 4 << 20,
} as const;

/** Of an error status's body only its start is shown: the rest is not read. */
const ERROR_BODY_BYTES = 64 << 10;

export interface HttpClientOptions {
  userAgent?: string;
  /** requests in flight at once (all origins together) */
  concurrency?: number;
  /** one try: from sending to the last byte of the body */
  timeoutMs?: number;
  /** tries per request, the first included */
  maxTries?: number;
  /** one request, all its tries and waits included; a wait that would pass it is not made */
  maxTotalMs?: number;
  /** the first backoff; it doubles on each retry up to `maxBackoffMs` */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** the largest answer body, as sent and once inflated (default 4 MiB): a larger one fails with HTTP_TOO_LARGE, not retried */
  maxBodyBytes?: number;
  /** aborts waits and requests in flight: the request fails with INTERRUPTED */
  signal?: AbortSignal;
}

/** How hard a stage tries each request: the options a stage takes over its own defaults. */
export type RetryOptions = Pick<HttpClientOptions, 'userAgent' | 'timeoutMs' | 'maxTries' | 'maxTotalMs' | 'backoffMs' | 'maxBackoffMs'>;

/** A stage's retry options, each over the stage's default. */
export function retryOptions(options: RetryOptions, defaults: Required<Omit<RetryOptions, 'userAgent'>>): RetryOptions {
  return {
    userAgent: options.userAgent,
    timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
    maxTries: options.maxTries ?? defaults.maxTries,
    maxTotalMs: options.maxTotalMs ?? defaults.maxTotalMs,
    backoffMs: options.backoffMs ?? defaults.backoffMs,
    maxBackoffMs: options.maxBackoffMs ?? defaults.maxBackoffMs,
  };
}

export interface HttpRequest {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /**
   * Statuses besides 2xx that are answers for `read`, not failures: a 404 that
   * means "no such page", or 3xx for a caller that follows redirects itself.
   */
  readStatuses?: readonly number[];
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: IncomingHttpHeaders;
  /** the whole body, as UTF-8 text (an answer is at most `maxBodyBytes`: a larger one never reaches `read`) */
  body: string;
}

interface HttpStats {
  /** HTTP requests sent, retries included */
  requests: number;
  /** requests that were a retry of an earlier one */
  retries: number;
}

/** Why one try failed, and whether another might succeed. */
interface Failure {
  code: Extract<ErrorCode, 'HTTP_STATUS' | 'HTTP_BAD_RESPONSE' | 'HTTP_TOO_LARGE' | 'HTTP_TIMEOUT' | 'HTTP_UNREACHABLE'>;
  message: string;
  retryable: boolean;
  status?: number;
  /** what the server's Retry-After asked for, in ms */
  retryAfterMs: number | null;
  cause?: unknown;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; failure: Failure };

const HINTS: Record<Failure['code'], string> = {
  HTTP_STATUS: 'The service refused or failed the request; check the URL, or try again later.',
  HTTP_BAD_RESPONSE: 'The server answered with something this client cannot read; check that the URL points at the right service.',
  HTTP_TOO_LARGE: 'No real answer of this service comes near that size; check that the URL points at the right service.',
  HTTP_TIMEOUT: 'The service did not answer in time; try again later.',
  HTTP_UNREACHABLE: 'Check the URL and the network connection (a proxy or firewall may block it).',
};

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? flat.slice(0, 200) + '...' : flat;
}

export class HttpClient {
  readonly stats: HttpStats = { requests: 0, retries: 0 };
  private readonly options: Required<Omit<HttpClientOptions, 'signal'>>;
  private readonly signal: AbortSignal | undefined;
  /** made with the first request */
  private agent: Promise<Agent> | null = null;
  private readonly slots: Slots;
  private readonly holds = new OriginHolds();

  constructor(options: HttpClientOptions = {}) {
    const o = options;
    this.options = {
      userAgent: o.userAgent ?? HTTP_DEFAULTS.userAgent,
      concurrency: Math.max(1, Math.floor(o.concurrency ?? HTTP_DEFAULTS.concurrency)),
      timeoutMs: o.timeoutMs ?? HTTP_DEFAULTS.timeoutMs,
      maxTries: Math.max(1, Math.floor(o.maxTries ?? HTTP_DEFAULTS.maxTries)),
      maxTotalMs: o.maxTotalMs ?? HTTP_DEFAULTS.maxTotalMs,
      backoffMs: o.backoffMs ?? HTTP_DEFAULTS.backoffMs,
      maxBackoffMs: o.maxBackoffMs ?? HTTP_DEFAULTS.maxBackoffMs,
      maxBodyBytes: o.maxBodyBytes !== undefined && o.maxBodyBytes > 0 ? Math.floor(o.maxBodyBytes) : HTTP_DEFAULTS.maxBodyBytes,
    };
    this.signal = o.signal;
    this.slots = new Slots(this.options.concurrency);
  }

  private dispatcher(): Promise<Agent> {
    this.agent ??= loadUndici().then(
      ({ Agent }) =>
        new Agent({
          connections: this.options.concurrency,
          connect: { timeout: CONNECT_TIMEOUT_MS },
          // undici's own timers are a backstop; the per-try timer below is the rule
          headersTimeout: this.options.timeoutMs + 1_000,
          bodyTimeout: this.options.timeoutMs + 1_000,
        }),
    );
    return this.agent;
  }

  /**
   * Sends `req` until a 2xx response (or one of `req.readStatuses`) that
   * `read` accepts, and returns what `read` made of it. `read` throwing
   * counts as a failed try (a truncated or malformed body); if it keeps
   * throwing, its last error is the cause.
   */
  async request<T>(req: HttpRequest, read: (res: HttpResponse) => T): Promise<T> {
    const { maxTries, maxTotalMs } = this.options;
    let origin: string;
    try {
      origin = new URL(req.url).origin;
    } catch (err) {
      throw new TrueFilmError('HTTP_UNREACHABLE', 'not a valid URL', { input: req.url, hint: HINTS.HTTP_UNREACHABLE, cause: err });
    }
    const started = Date.now();
    const deadline = started + maxTotalMs;
    for (let attempt = 1; ; attempt++) {
      const release = await this.slots.acquire(this.signal).catch((reason: unknown) => {
        throw this.interrupted(req.url, reason);
      });
      let outcome: Outcome<T>;
      try {
        const gateFailure = await this.waitForOrigin(origin, deadline, req.url);
        outcome = gateFailure ?? (await this.tryOnce(req, read, attempt, deadline - Date.now()));
      } finally {
        release();
      }
      if (outcome.ok) return outcome.value;

      const failure = outcome.failure;
      const giveUp = (why: string): TrueFilmError =>
        new TrueFilmError(failure.code, `${failure.message}${why}`, {
          input: req.url,
          hint: failure.status === 403 ? `${HINTS.HTTP_STATUS} The server may refuse this User-Agent: ${this.options.userAgent}` : HINTS[failure.code],
          cause: failure.cause,
        });
      const tries = `${attempt} ${attempt === 1 ? 'try' : 'tries'} in ${formatDuration(Date.now() - started)}`;
      if (!failure.retryable) throw giveUp(attempt > 1 ? ` (after ${tries})` : '');
      if (attempt >= maxTries) throw giveUp(` (gave up after ${tries})`);

      const delay = this.holds.retryDelay(origin, attempt, failure, this.options);
      if (Date.now() + delay >= deadline) {
        const asked = failure.retryAfterMs !== null ? `the server asked to wait ${formatDuration(delay)}` : `the next try would come after ${formatDuration(delay)}`;
        throw giveUp(` (gave up after ${tries}: ${asked}, past the ${formatDuration(maxTotalMs)} allowed)`);
      }
      await this.pause(delay, req.url);
    }
  }

  /** Closes the connection pool once the requests in flight are over. */
  async close(): Promise<void> {
    await (await this.agent)?.close();
  }

  private interrupted(url: string, reason: unknown): TrueFilmError {
    return new TrueFilmError('INTERRUPTED', 'stopped while waiting for a response', { input: url, cause: reason });
  }

  private async pause(ms: number, url: string): Promise<void> {
    if (ms <= 0) return;
    try {
      await sleep(ms, undefined, { signal: this.signal });
    } catch (err) {
      throw this.interrupted(url, this.signal?.reason ?? err);
    }
  }

  /** Waits until the origin's Retry-After time; a Failure when that is past the deadline. */
  private async waitForOrigin(origin: string, deadline: number, url: string): Promise<Outcome<never> | null> {
    for (;;) {
      if (this.signal?.aborted) throw this.interrupted(url, this.signal.reason);
      const until = this.holds.heldUntil(origin);
      const now = Date.now();
      // Timers may fire a millisecond early by the wall clock: loop until the time has truly come.
      if (now >= until) return null;
      if (until >= deadline) {
        return {
          ok: false,
          failure: {
            code: 'HTTP_STATUS',
            message: `${origin} asked to wait until ${new Date(until).toISOString()} (HTTP 429 / Retry-After), past the time allowed for this request`,
            retryable: false,
            status: 429,
            retryAfterMs: null,
          },
        };
      }
      await this.pause(until - now, url);
    }
  }

  /**
   * The body as text, read whatever the status (a pooled connection is
   * reusable only then) and within bounds: an answer whole up to
   * maxBodyBytes, an error status's first ERROR_BODY_BYTES. A body over the
   * cap, or one that does not inflate, is a Failure; a network error throws.
   */
  private async bodyOf(res: Dispatcher.ResponseData, answer: boolean): Promise<Outcome<string>> {
    try {
      const limit = answer ? { limit: this.options.maxBodyBytes, over: 'fail' as const } : { limit: ERROR_BODY_BYTES, over: 'cut' as const };
      return { ok: true, value: (await readBody(res.body, res.headers, limit)).toString('utf8') };
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        return { ok: false, failure: { code: 'HTTP_TOO_LARGE', message: `${err.message}; not asked again: the server would send the same`, retryable: false, retryAfterMs: null, cause: err } };
      }
      if (err instanceof BodyNotInflating) return { ok: false, failure: { code: 'HTTP_BAD_RESPONSE', message: err.message, retryable: true, retryAfterMs: null, cause: err } };
      throw err;
    }
  }

  private async tryOnce<T>(req: HttpRequest, read: (res: HttpResponse) => T, attempt: number, budgetMs: number): Promise<Outcome<T>> {
    const timeoutMs = Math.max(1, Math.min(this.options.timeoutMs, budgetMs));
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`no complete response within ${formatDuration(timeoutMs)}`));
    }, timeoutMs);
    const onAbort = (): void => controller.abort(this.signal?.reason);
    this.signal?.addEventListener('abort', onAbort, { once: true });
    this.stats.requests++;
    if (attempt > 1) this.stats.retries++;
    try {
      const { request } = await loadUndici();
      const res = await request(req.url, {
        dispatcher: await this.dispatcher(),
        method: req.method ?? 'GET',
        headers: { 'accept-encoding': 'gzip', ...req.headers, 'user-agent': this.options.userAgent },
        body: req.body,
        signal: controller.signal,
      });
      const status = res.statusCode;
      const isAnswer = (status >= 200 && status < 300) || req.readStatuses?.includes(status) === true;
      const bodyRead = await this.bodyOf(res, isAnswer);
      if (!bodyRead.ok) return bodyRead;
      const body = bodyRead.value;
      if (isAnswer) {
        try {
          return { ok: true, value: read({ url: req.url, status, headers: res.headers, body }) };
        } catch (err) {
          const answer = err instanceof AnswerError ? err : null;
          return {
            ok: false,
            failure: {
              code: 'HTTP_BAD_RESPONSE',
              message: err instanceof Error ? err.message : String(err),
              retryable: answer?.retryable ?? true,
              retryAfterMs: answer?.retryAfterMs ?? null,
              cause: err,
            },
          };
        }
      }
      const text = snippet(body);
      return {
        ok: false,
        failure: {
          code: 'HTTP_STATUS',
          message: statusText(status) + (text ? `: ${text}` : ''),
          retryable: isRetryableStatus(status),
          status,
          retryAfterMs: parseRetryAfter(res.headers['retry-after']),
        },
      };
    } catch (err) {
      if (this.signal?.aborted) throw this.interrupted(req.url, this.signal.reason);
      if (timedOut) {
        return { ok: false, failure: { code: 'HTTP_TIMEOUT', message: `no complete response within ${formatDuration(timeoutMs)}`, retryable: true, retryAfterMs: null, cause: err } };
      }
      const code = networkErrorCode(err);
      return {
        ok: false,
        failure: {
          code: code?.includes('TIMEOUT') && code !== 'UND_ERR_CONNECT_TIMEOUT' ? 'HTTP_TIMEOUT' : 'HTTP_UNREACHABLE',
          message: networkReason(err),
          retryable: isTransientNetworkError(err),
          retryAfterMs: null,
          cause: err,
        },
      };
    } finally {
      clearTimeout(timer);
      this.signal?.removeEventListener('abort', onAbort);
    }
  }
}
