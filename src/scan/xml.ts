/**
 * The abstract dump (`enwiki-latest-abstract.xml`): its scanner, its fast
 * path and its cutter.
 *
 * Docs are delimited by `<doc>`: a doc runs from its `<doc>` to the next one
 * (or to `</feed>`), and must end with `</doc>`. A scanner owns the docs that
 * START in [start, bound); the last one may run past `bound`, and the caller
 * keeps pushing until push() returns false. A scanner whose first byte is not
 * the file's first byte skips to the first `<doc>`: those bytes belong to the
 * range before.
 *
 * Per doc, the fast path reads `<doc>`, `<title>...</title>`, `<url>` and the
 * closing `</doc>` where the dump's layout puts them, hashes the title's bytes
 * (the five named entities decoded on the way) and looks the hash up in the
 * KeyTable: no string is made for a doc that is not wanted. Wanted docs, and
 * docs the fast path cannot read, are parsed with sax (doc.ts) up to their
 * `<links>`, which are most of a doc's bytes and never used.
 *
 * The `<doc>`s are found, and the fast path run over each, a window at a
 * time by the thread's WebAssembly SIMD finder (docfind.ts; `fast()` in
 * wasm/docfind.c is readDocFast's twin), in the finder's own memory: the
 * worker reads the file there, and other bytes are copied there a piece at a
 * time. Without the finder (TRUEFILM_SCAN_SIMD=0, or no WebAssembly SIMD),
 * each `<doc>` is found with Buffer.indexOf and read by readDocFast. Both ways
 * give the same output.
 *
 * What is malformed (counted, with offsets; the scan goes on):
 *   - text between docs (after a `</doc>`, or after `<feed>`) that is not whitespace;
 *   - a doc without `</doc>` before the next `<doc>`;
 *   - a doc larger than `maxDocBytes` (its bytes are skipped, memory stays flat);
 *   - a doc with a `<title>` but no `<url>`, or with neither: it has no usable
 *     page (a doc with a `<url>` and no `<title>` is fine: its key comes from the URL);
 *   - a doc that the fast path cannot read and that is not well-formed XML
 *     or not valid UTF-8;
 *   - a wanted doc that is not valid UTF-8, or not well-formed XML up to its
 *     `<links>` (`content`: only wanted docs are parsed, so only they can be
 *     found so; a title that is not valid UTF-8 matches no key; the links,
 *     never used, are not parsed).
 * A malformed doc never gives a page.
 *
 * What is fatal (a TrueFilmError from push/end): a first range that does not
 * start like a dump (`<feed>`: DUMP_FORMAT), and an input that ends inside a
 * doc or without `</feed>` (DUMP_TRUNCATED).
 */
import { isUtf8 } from 'node:buffer';
import { TrueFilmError } from '../errors.js';
import { keyFromDumpTitle, keyFromUrl } from '../keys.js';
import { appendAt, asBuffer, bomAt, Byte, copy, DOC_CLOSE, DOC_OPEN, FEED_CLOSE, isSpace, LINKS_OPEN, matchAt, trimEnd } from './bytes.js';
import { FormatCutter } from './cutter.js';
import { parseDoc } from './doc.js';
import { COPY_IN_BYTES, docFinder, FIND_WINDOW, type DocFinder } from './docfind.js';
import { FNV_OFFSET, FNV_PRIME, hashKey } from './hash.js';
import { ScanSink } from './sink.js';
import { DEFAULT_MAX_DOC_BYTES, type ScanOptions, type ScanOutput, type Scanner } from './types.js';

/** bytes kept while skipping, for the check of the file's last bytes */
const TAIL_WINDOW = 64;

export interface DocScannerOptions extends ScanOptions {
  /** the first byte pushed is the file's first byte: read the header (`<feed>`) */
  fileStart: boolean;
  /** the thread's WebAssembly SIMD finder (the default, when there is one), or `null`: Buffer.indexOf */
  finder?: DocFinder | null;
}

const enum Mode {
  /** the file's first bytes, before the first `<doc>` */
  Header,
  /** bytes before this range's first `<doc>`: the range before owns them */
  Seek,
  /** inside a doc that started at segStart */
  Doc,
  /** inside a doc larger than the limit: skipping to the next `<doc>` */
  Skip,
  /** a doc started at or after the bound: nothing more is ours */
  Done,
}

/**
 * A `<doc>` that starts in tail[len - k, len) and goes on at next[at]: its k
 * (1 to 4, the largest that fits, and at most `maxK`), or 0 when there is none.
 */
function splitDocStart(tail: Uint8Array, len: number, next: Uint8Array, at: number, maxK = 4): number {
  for (let k = Math.min(4, len, maxK); k >= 1; k--) {
    let m = 0;
    while (m < 5 && (m < k ? tail[len - k + m] : next[at + m - k]) === DOC_OPEN[m]) m++;
    if (m === 5) return k;
  }
  return 0;
}

/**
 * The fast path over one doc buf[s, e) (s at its `<doc>`): `<doc>`,
 * `<title>` text `</title>`, `<url>` and a URL, ..., `</doc>` and whitespace.
 * Returns where `</doc>` ends, with the hash of the title's key (the text
 * after `Wikipedia: `, the five named entities decoded) in hash[0]; or -1
 * when the doc is not laid out so (it then goes to sax).
 * `fast()` in wasm/docfind.c is its twin, byte for byte: change both
 * (test/docfind.test.ts holds them to each other). The tags are compared a
 * byte at a time, written out: a loop over each word (matchAt) made the
 * fallback scan 20% slower.
 */
function readDocFast(buf: Buffer, s: number, e: number, hash: Int32Array): number {
  // the end: `</doc>`, then whitespace
  let j = e;
  let b = buf[j - 1]!;
  while (b === Byte.NL || b === Byte.SPACE || b === Byte.CR || b === Byte.TAB) b = buf[--j - 1]!;
  if (j - 11 < s || b !== Byte.GT || buf[j - 2] !== Byte.c || buf[j - 3] !== Byte.o || buf[j - 4] !== Byte.d || buf[j - 5] !== Byte.SLASH || buf[j - 6] !== Byte.LT) {
    return -1;
  }
  // `<title>`
  let i = s + 5;
  b = buf[i]!;
  while (b === Byte.NL || b === Byte.SPACE || b === Byte.CR || b === Byte.TAB) b = buf[++i]!;
  if (i + 40 > j) return -1; // room for title, url and </doc>: else let sax judge
  if (
    b !== Byte.LT || buf[i + 1] !== Byte.t || buf[i + 2] !== Byte.i || buf[i + 3] !== Byte.t || buf[i + 4] !== Byte.l ||
    buf[i + 5] !== Byte.e || buf[i + 6] !== Byte.GT
  ) {
    return -1;
  }
  i += 7;
  if (
    buf[i] === Byte.W && buf[i + 1] === Byte.i && buf[i + 2] === Byte.k && buf[i + 3] === Byte.i && buf[i + 4] === Byte.p &&
    buf[i + 5] === Byte.e && buf[i + 6] === Byte.d && buf[i + 7] === Byte.i && buf[i + 8] === Byte.a && buf[i + 9] === Byte.COLON &&
    buf[i + 10] === Byte.SPACE
  ) {
    i += 11;
  }
  const keyStart = i;
  let h = FNV_OFFSET;
  for (;;) {
    if (i >= j) return -1;
    b = buf[i++]!;
    if (b === Byte.LT) break;
    if (b === Byte.AMP) {
      // &amp; &lt; &gt; &quot; &apos; are decoded as they are hashed; other references go to sax
      const c = buf[i];
      if (c === Byte.a && buf[i + 1] === Byte.m && buf[i + 2] === Byte.p && buf[i + 3] === Byte.SEMICOLON) (b = Byte.AMP), (i += 4);
      else if (c === Byte.l && buf[i + 1] === Byte.t && buf[i + 2] === Byte.SEMICOLON) (b = Byte.LT), (i += 3);
      else if (c === Byte.g && buf[i + 1] === Byte.t && buf[i + 2] === Byte.SEMICOLON) (b = Byte.GT), (i += 3);
      else if (c === Byte.q && buf[i + 1] === Byte.u && buf[i + 2] === Byte.o && buf[i + 3] === Byte.t && buf[i + 4] === Byte.SEMICOLON) (b = Byte.QUOTE), (i += 5);
      else if (c === Byte.a && buf[i + 1] === Byte.p && buf[i + 2] === Byte.o && buf[i + 3] === Byte.s && buf[i + 4] === Byte.SEMICOLON) (b = Byte.APOS), (i += 5);
      else return -1;
    }
    h = Math.imul(h ^ b, FNV_PRIME);
  }
  // an empty key, or `</title>` missing
  if (
    i - 1 === keyStart || buf[i] !== Byte.SLASH || buf[i + 1] !== Byte.t || buf[i + 2] !== Byte.i || buf[i + 3] !== Byte.t ||
    buf[i + 4] !== Byte.l || buf[i + 5] !== Byte.e || buf[i + 6] !== Byte.GT
  ) {
    return -1;
  }
  i += 7;
  // `<url>` and at least one character
  b = buf[i]!;
  while (b === Byte.NL || b === Byte.SPACE || b === Byte.CR || b === Byte.TAB) b = buf[++i]!;
  if (b !== Byte.LT || buf[i + 1] !== Byte.u || buf[i + 2] !== Byte.r || buf[i + 3] !== Byte.l || buf[i + 4] !== Byte.GT || buf[i + 5] === Byte.LT || i + 6 > j) {
    return -1;
  }
  hash[0] = h;
  return j;
}

/** readDocFast, for the tests that hold the WebAssembly fast path (wasm/docfind.c) to it: [end or -1, key hash or 0]. */
export function fastPathOf(buf: Buffer, s: number, e: number): [end: number, hash: number] {
  const hash = new Int32Array(1);
  const end = readDocFast(buf, s, e, hash);
  return [end, hash[0]!];
}

/** What finds the `<doc>`s of a window and reads the doc before each: the WebAssembly finder, or IndexOfFinder. */
type Finder = Pick<DocFinder, 'docs' | 'holds' | 'copyIn' | 'scan'>;

/**
 * The fallback where there is no WebAssembly SIMD finder (or
 * TRUEFILM_SCAN_SIMD=0): Buffer.indexOf finds each `<doc>`, readDocFast
 * reads the doc before it. It gives what DocFinder.scan() gives, for any
 * buffer.
 */
class IndexOfFinder implements Finder {
  readonly docs = new Int32Array(3 * (Math.ceil(FIND_WINDOW / DOC_OPEN.length) + 1));
  readonly #hash = new Int32Array(1);

  holds(): boolean {
    return true;
  }

  copyIn(bytes: Uint8Array): Buffer {
    return asBuffer(bytes);
  }

  /** As DocFinder.scan(): for each `<doc>` that starts in buf[from, to), its offset, where the doc before it ends (or -1), and its key hash. */
  scan(buf: Buffer, seg: number, from: number, to: number): number {
    const docs = this.docs;
    const hash = this.#hash;
    let n = 0;
    let prev = seg;
    for (let q = buf.indexOf(DOC_OPEN, from); q >= 0 && q < to; q = buf.indexOf(DOC_OPEN, q + DOC_OPEN.length), n++) {
      const end = prev < 0 ? -1 : readDocFast(buf, prev, q, hash);
      docs[3 * n] = q;
      docs[3 * n + 1] = end;
      docs[3 * n + 2] = end >= 0 ? hash[0]! : 0;
      prev = q;
    }
    return n;
  }
}

let fallback: IndexOfFinder | null = null;

/** This thread's IndexOfFinder. */
function indexOfFinder(): IndexOfFinder {
  fallback ??= new IndexOfFinder();
  return fallback;
}

/**
 * The header (the bytes before the first `<doc>` of a file) must open the feed:
 * an optional BOM and `<?xml ...?>`, then `<feed ...>`. Returns the offset of
 * the first byte after the `<feed>` tag, -1 when more bytes are needed to tell,
 * and throws DUMP_FORMAT when it is not a dump.
 */
function readHeader(buf: Uint8Array, end: number, final: boolean): number {
  let i = 0;
  if (end >= 3 && bomAt(buf, 0)) i = 3;
  if (!final && end - i < 4096) return -1;
  const text = Buffer.from(buf.buffer, buf.byteOffset + i, Math.min(end - i, 4096)).toString('latin1');
  const m = /^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--(?:[^-]|-(?!->))*-->\s*)*<feed(?:\s[^>]*)?>/.exec(text);
  if (m) return i + m[0].length;
  throw new TrueFilmError('DUMP_FORMAT', 'not a Wikipedia abstract dump: it does not start with <feed>', {
    offset: 0,
    hint: 'Pass the enwiki abstract dump (enwiki-latest-abstract.xml or .xml.gz, or its split abstract1..27 files).',
  });
}

/** sax over a doc up to its `<links>` (most of its bytes, never used), closed by a `</doc>` of ours. */
function parseHead(doc: Buffer): ReturnType<typeof parseDoc> {
  const links = doc.indexOf(LINKS_OPEN);
  return parseDoc(links < 0 ? doc.toString('utf8') : doc.toString('utf8', 0, links) + '</doc>');
}

/** Where `</feed>` starts when buf[from..] ends with it (and whitespace); else -1. */
function feedClose(buf: Uint8Array, from: number): number {
  const j = trimEnd(buf, from, buf.length);
  const at = j - FEED_CLOSE.length;
  return at >= from && matchAt(buf, at, FEED_CLOSE, j) ? at : -1;
}

/** The input ends at `end` without `</feed>`, inside the doc that starts at `docStart` (if any). */
function truncatedError(end: number, docStart: number | null): TrueFilmError {
  const where = docStart === null ? 'without </feed>' : `inside the doc that starts at byte ${docStart} (no </doc></feed> after it)`;
  return new TrueFilmError('DUMP_TRUNCATED', `the dump is cut short: it ends at byte ${end}, ${where}`, {
    offset: end,
    hint: 'The file was not completely downloaded or decompressed: fetch it again (./data_download.sh).',
  });
}

export class DocScanner implements Scanner {
  readonly #out: ScanSink;
  readonly #bound: number;
  readonly #maxDoc: number;
  readonly #finder: Finder;
  /** where readDocFast puts a doc's key hash */
  readonly #hash = new Int32Array(1);
  #mode: Mode;
  /** absolute offset of the next byte to be pushed */
  #pos: number;
  /** absolute offset where the open segment starts */
  #segStart: number;
  /** a `<doc>` found at or after this absolute offset starts the next segment */
  #searchFrom: number;
  /** bytes not yet resolved: [carryStart, pos) */
  #carry: Buffer = Buffer.allocUnsafe(0);
  #carryLen = 0;
  #carryStart: number;
  #headerChecked = false;
  #ended = false;

  constructor(options: DocScannerOptions) {
    this.#out = new ScanSink(options);
    this.#bound = options.bound ?? Number.POSITIVE_INFINITY;
    this.#maxDoc = options.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES;
    this.#finder = (options.finder === undefined ? docFinder() : options.finder) ?? indexOfFinder();
    this.#pos = options.start;
    this.#segStart = options.start;
    this.#searchFrom = options.start;
    this.#carryStart = options.start;
    this.#mode = options.fileStart ? Mode.Header : Mode.Seek;
    if (options.fileStart && options.start !== 0) throw new TrueFilmError('INTERNAL', 'a file starts at offset 0');
  }

  push(chunk: Uint8Array): boolean {
    if (this.#ended) throw new TrueFilmError('INTERNAL', 'push() after end()');
    const buf = asBuffer(chunk);
    const finder = this.#finder;
    if (buf.length === 0 || finder.holds(buf)) return this.#push(buf);
    // the WebAssembly finder works in its own memory: other bytes go through it, a piece at a time
    for (let at = 0; at < buf.length; at += COPY_IN_BYTES) {
      if (!this.#push(finder.copyIn(buf.subarray(at, at + COPY_IN_BYTES)))) return false;
    }
    return true;
  }

  end(atDoc = false): ScanOutput {
    if (!this.#ended) {
      this.#ended = true;
      if (atDoc) {
        if (this.#mode !== Mode.Done) this.#docStart(this.#pos, this.#carry, this.#segStart - this.#carryStart, this.#carryLen);
      } else {
        this.#endOfFile();
      }
    }
    return this.#out.output();
  }

  #push(buf: Buffer): boolean {
    let at = 0; // position in buf of the first byte not yet in the carry or handled in place
    while (this.#mode !== Mode.Done && at < buf.length) {
      at = this.#carryLen > 0 ? this.#advanceCarry(buf, at) : this.#scanInPlace(buf, at);
    }
    this.#pos += buf.length;
    if (this.#mode === Mode.Header && !this.#headerChecked && this.#carryLen > 0) this.#checkHeader(false);
    return this.#mode !== Mode.Done;
  }

  // ---- finding doc starts ----

  /**
   * The carry holds an open segment: find the next `<doc>` in carry + buf[at..],
   * close the segment there, and go on in place; or keep the bytes.
   * Returns the position in buf handled so far.
   */
  #advanceCarry(buf: Buffer, at: number): number {
    const absAt = this.#pos + at;
    // a `<doc>` that starts in the carry's last 4 bytes (not before where the search resumes) and ends in buf
    const k = splitDocStart(this.#carry, this.#carryLen, buf, at, absAt - this.#searchFrom);
    if (k > 0) {
      const start = absAt - k;
      // the segment is carry[..carryLen-k]; the new one starts with the fragment
      const fragment = Buffer.from(this.#carry.subarray(this.#carryLen - k, this.#carryLen));
      this.#docStart(start, this.#carry, this.#segStart - this.#carryStart, this.#carryLen - k);
      if (this.#mode === Mode.Done) return buf.length;
      this.#carryLen = 0;
      this.#carryStart = start;
      this.#append(fragment, 0, k);
      return at;
    }
    const searchAt = Math.max(at, this.#searchFrom - this.#pos);
    const q = searchAt < buf.length ? buf.indexOf(DOC_OPEN, searchAt) : -1;
    if (q < 0) {
      this.#keep(buf, at, buf.length);
      return buf.length;
    }
    this.#append(buf, at, q);
    this.#docStart(this.#pos + q, this.#carry, this.#segStart - this.#carryStart, this.#carryLen);
    this.#carryLen = 0;
    this.#carryStart = this.#pos + q;
    return q;
  }

  /**
   * No carry: segments that lie whole in buf are handled where they are, a
   * window at a time: the finder gives every `<doc>` of the window, with the
   * fast path's reading of the doc before each.
   */
  #scanInPlace(buf: Buffer, at: number): number {
    const finder = this.#finder;
    const docs = finder.docs;
    const out = this.#out;
    const pos = this.#pos;
    const bound = this.#bound - pos;
    const maxDoc = this.#maxDoc;
    let segAt = at; // position in buf of the open segment's first byte
    for (let searchAt = Math.max(at, this.#searchFrom - pos); searchAt < buf.length; searchAt += FIND_WINDOW) {
      const count = finder.scan(buf, segAt, searchAt, Math.min(buf.length, searchAt + FIND_WINDOW));
      for (let k = 0, d = 0; k < count; k++, d += 3) {
        const q = docs[d]!;
        let end: number;
        // the usual case: a doc of the dump's layout, the next one still ours
        if (this.#mode === Mode.Doc && q < bound && q - segAt <= maxDoc && (end = docs[d + 1]!) >= 0) {
          out.docs++;
          this.#found(docs[d + 2]!, buf, segAt, end, pos + segAt);
          this.#segStart = pos + q;
        } else {
          this.#docStart(pos + q, buf, segAt, q);
          if (this.#mode === Mode.Done) return buf.length;
        }
        segAt = q;
      }
    }
    this.#searchFrom = pos + segAt + (this.#mode === Mode.Doc ? DOC_OPEN.length : 0);
    this.#carryStart = pos + segAt;
    this.#keep(buf, segAt, buf.length);
    return buf.length;
  }

  /** Keeps buf[from, to) as the open segment's next bytes, within the limits of the mode. */
  #keep(buf: Buffer, from: number, to: number): void {
    if (this.#mode === Mode.Seek || this.#mode === Mode.Skip) {
      // only a window is kept: for a `<doc>` split across pushes, and the file's last bytes
      this.#append(buf, from, to);
      if (this.#carryLen > TAIL_WINDOW * 2) this.#dropTo(TAIL_WINDOW);
      return;
    }
    this.#append(buf, from, to);
    if (this.#mode === Mode.Header && !this.#headerChecked) this.#checkHeader(false);
    if (this.#carryLen > this.#maxDoc) {
      if (this.#mode === Mode.Doc) this.#tooLarge();
      else this.#out.malformed(this.#segStart, `more than ${this.#maxDoc} bytes before the first <doc>`);
      this.#mode = Mode.Skip;
      this.#dropTo(TAIL_WINDOW);
    }
  }

  #append(buf: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    this.#carry = appendAt(this.#carry, this.#carryLen, buf.subarray(from, to));
    this.#carryLen += to - from;
  }

  /** Keeps only the carry's last `n` bytes. */
  #dropTo(n: number): void {
    const drop = this.#carryLen - n;
    if (drop <= 0) return;
    this.#carry.copy(this.#carry, 0, drop, this.#carryLen);
    this.#carryLen = n;
    this.#carryStart += drop;
  }

  /**
   * A `<doc>` starts at absolute offset `abs`: the open segment, whose bytes are
   * buf[from, to), is complete.
   */
  #docStart(abs: number, buf: Buffer, from: number, to: number): void {
    if (this.#mode === Mode.Header) this.#closeHeader(buf, from, to);
    else if (this.#mode === Mode.Doc && to - from > this.#maxDoc) this.#tooLarge();
    else if (this.#mode === Mode.Doc) this.#closeDoc(buf, from, to, this.#segStart);
    if (abs >= this.#bound) {
      this.#mode = Mode.Done;
      this.#carryLen = 0;
      return;
    }
    this.#mode = Mode.Doc;
    this.#segStart = abs;
    this.#searchFrom = abs + DOC_OPEN.length;
  }

  #tooLarge(): void {
    this.#out.docs++;
    this.#out.malformed(this.#segStart, `doc larger than ${this.#maxDoc} bytes`);
  }

  // ---- the file's first and last bytes ----

  #checkHeader(final: boolean): void {
    if (readHeader(this.#carry, this.#carryLen, final) >= 0) this.#headerChecked = true;
  }

  /** The header ends where the first `<doc>` starts. */
  #closeHeader(buf: Buffer, from: number, to: number): void {
    const bytes = buf.subarray(from, to);
    const after = readHeader(bytes, bytes.length, true);
    this.#headerChecked = true;
    if (to - from > this.#maxDoc) this.#out.malformed(this.#segStart, `more than ${this.#maxDoc} bytes before the first <doc>`);
    else this.#gap(bytes, after, bytes.length, this.#segStart);
  }

  /** Bytes between docs must be whitespace. */
  #gap(buf: Uint8Array, from: number, to: number, abs: number): void {
    for (let i = from; i < to; i++) {
      if (!isSpace(buf[i]!)) {
        this.#out.malformed(abs + i, 'text between docs');
        return;
      }
    }
  }

  #endOfFile(): void {
    const end = this.#pos;
    const tail = this.#carry.subarray(0, this.#carryLen);
    switch (this.#mode) {
      case Mode.Done:
      case Mode.Seek:
        return;
      case Mode.Header: {
        // a dump without docs: `<feed>` and `</feed>`
        const at = readHeader(tail, tail.length, true);
        const close = feedClose(tail, at);
        if (close < 0) throw truncatedError(end, null);
        this.#gap(tail, at, close, this.#carryStart);
        return;
      }
      case Mode.Skip: {
        if (feedClose(tail, 0) < 0) throw truncatedError(end, this.#segStart);
        return;
      }
      case Mode.Doc: {
        const from = this.#segStart - this.#carryStart;
        const close = feedClose(tail, from);
        if (close < 0) {
          const j = trimEnd(tail, from, tail.length);
          throw truncatedError(end, matchAt(tail, j - DOC_CLOSE.length, DOC_CLOSE, j) ? null : this.#segStart);
        }
        this.#closeDoc(this.#carry, from, close, this.#segStart);
        return;
      }
    }
  }

  // ---- one doc ----

  /** The doc buf[s, e) (s at its `<doc>`, e where the next doc or `</feed>` starts). */
  #closeDoc(buf: Buffer, s: number, e: number, abs: number): void {
    this.#out.docs++;
    const end = readDocFast(buf, s, e, this.#hash);
    if (end >= 0) this.#found(this.#hash[0]!, buf, s, end, abs);
    else this.#slowDoc(buf, s, e, abs);
  }

  /** A doc the fast path read: its key hashes to `hash`. */
  #found(hash: number, buf: Buffer, s: number, end: number, abs: number): void {
    const out = this.#out;
    out.index(hash, abs);
    if (out.mayWant(hash)) this.#wantedDoc(buf, s, end, abs);
  }

  /**
   * A doc the fast path may want: parse it with sax (up to its `<links>`),
   * then compare the exact key.
   */
  #wantedDoc(buf: Buffer, s: number, e: number, abs: number): void {
    const doc = buf.subarray(s, e);
    if (!isUtf8(doc)) return this.#out.unreadable(abs, 'doc is not valid UTF-8');
    const parsed = parseHead(doc);
    if (!parsed.ok) return this.#out.unreadable(abs, parsed.reason);
    this.#accept(parsed.doc.title, parsed.doc.url, parsed.doc.abstract, abs, false);
  }

  /** A doc out of the dump's usual layout: parse it in full to know what it is. */
  #slowDoc(buf: Buffer, s: number, e: number, abs: number): void {
    // the closing `</doc>`, then only whitespace
    const j = trimEnd(buf, s, e);
    let docEnd = j;
    if (!matchAt(buf, j - DOC_CLOSE.length, DOC_CLOSE, j)) {
      const close = buf.subarray(s, e).lastIndexOf(DOC_CLOSE);
      if (close < 0) return this.#out.malformed(abs, 'doc without </doc> before the next <doc>');
      docEnd = s + close + DOC_CLOSE.length;
      this.#gap(buf, docEnd, e, abs - s);
    }
    const doc = buf.subarray(s, docEnd);
    if (!isUtf8(doc)) return this.#out.malformed(abs, 'doc is not valid UTF-8');
    const parsed = parseHead(doc);
    if (!parsed.ok) return this.#out.malformed(abs, parsed.reason);
    this.#accept(parsed.doc.title, parsed.doc.url, parsed.doc.abstract, abs, true);
  }

  /**
   * A doc parsed in full. `slow`: the fast path could not read it, and every
   * doc like it is parsed, so what is wrong with it counts for every doc;
   * otherwise it was parsed because it may be wanted (a `content` problem).
   */
  #accept(title: string | null, url: string | null, abstract: string | null, abs: number, slow: boolean): void {
    const out = this.#out;
    const problem = (reason: string): void => (slow ? out.malformed(abs, reason) : out.unreadable(abs, reason));
    const fromTitle = title === null ? '' : keyFromDumpTitle(title);
    const key = fromTitle !== '' ? fromTitle : url === null ? null : keyFromUrl(url);
    if (key === null || key === '') return problem('doc without <title> or <url>');
    if (url === null) return problem('doc without <url>');
    if (slow && out.indexing) out.index(hashKey(key), abs);
    const index = out.indexOf(key);
    if (out.inWindow(index)) out.hit({ index, offset: abs, page: { key: copy(key), url: copy(url), abstract: abstract === null ? null : copy(abstract) } });
  }
}

/** Cuts the abstract dump where a `<doc>` starts. */
export class DocCutter extends FormatCutter {
  /** while skipping: the last bytes seen, for a `<doc>` split across pushes and the check of the file's end */
  #tail = Buffer.alloc(0);

  protected lastCut(buf: Buffer, length: number): number {
    return buf.subarray(0, length).lastIndexOf(DOC_OPEN);
  }

  protected openAt(): number {
    return 0; // the carry starts at a `<doc>` (or the file's start), and no other starts after it
  }

  protected wholeSpan(held: Buffer, heldLength: number, bytes: Buffer): [number, number] | null {
    // from its first `<doc>` to its last, unless a `<doc>` straddles its start
    if (splitDocStart(held, heldLength, bytes, 0) !== 0) return null;
    const first = bytes.indexOf(DOC_OPEN);
    const last = first < 0 ? -1 : bytes.lastIndexOf(DOC_OPEN);
    return last > first ? [first, last] : null;
  }

  protected beginSkip(buf: Buffer, _from: number, to: number): void {
    this.#tail = Buffer.from(buf.subarray(Math.max(0, to - TAIL_WINDOW), to));
  }

  protected skip(bytes: Buffer): Buffer | null {
    // the next `<doc>`, also across the previous push (skipping is rare: copies are fine)
    const keep = Math.min(DOC_OPEN.length - 1, this.#tail.length);
    const joined = Buffer.concat([this.#tail.subarray(this.#tail.length - keep), bytes]);
    const at = joined.indexOf(DOC_OPEN);
    if (at >= 0) return joined.subarray(at);
    this.#tail = Buffer.from(joined.subarray(Math.max(0, joined.length - TAIL_WINDOW)));
    return null;
  }

  protected endSkip(total: number): void {
    if (feedClose(this.#tail, 0) < 0) throw truncatedError(total, this.skipFrom === 0 ? null : this.skipFrom);
  }
}
