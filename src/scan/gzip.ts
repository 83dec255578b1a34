/**
 * The `.gz` path's source: the main thread inflates the file as a stream
 * (zlib runs on libuv's thread pool, in large chunks: its default 16 KiB is
 * twice as slow) and hands out zlib's own buffers, whole where zlib filled
 * them, so that the format's cutter (cutter.ts) can move them to a worker as
 * they are. `drain` is the stream reading that the `.bz2` path shares.
 */
import { createReadStream } from 'node:fs';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { TrueFilmError } from '../errors.js';

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
