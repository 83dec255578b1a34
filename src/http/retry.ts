/**
 * When to retry an HTTP request, how long to wait first and how a failed try
 * reads: pure functions, so the policy reads in one place and tests need no
 * server, and the one piece of state the policy keeps (OriginHolds), shared
 * by the API client (client.ts) and the file transfers (transfer.ts).
 */
import { STATUS_CODES } from 'node:http';
import { formatDuration } from '../format.js';

/** 408, 429 and every 5xx: the server may answer differently later. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * Network failures worth another try: the connection was reset or closed
 * under the request, or a timeout fired once connected. A refused connection,
 * an unknown host or no answer to connect (CONNECT_TIMEOUT_MS) is not one of
 * them: nothing listens there, or a firewall drops the packets; asking again
 * only waits.
 */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** How long a connection (TCP and TLS) may take to open before the host counts as unreachable. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** The error's `code`, or that of its `cause` (undici wraps socket errors). */
export function networkErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_ABORTED') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export function isTransientNetworkError(err: unknown): boolean {
  const code = networkErrorCode(err);
  return code !== undefined && TRANSIENT_CODES.has(code);
}

/** "connect ECONNREFUSED 127.0.0.1:9 (ECONNREFUSED)": a network error as a failure's message says it, its code once. */
export function networkReason(err: unknown): string {
  const code = networkErrorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return `no answer to connect within ${formatDuration(CONNECT_TIMEOUT_MS)} (${code})`;
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/** "HTTP 503 Service Unavailable" */
export function statusText(status: number): string {
  return `HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd();
}

/**
 * `Retry-After` (RFC 9110 section 10.2.3) as milliseconds from `now`: either
 * delay-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`).
 * Null when the header is absent or reads as neither; 0 for a date in the past.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (text === undefined || text === '') return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date names a weekday or month; this keeps Date.parse from reading "5.5" or "-1" as a date.
  if (!/[A-Za-z]{3}/.test(text) || !/\d/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/**
 * Exponential backoff with jitter before retry number `retry` (1 for the
 * first): half of `base * 2^(retry-1)` (capped at `max`) fixed, half random,
 * so clients that failed together do not come back together.
 */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, retry - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/**
 * Per origin, the time before which no request starts: a server that
 * throttles (a Retry-After, or a 429) holds every later request to its
 * origin, not only the one it answered.
 */
export class OriginHolds {
  private readonly until = new Map<string, number>();

  /** When requests to `origin` may start (Date.now() ms; 0 when it is not held). */
  heldUntil(origin: string): number {
    return this.until.get(origin) ?? 0;
  }

  /**
   * The wait before retry number `attempt` after a failed try: the server's
   * Retry-After, else backoff with jitter. When the server throttled, its
   * origin is held that long.
   */
  retryDelay(origin: string, attempt: number, failure: { status?: number; retryAfterMs: number | null }, backoff: { backoffMs: number; maxBackoffMs: number }): number {
    const delay = failure.retryAfterMs ?? backoffDelay(attempt, backoff.backoffMs, backoff.maxBackoffMs);
    if (failure.retryAfterMs !== null || failure.status === 429) this.until.set(origin, Math.max(this.heldUntil(origin), Date.now() + delay));
    return delay;
  }
}
