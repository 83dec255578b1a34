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
import {
  ACTION,
  appendAt,
  asBuffer,
  bomAt,
  Byte,
  copy,
  IMDB_HOST,
  IMDB_NEEDLE,
  IMDB_NEEDLE_AT,
  IMDB_PATH,
  IMDB_PATH_ESCAPED,
  isSpace,
  lastNonSpace,
  matchAt,
  TITLE_KEY,
  TITLE_NEEDLE,
  trimEnd,
} from './bytes.js';
import { FormatCutter } from './cutter.js';
import { FNV_OFFSET, FNV_PRIME, hashKey } from './hash.js';
import { ScanSink } from './sink.js';
import { DEFAULT_MAX_DOC_BYTES, type ScanHit, type ScanOptions, type ScanOutput, type Scanner } from './types.js';

/** an IMDb title link as `external_link` holds it: any scheme, any subdomain (www., m.) */
const IMDB_LINK = /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/(?:[^/?#@]*@)?(?:[A-Za-z0-9-]+\.)*imdb\.com(?::\d+)?\/title\/tt(\d{1,12})(?!\d)/;

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

/** Does the line buf[s, e) start as a bulk action (`{"index":`)? */
function isAction(buf: Uint8Array, s: number, e: number): boolean {
  return matchAt(buf, s, ACTION, e);
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
    if (b === Byte.QUOTE) return h | 0;
    if (b === Byte.BACKSLASH) {
      const c = buf[i++];
      if (c === Byte.QUOTE || c === Byte.BACKSLASH || c === Byte.SLASH) b = c;
      else if (c === Byte.n) b = Byte.NL;
      else if (c === Byte.t) b = Byte.TAB;
      else if (c === Byte.r) b = Byte.CR;
      else if (c === Byte.b) b = Byte.BACKSPACE;
      else if (c === Byte.f) b = Byte.FORMFEED;
      else if (c === Byte.u) return hashEscapedString(buf, v, e);
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
    if (b === Byte.BACKSLASH) i++;
    else if (b === Byte.QUOTE) break;
  }
  if (i > e || buf[i - 1] !== Byte.QUOTE) return null;
  try {
    const text: unknown = JSON.parse(buf.toString('utf8', v, i));
    return typeof text === 'string' ? hashKey(text) : null;
  } catch {
    return null;
  }
}

export interface CirrusScannerOptions extends ScanOptions {
  /** the first byte pushed starts a line (the file's start, or a chunk cut at a line start) */
  lineStart: boolean;
  /** a document line is also wanted when its `external_link` list names one of these */
  imdb?: ImdbTable;
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

/**
 * The next place of a word in a buffer, searched for by a shorter needle
 * within it (`needleAt` bytes in) and remembered: a line asks for the next
 * one at or after its start, and only a line past the remembered place
 * searches again, so that each byte of a buffer is searched once.
 */
class WordSearch {
  readonly #word: Uint8Array;
  readonly #needle: Uint8Array;
  readonly #needleAt: number;
  #buf: Buffer | null = null;
  /** the word's next place at or after the last search (-1: none up to the buffer's end, -2: not searched) */
  #next = -2;

  constructor(word: Uint8Array, needle: Uint8Array, needleAt: number) {
    this.#word = word;
    this.#needle = needle;
    this.#needleAt = needleAt;
  }

  /** Forgets what was found: the bytes may have changed. */
  reset(): void {
    this.#buf = null;
  }

  /** Where the word next starts in buf at or after `from`, or -1. */
  from(buf: Buffer, from: number): number {
    if (this.#buf !== buf) {
      this.#buf = buf;
      this.#next = -2;
    }
    while (this.#next === -2 || (this.#next >= 0 && this.#next < from)) {
      const at = buf.indexOf(this.#needle, from + this.#needleAt);
      if (at < 0) this.#next = -1;
      else if (matchAt(buf, at - this.#needleAt, this.#word)) this.#next = at - this.#needleAt;
      else from = at - this.#needleAt + 1;
    }
    return this.#next;
  }
}

export class CirrusScanner implements Scanner {
  readonly #out: ScanSink;
  readonly #imdb: ImdbTable;
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
  readonly #titles = new WordSearch(TITLE_KEY, TITLE_NEEDLE, 0);
  readonly #imdbLinks = new WordSearch(IMDB_HOST, IMDB_NEEDLE, IMDB_NEEDLE_AT);

  constructor(options: CirrusScannerOptions) {
    this.#out = new ScanSink(options, true);
    this.#imdb = options.imdb ?? EMPTY;
    this.#bound = options.bound ?? Number.POSITIVE_INFINITY;
    this.#maxDoc = options.maxDocBytes ?? DEFAULT_MAX_DOC_BYTES;
    this.#pos = options.start;
    this.#lineStart = options.start;
    this.#mode = options.lineStart ? (options.start >= this.#bound ? Mode.Done : Mode.Line) : Mode.Seek;
  }

  push(chunk: Uint8Array): boolean {
    if (this.#ended) throw new TrueFilmError('INTERNAL', 'push() after end()');
    const buf = asBuffer(chunk);
    this.#titles.reset();
    this.#imdbLinks.reset();
    const len = buf.length;
    let at = 0;
    while (at < len && this.#mode !== Mode.Done) {
      switch (this.#mode) {
        case Mode.Line:
          at = this.#carryLen > 0 ? this.#finishCarried(buf, at) : this.#linesInPlace(buf, at);
          break;
        case Mode.Seek:
        case Mode.Skip:
          at = this.#toNextLine(buf, at);
          break;
        case Mode.Peek: {
          const n = buf.indexOf(Byte.NL, at);
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
    return this.#out.output();
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

  /**
   * Seeking or skipping: to the next line start (skipping the rest of a line
   * too large, whose last byte tells if it was whole). Returns the position
   * in buf handled so far.
   */
  #toNextLine(buf: Buffer, at: number): number {
    const n = buf.indexOf(Byte.NL, at);
    if (this.#mode === Mode.Skip) {
      const last = lastNonSpace(buf, at, n < 0 ? buf.length : n);
      if (last >= 0) this.#skipLast = last;
    }
    if (n < 0) return buf.length;
    this.#startLine(this.#pos + n + 1);
    return n + 1;
  }

  /** No carry: the lines that lie whole in buf are read where they are. */
  #linesInPlace(buf: Buffer, at: number): number {
    const pos = this.#pos;
    for (;;) {
      const n = buf.indexOf(Byte.NL, at);
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
    const n = buf.indexOf(Byte.NL, at);
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
    const empty = next.length === 0 || (lineEnded && next.length === 1 && next[0] === Byte.CR);
    if (empty || isAction(next, 0, next.length)) this.#orphanAction();
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
        if (this.#skipLast !== Byte.RBRACE) throw truncatedLine(this.#pos, this.#lineStart);
        break;
      case Mode.Line:
        if (this.#carryLen > 0) {
          // the last line has no `\n`: whole only if it is a whole JSON value
          const line = this.#carry.subarray(0, this.#carryLen);
          if (!isJson(line)) throw truncatedLine(this.#pos, this.#lineStart);
          this.#carryLen = 0;
          this.#line(line, 0, line.length, this.#lineStart);
        }
        break;
    }
    this.#orphanAction();
    this.#mode = Mode.Done;
  }

  // ---- one line ----

  /** An action line whose document did not come, if there is one pending. */
  #orphanAction(): void {
    if (this.#pending >= 0) this.#out.malformed(this.#pending, 'bulk action without its document');
    this.#pending = -1;
  }

  #huge(offset: number): void {
    this.#out.docs++;
    this.#pending = -1;
    this.#out.malformed(offset, `line larger than ${this.#maxDoc} bytes`);
  }

  /** The line buf[s, e) (e at its `\n`, or the input's end), which starts at absolute offset `abs`. */
  #line(buf: Buffer, s: number, e: number, abs: number): void {
    if (e === s || (e === s + 1 && buf[s] === Byte.CR)) return this.#orphanAction(); // an empty line
    if (e - s > this.#maxDoc) return this.#huge(abs);
    if (abs === 0 && bomAt(buf, s)) s += 3;
    const end = trimEnd(buf, s, e);
    if (isAction(buf, s, end)) {
      this.#orphanAction();
      this.#pending = abs;
      return;
    }
    this.#pending = -1;
    const out = this.#out;
    out.docs++;
    let i = s;
    while (i < end && isSpace(buf[i]!)) i++;
    if (i === end || buf[i] !== Byte.LBRACE || buf[end - 1] !== Byte.RBRACE) return out.malformed(abs, 'line is not a JSON object');
    const titles = this.#titleHashes(buf, i, end, abs);
    if (titles < 0) return out.malformed(abs, 'document without "title"');
    if (titles > 0 || this.#linksWantedId(buf, i, end)) this.#wanted(buf, s, end, abs);
  }

  /**
   * Every `"title":` key with a string value in buf[i, end) (the page's, or a
   * redirect's: a document's fields come in any order), hashed and indexed.
   * Returns -1 when there is none, 1 when one may be wanted, else 0.
   */
  #titleHashes(buf: Buffer, i: number, end: number, abs: number): number {
    const out = this.#out;
    let found = -1;
    for (let t = this.#titles.from(buf, i); t >= 0 && t < end; t = this.#titles.from(buf, t + TITLE_KEY.length)) {
      let v = t + TITLE_KEY.length;
      while (v < end && isSpace(buf[v]!)) v++;
      if (buf[v] !== Byte.QUOTE) continue;
      const hash = hashJsonString(buf, v, end);
      if (hash === null) continue;
      out.index(hash, abs);
      if (found < 1) found = out.mayWant(hash) ? 1 : 0;
    }
    return found;
  }

  /** Does buf[i, end) hold an IMDb title link (`/title/tt<digits>`, or `\/title\/tt`) with a wanted id? */
  #linksWantedId(buf: Buffer, i: number, end: number): boolean {
    if (this.#imdb.size === 0) return false;
    for (let m = this.#imdbLinks.from(buf, i); m >= 0 && m < end; m = this.#imdbLinks.from(buf, m + IMDB_HOST.length)) {
      let j = m + IMDB_HOST.length;
      if (matchAt(buf, j, IMDB_PATH, end)) j += IMDB_PATH.length;
      else if (matchAt(buf, j, IMDB_PATH_ESCAPED, end)) j += IMDB_PATH_ESCAPED.length;
      else continue;
      let n = 0;
      let digits = 0;
      for (let b = buf[j]!; j < end && b >= Byte.ZERO && b <= Byte.NINE && digits <= 12; b = buf[++j]!, digits++) n = n * 10 + (b - Byte.ZERO);
      if (digits > 0 && digits <= 12 && this.#imdb.get(n) !== undefined) return true;
    }
    return false;
  }

  /** A line that may be wanted: parse it and judge it exactly. */
  #wanted(buf: Buffer, s: number, e: number, abs: number): void {
    const out = this.#out;
    if (!isUtf8(buf.subarray(s, e))) return out.unreadable(abs, 'document is not valid UTF-8');
    let doc: unknown;
    try {
      doc = JSON.parse(buf.toString('utf8', s, e));
    } catch (err) {
      return out.unreadable(abs, `not JSON: ${(err as Error).message.split('\n')[0]}`);
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return out.unreadable(abs, 'line is not a JSON object');
    const fields = doc as Record<string, unknown>;
    const title = fields.title;
    if (typeof title !== 'string' || title === '') return out.unreadable(abs, 'document without "title"');
    // articles only: talk, user, project pages... are other namespaces
    if (fields.namespace !== undefined && fields.namespace !== 0) return;
    const { ids, titles } = this.#imdbLinksOf(fields.external_link);
    const index = out.indexOf(title);
    // a title MediaWiki would refuse (a control character, `<`...) is no page: its IMDb links name no film's page
    if (ids.length > 0 && !isValidTitle(title)) ids.length = 0;
    if (!out.inWindow(index) && ids.length === 0) return;
    const opening = typeof fields.opening_text === 'string' ? fields.opening_text.trim() : '';
    const key = copy(title);
    const page: ScanHit['page'] = { key, url: urlFromKey(key), abstract: opening === '' ? null : copy(opening) };
    if (typeof fields.wikibase_item === 'string' && /^Q\d+$/.test(fields.wikibase_item)) page.wikibaseItem = copy(fields.wikibase_item);
    out.hit({ index, offset: abs, page });
    for (const id of ids) out.linked({ id, key, offset: abs, titleLinks: titles });
  }

  /** The wanted IMDb ids an `external_link` list links, and how many distinct IMDb titles it links. */
  #imdbLinksOf(links: unknown): { ids: string[]; titles: number } {
    const ids: string[] = [];
    const titles = new Set<number>();
    if (Array.isArray(links) && this.#imdb.size > 0) {
      for (const link of links) {
        if (typeof link !== 'string') continue;
        const m = IMDB_LINK.exec(link);
        if (!m) continue;
        const n = Number(m[1]);
        titles.add(n);
        const id = this.#imdb.get(n);
        if (id !== undefined && !ids.includes(id)) ids.push(id);
      }
    }
    return { ids, titles: titles.size };
  }
}

/** Is this whole line one JSON value? */
function isJson(line: Buffer): boolean {
  try {
    JSON.parse(line.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** The input ends at `end`, inside the line that starts at `lineStart`. */
function truncatedLine(end: number, lineStart: number): TrueFilmError {
  return new TrueFilmError('DUMP_TRUNCATED', `the dump is cut short: it ends at byte ${end}, inside the line that starts at byte ${lineStart} (no newline after it)`, {
    offset: end,
    hint: 'The file was not completely downloaded or decompressed: fetch it again (./data_download.sh --source cirrus).',
  });
}

// ---- the compressed path: cutting decompressed bytes at line starts ----

/**
 * Where line `[q, n)` ends, the next chunk may start: the cut is at n + 1,
 * unless that line is a bulk action (its document must be in the same chunk,
 * so that the chunk's scanner can tell whether it came). Returns the last
 * such cut in buf[from, to), or -1. `lineStartAtFrom`: buf[from] starts a
 * line (else a line that starts before `from` is not known); `abs` is the
 * absolute offset of buf[0] (a BOM at the file's start is not the line's).
 */
function lastCut(buf: Buffer, from: number, to: number, lineStartAtFrom: boolean, abs: number): number {
  let n = to > from ? buf.lastIndexOf(Byte.NL, to - 1) : -1;
  while (n >= from) {
    const prev = n > from ? buf.lastIndexOf(Byte.NL, n - 1) : -1;
    let q: number;
    if (prev >= from) q = prev + 1;
    else if (lineStartAtFrom) q = from;
    else return -1;
    if (abs + q === 0 && bomAt(buf, 0)) q = 3;
    if (!isAction(buf, q, n)) return n + 1;
    n = prev;
  }
  return -1;
}

/** Cuts the CirrusSearch dump at line starts, never between an action and its document. */
export class LineCutter extends FormatCutter {
  /** while skipping: the last byte of the skipped line that is not whitespace (to tell a whole line at the end) */
  #skipLast = -1;

  protected lastCut(buf: Buffer, length: number, abs: number): number {
    return lastCut(buf, 0, length, true, abs);
  }

  protected openAt(buf: Buffer, length: number): number {
    return length > 0 ? buf.lastIndexOf(Byte.NL, length - 1) + 1 : 0;
  }

  protected wholeSpan(held: Buffer, heldLength: number, bytes: Buffer, abs: number): [number, number] | null {
    const lineStart = heldLength === 0 || held[heldLength - 1] === Byte.NL;
    const cut = lastCut(bytes, 0, bytes.length, lineStart, abs);
    return cut > 0 ? [0, cut] : null;
  }

  protected beginSkip(buf: Buffer, from: number, to: number): void {
    this.#skipLast = lastNonSpace(buf, from, to);
  }

  protected skip(bytes: Buffer): Buffer | null {
    const n = bytes.indexOf(Byte.NL);
    const last = lastNonSpace(bytes, 0, n < 0 ? bytes.length : n);
    if (last >= 0) this.#skipLast = last;
    return n < 0 ? null : bytes.subarray(n + 1);
  }

  protected endSkip(total: number): void {
    if (this.#skipLast !== Byte.RBRACE) throw truncatedLine(total, this.skipFrom);
  }
}
