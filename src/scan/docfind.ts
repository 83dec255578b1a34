/**
 * The abstract-dump scan's inner loop in WebAssembly SIMD (wasm/docfind.c):
 * one call per window of up to 64 KiB finds every `<doc>`, 16 bytes a lane
 * compare, instead of one `Buffer.indexOf` per doc (a call into C++ each, and
 * memchr on '<', which comes every 15 bytes or so in the dump).
 *
 * The finder works on its own WebAssembly memory. A buffer that lies in its
 * read buffer (`readBuffer()`: the worker reads the file straight into it;
 * `copyIn()` copies other bytes into it) is searched where it is, and the
 * scanner's fast path over each doc (readDocFast in xml.ts: `<title>`, its
 * key hash, `<url>`, `</doc>`) runs there too (`scan()`). `find()` only
 * searches, and takes any buffer (copied into the memory a window at a time).
 *
 * One finder per thread (`docFinder()`), or null where WebAssembly SIMD is
 * not available, or when TRUEFILM_SCAN_SIMD=0: the scanner then searches with
 * `Buffer.indexOf` and reads each doc with readDocFast, its one fallback.
 */
import { TrueFilmError } from '../errors.js';
import { DOCFIND_WASM } from './wasm/docfind.wasm.js';

/** the most bytes one find() or scan() call searches */
export const FIND_WINDOW = 64 << 10;
/** the most bytes one copyIn() call copies: as much as a worker reads at a time */
export const COPY_IN_BYTES = 256 << 10;

/** The part of the WebAssembly JS API used here (lib.dom is not in this project's types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
type FindFn = (ptr: number, scan: number, avail: number, out: number, base: number) => number;
type ScanFn = (ptr: number, len: number, seg: number, from: number, to: number, out: number) => number;

const PAGE = 64 << 10;
/** bytes the WebAssembly code may read past a window's end */
const PAD = 128;
/** [0, 128 KiB): the C stack's room (unused); then the output (up to 3 numbers a doc), the staging window, the read buffer */
const OUT = 128 << 10;
const OUT_DOCS = Math.ceil(FIND_WINDOW / 5) + 16;
const STAGE = OUT + Math.ceil((OUT_DOCS * 3 * 4) / PAGE) * PAGE;
const READ = STAGE + FIND_WINDOW + 4 * 1024; // a multiple of 4 KiB
/**
 * Room made at the start for a read buffer of up to 1 MiB: growing the memory
 * later detaches its old ArrayBuffer, and the first detach in a thread makes
 * V8 check every typed-array access of that thread for one from then on
 * (measured: the CirrusSearch scan, whose loops read bytes in JS, took 1.4×
 * the time in a worker where the memory had grown once).
 */
const READ_ROOM = (1 << 20) + 4096;

export class DocFinder {
  readonly #find: FindFn;
  readonly #scan: ScanFn;
  readonly #memory: WasmMemory;
  #bytes!: Uint8Array;
  #offsets!: Int32Array;
  #docs!: Int32Array;
  /** the read buffer's room: [READ, READ + readRoom) of the memory */
  #readRoom = READ_ROOM;

  constructor(wasm: WasmApi, bytes: Uint8Array) {
    this.#memory = new wasm.Memory({ initial: Math.ceil((READ + READ_ROOM + PAD) / PAGE) });
    const instance = new wasm.Instance(new wasm.Module(bytes), { env: { memory: this.#memory } });
    this.#find = instance.exports.find as FindFn;
    this.#scan = instance.exports.scan as ScanFn;
    this.#views();
  }

  /** Where the last find() wrote its offsets (a view that a later readBuffer() may replace). */
  get offsets(): Int32Array {
    return this.#offsets;
  }

  /** Where the last scan() wrote its docs, 3 numbers each (a view that a later readBuffer() may replace). */
  get docs(): Int32Array {
    return this.#docs;
  }

  /**
   * A buffer of `size` bytes in the finder's memory, searched in place; its
   * first byte is the first of a 4 KiB page (the memory's pages are). There
   * is one per finder: a call returns the same memory. Asking for more than
   * 1 MiB grows it (buffers and views returned before are then empty: ask
   * again), which slows every typed array of the thread a little (READ_ROOM).
   */
  readBuffer(size: number): Buffer {
    const need = READ + size + PAD;
    const have = this.#memory.buffer.byteLength;
    if (need > have) {
      this.#memory.grow(Math.ceil((need - have) / PAGE));
      this.#views();
    }
    this.#readRoom = Math.max(this.#readRoom, size);
    return Buffer.from(this.#memory.buffer, READ, size);
  }

  /** Copies `bytes` (at most COPY_IN_BYTES) to the start of the read buffer, and returns them there. */
  copyIn(bytes: Uint8Array): Buffer {
    if (bytes.length > COPY_IN_BYTES) throw new TrueFilmError('INTERNAL', `copyIn() takes at most ${COPY_IN_BYTES} bytes`);
    this.#bytes.set(bytes, READ);
    return Buffer.from(this.#memory.buffer, READ, bytes.length);
  }

  /** buf lies in the read buffer: it is searched in place, and scan() can work on it. */
  holds(buf: Uint8Array): boolean {
    return buf.buffer === this.#memory.buffer && buf.byteOffset >= READ && buf.byteOffset + buf.length <= READ + this.#readRoom;
  }

  /**
   * Finds every `<doc>` that starts in buf[from, to) (to - from <= FIND_WINDOW)
   * and ends within buf, and writes their offsets in buf to `offsets`, in
   * order; returns how many.
   */
  find(buf: Uint8Array, from: number, to: number): number {
    const scan = to - from;
    if (scan <= 0) return 0;
    const avail = Math.min(buf.length, to + 4) - from;
    if (this.holds(buf)) return this.#find(buf.byteOffset + from, scan, avail, OUT, from);
    this.#bytes.set(buf.subarray(from, from + avail), STAGE);
    return this.#find(STAGE, scan, avail, OUT, from);
  }

  /**
   * For a buffer in the read buffer (holds()): finds every `<doc>` that starts
   * in buf[from, to) (to - from <= FIND_WINDOW) and ends within buf, and runs
   * the scanner's fast path over the doc before each one (the doc that starts
   * at `seg`, then at each `<doc>` found). Writes to `docs`, for each `<doc>`:
   * its offset in buf, where the doc before it ends (after its `</doc>`) or -1
   * when the fast path cannot read that doc, and that doc's key hash. Returns
   * how many.
   */
  scan(buf: Uint8Array, seg: number, from: number, to: number): number {
    if (to <= from) return 0;
    return this.#scan(buf.byteOffset, buf.length, seg, from, to, OUT);
  }

  #views(): void {
    this.#bytes = new Uint8Array(this.#memory.buffer);
    this.#offsets = new Int32Array(this.#memory.buffer, OUT, OUT_DOCS);
    this.#docs = new Int32Array(this.#memory.buffer, OUT, OUT_DOCS * 3);
  }
}

let finder: DocFinder | null | undefined;

/** This thread's finder, as TRUEFILM_SCAN_SIMD says (see makeFinder). */
export function docFinder(): DocFinder | null {
  if (finder === undefined) finder = makeFinder(process.env.TRUEFILM_SCAN_SIMD);
  return finder;
}

/** A new finder: null for `0` (`false`, `off`, `no`) and when this runtime has no WebAssembly SIMD. */
export function makeFinder(setting?: string): DocFinder | null {
  const value = (setting ?? '').trim().toLowerCase();
  if (/^(0|false|off|no)$/.test(value)) return null;
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return null;
  const bytes = Buffer.from(DOCFIND_WASM, 'base64');
  try {
    if (!wasm.validate(bytes)) return null;
    return new DocFinder(wasm, bytes);
  } catch {
    return null;
  }
}
