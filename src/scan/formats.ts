/**
 * The dump formats, in one table: what scans each, what cuts its
 * decompressed bytes into chunks, how its first bytes are told apart, and
 * where a worker reads a byte range of it from. A file's format is decided
 * once, from its first (decompressed) bytes, and everything else asks the
 * table:
 *   `<`  the abstract dump's XML (xml.ts; its scanner then checks for `<feed>`);
 *   `{`  CirrusSearch NDJSON (cirrus.ts): the first line must be a JSON object
 *        (a bulk action `{"index":{...}}` or a document).
 * Anything else is DUMP_FORMAT, naming the file.
 */
import { TrueFilmError } from '../errors.js';
import { Byte, bomAt, isSpace } from './bytes.js';
import { CirrusScanner, ImdbTable, LineCutter } from './cirrus.js';
import type { Cutter, CutterOptions, DumpFormat, ScanOptions, Scanner } from './types.js';
import { DocCutter, DocScanner } from './xml.js';

/** bytes read to tell a file's format */
export const SNIFF_BYTES = 64 << 10;

export interface FormatScanOptions extends ScanOptions {
  /** the first byte pushed is where a cutter cut (a chunk's start): a doc starts there, or the file does */
  atCut: boolean;
  /** wanted IMDb ids (the CirrusSearch documents that link one are wanted too) */
  imdb?: ImdbTable;
}

export interface Format {
  /** A scanner of the docs that start in [start, bound) of what is pushed from `start` on. */
  scanner(options: FormatScanOptions): Scanner;
  /** A cutter of the decompressed file into chunks that start where a doc does. */
  cutter(options: CutterOptions): Cutter;
  /**
   * Do the file's first bytes, from `at` (the first that is not whitespace),
   * say this format? null: more bytes are needed to tell. Throws DUMP_FORMAT
   * for a file that starts like this format and is not.
   */
  sniff(head: Buffer, at: number, final: boolean, file: string): boolean | null;
  /** Where a worker reads a byte range that starts at `start` from. */
  readFrom(start: number): number;
  /** where a page found in this format says its abstract came from */
  source: 'dump' | 'cirrus';
}

export const FORMATS: Record<DumpFormat, Format> = {
  xml: {
    scanner: (options) => new DocScanner({ ...options, fileStart: options.start === 0 }),
    cutter: (options) => new DocCutter(options),
    sniff: (head, at) => head[at] === Byte.LT,
    // a range owns the docs whose `<doc>` starts in it
    readFrom: (start) => start,
    source: 'dump',
  },
  cirrus: {
    scanner: (options) => new CirrusScanner({ ...options, lineStart: options.atCut || options.start === 0 }),
    cutter: (options) => new LineCutter(options),
    sniff: sniffCirrus,
    // a line starts after a `\n`: the byte before a range tells whether a line starts at its first byte
    readFrom: (start) => Math.max(0, start - 1),
    source: 'cirrus',
  },
};

const FORMAT_HINT =
  'Pass the enwiki abstract dump (enwiki-latest-abstract.xml[.gz], or its split abstract1..27 files) ' +
  'or the CirrusSearch enwiki_content files (./data_download.sh --source cirrus prints them).';

function notADump(file: string, why: string): TrueFilmError {
  return new TrueFilmError('DUMP_FORMAT', `neither an abstract dump (<feed>) nor a CirrusSearch dump (JSON lines): ${why}`, {
    input: file,
    offset: 0,
    hint: FORMAT_HINT,
  });
}

/** A first line that is a JSON object. */
function sniffCirrus(head: Buffer, at: number, final: boolean, file: string): boolean | null {
  if (head[at] !== Byte.LBRACE) return false;
  const nl = head.indexOf(Byte.NL, at);
  if (nl < 0 && !final) {
    if (head.length < SNIFF_BYTES) return null;
    // a first line longer than the sniff: a document, if it starts like one
    if (head[at + 1] === Byte.QUOTE) return true;
    throw notADump(file, 'its first line is not a JSON object');
  }
  let first: unknown;
  try {
    first = JSON.parse(head.toString('utf8', at, nl < 0 ? head.length : nl));
  } catch {
    first = null;
  }
  if (first === null || typeof first !== 'object' || Array.isArray(first)) throw notADump(file, 'its first line is not a JSON object');
  return true;
}

/**
 * The format of a file from its first (decompressed) bytes; null when more
 * bytes are needed to tell (`final`: there are no more).
 */
export function sniffFormat(head: Uint8Array, final: boolean, file: string): DumpFormat | null {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  let i = bomAt(bytes, 0) ? 3 : 0;
  while (i < bytes.length && isSpace(bytes[i]!)) i++;
  if (i === bytes.length) {
    if (!final && bytes.length < SNIFF_BYTES) return null;
    throw notADump(file, bytes.length === 0 ? 'the file is empty' : 'it holds only whitespace');
  }
  for (const name of Object.keys(FORMATS) as DumpFormat[]) {
    const said = FORMATS[name].sniff(bytes, i, final, file);
    if (said !== false) return said === null ? null : name;
  }
  throw notADump(file, `it starts with ${JSON.stringify(bytes.toString('latin1', i, Math.min(bytes.length, i + 20)))}`);
}
