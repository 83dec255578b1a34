/**
 * The CirrusSearch content dump (`enwiki_content-<date>-NNNNN.json.bz2`): the
 * search index of a wiki as Elasticsearch bulk NDJSON, an action line
 * (`{"index":{"_id":"12"}}`) then the document line, one page a document:
 *
 *   {"index":{"_id":"25"}}
 *   {"namespace":0,"title":"Psycho (1960 film)","opening_text":"Psycho is a 1960 ...",
 *    "wikibase_item":"Q163038","external_link":["https://www.imdb.com/title/tt0054215/",...],
 *    "redirect":[{"namespace":0,"title":"Psycho (film)"}],"text":"...","source_text":"...",...}
 *
 * `CirrusScanner` is the scanning core for this format, as DocScanner is for
 * the abstract dump: bytes in (`push`), wanted documents, counts and
 * malformed samples out (`end`); it knows nothing of threads, files or
 * decompression. A scanner owns the lines that START in [start, bound): a
 * line starts at the file's first byte or after a `\n`. A scanner whose
 * first byte is not a line start is given the byte before its range (the
 * caller reads from `start - 1`) and skips to the first `\n`.
 *
 * Per document line, before any JSON.parse: every `"title":` key (the page's,
 * and those of its redirects: the order of a document's fields is not fixed)
 * has its string value hashed as its bytes are read (escapes decoded) and
 * looked up in the KeyTable; every `imdb.com` is checked for `/title/tt<digits>`
 * (or `\/title\/tt`, for JSON that escapes slashes) with a wanted IMDb id.
 * Only a line that may be wanted is parsed, and then judged exactly: its
 * top-level `title` (namespace 0; a document without `namespace` is taken as
 * namespace 0) and the IMDb title links of its `external_link` list.
 *
 * What is malformed (counted with the line's offset; the scan goes on):
 *   - a line that is not a JSON object (`{...}`), or larger than `maxDocBytes`;
 *   - a document line with no `"title"` string;
 *   - a bulk action (`{"index":...}`) not followed by a document line;
 *   - a wanted line that is not valid UTF-8 or not JSON (`content`: only
 *     wanted lines are parsed, so only they can be found so).
 * Empty lines are skipped. What is fatal: an input that ends inside a line
 * (no `\n` after it, and what is there is not a whole JSON value):
 * DUMP_TRUNCATED.
 */
import { isUtf8 } from 'node:buffer';
import { TrueFilmError } from '../errors.js';
import { isValidTitle, urlFromKey } from '../keys.js';
import { FNV_OFFSET, FNV_PRIME, hashKey } from './hash.js';
import type { KeyTable } from './keytable.js';
import { appendAt, Carry, type InflatedChunk } from './carry.js';
import { DEFAULT_MAX_DOC_BYTES, type ImdbHit, type Malformed, type ScanHit, type ScanOutput } from './scanner.js';

const SAMPLES = 10;
const NL = 0x0a;
/** `{"index":`: a bulk action line starts so */
export const ACTION = Buffer.from('{"index":');
const TITLE_KEY = Buffer.from('"title":');
const IMDB_HOST = Buffer.from('imdb.com');
// what is searched for: Buffer.indexOf finds these short needles two to
// three times as fast as the whole words in JSON text (docs/performance.md);
// the rest of the word is then checked
const TITLE_NEEDLE = Buffer.from('"titl');
const IMDB_NEEDLE = Buffer.from('b.co');
const IMDB_PATH = Buffer.from('/title/tt');
const IMDB_PATH_ESCAPED = Buffer.from('\\/title\\/tt');
/** an IMDb title link as `external_link` holds it: any scheme, any subdomain (www., m.) */
const IMDB_LINK = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/(?:[^/?#@]*@)?(?:[A-Za-z0-9-]+\.)*imdb\.com(?::\d+)?\/title\/tt(\d{1,12})(?!\d)/;

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** The wanted IMDb ids (`tt0054215`), by their number: links may pad the digits differently. */
export class ImdbTable {
  readonly #ids = new Map<number, string>();

  constructor(ids: Iterable<string> = []) {
    for (const id of ids) {
      const m = /^tt(\d{1,12})$/.exec(id);
      if (m && !this.#ids.has(Number(m[1]))) this.#ids.set(Number(m[1]), id);
    }
  }

  get size(): number {
    return this.#ids.size;
  }

  /** the wanted id (as it was given) with this number, or undefined */
  get(n: number): string | undefined {
    return this.#ids.get(n);
  }
}

/** Is buf[s..] the start of a bulk action line? */
export function isAction(buf: Uint8Array, s: number, e: number): boolean {
  if (e - s < ACTION.length) return false;
  for (let k = 0; k < ACTION.length; k++) if (buf[s + k] !== ACTION[k]) return false;
  return true;
}

/** the last byte of buf[from, to) that is not whitespace, or -1 */
function lastNonSpace(buf: Uint8Array, from: number, to: number): number {
  for (let j = to - 1; j >= from; j--) if (!isSpace(buf[j]!)) return buf[j]!;
  return -1;
}

function matchAt(buf: Uint8Array, at: number, end: number, word: Uint8Array): boolean {
  if (at + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (buf[at + k] !== word[k]) return false;
  return true;
}

/**
 * The hash of the JSON string whose opening quote is at buf[v] (its decoded
 * UTF-8 bytes, as hashKey() hashes a key), or null when it is not a whole
 * string before `e`. `\uXXXX` escapes take the slow way (JSON.parse of the token).
 */
function hashJsonString(buf: Buffer, v: number, e: number): number | null {
  let h = FNV_OFFSET;
  let i = v + 1;
  while (i < e) {
    let b = buf[i++]!;
    if (b === 0x22) return h | 0;
    if (b === 0x5c) {
      const c = buf[i++];
      if (c === 0x22 || c === 0x5c || c === 0x2f) b = c;
      else if (c === 0x6e) b = 0x0a;
      else if (c === 0x74) b = 0x09;
      else if (c === 0x72) b = 0x0d;
      else if (c === 0x62) b = 0x08;
      else if (c === 0x66) b = 0x0c;
      else if (c === 0x75) return hashEscapedString(buf, v, e);
      else return null;
    }
    h = Math.imul(h ^ b, FNV_PRIME);
  }
  return null;
}

function hashEscapedString(buf: Buffer, v: number, e: number): number | null {
  let i = v + 1;
  while (i < e) {
    const b = buf[i++];
    if (b === 0x5c) i++;
    else if (b === 0x22) break;
  }
  if (i > e || buf[i - 1] !== 0x22) return null;
  try {
    const text: unknown = JSON.parse(buf.toString('utf8', v, i));
    return typeof text === 'string' ? hashKey(text) : null;
  } catch {
    return null;
  }
}

/** A string that does not share memory with the text it was sliced from. */
function copy(text: string): string {
  return (' ' + text).slice(1);
}

export interface CirrusScannerOptions {
  /** absolute offset of the first byte pushed */
  start: number;
  /** the first byte pushed starts a line (the file's start, or a chunk cut at a line start) */
  lineStart: boolean;
  /** lines that start at or after this offset are not this scanner's (default: none) */
  bound?: number;
  keys: KeyTable;
  /** a document line is also wanted when its `external_link` list names one of these */
  imdb?: ImdbTable;
  /** the key window: a document is wanted when its key's index is in [from, to) */
  from?: number;
  to?: number;
  /** record every title hash of every document line and its offset (for keys that come later) */
  index?: boolean;
  maxDocBytes?: number;
}

const enum Mode {
  /** before this scanner's first line: the range before owns these bytes */
  Seek,
  /** in a line that started at lineStart (its bytes so far in the carry, or still in the pushed buffer) */
  Line,
  /** in a line larger than the limit: skipping to its end */
  Skip,
  /** past the bound, after an action: reading the next line's first bytes to know if it is the action's document */
  Peek,
  /** nothing more is ours */
  Done,
}

const EMPTY = new ImdbTable();

export class CirrusScanner {
  readonly #keys: KeyTable;
  readonly #imdb: ImdbTable;
  readonly #from: number;
  readonly #to: number;
  readonly #bound: number;
  readonly #maxDoc: number;
  #mode: Mode;
  /** absolute offset of the next byte to be pushed */
  #pos: number;
  /** absolute offset where the open line starts */
  #lineStart: number;
  /** the open line's bytes (Line), or the next line's first bytes (Peek) */
  #carry: Buffer = Buffer.allocUnsafe(0);
  #carryLen = 0;
  /** offset of an action line whose document has not come yet, or -1 */
  #pending = -1;
  /** Skip: the last byte of the skipped line that is not whitespace (to tell a whole line at the end) */
  #skipLast = -1;
  #ended = false;

  #docs = 0;
  #hits: ScanHit[] = [];
  #imdbHits: ImdbHit[] = [];
  #malformed = 0;
  #samples: Malformed[] = [];
  #content: Malformed[] = [];
  #hashes: Int32Array | null = null;
  #offsets: Float64Array | null = null;
  #indexed = 0;

  /** the next `"title":` / `imdb.com` at or after the last search in #cacheBuf (-1: none up to its end, -2: not searched) */
  #cacheBuf: Buffer | null = null;
  #nextTitle = -2;
  #nextImdb = -2;

  constructor(options: CirrusScannerOptions) {
    this.#keys = options.keys;
    this.#imdb = options.imdb ?? EMPTY;
    this.#from = options.from ?? 0;
    this.#to = options.to ?? Number.MAX_SAFE_INTEGER;
    this.#bound = options.bound ?? Number.POSITIVE_INFINITY;
    this.#maxDoc = options.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES;
    this.#pos = options.start;
    this.#lineStart = options.start;
    this.#mode = options.lineStart ? (options.start >= this.#bound ? Mode.Done : Mode.Line) : Mode.Seek;
    if (options.index) {
      this.#hashes = new Int32Array(1024);
      this.#offsets = new Float64Array(1024);
    }
  }

  /** Feeds the next bytes; returns false once the scanner needs no more. */
  push(chunk: Uint8Array): boolean {
    if (this.#ended) throw new TrueFilmError('INTERNAL', 'push() after end()');
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#cacheBuf = null;
    const len = buf.length;
    let at = 0;
    while (at < len && this.#mode !== Mode.Done) {
      switch (this.#mode) {
        case Mode.Line:
          at = this.#carryLen > 0 ? this.#finishCarried(buf, at) : this.#linesInPlace(buf, at);
          break;
        case Mode.Seek:
        case Mode.Skip: {
          // to the next line start (skipping: the rest of a line too large, whose last byte tells if it was whole)
          const n = buf.indexOf(NL, at);
          if (this.#mode === Mode.Skip) {
            const last = lastNonSpace(buf, at, n < 0 ? len : n);
            if (last >= 0) this.#skipLast = last;
          }
          if (n < 0) {
            at = len;
          } else {
            at = n + 1;
            this.#startLine(this.#pos + at);
          }
          break;
        }
        case Mode.Peek: {
          const n = buf.indexOf(NL, at);
          const take = Math.min(n < 0 ? len : n, at + ACTION.length - this.#carryLen);
          this.#append(buf, at, take);
          if (n >= 0 || this.#carryLen >= ACTION.length) this.#resolvePeek(take === n);
          at = len;
          break;
        }
      }
    }
    this.#pos += len;
    return this.#mode !== Mode.Done;
  }

  /** The input ends here: at the file's end, or (`atLineStart`) where a line starts. */
  end(atLineStart = false): ScanOutput {
    if (!this.#ended) {
      this.#ended = true;
      if (atLineStart) {
        if (this.#mode === Mode.Line && this.#carryLen > 0) throw new TrueFilmError('INTERNAL', 'a chunk ends inside a line');
        if (this.#mode === Mode.Peek || this.#pending >= 0) throw new TrueFilmError('INTERNAL', 'a chunk ends after an action line');
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
      imdb: this.#imdbHits,
    };
    if (this.#hashes && this.#offsets) {
      out.hashes = this.#hashes.slice(0, this.#indexed);
      out.offsets = this.#offsets.slice(0, this.#indexed);
    }
    return out;
  }

  // ---- finding lines ----

  /** A line starts at `abs`: ours, or past the bound (returns false). */
  #startLine(abs: number): boolean {
    if (abs >= this.#bound) {
      this.#carryLen = 0;
      this.#mode = this.#pending >= 0 ? Mode.Peek : Mode.Done;
      return false;
    }
    this.#mode = Mode.Line;
    this.#lineStart = abs;
    return true;
  }

  /** No carry: the lines that lie whole in buf are read where they are. */
  #linesInPlace(buf: Buffer, at: number): number {
    const pos = this.#pos;
    for (;;) {
      const n = buf.indexOf(NL, at);
      if (n < 0) {
        this.#keepOpen(buf, at, buf.length);
        return buf.length;
      }
      this.#line(buf, at, n, pos + at);
      at = n + 1;
      if (!this.#startLine(pos + at)) return at;
    }
  }

  /** The open line's first bytes are in the carry: find its end in buf. */
  #finishCarried(buf: Buffer, at: number): number {
    const n = buf.indexOf(NL, at);
    if (n < 0) {
      this.#keepOpen(buf, at, buf.length);
      return buf.length;
    }
    this.#keepOpen(buf, at, n);
    if (this.#mode === Mode.Line) {
      const line = this.#carry.subarray(0, this.#carryLen);
      this.#carryLen = 0;
      this.#line(line, 0, line.length, this.#lineStart);
    }
    this.#startLine(this.#pos + n + 1);
    return n + 1;
  }

  /** buf[from, to) is more of the open line: kept, unless the line outgrows the limit. */
  #keepOpen(buf: Buffer, from: number, to: number): void {
    if (this.#mode === Mode.Skip) return;
    if (this.#carryLen + (to - from) > this.#maxDoc) {
      this.#huge(this.#lineStart);
      this.#mode = Mode.Skip;
      this.#skipLast = lastNonSpace(buf, from, to);
      if (this.#skipLast < 0) this.#skipLast = lastNonSpace(this.#carry, 0, this.#carryLen);
      this.#carryLen = 0;
      return;
    }
    this.#append(buf, from, to);
  }

  #append(buf: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    this.#carry = appendAt(this.#carry, this.#carryLen, buf.subarray(from, to));
    this.#carryLen += to - from;
  }

  /**
   * Past the bound: the next line's first bytes (`lineEnded`: all of it)
   * tell if the pending action has its document: not when that line is
   * empty, another action, or absent (the input's end).
   */
  #resolvePeek(lineEnded: boolean): void {
    const next = this.#carry.subarray(0, this.#carryLen);
    const empty = next.length === 0 || (lineEnded && next.length === 1 && next[0] === 0x0d);
    const document = !empty && !isAction(next, 0, next.length);
    if (!document) this.#report(this.#pending, 'bulk action without its document');
    this.#pending = -1;
    this.#carryLen = 0;
    this.#mode = Mode.Done;
  }

  #endOfFile(): void {
    switch (this.#mode) {
      case Mode.Done:
      case Mode.Seek:
        return;
      case Mode.Peek:
        this.#resolvePeek(false);
        return;
      case Mode.Skip:
        // the huge line is counted; cut short unless it ends like a JSON object
        if (this.#skipLast !== 0x7d) throw truncatedLine(this.#pos, this.#lineStart);
        break;
      case Mode.Line:
        if (this.#carryLen > 0) {
          // the last line has no `\n`: whole only if it is a whole JSON value
          const line = this.#carry.subarray(0, this.#carryLen);
          let whole = true;
          try {
            JSON.parse(line.toString('utf8'));
          } catch {
            whole = false;
          }
          if (!whole) throw truncatedLine(this.#pos, this.#lineStart);
          this.#carryLen = 0;
          this.#line(line, 0, line.length, this.#lineStart);
        }
        break;
    }
    if (this.#pending >= 0) this.#report(this.#pending, 'bulk action without its document');
    this.#pending = -1;
    this.#mode = Mode.Done;
  }

  // ---- one line ----

  #report(offset: number, reason: string): void {
    this.#malformed++;
    if (this.#samples.length < SAMPLES) this.#samples.push({ offset, reason });
  }

  #huge(offset: number): void {
    this.#docs++;
    this.#pending = -1;
    this.#report(offset, `line larger than ${this.#maxDoc} bytes`);
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

  #titleFrom(buf: Buffer, from: number): number {
    if (this.#cacheBuf !== buf) {
      this.#cacheBuf = buf;
      this.#nextTitle = -2;
      this.#nextImdb = -2;
    }
    while (this.#nextTitle === -2 || (this.#nextTitle >= 0 && this.#nextTitle < from)) {
      const at = buf.indexOf(TITLE_NEEDLE, from);
      if (at < 0 || matchAt(buf, at, buf.length, TITLE_KEY)) this.#nextTitle = at;
      else from = at + 1;
    }
    return this.#nextTitle;
  }

  #imdbFrom(buf: Buffer, from: number): number {
    if (this.#cacheBuf !== buf) {
      this.#cacheBuf = buf;
      this.#nextTitle = -2;
      this.#nextImdb = -2;
    }
    while (this.#nextImdb === -2 || (this.#nextImdb >= 0 && this.#nextImdb < from)) {
      const at = buf.indexOf(IMDB_NEEDLE, from + 3);
      if (at < 0 || matchAt(buf, at - 3, buf.length, IMDB_HOST)) this.#nextImdb = at < 0 ? -1 : at - 3;
      else from = at - 2;
    }
    return this.#nextImdb;
  }

  /** The line buf[s, e) (e at its `\n`, or the input's end), which starts at absolute offset `abs`. */
  #line(buf: Buffer, s: number, e: number, abs: number): void {
    if (e === s || (e === s + 1 && buf[s] === 0x0d)) {
      // an empty line: nothing, but an action before it has no document
      if (this.#pending >= 0) this.#report(this.#pending, 'bulk action without its document');
      this.#pending = -1;
      return;
    }
    if (e - s > this.#maxDoc) return this.#huge(abs);
    if (abs === 0 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    let end = e;
    while (end > s && isSpace(buf[end - 1]!)) end--;
    if (isAction(buf, s, end)) {
      if (this.#pending >= 0) this.#report(this.#pending, 'bulk action without its document');
      this.#pending = abs;
      return;
    }
    this.#pending = -1;
    this.#docs++;
    let i = s;
    while (i < end && isSpace(buf[i]!)) i++;
    if (i === end || buf[i] !== 0x7b || buf[end - 1] !== 0x7d) return this.#report(abs, 'line is not a JSON object');

    // every `"title":` key with a string value: the page's, or a redirect's
    let titled = false;
    let wanted = false;
    for (let t = this.#titleFrom(buf, i); t >= 0 && t < end; t = this.#titleFrom(buf, t + TITLE_KEY.length)) {
      let v = t + TITLE_KEY.length;
      while (v < end && isSpace(buf[v]!)) v++;
      if (buf[v] !== 0x22) continue;
      const hash = hashJsonString(buf, v, end);
      if (hash === null) continue;
      titled = true;
      if (this.#hashes !== null) this.#index(hash, abs);
      if (!wanted && this.#keys.mayHave(hash, this.#from, this.#to)) wanted = true;
    }
    if (!titled) return this.#report(abs, 'document without "title"');
    // an IMDb title link with a wanted id
    if (!wanted && this.#imdb.size > 0) {
      for (let m = this.#imdbFrom(buf, i); m >= 0 && m < end && !wanted; m = this.#imdbFrom(buf, m + IMDB_HOST.length)) {
        let j = m + IMDB_HOST.length;
        if (matchAt(buf, j, end, IMDB_PATH)) j += IMDB_PATH.length;
        else if (matchAt(buf, j, end, IMDB_PATH_ESCAPED)) j += IMDB_PATH_ESCAPED.length;
        else continue;
        let n = 0;
        let digits = 0;
        for (let b = buf[j]!; j < end && b >= 0x30 && b <= 0x39 && digits <= 12; b = buf[++j]!, digits++) n = n * 10 + (b - 0x30);
        if (digits > 0 && digits <= 12 && this.#imdb.get(n) !== undefined) wanted = true;
      }
    }
    if (wanted) this.#wanted(buf, s, end, abs);
  }

  /** A line that may be wanted: parse it and judge it exactly. */
  #wanted(buf: Buffer, s: number, e: number, abs: number): void {
    if (!isUtf8(buf.subarray(s, e))) {
      this.#content.push({ offset: abs, reason: 'document is not valid UTF-8' });
      return;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(buf.toString('utf8', s, e));
    } catch (err) {
      this.#content.push({ offset: abs, reason: `not JSON: ${(err as Error).message.split('\n')[0]}` });
      return;
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      this.#content.push({ offset: abs, reason: 'line is not a JSON object' });
      return;
    }
    const fields = doc as Record<string, unknown>;
    const title = fields.title;
    if (typeof title !== 'string' || title === '') {
      this.#content.push({ offset: abs, reason: 'document without "title"' });
      return;
    }
    // articles only: talk, user, project pages... are other namespaces
    if (fields.namespace !== undefined && fields.namespace !== 0) return;
    const ids: string[] = [];
    const titles = new Set<number>();
    if (Array.isArray(fields.external_link) && this.#imdb.size > 0) {
      for (const link of fields.external_link) {
        if (typeof link !== 'string') continue;
        const m = IMDB_LINK.exec(link);
        if (!m) continue;
        const n = Number(m[1]);
        titles.add(n);
        const id = this.#imdb.get(n);
        if (id !== undefined && !ids.includes(id)) ids.push(id);
      }
    }
    const index = this.#keys.indexOf(title);
    // a title MediaWiki would refuse (a control character, `<`...) is no page: its IMDb links name no film's page
    if (ids.length > 0 && !isValidTitle(title)) ids.length = 0;
    if (!(index >= this.#from && index < this.#to) && ids.length === 0) return;
    const opening = typeof fields.opening_text === 'string' ? fields.opening_text.trim() : '';
    const key = copy(title);
    const page: ScanHit['page'] = { key, url: urlFromKey(key), abstract: opening === '' ? null : copy(opening) };
    if (typeof fields.wikibase_item === 'string' && /^Q\d+$/.test(fields.wikibase_item)) page.wikibaseItem = copy(fields.wikibase_item);
    this.#hits.push({ index, offset: abs, page });
    for (const id of ids) this.#imdbHits.push({ id, key, offset: abs, titleLinks: titles.size });
  }
}

/** The input ends at `end`, inside the line that starts at `lineStart`. */
export function truncatedLine(end: number, lineStart: number): TrueFilmError {
  return new TrueFilmError('DUMP_TRUNCATED', `the dump is cut short: it ends at byte ${end}, inside the line that starts at byte ${lineStart} (no newline after it)`, {
    offset: end,
    hint: 'The file was not completely downloaded or decompressed: fetch it again (./data_download.sh --source cirrus).',
  });
}

// ---- the compressed path: cutting inflated bytes at line starts ----

export interface LineCutterOptions {
  /** inflated bytes per chunk, about */
  chunkSize: number;
  maxDocBytes?: number;
}

/**
 * Where line `[q, n)` ends, the next chunk may start: the cut is at n + 1,
 * unless that line is a bulk action (its document must be in the same chunk,
 * so that the chunk's scanner can tell whether it came). Returns the last
 * such cut in buf[from, to), or -1. `lineStartAtFrom`: buf[from] starts a
 * line (else a line that starts before `from` is not known); `abs` is the
 * absolute offset of buf[0] (a BOM at the file's start is not the line's).
 */
function lastCut(buf: Buffer, from: number, to: number, lineStartAtFrom: boolean, abs: number): number {
  let n = to > from ? buf.lastIndexOf(NL, to - 1) : -1;
  while (n >= from) {
    const prev = n > from ? buf.lastIndexOf(NL, n - 1) : -1;
    let q: number;
    if (prev >= from) q = prev + 1;
    else if (lineStartAtFrom) q = from;
    else return -1;
    if (abs + q === 0 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) q = 3;
    if (!isAction(buf, q, n)) return n + 1;
    n = prev;
  }
  return -1;
}

/**
 * The line-format counterpart of DocCutter (gzip.ts): cuts decompressed
 * bytes into chunks that start at the file's start or at a line start (never
 * between an action and its document), so that each can go to any worker.
 * A large whole buffer goes as it is (moved, not copied), with the bytes
 * before it as a small copied prefix. A line larger than `maxDocBytes` is sent
 * as its first bytes only (the scanner reports it as too large, as it does
 * for a plain file) and the rest of it is skipped here.
 */
export class LineCutter {
  readonly #chunkSize: number;
  readonly #maxDoc: number;
  /** the bytes not yet sent, from a line start (or the file's start) */
  readonly #carry: Carry;
  /** skipping the rest of a line too large to send (it started at skipFrom) */
  #skipping = false;
  #skipFrom = 0;
  #skipLast = -1;
  #total = 0;

  constructor(options: LineCutterOptions) {
    this.#chunkSize = Math.max(1, options.chunkSize);
    this.#maxDoc = options.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES;
    this.#carry = new Carry(this.#chunkSize);
  }

  /** The next decompressed bytes. A whole buffer given up by the caller may become part of a chunk as it is (and be moved). */
  push(data: Uint8Array): InflatedChunk[] {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const abs = this.#total;
    this.#total += bytes.length;
    if (this.#skipping) {
      const n = bytes.indexOf(NL);
      const last = lastNonSpace(bytes, 0, n < 0 ? bytes.length : n);
      if (last >= 0) this.#skipLast = last;
      if (n < 0) return [];
      this.#skipping = false;
      this.#carry.restart(abs + n + 1);
      this.#carry.append(bytes.subarray(n + 1));
      return this.#cut([]);
    }
    if (this.#carry.takesWhole(data)) {
      const lineStart = this.#carry.length === 0 || this.#carry.buf[this.#carry.length - 1] === NL;
      const c = lastCut(bytes, 0, bytes.length, lineStart, abs);
      if (c > 0) {
        const chunk = this.#carry.sendWith(bytes, 0, c, abs);
        return this.#cut([chunk]);
      }
    }
    this.#carry.append(bytes);
    return this.#cut([]);
  }

  /** The decompressed data ends: the last chunk (the file's end). */
  end(): InflatedChunk[] {
    if (this.#skipping) {
      if (this.#skipLast !== 0x7d) throw truncatedLine(this.#total, this.#skipFrom);
      return [];
    }
    return [this.#carry.send(this.#carry.length, true)];
  }

  /** Sends what the carry holds beyond the chunk size, cut at a line start. */
  #cut(out: InflatedChunk[]): InflatedChunk[] {
    while (this.#carry.length >= this.#chunkSize) {
      const c = lastCut(this.#carry.buf, 0, this.#carry.length, true, this.#carry.start);
      if (c > 0) {
        out.push(this.#carry.send(c, false));
        continue;
      }
      const open = this.#carry.length > 0 ? this.#carry.buf.lastIndexOf(NL, this.#carry.length - 1) + 1 : 0;
      if (this.#carry.length - open > this.#maxDoc) {
        // a line larger than the limit: send its first bytes, skip the rest
        this.#skipFrom = this.#carry.start + open;
        this.#skipLast = lastNonSpace(this.#carry.buf, open, this.#carry.length);
        out.push(this.#carry.send(this.#carry.length, false));
        this.#skipping = true;
      }
      break;
    }
    return out;
  }
}
