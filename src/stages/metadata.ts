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
 */
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CsvError, Options as CsvOptions } from 'csv-parse';
import { StrictCsvReader, type StrictRecord } from '../csv.js';
import { TrueFilmError } from '../errors.js';
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
/** bytes per read of the CSV */
const READ_SIZE = 1 << 20;
/** csv-parse's options (SPEC section 3: RFC 4180; a bad record is counted, never fatal) */
const CSV_OPTIONS: CsvOptions = {
  bom: true,
  relax_column_count: true,
  skip_empty_lines: true,
  skip_records_with_error: true,
  max_record_size: 64 << 20,
};

/** A record as the checks see it, whichever reader read it. */
interface Row {
  readonly count: number;
  field(i: number): string;
  /** the line the record starts on */
  line(): number;
}

/** A record from csv-parse: its fields, and its start line worked out from csv-parse's line count. */
class ParsedRow implements Row {
  record: string[] = [];
  endLine = 0;
  get count(): number {
    return this.record.length;
  }
  field(i: number): string {
    return this.record[i]!;
  }
  line(): number {
    return startLine(this.record, this.endLine);
  }
}

/** A record from the strict reader: fields decoded when asked for. */
class StrictRow implements Row {
  record!: StrictRecord;
  get count(): number {
    return this.record.count;
  }
  field(i: number): string {
    return this.record.field(i);
  }
  line(): number {
    return this.record.line;
  }
}

const better = (a: Ranked, b: Ranked): boolean => a.ratio > b.ratio || (a.ratio === b.ratio && a.id < b.id);

/** The line a record starts on: the line csv-parse ended it on, less the line breaks inside its fields. */
function startLine(record: string[], endLine: number): number {
  let breaks = 0;
  for (const field of record) if (field.includes('\n')) breaks += field.split('\n').length - 1;
  return endLine - breaks;
}

function parseDate(text: string): { date: string; year: number } | null {
  const m = ISO_DATE.exec(text.trim());
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return { date: m[0], year };
}

function optionalNumber(text: string): number | null {
  const t = text.trim();
  return DECIMAL.test(t) ? Number(t) : null;
}

/** `[{'id': 16, 'name': 'Animation'}]` → refs; null when the value is not such a list. */
export function parseNamedRefs(text: string): NamedRef[] | null {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const parsed = parsePythonLiteral(trimmed);
  if (!parsed.ok || !Array.isArray(parsed.value)) return null;
  const refs: NamedRef[] = [];
  for (const item of parsed.value) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return null;
    const { id, name } = item;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_INT4) return null;
    if (typeof name !== 'string') return null;
    if (!refs.some((r) => r.id === id)) refs.push({ id, name });
  }
  return refs;
}

/** The CSV's size; a clear error when it is missing, a directory or unreadable. */
export async function checkMetadataFile(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      throw new TrueFilmError('INPUT_UNREADABLE', 'is a directory, not a CSV file', {
        input: path,
        hint: 'Pass the movies CSV with --metadata PATH.',
      });
    }
    return info.size;
  } catch (err) {
    if (err instanceof TrueFilmError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new TrueFilmError('INPUT_NOT_FOUND', 'no such file', {
        input: path,
        hint: 'Download movies_metadata.csv (./data_download.sh) or pass --metadata PATH; `npm run demo` uses data/sample/.',
        cause: err,
      });
    }
    throw new TrueFilmError('INPUT_UNREADABLE', `cannot read: ${(err as Error).message}`, { input: path, cause: err });
  }
}

export async function runMetadata(path: string, options: MetadataOptions): Promise<MetadataResult> {
  const sampleLimit = options.samples ?? 5;
  const size = await checkMetadataFile(path);
  const report: MetadataReport = {
    rows: 0,
    malformed: 0,
    duplicates: 0,
    eligible: 0,
    selected: 0,
    bad_literals: 0,
    samples: { malformed: [], duplicates: [], bad_literals: [] },
  };
  const sample = (list: Rejection[], line: number, reason: string): void => {
    if (list.length < sampleLimit) list.push({ line, reason });
  };
  const malformed = (line: number, reason: string): void => {
    report.malformed++;
    sample(report.samples.malformed, line, reason);
  };

  const top = new TopN<Candidate, Ranked>(options.top, better);
  const seen = new Set<number>();
  let header: string[] | null = null;
  let index: Record<Column, number> | null = null;

  // Each record is checked as it is read and goes no further: nothing is
  // made of a row beyond its checks unless it enters the top N.
  const take = (row: Row): void => {
    if (header === null) {
      const names: string[] = [];
      for (let i = 0; i < row.count; i++) names.push(row.field(i).trim());
      header = names;
      const missing = REQUIRED_COLUMNS.filter((c) => !names.includes(c));
      if (missing.length > 0) {
        throw new TrueFilmError(
          'CSV_MISSING_COLUMNS',
          `the header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
          {
            input: path,
            line: row.line(),
            hint: 'Is this the Kaggle "The Movies Dataset" movies_metadata.csv? Its header has 24 columns, among them id, budget and revenue.',
          },
        );
      }
      index = Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, names.indexOf(c)])) as Record<Column, number>;
      return;
    }
    const at = index!;
    report.rows++;
    if (row.count !== header.length) {
      malformed(row.line(), `${row.count} fields where the header has ${header.length}`);
      return;
    }
    const idText = row.field(at.id).trim();
    if (!POSITIVE_INT.test(idText) || Number(idText) > MAX_INT4) {
      malformed(row.line(), `id ${JSON.stringify(idText.slice(0, 40))} is not a positive integer`);
      return;
    }
    const budgetText = row.field(at.budget).trim();
    const revenueText = row.field(at.revenue).trim();
    if (!DECIMAL.test(budgetText)) {
      malformed(row.line(), `budget ${JSON.stringify(budgetText.slice(0, 40))} is not a number`);
      return;
    }
    if (!DECIMAL.test(revenueText)) {
      malformed(row.line(), `revenue ${JSON.stringify(revenueText.slice(0, 40))} is not a number`);
      return;
    }
    const id = Number(idText);
    if (seen.has(id)) {
      report.duplicates++;
      if (report.samples.duplicates.length < sampleLimit) sample(report.samples.duplicates, row.line(), `id ${id} appeared before`);
      return;
    }
    seen.add(id);
    const budget = Number(budgetText);
    const revenue = Number(revenueText);
    if (!(budget >= options.minBudget && revenue > 0)) return;
    report.eligible++;
    const ratio = revenue / budget;
    if (!top.accepts({ ratio, id })) return;
    top.offer({
      line: row.line(),
      id,
      ratio,
      budget,
      revenue,
      fields: {
        imdb_id: row.field(at.imdb_id),
        title: row.field(at.title),
        original_title: row.field(at.original_title),
        release_date: row.field(at.release_date),
        genres: row.field(at.genres),
        production_companies: row.field(at.production_companies),
        vote_average: row.field(at.vote_average),
        vote_count: row.field(at.vote_count),
      },
    });
  };

  const task = options.ui.task('metadata', size, 'bytes');
  const strictRow = new StrictRow();
  const strict = new StrictCsvReader((record) => {
    strictRow.record = record;
    take(strictRow);
  });
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(path, 'r');
    let buf = Buffer.allocUnsafe(READ_SIZE);
    let have = 0;
    let position = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, have, buf.length - have, position);
      position += bytesRead;
      have += bytesRead;
      task.increment(bytesRead);
      const final = bytesRead === 0;
      const { next, irregular } = strict.read(buf, 0, have, final);
      if (irregular) {
        // csv-parse reads the rest: from this record on, or (when no record
        // delimiter was read yet) the whole file, as it would have
        await readRest(handle, buf.subarray(next, have), position, strict.delimited ? strict.newlines : null, { take, report, malformed, task });
        break;
      }
      if (final) break;
      buf.copyWithin(0, next, have);
      have -= next;
      if (have === buf.length) {
        const grown = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(grown, 0, 0, have);
        buf = grown;
      }
    }
  } catch (err) {
    if (err instanceof TrueFilmError) throw err;
    throw new TrueFilmError('CSV_PARSE', `cannot read the CSV: ${(err as Error).message}`, {
      input: path,
      line: (err as { lines?: number }).lines,
      cause: err,
    });
  } finally {
    await handle?.close();
    task.stop();
  }
  if (header === null) {
    throw new TrueFilmError('CSV_EMPTY', 'the file is empty: not even a header line', {
      input: path,
      hint: 'Download movies_metadata.csv again (./data_download.sh).',
    });
  }

  const films = top.sorted().map((c, i) => toFilm(c, i + 1, report, sample));
  report.selected = films.length;
  return { films, report };
}

/**
 * csv-parse reads the file from `first` (the bytes already read from the
 * record the strict reader stopped at) on. `lineOffset`: the line breaks
 * before it, added to csv-parse's own count; null: `first` is the file's
 * start, read with every option as given.
 */
async function readRest(
  handle: Awaited<ReturnType<typeof open>>,
  first: Buffer,
  position: number,
  lineOffset: number | null,
  stage: { take: (row: Row) => void; report: MetadataReport; malformed: (line: number, reason: string) => void; task: Task },
): Promise<void> {
  const { take, report, malformed, task } = stage;
  // loaded here: a file the strict reader reads whole needs none of it
  const { parse } = await import('csv-parse');
  const offset = lineOffset ?? 0;
  const row = new ParsedRow();
  const parser = parse({
    ...CSV_OPTIONS,
    // past the first record delimiter, csv-parse knew it was LF and any BOM was behind it
    ...(lineOffset === null ? {} : { bom: false, record_delimiter: '\n' }),
    on_record: (record: string[], context: { lines: number }) => {
      row.record = record;
      row.endLine = context.lines + offset;
      take(row);
      return null;
    },
  });
  parser.on('skip', (err: CsvError & { lines?: number }) => {
    report.rows++;
    malformed((err.lines ?? 0) + offset, `unparseable CSV (${err.code})`);
  });
  async function* bytes(): AsyncGenerator<Buffer> {
    yield Buffer.from(first);
    for (;;) {
      const chunk = Buffer.allocUnsafe(READ_SIZE);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      task.increment(bytesRead);
      yield chunk.subarray(0, bytesRead);
    }
  }
  await pipeline(Readable.from(bytes(), { objectMode: false }), parser);
}

function toFilm(
  c: Candidate,
  rank: number,
  report: MetadataReport,
  sample: (list: Rejection[], line: number, reason: string) => void,
): Film {
  const f = c.fields;
  const literal = (column: 'genres' | 'production_companies'): NamedRef[] => {
    const refs = parseNamedRefs(f[column]);
    if (refs !== null) return refs;
    report.bad_literals++;
    sample(report.samples.bad_literals, c.line, `${column} is not a list of {'id', 'name'}: ${f[column].slice(0, 60)}`);
    return [];
  };
  const date = parseDate(f.release_date);
  const title = f.title.trim();
  const originalTitle = f.original_title.trim();
  const voteCount = optionalNumber(f.vote_count);
  const imdb = f.imdb_id.trim();
  return {
    id: c.id,
    imdbId: imdb === '' ? null : imdb,
    title: title !== '' ? title : originalTitle,
    originalTitle: originalTitle === '' ? null : originalTitle,
    releaseDate: date?.date ?? null,
    year: date?.year ?? null,
    budget: c.budget,
    revenue: c.revenue,
    ratio: c.ratio,
    rank,
    rating: optionalNumber(f.vote_average),
    voteCount: voteCount !== null && Number.isInteger(voteCount) ? voteCount : null,
    genres: literal('genres'),
    companies: literal('production_companies'),
  };
}
