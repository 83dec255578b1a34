/**
 * The plumbing shared by the tests' stand-ins for public services (the SPARQL
 * endpoint, the MediaWiki Action API): a real HTTP server on 127.0.0.1
 * listen(0) that records every request (arrival, attempt, requests in flight,
 * what was answered), and injects faults the way the real services fail.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip } from 'node:zlib';

export type Fault =
  /** an error status, with an optional Retry-After and body */
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** the right answer, after a delay (a client may time out first) */
  | { kind: 'slow'; delayMs: number }
  /** 200 with a body that is not JSON (cut in the middle) */
  | { kind: 'malformed' }
  /** 200 with JSON of the wrong shape */
  | { kind: 'wrong-shape' }
  /** the connection reset (RST) before any response */
  | { kind: 'reset' }
  /** the headers and half the body, then the connection closed */
  | { kind: 'truncated' }
  /**
   * 200 (or `status`), `Content-Encoding: gzip`, a body that inflates to
   * `inflated` bytes of spaces (about 1/1000 of that as sent), or never
   * stops inflating when `inflated` is absent
   */
  | { kind: 'bomb'; inflated?: number; status?: number }
  /**
   * 200 (or `status`), a body of `bytes` spaces (absent: one that never ends),
   * as fast as the client reads it; with `declared`, a Content-Length saying
   * so; with `encoding`, a Content-Encoding that says what it is not
   */
  | { kind: 'flood'; bytes?: number; declared?: boolean; status?: number; encoding?: string };

/** What every recorded request has; each server adds its own fields. */
export interface BaseRecord {
  /** 1-based arrival order */
  n: number;
  /** Date.now() when the request (headers and body) arrived */
  arrivedAt: number;
  method: string;
  userAgent: string | undefined;
  accept: string | undefined;
  /** 1 for the first time this exact request came, 2 for the next... */
  attempt: number;
  /** requests in flight when this one arrived, itself included */
  inFlight: number;
  fault: Fault['kind'] | null;
  /** the status sent (0 for a reset), once answered */
  status?: number;
  /** Date.now() when the response was sent */
  answeredAt?: number;
  /** the client went away before the answer (or, for a streamed body, before its end) */
  abandoned?: boolean;
  /** a streamed body's bytes written to the socket (as sent: compressed for a bomb) */
  streamed?: number;
}

export interface FaultServerState<R extends BaseRecord> {
  requests: R[];
  /** the most requests ever in flight at once */
  maxInFlight: number;
  inFlight: number;
  /** resolves when `inFlight` reaches n (at once if it has) */
  whenInFlight(n: number): Promise<void>;
  close(): Promise<void>;
}

/** One request being answered. */
export interface Exchange<R extends BaseRecord> {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  record: R;
  /** whether an answer was sent, or the client went away */
  readonly done: boolean;
  send(status: number, type: string, text: string | Buffer, headers?: Record<string, string>): void;
  /** a connection reset (RST) */
  reset(): void;
  /** the headers and half of `full`, then the connection closed */
  truncate(type: string, full: string): void;
  /** `body` streamed as the client reads it; resolves once it ended or the client went away */
  stream(status: number, headers: Record<string, string | number>, body: Readable): Promise<void>;
  /** a delay cancelled by close() */
  later(ms: number): Promise<void>;
}

export interface FaultServerSpec<R extends BaseRecord> {
  /** the request's own fields, and the key that counts its attempts */
  describe(req: http.IncomingMessage, body: string): { attemptKey: string; fields: Omit<R, keyof BaseRecord> };
  serve(exchange: Exchange<R>): Promise<void>;
}

/** Starts the server; `state` is filled in and gets its close(). Returns the port. */
export async function startFaultServer<R extends BaseRecord>(state: FaultServerState<R>, spec: FaultServerSpec<R>): Promise<number> {
  const attempts = new Map<string, number>();
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
  state.whenInFlight = (n) => (state.inFlight >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })));

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    const { attemptKey, fields } = spec.describe(req, body);
    const attempt = (attempts.get(attemptKey) ?? 0) + 1;
    attempts.set(attemptKey, attempt);
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    const record = {
      n: state.requests.length + 1,
      arrivedAt: Date.now(),
      method: req.method ?? '',
      userAgent: req.headers['user-agent'],
      accept: req.headers.accept,
      attempt,
      inFlight: state.inFlight,
      fault: null,
      ...fields,
    } as R;
    state.requests.push(record);
    for (const w of waiters.filter((x) => state.inFlight >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }

    let done = false;
    const finish = (status: number): void => {
      if (done) return;
      done = true;
      record.status = status;
      record.answeredAt = Date.now();
      state.inFlight--; // counted out before the client can see the answer and send the next one
    };
    // The client may give up (timeout, abort): the request is then no longer in flight.
    res.on('close', () => {
      if (done) return;
      record.abandoned = true;
      done = true;
      state.inFlight--;
    });
    await spec.serve({
      req,
      res,
      record,
      get done() {
        return done;
      },
      send(status, type, text, headers = {}) {
        if (done) return;
        finish(status);
        res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
        res.end(text);
      },
      reset() {
        finish(0);
        req.socket.resetAndDestroy();
      },
      truncate(type, full) {
        finish(200);
        res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(full) });
        res.write(full.slice(0, Math.floor(full.length / 2)), () => req.socket.destroy());
      },
      async stream(status, headers, body) {
        if (done) return;
        finish(status);
        record.streamed = 0;
        res.writeHead(status, headers);
        body.on('data', (chunk: Buffer) => (record.streamed! += chunk.length));
        await pipeline(body, res).catch(() => {
          record.abandoned = true;
        });
      },
      later,
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.close = async () => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return (server.address() as AddressInfo).port;
}

/**
 * The common part of answering with a fault: the fault function is asked,
 * the server's delay and the User-Agent rule applied, then `answer` runs or
 * the fault is played. Returns when the exchange is over.
 */
export async function playFault<R extends BaseRecord>(
  x: Exchange<R>,
  fault: Fault | null,
  how: {
    delayMs?: number;
    /** the service's 403 text for a missing User-Agent */
    noUserAgent: string;
    /** checks that come before any fault (bad method, bad path): true when it answered */
    refuse?: () => boolean;
    answer: () => void;
    /** the type and full text of a good answer, for 'malformed' and 'truncated' */
    full: () => { type: string; text: string };
    /** 'status' faults' body type */
    errorType: string;
    errorBody: (status: number) => string;
    wrongShape?: () => string;
  },
): Promise<void> {
  x.record.fault = fault?.kind ?? null;
  if (how.delayMs) await x.later(how.delayMs);
  if (x.done) return;
  const ua = x.req.headers['user-agent'];
  if (ua === undefined || ua.trim() === '') return x.send(403, 'text/plain; charset=utf-8', how.noUserAgent);
  if (how.refuse?.()) return;
  switch (fault?.kind) {
    case undefined:
      return how.answer();
    case 'status':
      return x.send(fault.status, how.errorType, fault.body ?? how.errorBody(fault.status), fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter });
    case 'slow':
      await x.later(fault.delayMs);
      return how.answer();
    case 'malformed': {
      const { type, text } = how.full();
      return x.send(200, type, text.slice(0, Math.max(1, Math.floor(text.length / 2))));
    }
    case 'wrong-shape':
      return x.send(200, how.full().type, how.wrongShape?.() ?? '{}');
    case 'reset':
      return x.reset();
    case 'truncated': {
      const { type, text } = how.full();
      return x.truncate(type, text);
    }
    case 'bomb':
      return x.stream(fault.status ?? 200, { 'content-type': how.full().type, 'content-encoding': 'gzip' }, bomb(fault.inflated));
    case 'flood': {
      const headers: Record<string, string | number> = { 'content-type': how.full().type };
      if (fault.declared && fault.bytes !== undefined) headers['content-length'] = fault.bytes;
      if (fault.encoding !== undefined) headers['content-encoding'] = fault.encoding;
      return x.stream(fault.status ?? 200, headers, filler(fault.bytes));
    }
  }
}

/** `bytes` bytes of spaces (forever when absent), 64 KiB a chunk, made as they are read. */
export function filler(bytes = Infinity, byte = 0x20): Readable {
  const chunk = Buffer.alloc(64 << 10, byte);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(chunk.length, left);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

/** A gzip body that inflates to `inflated` bytes of spaces (forever when absent), compressed as it is read. */
export function bomb(inflated?: number): Readable {
  return filler(inflated).pipe(createGzip({ level: constants.Z_BEST_COMPRESSION, chunkSize: 64 << 10 }));
}
