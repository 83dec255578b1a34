/**
 * The fault matrix for the movies CSV: every bad input ends in
 * counted rejects or one clear error, never a crash or a hang.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { isTrueFilmError } from '../../src/errors.js';
import { runMetadata } from '../../src/stages/metadata.js';
import { SAMPLE } from '../helpers/cli.js';
import { quiet } from '../helpers/recorder.js';
import { csvWith, HEADER, rowWith } from '../helpers/selection.js';

const read = (file: string, top = 1000) => runMetadata(file, { top, minBudget: 1000, ui: quiet });

/** RFC 4180: quote a field when it holds a comma, a quote or a line break. */
const csvLine = (fields: string[]) => fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');

let tmp: string;
let sample: string;
let header: string;
let columns: string[];
/** the real record of The Blair Witch Project (its overview spans two lines), as fields */
let witch: string[];
/** that record with a short overview, on one line, with another id */
const row = (id: string, change: Record<string, string> = {}) =>
  csvLine(witch.map((f, i) => change[columns[i]!] ?? (columns[i] === 'id' ? id : columns[i] === 'overview' ? 'Three filmmakers vanish.' : f)));
let blairWitch: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-faults-csv-'));
  sample = await readFile(path.join(SAMPLE, 'movies_metadata.csv'), 'utf8');
  header = sample.slice(0, sample.indexOf('\n'));
  const records = parse(sample, { relax_column_count: true }) as string[][];
  columns = records[0]!;
  witch = records.find((r) => r[columns.indexOf('id')] === '2667')!;
  assert.ok(witch, 'the sample holds The Blair Witch Project');
  blairWitch = row('2667');
});
after(async () => rm(tmp, { recursive: true, force: true }));

async function file(name: string, content: string | Buffer): Promise<string> {
  const p = path.join(tmp, name);
  await writeFile(p, content);
  return p;
}

/** What matters of a result, to compare two readings of the same data. */
const essence = async (p: string) => {
  const { films, report } = await read(p);
  return { films, counts: { ...report, samples: undefined } };
};

describe('CSV faults', () => {
  test('CRLF line ends and a UTF-8 BOM read exactly like the original', async () => {
    const original = await essence(await file('lf.csv', sample));
    // CRLF between records only: the quoted multi-line overviews keep their own line ends
    const records = sample.split(/\n(?=(?:[^"]*"[^"]*")*[^"]*$)/);
    const crlf = await essence(await file('crlf.csv', records.join('\r\n')));
    const bom = await essence(await file('bom.csv', '\uFEFF' + sample));
    assert.deepEqual(bom, original);
    assert.deepEqual(crlf.counts, original.counts);
    assert.deepEqual(
      crlf.films.map((f) => [f.id, f.rank, f.ratio]),
      original.films.map((f) => [f.id, f.rank, f.ratio]),
    );
  });

  test('a truncated last record (cut inside a quoted field) is one malformed row; the rest loads', async () => {
    const full = csvLine(witch.map((f, i) => (columns[i] === 'id' ? '999001' : f)));
    const cut = `${header}\n${blairWitch}\n${full.slice(0, full.indexOf('three student filmmakers'))}`;
    const { films, report } = await read(await file('truncated.csv', cut));
    assert.equal(report.rows, 2);
    assert.equal(report.malformed, 1);
    assert.deepEqual(report.samples.malformed, [{ line: 3, reason: 'unparseable CSV (CSV_QUOTE_NOT_CLOSED)' }]);
    assert.deepEqual(
      films.map((f) => f.id),
      [2667],
    );
  });

  test('a 1 MB field is just a long overview', async () => {
    const big = row('999002', { overview: 'An overview, "quoted", and\nlong. '.repeat(32 * 1024) });
    assert.ok(big.length > 1_000_000, `${big.length}`);
    const { films, report } = await read(await file('big-field.csv', `${header}\n${blairWitch}\n${big}\n`));
    assert.equal(report.malformed, 0);
    assert.deepEqual(
      films.map((f) => f.id),
      [2667, 999002],
    );
  });

  test('100,000 rows of the same id: the first wins, 99,999 duplicates, memory bounded', async () => {
    const rows = Array(100_000).fill(blairWitch).join('\n');
    const before = process.memoryUsage().heapUsed;
    const { films, report } = await read(await file('same-id.csv', `${header}\n${rows}\n`), 10);
    assert.equal(report.rows, 100_000);
    assert.equal(report.duplicates, 99_999);
    assert.equal(report.samples.duplicates.length, 5, 'a few samples, not all');
    assert.deepEqual(
      films.map((f) => f.id),
      [2667],
    );
    assert.ok(process.memoryUsage().heapUsed - before < 200 << 20);
  });

  test('rows with the wrong field count, ids that are dates, budgets that are words: counted, with lines', async () => {
    const content = [
      header,
      blairWitch,
      'False,,0,[],,82663,tt0113002,en,Midnight Man,Dramatic Story',
      row('1997-08-20'),
      row('-5'),
      row('777', { budget: 'sixty thousand' }),
      row('778', { revenue: '' }),
      '',
      '',
    ].join('\n');
    const { report } = await read(await file('mixed.csv', content));
    assert.deepEqual(
      report.samples.malformed.map((s) => [s.line, s.reason]),
      [
        [3, '10 fields where the header has 24'],
        [4, 'id "1997-08-20" is not a positive integer'],
        [5, 'id "-5" is not a positive integer'],
        [6, 'budget "sixty thousand" is not a number'],
        [7, 'revenue "" is not a number'],
      ],
    );
    assert.equal(report.rows, 6, 'blank lines are not records');
  });

  test('malformed samples come in file order, whichever rule rejected the row', async () => {
    const content = [
      header,
      blairWitch,
      'False,,0,[],,82663,tt0113002,en,Midnight Man,Dramatic Story',
      row('779').replace(/^False,/, 'Fa"lse,'),
      row('-5'),
      `${row('780').replace(/^False,/, 'False"x,')}`,
      row('781', { budget: 'n/a' }),
    ].join('\n');
    const { report } = await read(await file('order.csv', content));
    assert.deepEqual(
      report.samples.malformed.map((s) => [s.line, s.reason]),
      [
        [3, '10 fields where the header has 24'],
        [4, 'unparseable CSV (INVALID_OPENING_QUOTE)'],
        [5, 'id "-5" is not a positive integer'],
        [6, 'unparseable CSV (INVALID_OPENING_QUOTE)'],
        [7, 'budget "n/a" is not a number'],
      ],
    );
    assert.equal(report.rows, 6);
  });

  test('after records that span lines, an irregular one: csv-parse reads on from it, with the file\'s line numbers', async () => {
    // The Acid House: its overview spans three lines
    const acid = (parse(sample, { relax_column_count: true }) as string[][]).find((r) => r[columns.indexOf('id')] === '12229')!;
    const change: Record<string, string> = { budget: '1000000', revenue: '5000000' };
    const spanning = (id: string) => csvLine(acid.map((f, i) => (columns[i] === 'id' ? id : change[columns[i]!] ?? f)));
    assert.equal(spanning('1').split('\n').length, 3);
    const content = [header, spanning('2668'), row('779').replace(/^False,/, 'Fa"lse,'), spanning('-7'), row('781', { budget: 'n/a' }), spanning('2669')].join('\n');
    const { films, report } = await read(await file('handover.csv', content));
    assert.deepEqual(
      report.samples.malformed.map((s) => [s.line, s.reason]),
      [
        [5, 'unparseable CSV (INVALID_OPENING_QUOTE)'],
        [6, 'id "-7" is not a positive integer'],
        [9, 'budget "n/a" is not a number'],
      ],
    );
    assert.equal(report.rows, 5);
    assert.deepEqual(
      films.map((f) => f.id),
      [2668, 2669],
    );
  });

  test('rows that are not UTF-8: each is malformed with its line and column; over 1% of the rows stops the read with the iconv command', async () => {
    // 100 rows, one of them with a Windows-1252 é: 1%, read on
    const latin = (id: string) => Buffer.from(rowWith({ id, title: 'Caf_ Society' }).replace('Caf_', 'Caf\xe9'), 'latin1');
    const rows = (bad: string[]) =>
      Buffer.concat(
        Array.from({ length: 100 }, (_, i) => String(i + 1)).map((id) => Buffer.concat([bad.includes(id) ? latin(id) : Buffer.from(rowWith({ id })), Buffer.from('\n')])),
      );
    const one = await read(await file('one-latin.csv', Buffer.concat([Buffer.from(HEADER + '\n'), rows(['42'])])));
    assert.deepEqual([one.report.rows, one.report.malformed], [100, 1]);
    assert.deepEqual(one.report.samples.malformed, [{ line: 43, reason: 'title holds bytes that are not UTF-8' }]);
    assert.equal(one.films.length, 99);

    const two = await read(await file('two-latin.csv', Buffer.concat([Buffer.from(HEADER + '\n'), rows(['42', '77'])]))).then(
      () => assert.fail('two rows in 100 are over 1%: the read must stop'),
      (e: unknown) => e,
    );
    assert.ok(isTrueFilmError(two, 'CSV_ENCODING'), `CSV_ENCODING, got ${String(two)}`);
    assert.equal(two.line, 43, 'the first such line');
    assert.match(two.message, /2 of 100 rows hold bytes that are not UTF-8/);
    assert.match(two.hint ?? '', /iconv -f WINDOWS-1252 -t UTF-8 \S*two-latin\.csv/);
  });

  test('a UTF-8 BOM is skipped; a UTF-16 one stops the read with the iconv command', async () => {
    const utf8 = await read(await file('bom8.csv', '\uFEFF' + csvWith([{}])));
    assert.equal(utf8.films.length, 1);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csvWith([{}]), 'utf16le')]);
    const err = await read(await file('bom16.csv', utf16)).then(
      () => assert.fail('a UTF-16 file must not read'),
      (e: unknown) => e,
    );
    assert.ok(isTrueFilmError(err, 'CSV_ENCODING'), `CSV_ENCODING, got ${String(err)}`);
    assert.match(err.hint ?? '', /iconv -f UTF-16 -t UTF-8/);
  });

  test('the header must end within the first MiB: a longer one is no CSV header (CSV_NO_HEADER), one just within reads', async () => {
    // an extra column whose name makes the header `length` bytes long (its LF aside); the row gets an empty field for it
    const csv = (length: number) => `${HEADER},${'x'.repeat(length - HEADER.length - 1)}\n${rowWith({ id: '1' })},\n`;
    const within = await read(await file('header-within.csv', csv(1 << 20)));
    assert.equal(within.films.length, 1, 'a header of exactly 1 MiB reads');
    const past = await read(await file('header-past.csv', csv((1 << 20) + 1))).then(
      () => assert.fail('a header past the first MiB must not read'),
      (e: unknown) => e,
    );
    assert.ok(isTrueFilmError(past, 'CSV_NO_HEADER'), `CSV_NO_HEADER, got ${String(past)}`);
  });

  test('binary garbage after a good header: counted rows, no crash', async () => {
    const garbage = Buffer.concat([Buffer.from(`${header}\n${blairWitch}\n`), Buffer.from(Array.from({ length: 65536 }, (_, i) => (i * 2654435761) % 251))]);
    // the garbage is records csv-parse cannot vouch for: each is counted malformed, and the good row loads
    const { films, report } = await read(await file('garbage-tail.csv', garbage));
    assert.deepEqual(
      films.map((f) => f.id),
      [2667],
    );
    assert.ok(report.malformed > 0, `${report.malformed} malformed`);
  });
});
