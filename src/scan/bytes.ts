/**
 * The bytes the scanners look for, by name, in one place (as pg-copy-streams'
 * message-formats.js names the protocol's bytes), and the few helpers that
 * compare them.
 *
 * Single bytes are a const enum: the compiler writes the numbers into the
 * loops that compare them, so that a name costs nothing there. Letters are
 * named by themselves (`Byte.t` is `t`).
 */

export const enum Byte {
  BACKSPACE = 0x08,
  TAB = 0x09,
  NL = 0x0a,
  FORMFEED = 0x0c,
  CR = 0x0d,
  SPACE = 0x20,
  QUOTE = 0x22,
  AMP = 0x26,
  APOS = 0x27,
  SLASH = 0x2f,
  ZERO = 0x30,
  NINE = 0x39,
  LT = 0x3c,
  GT = 0x3e,
  BACKSLASH = 0x5c,
  LBRACE = 0x7b,
  RBRACE = 0x7d,
  COLON = 0x3a,
  SEMICOLON = 0x3b,
  W = 0x57,
  a = 0x61,
  b = 0x62,
  c = 0x63,
  d = 0x64,
  e = 0x65,
  f = 0x66,
  g = 0x67,
  i = 0x69,
  k = 0x6b,
  l = 0x6c,
  m = 0x6d,
  n = 0x6e,
  o = 0x6f,
  p = 0x70,
  q = 0x71,
  r = 0x72,
  s = 0x73,
  t = 0x74,
  u = 0x75,
  /** UTF-8's byte order mark: EF BB BF */
  BOM0 = 0xef,
  BOM1 = 0xbb,
  BOM2 = 0xbf,
}

// ---- the abstract dump (XML) ----

export const DOC_OPEN = Buffer.from('<doc>');
export const DOC_CLOSE = Buffer.from('</doc>');
export const FEED_CLOSE = Buffer.from('</feed>');
/** a `<doc>`'s links: most of its bytes, never used */
export const LINKS_OPEN = Buffer.from('<links');

// ---- the CirrusSearch dump (NDJSON) ----

/** a bulk action line starts so */
export const ACTION = Buffer.from('{"index":');
export const TITLE_KEY = Buffer.from('"title":');
export const IMDB_HOST = Buffer.from('imdb.com');
/**
 * What is searched for instead of the whole words: Buffer.indexOf finds these
 * short needles two to three times as fast in JSON text (docs/performance.md);
 * the rest of the word is then checked.
 */
export const TITLE_NEEDLE = Buffer.from('"titl');
export const IMDB_NEEDLE = Buffer.from('b.co');
/** where IMDB_NEEDLE lies in IMDB_HOST */
export const IMDB_NEEDLE_AT = 3;
export const IMDB_PATH = Buffer.from('/title/tt');
/** the same, in JSON that escapes slashes (PHP's json_encode) */
export const IMDB_PATH_ESCAPED = Buffer.from('\\/title\\/tt');

// ---- helpers ----

export const isSpace = (b: number): boolean => b === Byte.SPACE || b === Byte.NL || b === Byte.CR || b === Byte.TAB;

/** Does buf[at..] start with `word`, within buf[0, end)? */
export function matchAt(buf: Uint8Array, at: number, word: Uint8Array, end = buf.length): boolean {
  if (at < 0 || at + word.length > end) return false;
  for (let k = 0; k < word.length; k++) if (buf[at + k] !== word[k]) return false;
  return true;
}

/** Does buf[at..] hold UTF-8's byte order mark? */
export function bomAt(buf: Uint8Array, at: number): boolean {
  return buf[at] === Byte.BOM0 && buf[at + 1] === Byte.BOM1 && buf[at + 2] === Byte.BOM2;
}

/** The last byte of buf[from, to) that is not whitespace, or -1. */
export function lastNonSpace(buf: Uint8Array, from: number, to: number): number {
  for (let j = to - 1; j >= from; j--) if (!isSpace(buf[j]!)) return buf[j]!;
  return -1;
}

/** Where the whitespace that ends buf[from, to) starts. */
export function trimEnd(buf: Uint8Array, from: number, to: number): number {
  while (to > from && isSpace(buf[to - 1]!)) to--;
  return to;
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

/** A Uint8Array as a Buffer over the same memory. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A string that does not share memory with the text it was sliced from: a page must not keep its doc's whole text alive. */
export function copy(text: string): string {
  return (' ' + text).slice(1);
}
