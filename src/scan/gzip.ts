/**
 * The `.gz` path: the main thread inflates the file as a stream (zlib runs on
 * libuv's thread pool, in large chunks: its default 16 KiB is twice as slow)
 * and cuts the output where a `<doc>` starts, so that each chunk holds whole
 * docs and can go to any worker.
 *
 * Nothing large is copied: a buffer that zlib filled whole (and let go of) is
 * sent as it is, moved to the worker, from its first `<doc>` to its last; the
 * few bytes around its edges (the doc that straddles two buffers) travel as
 * a small copied prefix of the next chunk. Partial buffers are gathered into
 * a chunk of their own.
 *
 * `DocCutter` is the cutting core (push/end, no streams); `gunzipBuffers`
 * gives it zlib's buffers (decompress.ts puts the two together, and picks
 * LineCutter instead for a CirrusSearch dump). A doc larger than
 * `maxDocBytes` is sent as its first bytes only (the scanner reports it as
 * too large, exactly as it does for `.xml`) and the rest of it is skipped
 * here: memory stays flat.
 */
import { createReadStream } from 'node:fs';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { TrueFilmError } from '../errors.js';
import { Carry, type InflatedChunk } from './carry.js';
import { DEFAULT_MAX_DOC_BYTES, DOC_START, feedClose, splitDocStart, TAIL_WINDOW, truncatedError } from './scanner.js';

export interface CutterOptions {
  /** inflated bytes per chunk, about */
  chunkSize: number;
  maxDocBytes?: number;
}

export class DocCutter {
  readonly #chunkSize: number;
  readonly #maxDoc: number;
  /** the bytes not yet sent, from a `<doc>` (or the file's start) */
  readonly #carry: Carry;
  /** skipping the rest of a doc too large to send (it started at skipFrom) */
  #skipping = false;
  #skipFrom = 0;
  #tail = Buffer.alloc(0);
  #total = 0;

  constructor(options: CutterOptions) {
    this.#chunkSize = Math.max(1, options.chunkSize);
    this.#maxDoc = options.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES;
    this.#carry = new Carry(this.#chunkSize);
  }

  /**
   * The next inflated bytes. When `data` is a whole buffer that the caller
   * gives up, it may become a part of a chunk as it is (and be moved).
   */
  push(data: Uint8Array): InflatedChunk[] {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const abs = this.#total;
    this.#total += bytes.length;
    if (this.#skipping) {
      // look for the next `<doc>`, also across the previous push (skipping is rare: copies are fine)
      const keep = Math.min(4, this.#tail.length);
      const joined = Buffer.concat([this.#tail.subarray(this.#tail.length - keep), bytes]);
      const at = joined.indexOf(DOC_START);
      if (at < 0) {
        this.#tail = Buffer.from(joined.subarray(Math.max(0, joined.length - TAIL_WINDOW)));
        return [];
      }
      this.#skipping = false;
      this.#carry.restart(abs - keep + at);
      this.#carry.append(joined.subarray(at));
      return this.#cut([]);
    }
    // a large whole buffer goes as it is, unless a `<doc>` straddles its start
    if (this.#carry.takesWhole(data) && splitDocStart(this.#carry.buf, this.#carry.length, bytes, 0) === 0) {
      const first = bytes.indexOf(DOC_START);
      const last = first < 0 ? -1 : bytes.lastIndexOf(DOC_START);
      if (last > first) {
        this.#carry.append(bytes.subarray(0, first));
        const chunk = this.#carry.sendWith(bytes, first, last, abs);
        return [chunk];
      }
    }
    this.#carry.append(bytes);
    return this.#cut([]);
  }

  /** Sends what the carry holds beyond the chunk size, cut at a `<doc>`. */
  #cut(out: InflatedChunk[]): InflatedChunk[] {
    while (this.#carry.length >= this.#chunkSize) {
      // cut at the last `<doc>` (not the one the carry starts with)
      const cut = this.#carry.buf.subarray(0, this.#carry.length).lastIndexOf(DOC_START);
      if (cut > 0) {
        out.push(this.#carry.send(cut, false));
        continue;
      }
      if (this.#carry.length > this.#maxDoc) {
        // one doc (or the header) larger than the limit: send its first bytes, skip the rest
        this.#skipFrom = this.#carry.start;
        this.#tail = Buffer.from(this.#carry.buf.subarray(Math.max(0, this.#carry.length - TAIL_WINDOW), this.#carry.length));
        out.push(this.#carry.send(this.#carry.length, false));
        this.#skipping = true;
        return out;
      }
      break; // a large doc: wait for its end
    }
    return out;
  }

  /** The inflated data ends: the last chunk (the file's end). */
  end(): InflatedChunk[] {
    if (this.#skipping) {
      if (feedClose(this.#tail, 0) < 0) throw truncatedError(this.#total, this.#skipFrom === 0 ? null : this.#skipFrom);
      return [];
    }
    return [this.#carry.send(this.#carry.length, true)];
  }
}

/**
 * Inflates `file` and yields zlib's output buffers, whole where zlib filled
 * them (so that they can be moved to a worker as they are); a corrupt or
 * cut-short gzip is DUMP_GZIP, with the compressed bytes read so far.
 */
export async function* gunzipBuffers(file: string, onRead?: (compressedBytes: number) => void): AsyncGenerator<Buffer> {
  const source = createReadStream(file, { highWaterMark: 1 << 20 });
  // large output buffers (sent whole), and a deep readable buffer so that zlib
  // inflates ahead while the main thread cuts
  const gunzip = createGunzip({ chunkSize: 4 << 20, readableHighWaterMark: 4 << 20 } as ZlibOptions);
  let compressed = 0;
  source.on('data', (chunk: Buffer | string) => {
    compressed += chunk.length;
    onRead?.(compressed);
  });
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  // zlib hands out consecutive slices of one output buffer until it is full,
  // then starts a new one and never writes into the old one again: slices are
  // held until their buffer is complete, which then goes whole (not copied)
  let held: ArrayBuffer | null = null;
  let heldEnd = 0;
  const flush = (): Buffer[] => {
    if (held === null) return [];
    const bytes = Buffer.from(held, 0, heldEnd);
    held = null;
    return [bytes];
  };
  const feed = (data: Buffer): Buffer[] => {
    const out: Buffer[] = [];
    if (data.buffer === held && data.byteOffset === heldEnd) {
      heldEnd += data.length;
    } else {
      out.push(...flush());
      if (data.byteOffset === 0 && !(data.buffer instanceof SharedArrayBuffer)) {
        held = data.buffer;
        heldEnd = data.length;
      } else {
        out.push(data);
      }
    }
    if (held !== null && heldEnd === held.byteLength) out.push(...flush());
    return out;
  };
  try {
    // 'data' events hand over zlib's buffers as they are (a read() would join them)
    for await (const batch of drain(gunzip)) for (const data of batch) for (const bytes of feed(data)) yield bytes;
  } catch (err) {
    if (err instanceof TrueFilmError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') {
      throw new TrueFilmError('INPUT_UNREADABLE', `cannot read the file: ${e.message}`, { input: file, cause: err });
    }
    const cut = e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message);
    throw new TrueFilmError('DUMP_GZIP', cut ? 'the gzip file is cut short (unexpected end of file)' : `the gzip data is corrupt: ${e.message}`, {
      input: file,
      offset: compressed,
      hint: 'Download the file again (./data_download.sh), or check it with `gzip -t`.',
      cause: err,
    });
  } finally {
    source.destroy();
    gunzip.destroy();
  }
  yield* flush();
}

/**
 * A readable's 'data' events as an async iterable of batches: the buffers that
 * came since the last batch, handed over once `minBatch` bytes wait (or the
 * stream ends), so that a producer of small pieces (a pipe from bzip2 gives a
 * few KiB at a time) does not cost a wake-up each. The stream is paused while
 * `maxQueued` bytes wait. Unlike read(), 'data' never joins buffers. The
 * stream's 'error' is thrown.
 */
export async function* drain(
  stream: NodeJS.ReadableStream & { isPaused(): boolean },
  { minBatch = 1 << 20, maxQueued = 24 << 20 }: { minBatch?: number; maxQueued?: number } = {},
): AsyncGenerator<Buffer[]> {
  let queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const signal = (): void => {
    wake?.();
    wake = null;
  };
  stream.on('data', (data: Buffer) => {
    queue.push(data);
    queued += data.length;
    if (queued >= maxQueued) stream.pause();
    if (queued >= minBatch) signal();
  });
  stream.on('end', () => {
    ended = true;
    signal();
  });
  stream.on('error', (err: Error) => {
    failure = err;
    signal();
  });
  for (;;) {
    if (queue.length > 0 && (queued >= minBatch || ended || failure)) {
      const batch = queue;
      queue = [];
      queued = 0;
      if (stream.isPaused()) stream.resume();
      yield batch;
      continue;
    }
    if (failure) throw failure;
    if (ended) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}
