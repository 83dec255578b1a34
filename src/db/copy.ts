/**
 * Bulk loading with `COPY ... FROM STDIN` (pg-copy-streams), in PostgreSQL's
 * text format, in chunks of about 64 KiB so the socket sees few large writes.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

export type CopyValue = string | number | boolean | null | undefined;

const SPECIAL = /[\\\n\r\t\0]/;

/** One value in COPY text format: `\N` for null, backslash escapes for the rest. */
export function copyText(value: CopyValue): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`cannot COPY the number ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (!SPECIAL.test(value)) return value;
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\0':
        break; // PostgreSQL text cannot hold NUL
      default:
        out += ch;
    }
  }
  return out;
}

function* chunks(rows: Iterable<CopyValue[]>, signal?: AbortSignal, chunkSize = 64 * 1024): Generator<string> {
  let buffer = '';
  for (const row of rows) {
    signal?.throwIfAborted();
    buffer += row.map(copyText).join('\t') + '\n';
    if (buffer.length >= chunkSize) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer.length > 0) yield buffer;
}

/**
 * COPYs `rows` into `table` (already quoted, may be schema-qualified) and
 * returns the number of rows the server reports. An abort stops the stream:
 * the server sees the COPY fail, and the caller's transaction rolls back.
 */
export async function copyRows(
  client: pg.Client,
  table: string,
  columns: string[],
  rows: Iterable<CopyValue[]>,
  signal?: AbortSignal,
): Promise<number> {
  const sql = `COPY ${table} (${columns.map((c) => `"${c}"`).join(', ')}) FROM STDIN`;
  const sink = client.query(copyFrom(sql));
  await pipeline(Readable.from(chunks(rows, signal)), sink, { signal });
  return Number(sink.rowCount ?? 0);
}
