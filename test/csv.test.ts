/**
 * The strict CSV reader (src/csv.ts) against csv-parse, the parser it stands
 * in for: the same fields and start lines for every record it reads, at every
 * split of the input, and a stop at the first byte of every record it cannot
 * vouch for.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { StrictCsvReader, type StrictRead } from '../src/csv.js';
import { SAMPLE } from './helpers/cli.js';

interface Seen {
  fields: string[];
  line: number;
}

/** What csv-parse reads (with the metadata stage's options): fields, and the start line the stage works out. */
function parsed(text: string): Seen[] {
  const rows = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
  return rows.map(({ record, info }) => ({ fields: record, line: info.lines - record.reduce((n, f) => n + f.split('\n').length - 1, 0) }));
}

/**
 * The strict reader fed as the metadata stage feeds it: the bytes of
 * `pieces`, one after another, appended to what it did not take yet.
 * `last.next` is an offset in the whole input.
 */
function strict(pieces: Buffer[]): { records: Seen[]; last: StrictRead; delimited: boolean; rest: Buffer } {
  const records: Seen[] = [];
  const reader = new StrictCsvReader((r) => records.push({ fields: r.fields(), line: r.line }));
  let held = Buffer.alloc(0);
  let taken = 0;
  let last: StrictRead = { next: 0, irregular: false };
  for (let i = 0; i <= pieces.length; i++) {
    const final = i === pieces.length;
    const buf = final ? held : Buffer.concat([held, pieces[i]!]);
    last = reader.read(buf, 0, buf.length, final);
    held = buf.subarray(last.next);
    taken += last.next;
    if (last.irregular) break;
  }
  return { records, last: { ...last, next: taken }, delimited: reader.delimited, rest: held };
}

const sample = readFileSync(path.join(SAMPLE, 'movies_metadata.csv'));

describe('strict CSV reader', () => {
  test('the sample (multi-line quoted overviews, doubled quotes, literals) reads as csv-parse reads it', () => {
    const { records, last } = strict([sample]);
    assert.equal(last.irregular, false);
    assert.deepEqual(records, parsed(sample.toString('utf8')));
    assert.ok(records.some((r) => r.fields.some((f) => f.includes('\n'))), 'a field spans lines');
  });

  test('the same records whatever the split: at every offset of a small file', () => {
    const text = Buffer.from(
      'id,title,budget\n' +
        '\n' +
        '1,"A ""quoted"" title",10\n' +
        '2,"two\nlines\n\nand a blank one",20\n' +
        '\n\n' +
        '3,,\n' +
        '"4","é, 漢",40\n' +
        '5,"",\n' +
        '6,last,60',
    );
    const expected = parsed(text.toString('utf8'));
    assert.equal(expected.length, 7);
    for (let at = 0; at <= text.length; at++) {
      const { records, last } = strict([text.subarray(0, at), text.subarray(at)]);
      assert.equal(last.irregular, false, `split at ${at}`);
      assert.deepEqual(records, expected, `split at ${at}`);
    }
    // and a byte at a time
    assert.deepEqual(strict([...text].map((b) => Buffer.from([b]))).records, expected);
  });

  test('a UTF-8 BOM is skipped; a UTF-16 one is csv-parse\'s', () => {
    const bom = strict([Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,b\n1,2\n')])]);
    assert.deepEqual(bom.records, [
      { fields: ['a', 'b'], line: 1 },
      { fields: ['1', '2'], line: 2 },
    ]);
    const utf16 = strict([Buffer.from([0xff, 0xfe, 0x61, 0x00])]);
    assert.deepEqual([utf16.last, utf16.records.length, utf16.delimited], [{ next: 0, irregular: true }, 0, false]);
  });

  test('it stops at the first byte of a record it cannot vouch for, and reads nothing of it', () => {
    const head = 'id,title\n1,"ok\nfine"\n';
    for (const bad of [
      '2,a"b\n3,c\n', // a quote inside an unquoted field
      '2,"a"b\n3,c\n', // something after a closing quote
      '2,"a\n3,c\n', // a quote never closed
      '2,a\r\n3,c\n', // a CR
      '2,"a\rb"\n3,c\n', // a CR inside quotes
      '2,"a"\r\n', // CRLF after a quoted field
      '"2\n', // a quote never closed, at the end
    ]) {
      const { records, last, delimited, rest } = strict([Buffer.from(head + bad)]);
      assert.deepEqual(last, { next: Buffer.byteLength(head), irregular: true }, JSON.stringify(bad));
      assert.deepEqual(records, parsed(head), JSON.stringify(bad));
      assert.equal(delimited, true);
      assert.equal(rest.toString(), bad);
    }
    // nothing vouched for before the first record delimiter: csv-parse reads the whole file
    const crlf = strict([Buffer.from('id,title\r\n1,a\r\n')]);
    assert.deepEqual([crlf.last, crlf.records.length, crlf.delimited], [{ next: 0, irregular: true }, 0, false]);
  });

  test('a record larger than the limit is csv-parse\'s', () => {
    const records: string[][] = [];
    const reader = new StrictCsvReader((r) => records.push(r.fields()), 64);
    const text = Buffer.from(`a,b\n1,"${'x'.repeat(100)}"\n2,c\n`);
    assert.deepEqual(reader.read(text, 0, text.length, true), { next: 4, irregular: true });
    assert.deepEqual(records, [['a', 'b']]);
    // also when the record does not end within what was read so far
    const partial = new StrictCsvReader(() => {}, 64);
    assert.deepEqual(partial.read(text, 0, 90, false), { next: 4, irregular: true });
  });
});
