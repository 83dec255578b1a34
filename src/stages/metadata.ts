/**
 * The metadata stage (SPEC section 3): streams `movies_metadata.csv`, rejects
 * malformed rows and duplicates (counted, with samples), and keeps the top N
 * eligible films by revenue / budget in memory bounded by N.
 *
 * Two readers, one result. The strict reader (src/csv.ts) takes the records
 * written in plain RFC 4180 (all of the Kaggle file) with native searches
 * instead of csv-parse's loop over every byte, and decodes only the fields a
 * check needs: on the real-size file, tens of milliseconds where csv-parse
 * takes about a second. At the first record it cannot vouch for, csv-parse
 * reads the rest of the file from there, as it would have read it: every
 * irregular record (a stray quote, a CR, an unclosed field) is csv-parse's to
 * read or reject.
 *
 * The input is read once, never seeked (src/input.ts): a file, a FIFO, a
 * pipe or stdin (`-`) alike. What PostgreSQL cannot store (a NUL, a lone surrogate)
 * is taken out of every value where the value is made, so no COPY and no
 * report sample ever holds one.
 */
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CsvError, Options as CsvOptions } from 'csv-parse';
import { StrictCsvReader, type StrictRecord } from '../csv.js';
import { TrueFilmError } from '../errors.js';
import { shellWord } from '../format.js';
import { ByteInput, statInput } from '../input.js';
import { parsePythonLiteral } from '../literal.js';
import { TopN } from '../topn.js';
import type { Film, MetadataReport, NamedRef, Rejection } from '../types.js';
import type { Task, Ui } from '../ui.js';

export interface MetadataOptions {
  top: number;
  minBudget: number;
  ui: Ui;
  /** how many rejected rows of each kind the report keeps as samples */
  samples?: number;
  /** stops the reading (Ctrl-C): the stage then rejects with INTERRUPTED, even while a FIFO waits for a writer */
  signal?: AbortSignal;
  /** called once, when the header has shown the input to be the movies CSV */
  onHeader?: () => void;
}

export interface MetadataResult {
  films: Film[];
  report: MetadataReport;
}

/** The columns the stage reads; any other column may be absent. */
export const REQUIRED_COLUMNS = [
  'id',
  'imdb_id',
  'title',
  'original_title',
  'budget',
  'revenue',
  'release_date',
  'genres',
  'production_companies',
  'vote_average',
  'vote_count',
] as const;
type Column = (typeof REQUIRED_COLUMNS)[number];

/** The columns a selected film needs beyond id, budget and revenue, kept raw until the row is selected. */
const KEPT_COLUMNS = ['imdb_id', 'title', 'original_title', 'release_date', 'genres', 'production_companies', 'vote_average', 'vote_count'] as const;
type Kept = (typeof KEPT_COLUMNS)[number];

/** What the order of SPEC section 3 looks at. */
interface Ranked {
  ratio: number;
  id: number;
}

/** An eligible row as the heap keeps it: literals stay raw until the row is selected. */
interface Candidate extends Ranked {
  line: number;
  budget: number;
  revenue: number;
  fields: Record<Kept, string>;
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const POSITIVE_INT = /^[1-9]\d*$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MAX_INT4 = 2 ** 31 - 1;
const MIN_INT4 = -(2 ** 31);
/** bigint's range, as doubles: -2^63 is one, 2^63 - 1 rounds up to 2^63 */
const INT8_END = 2 ** 63;
/** bytes per read of the CSV */
const READ_SIZE = 1 << 20;
/** an input with no header record within its first MiB is not the CSV */
const HEADER_WITHIN = 1 << 20;
/** more rows than this share (1%) not UTF-8: the file is in another encoding */
const NOT_UTF8_SHARE = 0.01;
/**
 * csv-parse's options (SPEC section 3: RFC 4180; a bad record is counted, never
 * fatal). Fields come as bytes (`encoding: null`), to tell bytes that are not
 * UTF-8 from a U+FFFD written as such; a UTF-8 BOM is the strict reader's to skip.
 */
const CSV_OPTIONS: CsvOptions = {
  bom: false,
  encoding: null,
  relax_column_count: true,
  skip_empty_lines: true,
  skip_records_with_error: true,
  max_record_size: 64 << 20,
};

/**
 * Text as PostgreSQL can store it, in a COPY or a jsonb: without NUL (which
 * text cannot hold) and with any lone surrogate (which UTF-8 cannot encode,
 * and jsonb refuses as `\\ud800`) as U+FFFD. Every value the stage makes
 * passes here: a CSV field as it is decoded (UTF-8 decoding makes no lone
 * surrogate, so only NULs can be there), a literal's name as it is parsed
 * (its escapes can spell either).
 */
function storable(text: string): string {
  const clean = withoutNul(text);
  return LONE_SURROGATE.test(clean) ? clean.replace(LONE_SURROGATE_ALL, '\ufffd') : clean;
}

const withoutNul = (text: string): string => (text.includes('\0') ? text.replaceAll('\0', '') : text);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATE_ALL = new RegExp(LONE_SURROGATE.source, 'g');

/** At most n UTF-16 units of text, never half of a surrogate pair. */
function clip(text: string, n: number): string {
  if (text.length <= n) return text;
  const code = text.charCodeAt(n - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? n - 1 : n);
}

/**
 * The value of bytes [start, end) when they are 1 to 15 ASCII digits with no
 * leading zero (but "0"), else -1: the common shape of an id, a budget or a
 * vote count, read without making a string. Anything else takes the full check.
 */
function plainDigits(buf: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length < 1 || length > 15 || (buf[start] === 0x30 && length > 1)) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** Whether bytes [start, end) are 1 to 9 digits, or those, a dot and 1 to 6 digits: a vote_average that fits a real. */
function plainDecimal(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && i - start < 10 && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++;
  const whole = i - start;
  if (whole < 1 || whole > 9) return false;
  if (i === end) return true;
  if (buf[i] !== 0x2e) return false;
  const dot = ++i;
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) i++;
  return i === end && i - dot >= 1 && i - dot <= 6;
}

/** A record as the checks see it, whichever reader read it. */
interface Row {
  readonly count: number;
  /** field i, storable (NUL-free), untrimmed */
  field(i: number): string;
  /** field i's value when its bytes are plain digits (plainDigits), else -1 */
  digits(i: number): number;
  /** whether field i's bytes are a plain decimal (plainDecimal) */
  decimal(i: number): boolean;
  /** the line the record starts on */
  line(): number;
  /** the input's byte offset where the record ends */
  end(): number;
  /** the first field whose bytes are not UTF-8, or -1 */
  notUtf8(): number;
}

const decodeField = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');

/** A record from csv-parse (as bytes): its fields, and its start line worked out from csv-parse's line count. */
class ParsedRow implements Row {
  record: Uint8Array[] = [];
  endLine = 0;
  endByte = 0;
  get count(): number {
    return this.record.length;
  }
  field(i: number): string {
    return withoutNul(decodeField(this.record[i]!));
  }
  digits(i: number): number {
    return plainDigits(this.record[i]!, 0, this.record[i]!.length);
  }
  decimal(i: number): boolean {
    return plainDecimal(this.record[i]!, 0, this.record[i]!.length);
  }
  line(): number {
    return startLine(this.record, this.endLine);
  }
  end(): number {
    return this.endByte;
  }
  notUtf8(): number {
    return this.record.findIndex((f) => !isUtf8(f));
  }
}

/** A record from the strict reader: fields decoded when asked for. */
class StrictRow implements Row {
  record!: StrictRecord;
  /** the input's byte offset of the record's buffer */
  base = 0;
  /** the bytes before this offset of the record's buffer are known to be UTF-8 */
  utf8Before = 0;
  /** the first NUL in the record's buffer (Infinity: none) */
  nulAt = Infinity;
  get count(): number {
    return this.record.count;
  }
  field(i: number): string {
    const text = this.record.field(i);
    return this.record.end <= this.nulAt ? text : withoutNul(text);
  }
  digits(i: number): number {
    const { spans, buf } = this.record;
    return spans[3 * i + 2] === 1 ? -1 : plainDigits(buf, spans[3 * i]!, spans[3 * i + 1]!);
  }
  decimal(i: number): boolean {
    const { spans, buf } = this.record;
    return spans[3 * i + 2] !== 1 && plainDecimal(buf, spans[3 * i]!, spans[3 * i + 1]!);
  }
  line(): number {
    return this.record.line;
  }
  end(): number {
    return this.base + this.record.end;
  }
  notUtf8(): number {
    if (this.record.end <= this.utf8Before) return -1;
    for (let i = 0; i < this.record.count; i++) if (!this.record.isUtf8(i)) return i;
    return -1;
  }
}

/**
 * How far buf[0, end) is UTF-8 as far as a reader can tell yet: the whole, or
 * 0. A character cut at `end` by the read is left for the next check.
 */
function utf8Prefix(buf: Buffer, end: number): number {
  let i = end - 1;
  while (i >= 0 && end - i < 4 && (buf[i]! & 0xc0) === 0x80) i--;
  let whole = end;
  if (i >= 0) {
    const lead = buf[i]!;
    const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    if (i + size > end) whole = i;
  }
  return isUtf8(buf.subarray(0, whole)) ? whole : 0;
}

const better = (a: Ranked, b: Ranked): boolean => a.ratio > b.ratio || (a.ratio === b.ratio && a.id < b.id);

/** The line a record starts on: the line csv-parse ended it on, less the line breaks inside its fields. */
function startLine(record: Uint8Array[], endLine: number): number {
  let breaks = 0;
  for (const field of record) for (let at = field.indexOf(0x0a); at >= 0; at = field.indexOf(0x0a, at + 1)) breaks++;
  return endLine - breaks;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `YYYY-MM-DD` naming a day of the Gregorian calendar, years 1 to 9999; else null. */
function parseDate(text: string): { date: string; year: number } | null {
  const m = ISO_DATE.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > DAYS[month - 1]! + (month === 2 && leap ? 1 : 0)) return null;
  return { date: m[0], year };
}

/**
 * Why a number field does not fit its column, or null when it does. A number
 * is its text's nearest double (docs/selection.md): budget and revenue must be
 * whole and within bigint, vote_count whole and within integer, vote_average
 * within real.
 */
function numberProblem(text: string, column: 'bigint' | 'integer' | 'real'): string | null {
  if (!DECIMAL.test(text)) return 'is not a number';
  const value = Number(text);
  if (column === 'real') return Number.isFinite(Math.fround(value)) ? null : 'does not fit a real';
  const fits = column === 'bigint' ? value >= -INT8_END && value < INT8_END : value >= MIN_INT4 && value <= MAX_INT4;
  if (!fits) return `does not fit ${column === 'bigint' ? 'a bigint' : 'an integer'}`;
  return Number.isInteger(value) ? null : 'is not a whole number';
}

/** `[{'id': 16, 'name': 'Animation'}]` (trimmed) → refs; null when the value is not such a list. */
export function parseNamedRefs(text: string): NamedRef[] | null {
  if (text === '') return [];
  const parsed = parsePythonLiteral(text);
  if (!parsed.ok || !Array.isArray(parsed.value)) return null;
  const refs: NamedRef[] = [];
  for (const item of parsed.value) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return null;
    const { id, name } = item;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_INT4) return null;
    if (typeof name !== 'string') return null;
    // escapes can spell a NUL or a lone surrogate
    if (!refs.some((r) => r.id === id)) refs.push({ id, name: storable(name) });
  }
  return refs;
}

/** The CSV's size (0 for stdin, a pipe or a device); a clear error when it is missing, a directory or unreadable. */
export async function checkMetadataFile(path: string): Promise<number> {
  if (path === '-') return 0;
  const info = await statInput(path, {
    missing: 'no such file',
    unreadable: 'cannot read',
    hint: 'Download movies_metadata.csv (./data_download.sh) or pass --metadata PATH; `npm run demo` uses data/sample/.',
  });
  if (info.isDirectory()) {
    throw new TrueFilmError('INPUT_UNREADABLE', 'is a directory, not a CSV file', {
      input: path,
      hint: 'Pass the movies CSV with --metadata PATH.',
    });
  }
  return info.isFile() ? info.size : 0;
}

/** The checks of SPEC section 3, record by record, and what they keep: the report, the top N, the ids seen. */
class Selection {
  readonly report: MetadataReport = {
    rows: 0,
    malformed: 0,
    duplicates: 0,
    eligible: 0,
    selected: 0,
    bad_literals: 0,
    samples: { malformed: [], duplicates: [], bad_literals: [] },
  };
  readonly top: TopN<Candidate, Ranked>;
  private readonly seen = new Set<number>();
  header: string[] | null = null;
  private index: Record<Column, number> | null = null;
  /** rows holding bytes that are not UTF-8, and the first one's line */
  notUtf8 = 0;
  firstNotUtf8 = 0;

  constructor(
    private readonly path: string,
    private readonly options: MetadataOptions,
  ) {
    this.top = new TopN<Candidate, Ranked>(options.top, better);
  }

  sample(list: Rejection[], line: number, reason: string): void {
    if (list.length < (this.options.samples ?? 5)) list.push({ line, reason });
  }

  malformed(line: number, reason: string): void {
    this.report.malformed++;
    this.sample(this.report.samples.malformed, line, reason);
  }

  // Each record is checked as it is read and goes no further: nothing is
  // made of a row beyond its checks unless it enters the top N.
  take(row: Row): void {
    if (this.header === null) return this.takeHeader(row);
    const at = this.index!;
    const report = this.report;
    report.rows++;
    const bad = row.notUtf8();
    if (bad >= 0) {
      if (this.notUtf8++ === 0) this.firstNotUtf8 = row.line();
      this.malformed(row.line(), `${this.header[bad] ?? `field ${bad + 1}`} holds bytes that are not UTF-8`);
      return;
    }
    if (row.count !== this.header.length) {
      this.malformed(row.line(), `${row.count} fields where the header has ${this.header.length}`);
      return;
    }
    let id = row.digits(at.id);
    if (id < 1 || id > MAX_INT4) {
      const idText = row.field(at.id).trim();
      if (!POSITIVE_INT.test(idText) || Number(idText) > MAX_INT4) {
        this.malformed(row.line(), `id ${JSON.stringify(clip(idText, 40))} is not a positive integer`);
        return;
      }
      id = Number(idText);
    }
    const budget = this.number(row, at.budget, 'budget', 'bigint');
    if (budget === null) return;
    const revenue = this.number(row, at.revenue, 'revenue', 'bigint');
    if (revenue === null) return;
    const votes = row.digits(at.vote_count);
    if ((votes < 0 || votes > MAX_INT4) && this.number(row, at.vote_count, 'vote_count', 'integer') === null) return;
    if (!row.decimal(at.vote_average) && this.number(row, at.vote_average, 'vote_average', 'real') === null) return;
    if (this.seen.has(id)) {
      report.duplicates++;
      this.sample(report.samples.duplicates, row.line(), `id ${id} appeared before`);
      return;
    }
    this.seen.add(id);
    // a budget of 0 is unknown, whatever --min-budget says
    if (!(budget >= this.options.minBudget && budget > 0 && revenue > 0)) return;
    report.eligible++;
    const ratio = revenue / budget;
    if (!this.top.accepts({ ratio, id })) return;
    const fields = {} as Record<Kept, string>;
    for (const column of KEPT_COLUMNS) fields[column] = row.field(at[column]).trim();
    this.top.offer({ line: row.line(), id, ratio, budget, revenue, fields });
  }

  /**
   * Field i's number when it fits its column; when it does not, the row is
   * malformed (counted here) and the result null. An empty vote_count or
   * vote_average is absent, not malformed: NaN.
   */
  private number(row: Row, i: number, name: Column, column: 'bigint' | 'integer' | 'real'): number | null {
    const plain = row.digits(i);
    if (plain >= 0 && column === 'bigint') return plain;
    const text = row.field(i).trim();
    if (text === '' && column !== 'bigint') return NaN;
    const problem = numberProblem(text, column);
    if (problem === null) return Number(text);
    this.malformed(row.line(), `${name} ${JSON.stringify(clip(text, 40))} ${problem}`);
    return null;
  }

  private takeHeader(row: Row): void {
    if (row.end() > HEADER_WITHIN) throw noHeader(this.path);
    const names: string[] = [];
    for (let i = 0; i < row.count; i++) names.push(row.field(i).trim());
    const missing = REQUIRED_COLUMNS.filter((c) => !names.includes(c));
    if (missing.length > 0) {
      throw new TrueFilmError('CSV_MISSING_COLUMNS', `the header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, {
        input: this.path,
        line: row.line(),
        hint: 'Is this the Kaggle "The Movies Dataset" movies_metadata.csv? Its header has 24 columns, among them id, budget and revenue.',
      });
    }
    this.header = names;
    this.index = Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, names.indexOf(c)])) as Record<Column, number>;
    this.options.onHeader?.();
  }

  /** The whole input read: fails when it was no CSV at all, or in another encoding. */
  finish(): void {
    if (this.header === null) {
      throw new TrueFilmError('CSV_EMPTY', 'the file is empty: not even a header line', {
        input: this.path,
        hint: 'Download movies_metadata.csv again (./data_download.sh).',
      });
    }
    if (this.notUtf8 > NOT_UTF8_SHARE * this.report.rows) {
      throw new TrueFilmError(
        'CSV_ENCODING',
        `${this.notUtf8} of ${this.report.rows} rows hold bytes that are not UTF-8 (the first on line ${this.firstNotUtf8}): the file is in another encoding`,
        {
          input: this.path,
          line: this.firstNotUtf8,
          hint: `Convert it to UTF-8 and pass the result: iconv -f WINDOWS-1252 -t UTF-8 ${shellWord(this.path)} > movies_metadata.utf8.csv (WINDOWS-1252 is the usual other one; \`file -i\` may name it).`,
        },
      );
    }
  }
}

/**
 * Fails when the input has gone past its first MiB without a header: it is
 * not the CSV (/dev/zero, a binary). A header that ends past it fails as it
 * is read.
 */
function checkHeaderSeen(selection: Selection, input: ByteInput): void {
  if (selection.header === null && input.bytes > HEADER_WITHIN) throw noHeader(input.path);
}

function noHeader(path: string): TrueFilmError {
  return new TrueFilmError('CSV_NO_HEADER', `no CSV header within the first ${HEADER_WITHIN >> 20} MiB: this is not the movies CSV`, {
    input: path,
    hint: 'Pass the Kaggle movies_metadata.csv with --metadata PATH (or - for stdin).',
  });
}

export async function runMetadata(path: string, options: MetadataOptions): Promise<MetadataResult> {
  const size = await checkMetadataFile(path);
  const selection = new Selection(path, options);
  const task = options.ui.task('metadata', size, 'bytes');
  let input: ByteInput | null = null;
  try {
    input = await ByteInput.open(path, options.signal);
    await readStrict(input, task, selection);
  } catch (err) {
    if (err instanceof TrueFilmError) throw err;
    throw new TrueFilmError('CSV_PARSE', `cannot read the CSV: ${(err as Error).message}`, {
      input: path,
      line: (err as { lines?: number }).lines,
      cause: err,
    });
  } finally {
    input?.close();
    // a stream's size is known at its end
    if (size === 0) task.setTotal(input?.bytes ?? 0);
    task.stop();
  }
  selection.finish();
  const report = selection.report;
  const films = selection.top.sorted().map((c, i) => toFilm(c, i + 1, selection));
  report.selected = films.length;
  return { films, report };
}

/** The strict reader over the input, until its end or the first record it cannot vouch for (then csv-parse reads on). */
async function readStrict(input: ByteInput, task: Task, selection: Selection): Promise<void> {
  const row = new StrictRow();
  const strict = new StrictCsvReader((record) => {
    row.record = record;
    selection.take(row);
  });
  let buf = Buffer.allocUnsafe(READ_SIZE);
  let have = 0;
  /** the input's byte offset of buf[0] */
  let base = 0;
  let started = false;
  for (;;) {
    const bytesRead = await input.read(buf, have, buf.length - have);
    task.increment(bytesRead);
    have += bytesRead;
    const final = bytesRead === 0;
    if (!started && (have >= 2 || final)) {
      if (startsUtf16(buf, have)) throw utf16(input.path);
      started = true;
    }
    row.base = base;
    row.utf8Before = utf8Prefix(buf, have);
    const nul = buf.subarray(0, have).indexOf(0);
    row.nulAt = nul < 0 ? Infinity : nul;
    const { next, irregular } = strict.read(buf, 0, have, final);
    if (irregular) {
      // csv-parse reads the rest: from this record on, or (when no record
      // delimiter was read yet) the whole file, as it would have
      await readRest(input, task, buf.subarray(next, have), base + next, strict.delimited ? strict.newlines : null, selection);
      return;
    }
    checkHeaderSeen(selection, input);
    if (final) return;
    buf.copyWithin(0, next, have);
    have -= next;
    base += next;
    if (have === buf.length) {
      const grown = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(grown, 0, 0, have);
      buf = grown;
    }
  }
}

const startsUtf16 = (buf: Buffer, have: number): boolean => have >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff));

function utf16(path: string): TrueFilmError {
  return new TrueFilmError('CSV_ENCODING', 'the file is UTF-16 (it starts with a UTF-16 byte order mark), not UTF-8', {
    input: path,
    line: 1,
    hint: `Convert it to UTF-8 and pass the result: iconv -f UTF-16 -t UTF-8 ${shellWord(path)} > movies_metadata.utf8.csv`,
  });
}

/**
 * csv-parse reads the input from `first` (the bytes already read from the
 * record the strict reader stopped at, at `firstOffset`) on. `lineOffset`: the line breaks
 * before it, added to csv-parse's own count; null: `first` is the file's
 * start (past any BOM).
 */
async function readRest(input: ByteInput, task: Task, first: Buffer, firstOffset: number, lineOffset: number | null, selection: Selection): Promise<void> {
  // loaded here: a file the strict reader reads whole needs none of it
  const { parse } = await import('csv-parse');
  const offset = lineOffset ?? 0;
  const row = new ParsedRow();
  const parser = parse({
    ...CSV_OPTIONS,
    // past the first record delimiter, csv-parse knew it was LF
    ...(lineOffset === null ? {} : { record_delimiter: '\n' }),
    // fields are bytes here (encoding: null), whatever the typings say
    on_record: (record: unknown, context: { lines: number; bytes: number }) => {
      row.record = record as Uint8Array[];
      row.endLine = context.lines + offset;
      row.endByte = firstOffset + context.bytes;
      selection.take(row);
      return null;
    },
  });
  parser.on('skip', (err: CsvError & { lines?: number }) => {
    selection.report.rows++;
    selection.malformed((err.lines ?? 0) + offset, `unparseable CSV (${err.code})`);
  });
  async function* bytes(): AsyncGenerator<Buffer> {
    yield Buffer.from(first);
    for (;;) {
      const chunk = Buffer.allocUnsafe(READ_SIZE);
      const bytesRead = await input.read(chunk, 0, chunk.length);
      if (bytesRead === 0) return;
      task.increment(bytesRead);
      checkHeaderSeen(selection, input);
      yield chunk.subarray(0, bytesRead);
    }
  }
  await pipeline(Readable.from(bytes(), { objectMode: false }), parser);
}

function toFilm(c: Candidate, rank: number, selection: Selection): Film {
  const f = c.fields;
  const literal = (column: 'genres' | 'production_companies'): NamedRef[] => {
    const refs = parseNamedRefs(f[column]);
    if (refs !== null) return refs;
    selection.report.bad_literals++;
    selection.sample(selection.report.samples.bad_literals, c.line, `${column} is not a list of {'id', 'name'}: ${clip(f[column], 60)}`);
    return [];
  };
  const date = parseDate(f.release_date);
  return {
    id: c.id,
    imdbId: f.imdb_id === '' ? null : f.imdb_id,
    title: f.title !== '' ? f.title : f.original_title,
    originalTitle: f.original_title === '' ? null : f.original_title,
    releaseDate: date?.date ?? null,
    year: date?.year ?? null,
    budget: c.budget,
    revenue: c.revenue,
    ratio: c.ratio,
    rank,
    rating: f.vote_average === '' ? null : Number(f.vote_average),
    voteCount: f.vote_count === '' ? null : Number(f.vote_count),
    genres: literal('genres'),
    companies: literal('production_companies'),
  };
}
