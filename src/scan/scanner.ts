/**
 * The scanning core: bytes in (`push`), wanted docs, counts and malformed
 * samples out (`end`). It knows nothing of threads, files or gzip: the worker
 * feeds it a byte range of a file, the `.gz` path feeds it inflated chunks
 * cut at `<doc>`, and the tests feed it a byte at a time.
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
 * The `<doc>`s are found a window at a time by the thread's WebAssembly SIMD
 * finder (docfind.ts); in the worker's read buffer, which lies in the
 * finder's memory, the fast path runs there too (wasm/docfind.c, its twin in
 * C). Without the finder (TRUEFILM_SCAN_SIMD=0, or no WebAssembly SIMD), each
 * `<doc>` is found with Buffer.indexOf. All three ways give the same output.
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
import type { WikiPage } from '../types.js';
import { appendAt } from './carry.js';
import { parseDoc } from './doc.js';
import { docFinder, FIND_WINDOW, type DocFinder } from './docfind.js';
import { FNV_OFFSET, FNV_PRIME, hashKey } from './hash.js';
import type { KeyTable } from './keytable.js';

export const DEFAULT_MAX_DOC_BYTES = 8 << 20;
const SAMPLES = 10;
/** bytes kept while skipping, for the check of the file's last bytes */
export const TAIL_WINDOW = 64;

export interface ScannerOptions {
  /** absolute offset of the first byte pushed */
  start: number;
  /** docs that start at or after this offset are not this scanner's (default: none) */
  bound?: number;
  /** the first byte pushed is the file's first byte: read the header (`<feed>`) */
  fileStart: boolean;
  keys: KeyTable;
  /** the key window: a doc is wanted when its key's index is in [from, to) */
  from?: number;
  to?: number;
  /** record every doc's key hash and offset (to look up keys that arrive later) */
  index?: boolean;
  maxDocBytes?: number;
  /** how `<doc>`s are found: the thread's WebAssembly SIMD finder (the default, when there is one), or `null`: Buffer.indexOf */
  finder?: DocFinder | null;
}

export interface ScanHit {
  /** the key's index in the key log (-1: a CirrusSearch document wanted for its IMDb link only) */
  index: number;
  /** absolute offset of the doc's `<doc>` (or of the CirrusSearch document's line) */
  offset: number;
  page: WikiPage & { wikibaseItem?: string };
}

/** A CirrusSearch document whose `external_link` list holds an IMDb title link with a wanted id. */
export interface ImdbHit {
  /** the wanted IMDb id, as it was given (`tt0054215`) */
  id: string;
  /** the document's page key */
  key: string;
  offset: number;
  /** how many distinct IMDb titles the document links: a film's own page links one, a list many */
  titleLinks: number;
}

export interface Malformed {
  offset: number;
  reason: string;
}

export interface ScanOutput {
  /** `<doc>` elements owned (malformed ones included) */
  docs: number;
  hits: ScanHit[];
  /** malformed items found for every doc, whatever is wanted */
  malformed: number;
  samples: Malformed[];
  /** wanted docs that are not well-formed XML (all of them) */
  content: Malformed[];
  /** with `index`: each doc's key hash and offset, in input order (CirrusSearch: each title of a document, its redirects' too) */
  hashes?: Int32Array;
  offsets?: Float64Array;
  /** CirrusSearch: the documents that link a wanted IMDb id, in input order */
  imdb?: ImdbHit[];
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

export const DOC_START = Buffer.from('<doc>');

/**
 * A `<doc>` that starts in tail[len - k, len) and goes on at next[at]: its k
 * (1 to 4, the largest that fits, and at most `maxK`), or 0 when there is none.
 */
export function splitDocStart(tail: Uint8Array, len: number, next: Uint8Array, at: number, maxK = 4): number {
  for (let k = Math.min(4, len, maxK); k >= 1; k--) {
    let m = 0;
    while (m < 5 && (m < k ? tail[len - k + m] : next[at + m - k]) === DOC_START[m]) m++;
    if (m === 5) return k;
  }
  return 0;
}
const DOC_CLOSE = Buffer.from('</doc>');
const FEED_CLOSE = Buffer.from('</feed>');
const LINKS_OPEN = Buffer.from('<links');

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

function matchAt(buf: Uint8Array, at: number, end: number, word: Uint8Array): boolean {
  if (at + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (buf[at + k] !== word[k]) return false;
  return true;
}

/** the key hash of the last doc readDocFast() read */
let fastHash = 0;

/**
 * The fast path over one doc buf[s, e) (s at its `<doc>`): `<doc>`,
 * `<title>` text `</title>`, `<url>` and a URL, ..., `</doc>` and whitespace.
 * Returns where `</doc>` ends, with the hash of the title's key (the text
 * after `Wikipedia: `, the five named entities decoded) in `fastHash`; or -1
 * when the doc is not laid out so (it then goes to sax).
 * `fast()` in wasm/docfind.c is its twin, byte for byte: change both
 * (test/docfind.test.ts holds them to each other).
 */
function readDocFast(buf: Buffer, s: number, e: number): number {
  // the end: </doc>, then whitespace
  let j = e;
  let b = buf[j - 1]!;
  while (b === 0x0a || b === 0x20 || b === 0x0d || b === 0x09) b = buf[--j - 1]!;
  if (j - 11 < s || b !== 0x3e || buf[j - 2] !== 0x63 || buf[j - 3] !== 0x6f || buf[j - 4] !== 0x64 || buf[j - 5] !== 0x2f || buf[j - 6] !== 0x3c) return -1;
  // <title>
  let i = s + 5;
  b = buf[i]!;
  while (b === 0x0a || b === 0x20 || b === 0x0d || b === 0x09) b = buf[++i]!;
  if (i + 40 > j) return -1; // room for title, url and </doc>: else let sax judge
  if (b !== 0x3c || buf[i + 1] !== 0x74 || buf[i + 2] !== 0x69 || buf[i + 3] !== 0x74 || buf[i + 4] !== 0x6c || buf[i + 5] !== 0x65 || buf[i + 6] !== 0x3e) return -1;
  i += 7;
  if (
    buf[i] === 0x57 && buf[i + 1] === 0x69 && buf[i + 2] === 0x6b && buf[i + 3] === 0x69 && buf[i + 4] === 0x70 && buf[i + 5] === 0x65 &&
    buf[i + 6] === 0x64 && buf[i + 7] === 0x69 && buf[i + 8] === 0x61 && buf[i + 9] === 0x3a && buf[i + 10] === 0x20
  ) {
    i += 11;
  }
  const keyStart = i;
  let h = FNV_OFFSET;
  for (;;) {
    if (i >= j) return -1;
    b = buf[i++]!;
    if (b === 0x3c) break;
    if (b === 0x26) {
      // &amp; &lt; &gt; &quot; &apos; are decoded as they are hashed; other references go to sax
      const c = buf[i];
      if (c === 0x61 && buf[i + 1] === 0x6d && buf[i + 2] === 0x70 && buf[i + 3] === 0x3b) (b = 0x26), (i += 4);
      else if (c === 0x6c && buf[i + 1] === 0x74 && buf[i + 2] === 0x3b) (b = 0x3c), (i += 3);
      else if (c === 0x67 && buf[i + 1] === 0x74 && buf[i + 2] === 0x3b) (b = 0x3e), (i += 3);
      else if (c === 0x71 && buf[i + 1] === 0x75 && buf[i + 2] === 0x6f && buf[i + 3] === 0x74 && buf[i + 4] === 0x3b) (b = 0x22), (i += 5);
      else if (c === 0x61 && buf[i + 1] === 0x70 && buf[i + 2] === 0x6f && buf[i + 3] === 0x73 && buf[i + 4] === 0x3b) (b = 0x27), (i += 5);
      else return -1;
    }
    h = Math.imul(h ^ b, FNV_PRIME);
  }
  // an empty key, or `</title>` missing
  if (
    i - 1 === keyStart || buf[i] !== 0x2f || buf[i + 1] !== 0x74 || buf[i + 2] !== 0x69 || buf[i + 3] !== 0x74 ||
    buf[i + 4] !== 0x6c || buf[i + 5] !== 0x65 || buf[i + 6] !== 0x3e
  ) {
    return -1;
  }
  i += 7;
  // <url> and at least one character
  b = buf[i]!;
  while (b === 0x0a || b === 0x20 || b === 0x0d || b === 0x09) b = buf[++i]!;
  if (b !== 0x3c || buf[i + 1] !== 0x75 || buf[i + 2] !== 0x72 || buf[i + 3] !== 0x6c || buf[i + 4] !== 0x3e || buf[i + 5] === 0x3c || i + 6 > j) return -1;
  fastHash = h | 0;
  return j;
}

/** readDocFast, for the tests that hold the WebAssembly fast path (wasm/docfind.c) to it: [end or -1, key hash or 0]. */
export function fastPathOf(buf: Buffer, s: number, e: number): [end: number, hash: number] {
  const end = readDocFast(buf, s, e);
  return [end, end >= 0 ? fastHash : 0];
}

/**
 * The header (the bytes before the first `<doc>` of a file) must open the feed:
 * an optional BOM and `<?xml ...?>`, then `<feed ...>`. Returns the offset of
 * the first byte after the `<feed>` tag, -1 when more bytes are needed to tell,
 * and throws DUMP_FORMAT when it is not a dump.
 */
function readHeader(buf: Uint8Array, end: number, final: boolean): number {
  let i = 0;
  if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3;
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
export function feedClose(buf: Uint8Array, from: number): number {
  let j = buf.length;
  while (j > from && isSpace(buf[j - 1]!)) j--;
  const at = j - FEED_CLOSE.length;
  return at >= from && matchAt(buf, at, j, FEED_CLOSE) ? at : -1;
}

/** The input ends at `end` without `</feed>`, inside the doc that starts at `docStart` (if any). */
export function truncatedError(end: number, docStart: number | null): TrueFilmError {
  const where = docStart === null ? 'without </feed>' : `inside the doc that starts at byte ${docStart} (no </doc></feed> after it)`;
  return new TrueFilmError('DUMP_TRUNCATED', `the dump is cut short: it ends at byte ${end}, ${where}`, {
    offset: end,
    hint: 'The file was not completely downloaded or decompressed: fetch it again (./data_download.sh).',
  });
}

export class DocScanner {
  readonly #keys: KeyTable;
  readonly #from: number;
  readonly #to: number;
  readonly #bound: number;
  readonly #maxDoc: number;
  readonly #finder: DocFinder | null;
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

  #docs = 0;
  #hits: ScanHit[] = [];
  #malformed = 0;
  #samples: Malformed[] = [];
  #content: Malformed[] = [];
  #hashes: Int32Array | null = null;
  #offsets: Float64Array | null = null;
  #indexed = 0;

  constructor(options: ScannerOptions) {
    this.#keys = options.keys;
    this.#from = options.from ?? 0;
    this.#to = options.to ?? Number.MAX_SAFE_INTEGER;
    this.#bound = options.bound ?? Number.POSITIVE_INFINITY;
    this.#maxDoc = options.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES;
    this.#finder = options.finder === undefined ? docFinder() : options.finder;
    this.#pos = options.start;
    this.#segStart = options.start;
    this.#searchFrom = options.start;
    this.#carryStart = options.start;
    this.#mode = options.fileStart ? Mode.Header : Mode.Seek;
    if (options.fileStart && options.start !== 0) throw new TrueFilmError('INTERNAL', 'a file starts at offset 0');
    if (options.index) {
      this.#hashes = new Int32Array(1024);
      this.#offsets = new Float64Array(1024);
    }
  }

  /** Feeds the next bytes; returns false once the scanner needs no more (a doc started at or after the bound). */
  push(chunk: Uint8Array): boolean {
    if (this.#ended) throw new TrueFilmError('INTERNAL', 'push() after end()');
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let at = 0; // position in buf of the first byte not yet in the carry or handled in place
    while (this.#mode !== Mode.Done && at < buf.length) {
      if (this.#carryLen > 0) {
        at = this.#advanceCarry(buf, at);
      } else {
        at = this.#scanInPlace(buf, at);
      }
    }
    this.#pos += buf.length;
    if (this.#mode === Mode.Header && !this.#headerChecked && this.#carryLen > 0) this.#checkHeader(false);
    return this.#mode !== Mode.Done;
  }

  /** The input ends here: at the file's end, or (`atDoc`) exactly where a `<doc>` starts. */
  end(atDoc = false): ScanOutput {
    if (!this.#ended) {
      this.#ended = true;
      if (atDoc) {
        if (this.#mode !== Mode.Done) this.#docStart(this.#pos, this.#carry, this.#segStart - this.#carryStart, this.#carryLen);
      } else {
        this.#endOfFile();
      }
    }
    const out: ScanOutput = {
      docs: this.#docs,
      hits: this.#hits,
      malformed: this.#malformed,
      samples: this.#samples,
      content: this.#content,
    };
    if (this.#hashes && this.#offsets) {
      out.hashes = this.#hashes.slice(0, this.#indexed);
      out.offsets = this.#offsets.slice(0, this.#indexed);
    }
    return out;
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
    const q = searchAt < buf.length ? buf.indexOf(DOC_START, searchAt) : -1;
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

  /** No carry: segments that lie whole in buf are handled where they are. */
  #scanInPlace(buf: Buffer, at: number): number {
    let segAt = at; // position in buf of the open segment's first byte
    let searchAt = Math.max(at, this.#searchFrom - this.#pos);
    const finder = this.#finder;
    if (finder !== null && finder.fastPath && finder.holds(buf)) {
      // every `<doc>` of a window at once, with the fast path over each doc done in WebAssembly too
      const docs = finder.docs;
      const pos = this.#pos;
      const bound = this.#bound - pos;
      const maxDoc = this.#maxDoc;
      while (searchAt < buf.length) {
        const to = Math.min(buf.length, searchAt + FIND_WINDOW);
        const count = finder.scan(buf, segAt, searchAt, to);
        for (let k = 0, d = 0; k < count; k++, d += 3) {
          const q = docs[d]!;
          let end: number;
          if (this.#mode === Mode.Doc && q < bound && q - segAt <= maxDoc && (end = docs[d + 1]!) >= 0) {
            this.#docs++;
            this.#found(docs[d + 2]!, buf, segAt, end, pos + segAt);
            this.#segStart = pos + q;
          } else {
            this.#docStart(pos + q, buf, segAt, q);
            if (this.#mode === Mode.Done) return buf.length;
          }
          segAt = q;
        }
        searchAt = to;
      }
    } else if (finder !== null) {
      // every `<doc>` of a window at once (they cannot overlap: the next search starts where the window ends)
      const offsets = finder.offsets;
      while (searchAt < buf.length) {
        const to = Math.min(buf.length, searchAt + FIND_WINDOW);
        const count = finder.find(buf, searchAt, to);
        for (let k = 0; k < count; k++) {
          const q = offsets[k]!;
          if (!this.#segment(buf, segAt, q)) return buf.length;
          segAt = q;
        }
        searchAt = to;
      }
    } else {
      for (;;) {
        const q = searchAt < buf.length ? buf.indexOf(DOC_START, searchAt) : -1;
        if (q < 0) break;
        if (!this.#segment(buf, segAt, q)) return buf.length;
        segAt = q;
        searchAt = q + 5;
      }
    }
    this.#searchFrom = this.#pos + segAt + (this.#mode === Mode.Doc ? 5 : 0);
    this.#carryStart = this.#pos + segAt;
    this.#keep(buf, segAt, buf.length);
    return buf.length;
  }

  /** The segment buf[segAt, q) is whole: a `<doc>` starts at q. Returns false when the scanner is done. */
  #segment(buf: Buffer, segAt: number, q: number): boolean {
    const pos = this.#pos;
    // the usual case, without a call: a doc of the dump's layout, the next one still ours
    let end: number;
    if (this.#mode === Mode.Doc && pos + q < this.#bound && q - segAt <= this.#maxDoc && (end = readDocFast(buf, segAt, q)) >= 0) {
      this.#docs++;
      this.#found(fastHash, buf, segAt, end, pos + segAt);
      this.#segStart = pos + q;
      return true;
    }
    this.#docStart(pos + q, buf, segAt, q);
    return this.#mode !== Mode.Done;
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
      if (this.#mode === Mode.Doc) {
        this.#docs++;
        this.#report(this.#segStart, `doc larger than ${this.#maxDoc} bytes`);
      } else {
        this.#report(this.#segStart, `more than ${this.#maxDoc} bytes before the first <doc>`);
      }
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
    switch (this.#mode) {
      case Mode.Header:
        this.#closeHeader(buf, from, to);
        break;
      case Mode.Doc:
        if (to - from > this.#maxDoc) {
          this.#docs++;
          this.#report(this.#segStart, `doc larger than ${this.#maxDoc} bytes`);
        } else {
          this.#closeDoc(buf, from, to, this.#segStart);
        }
        break;
      case Mode.Skip:
      case Mode.Seek:
        break;
    }
    if (abs >= this.#bound) {
      this.#mode = Mode.Done;
      this.#carryLen = 0;
      return;
    }
    this.#mode = Mode.Doc;
    this.#segStart = abs;
    this.#searchFrom = abs + 5;
  }

  // ---- the file's first and last bytes ----

  #checkHeader(final: boolean): void {
    if (readHeader(this.#carry, this.#carryLen, final) >= 0) this.#headerChecked = true;
  }

  /** The header ends where the first `<doc>` starts (`end`: the absolute offset there). */
  #closeHeader(buf: Buffer, from: number, to: number): void {
    const bytes = buf.subarray(from, to);
    const after = readHeader(bytes, bytes.length, true);
    this.#headerChecked = true;
    if (to - from > this.#maxDoc) this.#report(this.#segStart, `more than ${this.#maxDoc} bytes before the first <doc>`);
    else this.#gap(bytes, after, bytes.length, this.#segStart);
  }

  /** Bytes between docs must be whitespace. */
  #gap(buf: Uint8Array, from: number, to: number, abs: number): void {
    for (let i = from; i < to; i++) {
      if (!isSpace(buf[i]!)) {
        this.#report(abs + i, 'text between docs');
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
          let j = tail.length;
          while (j > from && isSpace(tail[j - 1]!)) j--;
          throw truncatedError(end, matchAt(tail, j - 6, j, DOC_CLOSE) ? null : this.#segStart);
        }
        this.#closeDoc(this.#carry, from, close, this.#segStart);
        return;
      }
    }
  }

  // ---- one doc ----

  #report(offset: number, reason: string): void {
    this.#malformed++;
    if (this.#samples.length < SAMPLES) this.#samples.push({ offset, reason });
  }

  #index(hash: number, offset: number): void {
    if (!this.#hashes || !this.#offsets) return;
    if (this.#indexed === this.#hashes.length) {
      const hashes = new Int32Array(this.#indexed * 2);
      hashes.set(this.#hashes);
      this.#hashes = hashes;
      const offsets = new Float64Array(this.#indexed * 2);
      offsets.set(this.#offsets);
      this.#offsets = offsets;
    }
    this.#hashes[this.#indexed] = hash;
    this.#offsets[this.#indexed++] = offset;
  }

  /** The doc buf[s, e) (s at its `<doc>`, e where the next doc or `</feed>` starts). */
  #closeDoc(buf: Buffer, s: number, e: number, abs: number): void {
    this.#docs++;
    const end = readDocFast(buf, s, e);
    if (end >= 0) this.#found(fastHash, buf, s, end, abs);
    else this.#slowDoc(buf, s, e, abs);
  }

  /** A doc the fast path read: its key hashes to `hash`. */
  #found(hash: number, buf: Buffer, s: number, end: number, abs: number): void {
    if (this.#hashes !== null) this.#index(hash, abs);
    if (this.#keys.mayHave(hash, this.#from, this.#to)) this.#wantedDoc(buf, s, end, abs);
  }

  /**
   * A doc the fast path may want: parse it with sax (up to its `<links>`),
   * then compare the exact key.
   */
  #wantedDoc(buf: Buffer, s: number, e: number, abs: number): void {
    const doc = buf.subarray(s, e);
    if (!isUtf8(doc)) {
      this.#content.push({ offset: abs, reason: 'doc is not valid UTF-8' });
      return;
    }
    const parsed = parseHead(doc);
    if (!parsed.ok) {
      this.#content.push({ offset: abs, reason: parsed.reason });
      return;
    }
    this.#accept(parsed.doc.title, parsed.doc.url, parsed.doc.abstract, abs, false);
  }

  /** A doc out of the dump's usual layout: parse it in full to know what it is. */
  #slowDoc(buf: Buffer, s: number, e: number, abs: number): void {
    // the closing `</doc>`, then only whitespace
    let j = e;
    while (j > s && isSpace(buf[j - 1]!)) j--;
    let docEnd = j;
    if (!matchAt(buf, j - 6, j, DOC_CLOSE)) {
      const close = buf.subarray(s, e).lastIndexOf(DOC_CLOSE);
      if (close < 0) {
        this.#report(abs, 'doc without </doc> before the next <doc>');
        return;
      }
      docEnd = s + close + 6;
      this.#gap(buf, docEnd, e, abs - s);
    }
    const doc = buf.subarray(s, docEnd);
    if (!isUtf8(doc)) {
      this.#report(abs, 'doc is not valid UTF-8');
      return;
    }
    const parsed = parseHead(doc);
    if (!parsed.ok) {
      this.#report(abs, parsed.reason);
      return;
    }
    this.#accept(parsed.doc.title, parsed.doc.url, parsed.doc.abstract, abs, true);
  }

  /**
   * A doc parsed in full. `slow`: the fast path could not read it, and every
   * doc like it is parsed, so what is wrong with it counts for every doc;
   * otherwise it was parsed because it may be wanted (a `content` problem).
   */
  #accept(title: string | null, url: string | null, abstract: string | null, abs: number, slow: boolean): void {
    const problem = (reason: string): void => {
      if (slow) this.#report(abs, reason);
      else this.#content.push({ offset: abs, reason });
    };
    const fromTitle = title === null ? '' : keyFromDumpTitle(title);
    const key = fromTitle !== '' ? fromTitle : url === null ? null : keyFromUrl(url);
    if (key === null || key === '') return problem('doc without <title> or <url>');
    if (url === null) return problem('doc without <url>');
    if (slow && this.#hashes !== null) this.#index(hashKey(key), abs);
    const index = this.#keys.indexOf(key);
    if (index >= this.#from && index < this.#to) {
      // copies: a page must not keep the doc's whole text alive
      this.#hits.push({ index, offset: abs, page: { key: copy(key), url: copy(url), abstract: abstract === null ? null : copy(abstract) } });
    }
  }
}

/** A string that does not share memory with the text it was sliced from. */
function copy(text: string): string {
  return (' ' + text).slice(1);
}
