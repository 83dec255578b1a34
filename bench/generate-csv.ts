/**
 * A movies CSV of the real file's size from the real rows we may commit: the
 * first 4,994 data rows of movies_metadata.csv (the product's real data, read
 * where it lies: test/helpers/cli.ts REAL_DATA), repeated
 * until `rows` data rows, every copy after the first with new ids (seeded:
 * the same seed and row count give the same bytes on every machine).
 *
 * Each record is copied byte for byte (its quoting, its multi-line overview,
 * its line end) but for the id field. An id maps to the same new id within a
 * copy, so the real file's repeated id (105045) stays a duplicate in every
 * copy; new ids never collide with the real ones or each other. The default,
 * 45,466 rows, is the real file's row count (about 37.7 MB).
 *
 *   node --import tsx bench/generate-csv.ts OUT [ROWS] [--seed N]
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { realCsvPath, WITHOUT_REAL_DATA } from '../test/helpers/cli.js';
import { rng } from './generate.js';


/** the real movies_metadata.csv's data rows */
export const REAL_ROWS = 45_466;

/** [start, end) of field `index` in one raw CSV record (quotes respected) */
function fieldSpan(raw: string, index: number): [number, number] {
  let field = 0;
  let start = 0;
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ',' || c === '\n' || c === '\r')) {
      if (field === index) return [start, i];
      if (c !== ',') break;
      field++;
      start = i + 1;
    }
  }
  throw new Error(`a record without field ${index}`);
}

/** The CSV's text: the header, then `rows` data rows. */
export async function csvText(rows: number, seed = 1): Promise<string> {
  if (WITHOUT_REAL_DATA) throw new Error(`bench/generate-csv.ts needs the real CSV: ${WITHOUT_REAL_DATA}`);
  const records = parse(await readFile(realCsvPath()), { raw: true, relax_column_count: true }) as unknown as { record: string[]; raw: string }[];
  const [header, ...data] = records;
  const idAt = header!.record.indexOf('id');
  const used = new Set(data.map((r) => r.record[idAt]));
  const random = rng(seed);
  const parts: string[] = [header!.raw];
  let copy = -1;
  let ids = new Map<string, string>();
  for (let i = 0; i < rows; i++) {
    const { raw, record } = data[i % data.length]!;
    if (i % data.length === 0) {
      copy++;
      ids = new Map();
    }
    if (copy === 0) {
      parts.push(raw);
      continue;
    }
    const old = record[idAt]!;
    let id = ids.get(old);
    if (id === undefined) {
      do id = String(500_000 + Math.floor(random() * 9_500_000));
      while (used.has(id));
      used.add(id);
      ids.set(old, id);
    }
    const [start, end] = fieldSpan(raw, idAt);
    parts.push(raw.slice(0, start) + id + raw.slice(end));
  }
  return parts.join('');
}

/** Writes the CSV to `file` unless it exists already (name files after their rows and seed). */
export async function ensureCsv(file: string, rows = REAL_ROWS, seed = 1): Promise<void> {
  try {
    await stat(file);
  } catch {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, await csvText(rows, seed));
    await rename(`${file}.tmp`, file);
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]));
if (isMain) {
  const [out, rowsText] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--seed');
  if (!out) {
    console.error('usage: node --import tsx bench/generate-csv.ts OUT [ROWS] [--seed N]');
    process.exit(2);
  }
  const seedAt = process.argv.indexOf('--seed');
  const rows = rowsText ? Number(rowsText) : REAL_ROWS;
  await writeFile(out, await csvText(rows, seedAt > 0 ? Number(process.argv[seedAt + 1]) : 1));
  console.error(`${out}: ${rows} rows, ${(await stat(out)).size} bytes`);
}
