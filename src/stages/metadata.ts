/**
 * The metadata stage (SPEC section 3): streams `movies_metadata.csv`, rejects
 * malformed rows and duplicates (counted, with samples), and keeps the top N
 * eligible films by revenue / budget in memory bounded by N.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { parse, CsvError } from 'csv-parse';
import { TrueFilmError } from '../errors.js';
import { parsePythonLiteral } from '../literal.js';
import { TopN } from '../topn.js';
import type { Film, MetadataReport, NamedRef, Rejection } from '../types.js';
import type { Ui } from '../ui.js';

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
const READ_SIZE = 1 << 16;

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

  // Each record is handled inside csv-parse's loop (on_record) and goes no
  // further: no stream object, promise or info copy per record, and nothing
  // is made of a row beyond its checks unless it enters the top N.
  const take = (record: string[], context: { lines: number }): null => {
    if (header === null) {
      header = record.map((h) => h.trim());
      const missing = REQUIRED_COLUMNS.filter((c) => !header!.includes(c));
      if (missing.length > 0) {
        throw new TrueFilmError(
          'CSV_MISSING_COLUMNS',
          `the header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
          {
            input: path,
            line: startLine(record, context.lines),
            hint: 'Is this the Kaggle "The Movies Dataset" movies_metadata.csv? Its header has 24 columns, among them id, budget and revenue.',
          },
        );
      }
      index = Object.fromEntries(REQUIRED_COLUMNS.map((c) => [c, header!.indexOf(c)])) as Record<Column, number>;
      return null;
    }
    const at = index!;
    report.rows++;
    if (record.length !== header.length) {
      malformed(startLine(record, context.lines), `${record.length} fields where the header has ${header.length}`);
      return null;
    }
    const idText = record[at.id]!.trim();
    if (!POSITIVE_INT.test(idText) || Number(idText) > MAX_INT4) {
      malformed(startLine(record, context.lines), `id ${JSON.stringify(idText.slice(0, 40))} is not a positive integer`);
      return null;
    }
    const budgetText = record[at.budget]!.trim();
    const revenueText = record[at.revenue]!.trim();
    if (!DECIMAL.test(budgetText)) {
      malformed(startLine(record, context.lines), `budget ${JSON.stringify(budgetText.slice(0, 40))} is not a number`);
      return null;
    }
    if (!DECIMAL.test(revenueText)) {
      malformed(startLine(record, context.lines), `revenue ${JSON.stringify(revenueText.slice(0, 40))} is not a number`);
      return null;
    }
    const id = Number(idText);
    if (seen.has(id)) {
      report.duplicates++;
      if (report.samples.duplicates.length < sampleLimit) sample(report.samples.duplicates, startLine(record, context.lines), `id ${id} appeared before`);
      return null;
    }
    seen.add(id);
    const budget = Number(budgetText);
    const revenue = Number(revenueText);
    if (!(budget >= options.minBudget && revenue > 0)) return null;
    report.eligible++;
    const ratio = revenue / budget;
    if (!top.accepts({ ratio, id })) return null;
    top.offer({
      line: startLine(record, context.lines),
      id,
      ratio,
      budget,
      revenue,
      fields: {
        imdb_id: record[at.imdb_id]!,
        title: record[at.title]!,
        original_title: record[at.original_title]!,
        release_date: record[at.release_date]!,
        genres: record[at.genres]!,
        production_companies: record[at.production_companies]!,
        vote_average: record[at.vote_average]!,
        vote_count: record[at.vote_count]!,
      },
    });
    return null;
  };

  const task = options.ui.task('metadata', size, 'bytes');
  const source = createReadStream(path, { highWaterMark: READ_SIZE });
  source.on('data', (chunk) => task.increment(chunk.length));
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: 64 << 20,
    on_record: take,
  });
  parser.on('skip', (err: CsvError & { lines?: number }) => {
    report.rows++;
    malformed(err.lines ?? 0, `unparseable CSV (${err.code})`);
  });
  try {
    await pipeline(source, parser);
  } catch (err) {
    if (err instanceof TrueFilmError) throw err;
    throw new TrueFilmError('CSV_PARSE', `cannot read the CSV: ${(err as Error).message}`, {
      input: path,
      line: (err as { lines?: number }).lines,
      cause: err,
    });
  } finally {
    source.destroy();
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
