/**
 * A response body read with bounds, so that whatever a server sends, the
 * client holds at most a few MiB of it: at most `limit` bytes as they come
 * over the wire, and at most `limit` bytes once decoded, gzip being inflated
 * as it arrives and stopped at the limit (a 0.5 MB gzip body may inflate to
 * 512 MB; it is never inflated whole to find out).
 */
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { formatMiB } from '../format.js';

/** The body passed the limit: `side` says whether as sent or once decoded. */
export class BodyTooLarge extends Error {
  constructor(
    readonly limit: number,
    readonly side: 'sent' | 'decoded',
    readonly declared: number | null = null,
  ) {
    super(
      declared !== null
        ? `the answer declares ${formatMiB(declared)} (Content-Length), over the ${formatMiB(limit)} an answer may have`
        : `the answer is over the ${formatMiB(limit)} an answer may have${side === 'decoded' ? ' once inflated (gzip)' : ''}`,
    );
    this.name = 'BodyTooLarge';
  }
}

/** The gzip body does not inflate (not gzip, or corrupt). */
export class BodyNotInflating extends Error {
  constructor(cause: unknown) {
    super(`a gzip body that does not inflate: ${(cause as Error).message}`, { cause });
    this.name = 'BodyNotInflating';
  }
}

export interface BodyLimit {
  /** most bytes taken, as sent and once decoded alike */
  limit: number;
  /**
   * What to do past the limit: 'fail' throws BodyTooLarge (an answer that
   * must be whole); 'cut' keeps the first `limit` decoded bytes and stops
   * reading (an error page, of which only the start is shown).
   */
  over: 'fail' | 'cut';
}

/** Content encodings inflated here; the client asks for gzip only. */
const GZIP = new Set(['gzip', 'x-gzip']);
/** Inflate in 64 KiB pieces: a bomb is stopped within one piece of the limit. */
const INFLATE_CHUNK = 64 << 10;

/** Thrown inside the pipeline to stop a 'cut' read once it has enough; never leaves readBody. */
class Enough extends Error {}

/**
 * Reads `body` to its end, or to the limit, and returns it decoded. On
 * BodyTooLarge, BodyNotInflating or a network error, and after a cut, the
 * body is destroyed (the connection is not reused), never left half-read.
 */
export async function readBody(
  body: Readable,
  headers: { 'content-encoding'?: string | string[]; 'content-length'?: string | string[] },
  { limit, over }: BodyLimit,
): Promise<Buffer> {
  const encoding = String(headers['content-encoding'] ?? '').trim().toLowerCase();
  const gzip = GZIP.has(encoding);
  const declared = Number(headers['content-length']);
  if (over === 'fail' && Number.isFinite(declared) && declared > limit) {
    body.destroy();
    throw new BodyTooLarge(limit, 'sent', declared);
  }

  const chunks: Buffer[] = [];
  let kept = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (kept + chunk.length <= limit) {
        chunks.push(chunk);
        kept += chunk.length;
        return done();
      }
      if (over === 'fail') return done(new BodyTooLarge(limit, gzip ? 'decoded' : 'sent'));
      chunks.push(chunk.subarray(0, limit - kept));
      kept = limit;
      done(new Enough());
    },
  });
  // The bytes as sent, counted before they are inflated: a gzip body larger than the limit fails however it inflates.
  let sent = 0;
  async function* counted(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      sent += chunk.length;
      if (sent > limit) {
        if (over === 'fail') throw new BodyTooLarge(limit, 'sent');
        yield chunk.subarray(0, chunk.length - (sent - limit));
        throw new Enough();
      }
      yield chunk;
    }
  }
  try {
    if (gzip) await pipeline(body, counted, createGunzip({ chunkSize: INFLATE_CHUNK }), sink);
    else await pipeline(body, counted, sink);
  } catch (err) {
    body.destroy();
    if (err instanceof Enough) return Buffer.concat(chunks, kept);
    // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR...) are the body's fault; any other (a reset, a timeout) is the network's
    if (gzip && /^Z_/.test(String((err as { code?: unknown }).code))) throw new BodyNotInflating(err);
    throw err;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, kept);
}
