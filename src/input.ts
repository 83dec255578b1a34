/**
 * An input read once, from its start, and never seeked: a regular file or a
 * device (read straight into the caller's buffer), a FIFO or a shell's
 * `<(...)`, or stdin (`-`). A FIFO is opened non-blocking and polled as a
 * pipe by the event loop: a blocking open or read would hold one of libuv's
 * threads until a writer came, and the process could not even exit. Each
 * wait ends with INTERRUPTED as soon as the signal aborts.
 */
import { constants, openSync, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { TrueFilmError } from './errors.js';

type Reader = (buf: Buffer, offset: number, length: number) => Promise<number>;

/**
 * An input file's status, or the error a user reads: INPUT_NOT_FOUND with
 * `missing` and `hint` when there is no such path, INPUT_UNREADABLE with
 * `unreadable` and the system's reason otherwise.
 */
export async function statInput(path: string, words: { missing: string; unreadable: string; hint: string }): Promise<Stats> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new TrueFilmError('INPUT_NOT_FOUND', words.missing, { input: path, hint: words.hint, cause: err });
    }
    throw new TrueFilmError('INPUT_UNREADABLE', `${words.unreadable}: ${(err as Error).message}`, { input: path, cause: err });
  }
}

export class ByteInput {
  /** bytes read so far */
  bytes = 0;

  private constructor(
    readonly path: string,
    private readonly reader: Reader,
    private readonly release: () => void,
    private readonly signal: AbortSignal | undefined,
  ) {}

  static async open(path: string, signal?: AbortSignal): Promise<ByteInput> {
    if (path !== '-' && !(await stat(path)).isFIFO()) {
      const handle = await open(path, 'r');
      // position null: on from where the last read ended, with no seek
      const reader: Reader = async (buf, offset, length) => (await handle.read(buf, offset, length, null)).bytesRead;
      return new ByteInput(path, reader, () => void handle.close().catch(() => {}), signal);
    }
    const stream = path === '-' ? process.stdin : new Socket({ fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
    return new ByteInput(path, streamReader(stream), () => stream.destroy(), signal);
  }

  /** Reads up to `length` bytes into buf at `offset`; 0 at the end of the input. */
  async read(buf: Buffer, offset: number, length: number): Promise<number> {
    const n = await unlessAborted(this.reader(buf, offset, length), this.signal);
    this.bytes += n;
    return n;
  }

  close(): void {
    this.release();
  }
}

/** A stream's chunks, copied into the caller's buffer as far as it has room. */
function streamReader(stream: Readable): Reader {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let pending: Buffer | null = null;
  return async (buf, offset, length) => {
    while (pending === null || pending.length === 0) {
      const { value, done } = await chunks.next();
      if (done) return 0;
      pending = value;
    }
    const n = pending.copy(buf, offset, 0, Math.min(length, pending.length));
    pending = pending.subarray(n);
    return n;
  };
}

function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(new TrueFilmError('INTERRUPTED', 'stopped while reading the input', { cause: signal.reason }));
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}
