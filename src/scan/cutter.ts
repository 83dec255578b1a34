/**
 * The compressed path's cutting, whatever the format: decompressed bytes in,
 * chunks out that each start at the file's start or where a doc starts, so
 * that any worker can scan one. Each format says where it may cut
 * (`FormatCutter`'s abstract methods: at a `<doc>` for the abstract dump, at a
 * line start for CirrusSearch).
 *
 * Nothing large is copied: a buffer that the decompressor filled whole (and
 * let go of) is sent as it is, moved to the worker, from its first place to
 * cut to its last; the few bytes around its edges (the doc that straddles two
 * buffers) travel as a small copied prefix of the next chunk. Smaller pieces
 * are gathered into chunks of their own. A doc larger than `maxDocBytes` is
 * sent as its first bytes only (the scanner reports it as too large, as it
 * does for a plain file) and the rest of it is skipped: memory stays flat.
 */
import { appendAt, asBuffer } from './bytes.js';
import { DEFAULT_MAX_DOC_BYTES, type Cutter, type CutterOptions, type InflatedChunk } from './types.js';

/** A buffer that zlib filled from end to end (and so no longer writes into). */
function whole(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer);
}

/** The bytes not yet sent: [start, start + length) of the decompressed file, in buf[0, length). */
class Carry {
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

/** The cutting that every format shares; the format says where a chunk may start. */
export abstract class FormatCutter implements Cutter {
  readonly #chunkSize: number;
  protected readonly maxDoc: number;
  /** the bytes not yet sent, from where a chunk may start (or the file's start) */
  readonly #carry: Carry;
  /** skipping the rest of a doc too large to send */
  #skipping = false;
  /** where the doc being skipped starts */
  protected skipFrom = 0;
  #total = 0;

  constructor(options: CutterOptions) {
    this.#chunkSize = Math.max(1, options.chunkSize);
    this.maxDoc = options.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES;
    this.#carry = new Carry(this.#chunkSize);
  }

  // ---- what each format says ----

  /** The last place in buf[0, length) where a chunk may start, after 0; or -1. `abs`: the file's offset of buf[0]. */
  protected abstract lastCut(buf: Buffer, length: number, abs: number): number;
  /** Where the doc still open at the end of buf[0, length) starts (no cut lies after it). */
  protected abstract openAt(buf: Buffer, length: number): number;
  /**
   * A whole buffer that follows the bytes held (held[0, heldLength)): the part
   * [from, to) of it that can go as it is, the bytes before `from` joining
   * the held ones and a chunk starting at `to`; or null.
   */
  protected abstract wholeSpan(held: Buffer, heldLength: number, bytes: Buffer, abs: number): [from: number, to: number] | null;
  /** A doc too large to send starts skipping: buf[from, to) are its last bytes sent. */
  protected abstract beginSkip(buf: Buffer, from: number, to: number): void;
  /** While skipping, the next bytes: from the next doc's start on (with bytes kept from before, if it started there), or null. */
  protected abstract skip(bytes: Buffer): Buffer | null;
  /** The input ends while skipping: throws DUMP_TRUNCATED unless the skipped doc was whole. */
  protected abstract endSkip(total: number): void;

  // ---- the cutting ----

  push(data: Uint8Array): InflatedChunk[] {
    const bytes = asBuffer(data);
    const abs = this.#total;
    this.#total += bytes.length;
    const carry = this.#carry;
    if (this.#skipping) {
      const rest = this.skip(bytes);
      if (rest === null) return [];
      this.#skipping = false;
      carry.restart(this.#total - rest.length);
      carry.append(rest);
      return this.#cut([]);
    }
    if (carry.takesWhole(data)) {
      const span = this.wholeSpan(carry.buf, carry.length, bytes, abs);
      if (span !== null) {
        carry.append(bytes.subarray(0, span[0]));
        return this.#cut([carry.sendWith(bytes, span[0], span[1], abs)]);
      }
    }
    carry.append(bytes);
    return this.#cut([]);
  }

  end(): InflatedChunk[] {
    if (this.#skipping) {
      this.endSkip(this.#total);
      return [];
    }
    return [this.#carry.send(this.#carry.length, true)];
  }

  /** Sends what the carry holds beyond the chunk size, cut where the format allows. */
  #cut(out: InflatedChunk[]): InflatedChunk[] {
    const carry = this.#carry;
    while (carry.length >= this.#chunkSize) {
      const cut = this.lastCut(carry.buf, carry.length, carry.start);
      if (cut > 0) {
        out.push(carry.send(cut, false));
        continue;
      }
      const open = this.openAt(carry.buf, carry.length);
      if (carry.length - open > this.maxDoc) {
        // a doc larger than the limit: send its first bytes, skip the rest
        this.skipFrom = carry.start + open;
        this.beginSkip(carry.buf, open, carry.length);
        out.push(carry.send(carry.length, false));
        this.#skipping = true;
      }
      break; // else a large doc: wait for its end
    }
    return out;
  }
}
