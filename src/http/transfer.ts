/**
 * Files fetched to disk as they stream, for downloads too large to hold in
 * memory (a dump shard is about 600 MB): src/http/client.ts reads whole
 * answers, which suits API calls only.
 *
 * - the body goes to `<file>.part` in 1 MiB writes, and the digest is
 *   computed from the same bytes as they are written: no second read;
 * - a `.part` left by an earlier try or run is resumed with `Range`; a server
 *   that answers 200 instead starts it over, from that same answer;
 * - retries follow the client's policy (src/http/retry.ts): 408, 429, 5xx,
 *   cut transfers and connection resets, `Retry-After` honoured, else
 *   exponential backoff with jitter; a bounded number of tries;
 * - the User-Agent is the caller's (userAgent() of client.ts, with the contact);
 * - redirects are followed (mirrors and archives hand files to storage hosts).
 *
 * Failures are TrueFilmError: HTTP_STATUS, HTTP_UNREACHABLE, DOWNLOAD_FAILED
 * (tries spent, or a size that is not the announced one), DOWNLOAD_NO_SPACE,
 * INTERRUPTED.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { TrueFilmError } from '../errors.js';
import { formatBytes, formatDuration } from '../format.js';
import { CONNECT_TIMEOUT_MS, isRetryableStatus, isTransientNetworkError, networkReason, OriginHolds, parseRetryAfter, statusText } from './retry.js';

export type DigestAlgo = 'md5' | 'sha1' | 'sha256' | 'sha512';

export interface TransferPolicy {
  userAgent: string;
  /** tries per request, the first included */
  maxTries: number;
  /** the first backoff; it doubles with each retry up to `maxBackoffMs` */
  backoffMs: number;
  maxBackoffMs: number;
  /** the longest wait a Retry-After may ask for; a longer one ends the transfer */
  maxRetryAfterMs: number;
  /** a try fails when no byte arrives for this long */
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

const TRANSFER_DEFAULTS = {
  maxTries: 5,
  backoffMs: 1_000,
  maxBackoffMs: 5 * 60_000,
  maxRetryAfterMs: 15 * 60_000,
  /** a stalled transfer: two minutes without a byte */
  idleTimeoutMs: 120_000,
} as const;

/** What a transfer tells as it goes (all optional). */
export interface TransferEvents {
  /** a try starts at byte `from` of `total` (null: not known yet) */
  tryStart?(from: number, total: number | null): void;
  /** the file holds `written` bytes */
  progress?(written: number): void;
  /** the try is over, whatever came of it */
  tryEnd?(): void;
  /** a try failed (`why`); the next comes after `delayMs` */
  retry?(why: string, delayMs: number): void;
  /** what the file held is dropped and the download starts over (`why`) */
  restart?(why: string): void;
}

export interface TransferRequest {
  url: string;
  /** the file written: `<destination>.part` */
  part: string;
  /** the file's name in messages */
  name: string;
  /** the size the server announced beforehand (HEAD), or null */
  size: number | null;
  /** the digest to compute while the bytes stream, or null */
  hash: DigestAlgo | null;
  /** what to do when the file is not there (404/410), said after the URL */
  notFoundHint?: string;
  events?: TransferEvents;
}

export interface TransferResult {
  size: number;
  /** lower-case hex, when a hash was asked for */
  digest: string | null;
}

const WRITE_BYTES = 1 << 20;
const MAX_REDIRECTS = 5;

/** A 404 or 410, in the words of every download message. */
export function notFoundError(url: string, status: number, hint?: string): TrueFilmError {
  return new TrueFilmError('HTTP_STATUS', `not found (HTTP ${status}): ${url}${hint ? `. ${hint}` : ''}`);
}

function refusedError(url: string, status: number): TrueFilmError {
  return new TrueFilmError('HTTP_STATUS', `the server refused the download (HTTP ${status}): ${url}`, {
    hint: 'The file may need an account or another address; check the URL.',
  });
}

function interrupted(url: string, reason: unknown): TrueFilmError {
  return new TrueFilmError('INTERRUPTED', 'stopped during the download', { input: url, cause: reason });
}

/** A Content-Range header: `bytes 100-199/200` gives start 100 and total 200; an unsatisfied range (`bytes *` then the size) gives start null. */
export function parseContentRange(value: string | string[] | undefined): { start: number | null; total: number | null } | null {
  const text = Array.isArray(value) ? value[0] : value;
  const m = /^\s*bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)\s*$/i.exec(text ?? '');
  if (!m) return null;
  return { start: m[1] === undefined ? null : Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) };
}

function contentLength(headers: Record<string, string | string[] | undefined>): number | null {
  const value = headers['content-length'];
  const text = Array.isArray(value) ? value[0] : value;
  return text !== undefined && /^\d+$/.test(text.trim()) ? Number(text) : null;
}

/** A write to the .part failed: the disk, not the network. */
class WriteFailure extends Error {
  constructor(override readonly cause: NodeJS.ErrnoException) {
    super(cause.message);
  }
}

/**
 * The `.part` file and the digest of what it holds, kept in step: bytes are
 * gathered, then written and hashed together, so that after any failure the
 * digest covers exactly the file's bytes.
 */
class PartFile {
  size = 0;
  private hash: Hash | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  private constructor(
    private readonly handle: FileHandle,
    private readonly algo: DigestAlgo | null,
  ) {}

  /** Opens `path` for appending; the digest starts from what an earlier run left there. */
  static async open(path: string, algo: DigestAlgo | null): Promise<PartFile> {
    const file = new PartFile(await open(path, 'a'), algo);
    file.size = (await file.handle.stat()).size;
    file.hash = algo === null ? null : createHash(algo);
    if (file.hash !== null && file.size > 0) {
      // the one read-back: bytes written by an earlier run, whose digest state is gone
      for await (const chunk of createReadStream(path, { end: file.size - 1, highWaterMark: WRITE_BYTES })) file.hash.update(chunk as Buffer);
    }
    return file;
  }

  /** Bytes held until flush(); true when enough are held to write them. */
  push(chunk: Buffer): boolean {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    return this.pendingBytes >= WRITE_BYTES;
  }

  async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const chunks = this.pending;
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    try {
      for (let at = 0; at < data.length; ) at += (await this.handle.write(data, at, data.length - at)).bytesWritten;
    } catch (err) {
      throw new WriteFailure(err as NodeJS.ErrnoException);
    }
    for (const chunk of chunks) this.hash?.update(chunk);
    this.size += data.length;
  }

  async reset(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle.truncate(0);
    this.size = 0;
    this.hash = this.algo === null ? null : createHash(this.algo);
  }

  digest(): string | null {
    return this.hash?.digest('hex') ?? null;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** How one try ended. */
type TryOutcome = { done: true } | { done: false; why: string; retryAfterMs: number | null; immediate?: boolean };

/**
 * Transfers on one connection pool, following redirects, one at a time (what
 * a dump server allows a client). A server's Retry-After holds every later
 * request to its origin (OriginHolds), as in HttpClient. close() when done.
 */
export class FileTransfers {
  private readonly policy: TransferPolicy;
  private dispatcher: Promise<Dispatcher> | null = null;
  private readonly holds = new OriginHolds();

  constructor(policy: Partial<TransferPolicy> & Pick<TransferPolicy, 'userAgent'>) {
    this.policy = { ...TRANSFER_DEFAULTS, ...policy };
  }

  private agent(): Promise<Dispatcher> {
    this.dispatcher ??= import('undici').then(({ Agent, interceptors }) =>
      new Agent({
        connections: 1,
        connect: { timeout: CONNECT_TIMEOUT_MS },
        headersTimeout: this.policy.idleTimeoutMs,
        bodyTimeout: this.policy.idleTimeoutMs,
      }).compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTS })),
    );
    return this.dispatcher;
  }

  async close(): Promise<void> {
    await (await this.dispatcher)?.close();
  }

  /** Sends one request once the origin's Retry-After time has passed. */
  private async send(url: string, method: 'GET' | 'HEAD', headers: Record<string, string> = {}): Promise<Dispatcher.ResponseData> {
    const origin = new URL(url).origin;
    // Timers may fire a millisecond early by the wall clock: loop until the time has truly come.
    for (let left = this.holds.heldUntil(origin) - Date.now(); left > 0; left = this.holds.heldUntil(origin) - Date.now()) {
      await this.wait(left, url);
    }
    const { request } = await import('undici');
    return request(url, {
      dispatcher: await this.agent(),
      method,
      // identity: the bytes on disk are the file's, and a Range counts them
      headers: { 'user-agent': this.policy.userAgent, 'accept-encoding': 'identity', ...headers },
      signal: this.policy.signal,
    });
  }

  /** The wait before retry number `attempt` after `failure`; a throttled origin is held for every request. */
  private delayFor(url: string, attempt: number, failure: { status?: number; retryAfterMs: number | null; immediate?: boolean }): number {
    return failure.immediate ? 0 : this.holds.retryDelay(new URL(url).origin, attempt, failure, this.policy);
  }

  private async wait(ms: number, url: string): Promise<void> {
    if (ms <= 0) return;
    try {
      await sleep(ms, undefined, { signal: this.policy.signal });
    } catch (err) {
      throw interrupted(url, this.policy.signal?.reason ?? err);
    }
  }

  /**
   * The size the server announces for `url` (HEAD), or null when it does not
   * say (no Content-Length, HEAD not allowed, a server error that outlasts the
   * tries: the transfer will tell). A missing file, a refusal or a host that
   * cannot be reached throws.
   */
  async size(url: string, notFoundHint?: string): Promise<number | null> {
    for (let attempt = 1; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await this.send(url, 'HEAD');
      } catch (err) {
        if (this.policy.signal?.aborted) throw interrupted(url, this.policy.signal.reason);
        if (isTransientNetworkError(err) && attempt < this.policy.maxTries) {
          await this.wait(this.delayFor(url, attempt, { retryAfterMs: null }), url);
          continue;
        }
        throw unreachableError(url, err);
      }
      await res.body.dump();
      const status = res.statusCode;
      if (status === 404 || status === 410) throw notFoundError(url, status, notFoundHint);
      if (status === 401 || status === 403) throw refusedError(url, status);
      if (isRetryableStatus(status) && attempt < this.policy.maxTries) {
        const delay = this.delayFor(url, attempt, { status, retryAfterMs: parseRetryAfter(res.headers['retry-after']) });
        if (delay <= this.policy.maxRetryAfterMs) {
          await this.wait(delay, url);
          continue;
        }
      }
      return status >= 200 && status < 300 ? contentLength(res.headers) : null;
    }
  }

  /**
   * Downloads `req.url` into `req.part`, resuming what it holds, until the
   * whole file is there (or the tries are spent). The `.part` stays for the
   * next run on every failure but a wrong size, which deletes it.
   */
  async download(req: TransferRequest): Promise<TransferResult> {
    const file = await PartFile.open(req.part, req.hash);
    let result: TransferResult;
    try {
      if (req.size !== null && file.size > req.size) {
        req.events?.restart?.(`${req.part} is larger than the file on the server (${formatBytes(req.size)}): starting over`);
        await file.reset();
      }
      await this.tries(req, file);
      result = { size: file.size, digest: file.digest() };
    } finally {
      await file.close();
    }
    if (req.size !== null && result.size !== req.size) {
      await rm(req.part, { force: true });
      throw new TrueFilmError('DOWNLOAD_FAILED', `${req.name} came to ${result.size} bytes, the server announced ${req.size}: deleted it; run again to download it afresh`);
    }
    return result;
  }

  private async tries(req: TransferRequest, file: PartFile): Promise<void> {
    const { maxTries, maxRetryAfterMs } = this.policy;
    for (let attempt = 1; ; attempt++) {
      if (req.size !== null && req.size > 0 && file.size === req.size) return;
      const outcome = await this.tryOnce(req, file);
      if (outcome.done) return;
      const kept = file.size > 0 ? `; the ${formatBytes(file.size)} received are kept in ${req.part}` : '';
      if (attempt >= maxTries) {
        throw new TrueFilmError('DOWNLOAD_FAILED', `could not download ${req.url} in ${maxTries} attempt(s)${kept ? `${kept}: run again to resume` : ': run again later'}`, {
          hint: `The last attempt: ${outcome.why}.`,
        });
      }
      const delay = this.delayFor(req.url, attempt, outcome);
      if (delay > maxRetryAfterMs) {
        throw new TrueFilmError('DOWNLOAD_FAILED', `${outcome.why}, and the server asked to wait ${formatDuration(delay)} before trying again${kept}`, {
          hint: 'Run again later.',
        });
      }
      req.events?.retry?.(outcome.why, delay);
      await this.wait(delay, req.url);
    }
  }

  private async tryOnce(req: TransferRequest, file: PartFile): Promise<TryOutcome> {
    let res: Dispatcher.ResponseData;
    try {
      res = await this.send(req.url, 'GET', file.size > 0 ? { range: `bytes=${file.size}-` } : {});
    } catch (err) {
      if (this.policy.signal?.aborted) throw interrupted(req.url, this.policy.signal.reason);
      if (!isTransientNetworkError(err)) throw unreachableError(req.url, err);
      return { done: false, why: `the connection to the server failed: ${networkReason(err)}`, retryAfterMs: null };
    }
    const ended = await this.startOf(req, file, res);
    if (ended !== null) return ended;
    const total = res.statusCode === 206 ? (parseContentRange(res.headers['content-range'])?.total ?? null) : contentLength(res.headers);
    req.events?.tryStart?.(file.size, total ?? req.size);
    try {
      return await this.receive(req, file, res, total);
    } finally {
      req.events?.tryEnd?.();
    }
  }

  /**
   * Reads the status of an answer: null when its body is the file's bytes
   * from `file.size` on (after starting the file over for a full answer to a
   * Range); otherwise how the try ends (the body is dumped).
   */
  private async startOf(req: TransferRequest, file: PartFile, res: Dispatcher.ResponseData): Promise<TryOutcome | null> {
    const status = res.statusCode;
    const from = file.size;
    if (status === 206) {
      if (parseContentRange(res.headers['content-range'])?.start === from) return null;
      await res.body.dump();
      req.events?.restart?.(`the server sent another part of ${req.name} than the one asked for: starting over`);
      await file.reset();
      return { done: false, why: 'the server answered a range request with another range', retryAfterMs: null, immediate: true };
    }
    if (status === 200) {
      if (from > 0) {
        req.events?.restart?.(`the server does not support resuming downloads: starting ${req.name} over`);
        await file.reset();
      }
      return null;
    }
    await res.body.dump();
    if (status === 416) {
      // asked from the end of the file: the .part is complete
      if (from > 0 && parseContentRange(res.headers['content-range'])?.total === from) return { done: true };
      req.events?.restart?.(`the server cannot resume ${req.part} (HTTP 416): starting over`);
      await file.reset();
      return { done: false, why: 'the server could not resume the file (HTTP 416)', retryAfterMs: null, immediate: true };
    }
    if (status === 404 || status === 410) throw notFoundError(req.url, status, req.notFoundHint);
    if (status === 401 || status === 403) throw refusedError(req.url, status);
    if (isRetryableStatus(status)) {
      return { done: false, why: `the server answered ${statusText(status)} for ${req.name}`, retryAfterMs: parseRetryAfter(res.headers['retry-after']) };
    }
    throw new TrueFilmError('HTTP_STATUS', `the download of ${req.url} failed with ${statusText(status)}`);
  }

  /** Streams the body into the file; a transfer cut off keeps every byte received. */
  private async receive(req: TransferRequest, file: PartFile, res: Dispatcher.ResponseData, total: number | null): Promise<TryOutcome> {
    let cut: unknown = null;
    try {
      try {
        for await (const chunk of res.body) {
          if (file.push(chunk as Buffer)) {
            await file.flush();
            req.events?.progress?.(file.size);
          }
        }
      } catch (err) {
        if (err instanceof WriteFailure) throw err;
        cut = err;
      }
      await file.flush();
    } catch (err) {
      if (!(err instanceof WriteFailure)) throw err;
      res.body.destroy();
      throw writeError(req, file, err.cause);
    }
    req.events?.progress?.(file.size);
    if (this.policy.signal?.aborted) throw interrupted(req.url, this.policy.signal.reason);
    if (cut !== null) {
      return { done: false, why: `the transfer of ${req.name} was cut off (${networkReason(cut)}) at ${formatBytes(file.size)}`, retryAfterMs: null };
    }
    if (total !== null && file.size < total) {
      return { done: false, why: `the transfer of ${req.name} ended early, at ${formatBytes(file.size)}`, retryAfterMs: null };
    }
    return { done: true };
  }
}

function unreachableError(url: string, err: unknown): TrueFilmError {
  return new TrueFilmError('HTTP_UNREACHABLE', `cannot reach ${url}: ${networkReason(err)}. Check the address and the network, then run again.`, { cause: err });
}

function writeError(req: TransferRequest, file: PartFile, cause: NodeJS.ErrnoException): TrueFilmError {
  if (cause.code === 'ENOSPC' || cause.code === 'EDQUOT') {
    return new TrueFilmError('DOWNLOAD_NO_SPACE', `the disk filled up while downloading ${req.name}`, {
      input: req.part,
      hint: `The ${formatBytes(file.size)} received are kept: free some space and run again to resume.`,
      cause,
    });
  }
  return new TrueFilmError('INPUT_UNREADABLE', `cannot write the download: ${cause.message}`, { input: req.part, cause });
}

/** The size of a file, 0 when there is none. */
export async function sizeOf(path: string): Promise<number> {
  return (await stat(path).catch(() => null))?.size ?? 0;
}
