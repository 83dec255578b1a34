/**
 * The hand-made selection fixture (test/fixtures/selection/movies_metadata.csv,
 * one row per rule of SPEC section 3 and docs/selection.md), and CSVs made
 * from its plain first row with some columns changed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { ROOT } from './cli.js';

export const SELECTION_CSV = path.join(ROOT, 'test/fixtures/selection/movies_metadata.csv');

const text = readFileSync(SELECTION_CSV, 'utf8');
/** the fixture's header line */
export const HEADER = text.slice(0, text.indexOf('\n'));
const names = HEADER.split(',');
/** its first row (The Lantern Keeper, id 900001: plain, eligible) as fields */
const PLAIN = (parse(text, { relax_column_count: true }) as string[][])[1]!;

/** RFC 4180: a field quoted when it holds a comma, a quote or a line break. */
const quoted = (field: string) => (/[",\r\n]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field);

/** One CSV line: the plain row with these columns changed. */
export function rowWith(change: Record<string, string>): string {
  const fields = [...PLAIN];
  for (const [name, value] of Object.entries(change)) {
    const at = names.indexOf(name);
    if (at < 0) throw new Error(`no column ${name}`);
    fields[at] = value;
  }
  return fields.map(quoted).join(',');
}

/** A CSV of the header and one plain row per change, with ids 1, 2, ... unless a change gives the id. */
export function csvWith(changes: Record<string, string>[]): string {
  return [HEADER, ...changes.map((change, i) => rowWith({ id: String(i + 1), ...change }))].join('\n') + '\n';
}
