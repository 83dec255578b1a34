/**
 * What the `.gz`/`.bz2` cutters share (DocCutter in gzip.ts, LineCutter in
 * cirrus.ts): the decompressed bytes held back until they can be cut where a
 * chunk may start, and the chunks made of them. Each chunk's memory is its
 * own, so that it can be moved to a worker, never copied.
 */

/** Bytes of the decompressed file from `start` on, in parts that follow one another. */
export interface InflatedChunk {
  /** each part's buffer belongs to the chunk alone: it can be moved to a worker */
  parts: Uint8Array[];
  /** offset of the first part's first byte in the decompressed file: 0 or where a chunk may start */
  start: number;
  /** the chunk ends the file; otherwise a chunk may start right after it */
  last: boolean;
}

/** A buffer that zlib filled from end to end (and so no longer writes into). */
function whole(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer);
}

/**
 * `buf` with `bytes` written at `length`: buf itself when they fit, else a
 * larger buffer (its own memory, which can move to a worker) with buf[0, length)
 * copied first. Callers keep the returned buffer and add bytes.length to their length.
 */
export function appendAt(buf: Buffer, length: number, bytes: Uint8Array): Buffer {
  const need = length + bytes.length;
  let out = buf;
  if (need > buf.length) {
    out = Buffer.allocUnsafeSlow(Math.max(need, buf.length * 2, 4096));
    buf.copy(out, 0, 0, length);
  }
  out.set(bytes, length);
  return out;
}

/** The bytes not yet sent: [start, start + length) of the decompressed file, in buf[0, length). */
export class Carry {
  buf: Buffer;
  length = 0;
  start = 0;
  readonly #size: number;
  /** a whole buffer this large or larger goes to a worker as it is (sendWith) */
  readonly #wholeFrom: number;

  /** `chunkSize`: about how many bytes a chunk holds */
  constructor(chunkSize: number) {
    this.#wholeFrom = Math.min(chunkSize, 1 << 20);
    this.#size = this.#wholeFrom + 4096;
    this.buf = Buffer.allocUnsafeSlow(this.#size);
  }

  /** `data` is a buffer zlib filled whole, large enough to be sent as it is rather than copied. */
  takesWhole(data: Uint8Array): boolean {
    return whole(data) && data.length >= this.#wholeFrom;
  }

  /** Empties the carry: its next byte is the file's byte `start`. */
  restart(start: number): void {
    this.length = 0;
    this.start = start;
  }

  /** Copies `bytes` in after the bytes held. */
  append(bytes: Uint8Array): void {
    this.buf = appendAt(this.buf, this.length, bytes);
    this.length += bytes.length;
  }

  /** Sends buf[0, n) (its memory moves with the chunk) and keeps the rest in a new buffer. */
  send(n: number, last: boolean): InflatedChunk {
    const chunk: InflatedChunk = { parts: [this.buf.subarray(0, n)], start: this.start, last };
    const rest = this.length - n;
    const next = Buffer.allocUnsafeSlow(Math.max(this.#size, rest * 2));
    this.buf.copy(next, 0, n, this.length);
    this.buf = next;
    this.length = rest;
    this.start += n;
    return chunk;
  }

  /**
   * Sends the bytes held (as a small copied prefix) and then `bytes[from, to)`
   * as they are: `bytes` is a whole buffer that the caller gives up, the file's
   * bytes from `at` on, and the bytes held end where bytes[from] starts. The
   * carry then holds a copy of bytes[to, end), from where a chunk may start.
   */
  sendWith(bytes: Buffer, from: number, to: number, at: number): InflatedChunk {
    const parts: Uint8Array[] = [];
    if (this.length > 0) {
      const prefix = Buffer.allocUnsafeSlow(this.length); // its own memory: it moves too
      this.buf.copy(prefix, 0, 0, this.length);
      parts.push(prefix);
    }
    parts.push(bytes.subarray(from, to));
    const chunk: InflatedChunk = { parts, start: this.start, last: false };
    this.restart(at + to);
    this.append(bytes.subarray(to)); // copied before the buffer moves
    return chunk;
  }
}
