/**
 * The parts runAbstracts drives, each through its own face: the Collector
 * (first in input order wins, whatever order the tasks' outputs come in) and
 * the planners of the first and the late pass (which tasks, over which
 * bytes, for which keys).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { docOf, HEADER, TRAILER } from '../bench/generate.js';
import { Collector } from '../src/scan/collect.js';
import { hashKey } from '../src/scan/hash.js';
import { describeInput, firstPassTasks, latePassTasks, type PlannedTask, type Region } from '../src/scan/plan.js';
import type { DumpInput, ScanHit, ScanOutput, TaskResult } from '../src/scan/types.js';
import { keyTable } from './helpers/scan.js';

const page = (key: string, abstract: string): ScanHit['page'] => ({ key, url: `https://en.wikipedia.org/wiki/${key}`, abstract });

function output(parts: Partial<ScanOutput>): ScanOutput {
  return { docs: 0, hits: [], malformed: 0, samples: [], content: [], ...parts };
}

const result = (...outputs: ScanOutput[]): TaskResult => ({ version: 0, outputs, indexed: false });

async function all(tasks: AsyncGenerator<PlannedTask>): Promise<PlannedTask[]> {
  const list: PlannedTask[] = [];
  for await (const t of tasks) list.push(t);
  return list;
}

describe('Collector', () => {
  const inputs: DumpInput[] = [
    { file: 'a.xml', size: 100, compression: 'none', format: 'xml', bytes: 100 },
    { file: 'b.json', size: 100, compression: 'none', format: 'cirrus', bytes: 100 },
  ];

  test('the first doc of a key in input order wins, whatever order the outputs come in; pages come out in input order', () => {
    const collector = new Collector(inputs, 20);
    collector.first(result(output({ docs: 2, hits: [{ index: 1, offset: 70, page: page('Psycho', 'later in b') }] })), 1);
    collector.first(result(output({ docs: 3, hits: [{ index: 0, offset: 50, page: page('Alien', 'a, at 50') }, { index: 1, offset: 60, page: page('Psycho', 'a, at 60') }] })), 0);
    collector.first(result(output({ docs: 1, hits: [{ index: 0, offset: 10, page: page('Alien', 'a, at 10') }] })), 0);
    // a later pass may find a doc again: the same doc, no new count
    collector.again(result(output({ docs: 9, hits: [{ index: 1, offset: 60, page: page('Psycho', 'a, at 60') }] })), 0);
    const got = collector.result();
    assert.deepEqual([...got.pages.keys()], ['Alien', 'Psycho']);
    assert.deepEqual(got.pages.get('Alien'), { ...page('Alien', 'a, at 10'), source: 'dump', file: 'a.xml', offset: 10 });
    assert.deepEqual(got.pages.get('Psycho'), { ...page('Psycho', 'a, at 60'), source: 'dump', file: 'a.xml', offset: 60 });
    assert.equal(got.docs, 6);
  });

  test('an IMDb id goes to the document that links the fewest IMDb titles, then to the first', () => {
    const collector = new Collector(inputs, 20);
    const link = (key: string, offset: number, titleLinks: number): ScanOutput =>
      output({ hits: [{ index: -1, offset, page: page(key, null as unknown as string) }], imdb: [{ id: 'tt0054215', key, offset, titleLinks }] });
    collector.first(result(link('Psycho (1998 film)', 90, 1)), 1);
    collector.first(result(link('List of films', 5, 40)), 1);
    collector.first(result(link('Psycho (1960 film)', 30, 1)), 1);
    collector.first(result(output({ imdb: [{ id: 'tt0024216', key: 'King Kong', offset: 50, titleLinks: 2 }] })), 1);
    const got = collector.result();
    // in the input order of the documents that won them
    assert.deepEqual([...got.imdb], [
      ['tt0054215', 'Psycho (1960 film)'],
      ['tt0024216', 'King Kong'],
    ]);
    assert.equal(got.pages.get('Psycho (1960 film)')?.source, 'cirrus');
  });

  test('malformed samples in input order, capped; a wanted doc that cannot be read counts once, whichever passes read it', () => {
    const collector = new Collector(inputs, 3);
    collector.first(result(output({ malformed: 2, samples: [{ offset: 40, reason: 'b40' }, { offset: 20, reason: 'b20' }] })), 1);
    collector.first(result(output({ malformed: 1, samples: [{ offset: 90, reason: 'a90' }], content: [{ offset: 30, reason: 'a30 unreadable' }] })), 0);
    collector.again(result(output({ content: [{ offset: 30, reason: 'a30 unreadable' }] })), 0);
    const got = collector.result();
    assert.equal(got.malformed, 4);
    assert.deepEqual(got.samples, [
      { file: 'a.xml', offset: 30, reason: 'a30 unreadable' },
      { file: 'a.xml', offset: 90, reason: 'a90' },
      { file: 'b.json', offset: 20, reason: 'b20' },
    ]);
  });

  test('a task that failed fails the scan, naming the file (offsets of compressed files said to be of the uncompressed data)', () => {
    const collector = new Collector([{ file: 'a.xml.gz', size: 10, compression: 'gzip', format: 'xml', bytes: 0 }], 3);
    assert.throws(
      () => collector.first({ version: 0, outputs: [], indexed: false, error: { code: 'DUMP_TRUNCATED', message: 'cut', offset: 7 } }, 0),
      (err: Error & { code?: string; input?: string }) => err.code === 'DUMP_TRUNCATED' && err.input === 'a.xml.gz' && /uncompressed/.test(err.message),
    );
  });
});

describe('the planners', () => {
  let dir = '';
  let xml = '';
  let gz = '';
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'truefilm-plan-'));
    let text = HEADER;
    for (let i = 0; i < 200; i++) text += docOf(4, i);
    text += TRAILER;
    xml = path.join(dir, 'abstract.xml');
    gz = path.join(dir, 'abstract.xml.gz');
    writeFileSync(xml, text);
    writeFileSync(gz, gzipSync(text));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the first pass: a plain file in byte ranges, the last one open-ended; index() is asked for each as it is made', async () => {
    const input = await describeInput(xml);
    assert.deepEqual({ compression: input.compression, format: input.format }, { compression: 'none', format: 'xml' });
    let asked = 0;
    const tasks = await all(firstPassTasks([input], { rangeSize: 50_000, chunkSize: 1 }, { index: () => ++asked % 2 === 1, read: () => {} }));
    const ranges = Math.ceil(input.size / 50_000);
    assert.equal(tasks.length, ranges);
    assert.equal(asked, ranges);
    tasks.forEach((t, r) => {
      assert.equal(t.task.kind, 'range');
      assert.deepEqual([t.start, t.end], [r * 50_000, r === ranges - 1 ? Number.MAX_SAFE_INTEGER : (r + 1) * 50_000]);
      assert.equal(t.task.index, r % 2 === 0);
    });
  });

  test('the first pass: a compressed file in chunks that cover its decompressed bytes, moved with their buffers; its format and size learnt', async () => {
    const input = await describeInput(gz);
    assert.deepEqual({ compression: input.compression, format: input.format }, { compression: 'gzip', format: null });
    const read: number[] = [];
    const tasks = await all(firstPassTasks([input], { rangeSize: 1, chunkSize: 20_000 }, { index: () => true, read: (_, bytes) => read.push(bytes) }));
    assert.ok(tasks.length >= 2, `${tasks.length} chunks`);
    let next = 0;
    for (const t of tasks) {
      assert.equal(t.task.kind, 'chunk');
      assert.equal(t.start, next);
      assert.ok(t.transfer !== undefined && t.transfer.length > 0, 'the chunk’s buffers move with it');
      next = t.end;
    }
    assert.equal(next, Number.MAX_SAFE_INTEGER);
    assert.equal(input.format, 'xml');
    assert.equal(input.bytes, gunzipSync(readFileSync(gz)).length);
    assert.equal(read.at(-1), input.size, 'the whole file read');
  });

  test('the late pass: the candidate docs of an indexed region, a region without an index whole, and nothing for regions that saw every key', async () => {
    const input = await describeInput(xml);
    // keys [1, 3) came late: the doc at 120 is Early's (known before), the one at 150 Late Two's
    const keys = keyTable(['Early', 'Late One', 'Late Two']);
    const regions: Region[] = [
      { input: 0, start: 0, end: 100, version: 3 },
      { input: 0, start: 100, end: 200, version: 1, hashes: Int32Array.from([hashKey('Early'), hashKey('Late Two')]), offsets: Float64Array.from([120, 150]) },
      { input: 0, start: 200, end: Number.MAX_SAFE_INTEGER, version: 1 },
    ];
    const tasks = await all(latePassTasks([input], regions, keys, 3, { rangeSize: 1, chunkSize: 1 }));
    assert.equal(tasks.length, 2);
    const [candidates, whole] = tasks as [PlannedTask, PlannedTask];
    assert.deepEqual(candidates.task.kind === 'range' && candidates.task.spans, [[150, 151]]);
    assert.deepEqual([candidates.task.from, candidates.task.to, candidates.candidates, candidates.rescanned], [1, 3, 1, 0]);
    assert.deepEqual(whole.task.kind === 'range' && whole.task.spans, [[200, Number.MAX_SAFE_INTEGER]]);
    assert.equal(whole.rescanned, input.size - 200);
  });

  test('the late pass on a compressed file: only the chunks that overlap a region scanned before the keys came', async () => {
    const input = await describeInput(gz);
    const first = await all(firstPassTasks([input], { rangeSize: 1, chunkSize: 20_000 }, { index: () => false, read: () => {} }));
    const regions: Region[] = first.map((t, i) => ({ input: 0, start: t.start, end: t.end, version: i === 1 ? 0 : 5 }));
    const tasks = await all(latePassTasks([input], regions, keyTable([]), 5, { rangeSize: 1, chunkSize: 20_000 }));
    assert.equal(tasks.length, 1);
    assert.deepEqual([tasks[0]!.start, tasks[0]!.task.from, tasks[0]!.task.to], [first[1]!.start, 0, 5]);
  });
});
