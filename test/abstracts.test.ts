/**
 * The abstracts stage through runAbstracts(): a Piscina pool over byte ranges
 * (.xml) and inflated chunks (.xml.gz). Whatever the thread count, range size,
 * compression, or the moment keys arrive, the pages are the ones a plain
 * sequential scan of the files gives.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { docOf, HEADER, TRAILER, titleOf } from '../bench/generate.js';
import { isTrueFilmError } from '../src/errors.js';
import { urlFromKey } from '../src/keys.js';
import { DocScanner } from '../src/scan/xml.js';
import { runAbstracts, WantedKeys, type AbstractsOptions, type AbstractsResult } from '../src/stages/abstracts.js';
import { REAL_DATA, ROOT, WITHOUT_REAL_DATA } from './helpers/cli.js';
import { arrivingKeys, closedKeys, hookedUi, recordingUi } from './helpers/recorder.js';
import { keyTable } from './helpers/scan.js';

const EDGE = path.join(ROOT, 'test/fixtures/dump/edge.xml');
let dir = '';
const files: Record<string, string> = {};
const keys: string[] = [];

function generated(seed: number, docs: number): string {
  let text = HEADER;
  for (let i = 0; i < docs; i++) text += docOf(seed, i);
  return text + TRAILER;
}

/** What a plain sequential scan of the (uncompressed) files gives: the oracle. */
function sequential(xmlFiles: string[], wanted: string[]): { pages: string[]; docs: number; malformed: number; bytes: number } {
  const table = keyTable(wanted);
  const pages = new Map<string, string>();
  let docs = 0;
  let malformed = 0;
  let bytes = 0;
  xmlFiles.forEach((file, n) => {
    const data = readFileSync(file);
    bytes += data.length;
    const sc = new DocScanner({ start: 0, fileStart: true, keys: table });
    sc.push(data);
    const out = sc.end();
    docs += out.docs;
    malformed += out.malformed + out.content.length;
    for (const hit of out.hits) if (!pages.has(hit.page.key)) pages.set(hit.page.key, JSON.stringify([hit.page.key, n, hit.offset, hit.page.url, hit.page.abstract]));
  });
  return { pages: [...pages.values()].sort(), docs, malformed, bytes };
}

/** The result in the oracle's terms (files by their position, so .xml and .xml.gz compare). */
function pagesOf(result: AbstractsResult, inputs: string[]): string[] {
  return [...result.pages.values()].map((p) => JSON.stringify([p.key, inputs.indexOf(p.file), p.offset, p.url, p.abstract])).sort();
}

async function scan(inputs: string[], wanted: WantedKeys, options: Partial<AbstractsOptions> = {}): Promise<AbstractsResult> {
  return runAbstracts(inputs, wanted, { threads: 2, ui: hookedUi(), ...options });
}

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'truefilm-abstracts-'));
  const write = (name: string, data: string | Buffer): string => {
    const file = path.join(dir, name);
    writeFileSync(file, data);
    return file;
  };
  const a = generated(7, 900);
  const c = generated(8, 500);
  files.a = write('abstract1.xml', a);
  files.b = write('abstract2.xml', readFileSync(EDGE));
  files.c = write('abstract3.xml', c);
  files.agz = write('abstract1.xml.gz', gzipSync(a));
  files.bgz = write('abstract2.xml.gz', gzipSync(readFileSync(EDGE)));
  files.cgz = write('abstract3.xml.gz', gzipSync(c));
  for (let i = 0; i < 900; i += 7) keys.push(titleOf(7, i));
  for (let i = 3; i < 500; i += 11) keys.push(titleOf(8, i));
  // keys found in several files: the first file wins
  keys.push(titleOf(8, 0), 'Psycho (1960 film)', 'King Kong (1933 film)', "The Astronaut's Wife", 'Broken Links', 'Unclosed Abstract', 'Tom & Jerry: The Movie', 'Nowhere To Be Found');
  writeFileSync(path.join(dir, 'abstract2b.xml'), readFileSync(EDGE).toString().replace('Psycho is a 1960', 'Another Psycho'));
  files.b2 = path.join(dir, 'abstract2b.xml');
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('runAbstracts gives the sequential result', () => {
  test('for every thread count and range size (.xml)', async () => {
    const inputs = [files.a!, files.b!, files.c!, files.b2!];
    const expected = sequential(inputs, keys);
    assert.ok(expected.pages.length > 100);
    for (const [threads, rangeSize] of [
      [1, undefined],
      [2, 4096],
      [3, 1000],
      [4, 65536],
    ] as const) {
      const result = await scan(inputs, closedKeys(keys), { threads, rangeSize });
      assert.deepEqual(pagesOf(result, inputs), expected.pages, `threads ${threads}, ranges of ${rangeSize}`);
      assert.deepEqual(result.report, { files: 4, bytes: expected.bytes, docs: expected.docs, threads, malformed_docs: expected.malformed, samples: result.report.samples });
      assert.equal(result.rescannedBytes, 0);
    }
  });

  test('for .xml.gz and a mix of .xml and .xml.gz, whatever the chunk size', async () => {
    const plain = [files.a!, files.b!, files.c!];
    const expected = sequential(plain, keys);
    for (const [inputs, threads, chunkSize] of [
      [[files.agz!, files.bgz!, files.cgz!], 1, 4096],
      [[files.agz!, files.b!, files.cgz!], 2, undefined],
      [[files.a!, files.bgz!, files.cgz!], 3, 1000],
    ] as const) {
      const result = await scan([...inputs], closedKeys(keys), { threads, chunkSize });
      assert.deepEqual(pagesOf(result, [...inputs]), expected.pages, `${inputs.map((f) => path.basename(f))} ${threads} threads`);
      // only .gz: zlib takes a thread, the pool has one worker fewer
      const pool = inputs.every((f) => f.endsWith('.gz')) ? Math.max(1, threads - 1) : threads;
      assert.deepEqual(result.report, { files: 3, bytes: expected.bytes, docs: expected.docs, threads: pool, malformed_docs: expected.malformed, samples: result.report.samples });
    }
  });

  test('the malformed samples name the file and the offset, in input order', async () => {
    const result = await scan([files.a!, files.b!], closedKeys(keys), { rangeSize: 2048 });
    const edge = readFileSync(EDGE);
    assert.deepEqual(result.report.samples[0], { file: files.b, offset: edge.indexOf('<doc>\n<title>Wikipedia: No URL Here'), reason: 'doc without <url>' });
    assert.deepEqual(
      result.report.samples.map((m) => m.reason),
      ['doc without <url>', 'doc without <title> or <url>', 'text between docs', 'not well-formed XML: Unexpected close tag', 'doc without </doc> before the next <doc>'],
    );
  });
});

describe('the scan\'s progress', () => {
  test('its task begins when a worker begins a range, not when the pool starts up (the rate counts from there)', async () => {
    const rec = recordingUi();
    await runAbstracts([files.a!, files.c!], closedKeys(keys), { threads: 2, ui: rec.ui });
    assert.equal(rec.tasks.length, 1);
    const [task, times] = [rec.tasks[0]!, rec.times[0]!];
    assert.equal(task.label, 'abstracts');
    assert.ok(task.stopped);
    assert.equal(task.done, task.total);
    const { madeAt, begunAt, firstDoneAt } = times;
    assert.ok(begunAt !== null && firstDoneAt !== null, 'begin() was called, and progress came');
    assert.ok(madeAt <= begunAt && begunAt <= firstDoneAt, `made ${madeAt}, began ${begunAt}, first bytes ${firstDoneAt}`);
  });
});

describe('keys that arrive while the scan runs', () => {
  test('are looked for through the index of key hashes: no range is scanned again', async () => {
    const inputs = [files.a!, files.b!, files.c!];
    const expected = sequential(inputs, keys);
    const { wanted, ui } = arrivingKeys(keys);
    const result = await scan(inputs, wanted, { threads: 2, rangeSize: 8192, ui });
    assert.deepEqual(pagesOf(result, inputs), expected.pages);
    assert.equal(result.report.malformed_docs, expected.malformed);
    assert.equal(result.rescannedBytes, 0);
  });

  test('are looked for by scanning the ranges again when there is no index', async () => {
    const inputs = [files.a!, files.b!, files.c!];
    const expected = sequential(inputs, keys);
    const { wanted, ui } = arrivingKeys(keys);
    const result = await scan(inputs, wanted, { threads: 3, rangeSize: 8192, ui, maxIndexedDocs: 0 });
    assert.deepEqual(pagesOf(result, inputs), expected.pages);
    assert.equal(result.report.malformed_docs, expected.malformed);
    assert.ok(result.rescannedBytes > 0 && result.rescannedBytes <= expected.bytes, `rescanned ${result.rescannedBytes}`);
  });

  test('in .xml.gz, by inflating again the part scanned before they came', async () => {
    const inputs = [files.agz!, files.b!, files.cgz!];
    const expected = sequential([files.a!, files.b!, files.c!], keys);
    const { wanted, ui } = arrivingKeys(keys);
    const result = await scan(inputs, wanted, { threads: 2, chunkSize: 8192, rangeSize: 4096, ui });
    assert.deepEqual(pagesOf(result, inputs), expected.pages);
    assert.equal(result.report.malformed_docs, expected.malformed);
  });

  test('resolves only after close()', async () => {
    const wanted = new WantedKeys([]);
    let settled = false;
    const scanning = scan([files.b!], wanted).then((r) => {
      settled = true;
      return r;
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(settled, false);
    wanted.add(['Psycho (1960 film)']);
    wanted.close();
    const result = await scanning;
    assert.deepEqual([...result.pages.keys()], ['Psycho (1960 film)']);
    assert.throws(() => wanted.add(['Late']), (err: unknown) => isTrueFilmError(err, 'INTERNAL'));
  });
});

describe('runAbstracts errors', () => {
  test('a missing file is INPUT_NOT_FOUND naming it', async () => {
    const missing = path.join(dir, 'abstract9.xml');
    await assert.rejects(scan([files.b!, missing], closedKeys(keys)), (err: unknown) => isTrueFilmError(err, 'INPUT_NOT_FOUND') && err.input === missing);
  });

  test('a truncated .xml is DUMP_TRUNCATED with the file and the offset', async () => {
    const cut = path.join(dir, 'cut.xml');
    const data = readFileSync(files.a!);
    writeFileSync(cut, data.subarray(0, 200_000));
    await assert.rejects(
      scan([files.b!, cut], closedKeys(keys), { rangeSize: 50_000 }),
      (err: unknown) => isTrueFilmError(err, 'DUMP_TRUNCATED') && err.input === cut && err.offset === 200_000,
    );
  });

  test('a .gz of a truncated dump is DUMP_TRUNCATED at its uncompressed offset', async () => {
    const cut = path.join(dir, 'cut.xml.gz');
    writeFileSync(cut, gzipSync(readFileSync(files.a!).subarray(0, 123_456)));
    await assert.rejects(
      scan([cut], closedKeys(keys), { chunkSize: 10_000 }),
      (err: unknown) => isTrueFilmError(err, 'DUMP_TRUNCATED') && err.input === cut && err.offset === 123_456 && /uncompressed/.test(err.message),
    );
  });

  test('a corrupt or cut-short .gz is DUMP_GZIP with the file and an offset', async () => {
    const gz = readFileSync(files.agz!);
    const corrupt = Buffer.from(gz);
    for (let i = 2000; i < 2100; i++) corrupt[i] = corrupt[i]! ^ 0x5a;
    writeFileSync(path.join(dir, 'corrupt.xml.gz'), corrupt);
    writeFileSync(path.join(dir, 'short.xml.gz'), gz.subarray(0, gz.length - 1000));
    for (const name of ['corrupt.xml.gz', 'short.xml.gz']) {
      const file = path.join(dir, name);
      await assert.rejects(
        scan([file], closedKeys(keys)),
        (err: unknown) => isTrueFilmError(err, 'DUMP_GZIP') && err.input === file && typeof err.offset === 'number' && err.offset > 0,
        name,
      );
    }
  });

  test('a file that is not a dump is DUMP_FORMAT', async () => {
    const csv = path.join(ROOT, 'test/fixtures/dump/not-a-dump.xml');
    await assert.rejects(scan([csv], closedKeys(keys)), (err: unknown) => isTrueFilmError(err, 'DUMP_FORMAT') && err.input === csv);
  });

  test('an abort stops the pool and rejects with INTERRUPTED', async () => {
    const controller = new AbortController();
    const ui = hookedUi(() => controller.abort());
    const wanted = new WantedKeys(keys); // never closed: only the abort can end the scan
    await assert.rejects(
      scan([files.a!, files.c!], wanted, { ui, rangeSize: 4096, signal: controller.signal }),
      (err: unknown) => isTrueFilmError(err, 'INTERRUPTED'),
    );
  });

  test('an abort that comes while the inputs are first read stops the scan too', async () => {
    const controller = new AbortController();
    const wanted = new WantedKeys(keys); // never closed: only the abort can end the scan
    const scanning = scan([files.a!, files.c!], wanted, { rangeSize: 4096, signal: controller.signal });
    controller.abort(); // the stage is reading the files' first bytes now
    await assert.rejects(scanning, (err: unknown) => isTrueFilmError(err, 'INTERRUPTED'));
  });
});

describe('large docs and real data', () => {
  test('a 50 MB doc is counted as malformed, skipped in flat memory, and the scan goes on (.xml and .xml.gz)', async () => {
    const doc = (key: string, abstract: string): string =>
      `<doc>\n<title>Wikipedia: ${key}</title>\n<url>${urlFromKey(key)}</url>\n<abstract>${abstract}</abstract>\n<links>\n</links>\n</doc>\n`;
    const head = HEADER + doc('Before', 'before');
    const huge = doc('Huge', 'x'.repeat(50 << 20));
    const text = head + huge + doc('After', 'after') + TRAILER;
    const xml = path.join(dir, 'huge.xml');
    writeFileSync(xml, text);
    writeFileSync(xml + '.gz', gzipSync(text));
    for (const file of [xml, xml + '.gz']) {
      const result = await scan([file], closedKeys(['Before', 'Huge', 'After']), { rangeSize: 1 << 20, chunkSize: 1 << 20 });
      assert.deepEqual([...result.pages.keys()], ['Before', 'After'], file);
      assert.equal(result.report.docs, 3);
      assert.equal(result.report.malformed_docs, 1);
      assert.deepEqual(result.report.samples, [{ file, offset: Buffer.byteLength(head), reason: `doc larger than ${8 << 20} bytes` }]);
    }
  });

  test('real dump excerpts: every page is found, re-indented or not', { skip: WITHOUT_REAL_DATA }, async () => {
    const inputs = ['enwiki_abstract_first_doc.xml', 'enwiki_abstract_excerpt_reindented.xml', 'enwiki_2021_film_pages.xml'].map((f) => path.join(REAL_DATA, f));
    const titles: string[] = [];
    for (const file of inputs) for (const m of readFileSync(file, 'utf8').matchAll(/<title>Wikipedia: ([^<]*)<\/title>/g)) titles.push(m[1]!.replace(/&amp;/g, '&'));
    const result = await scan(inputs, closedKeys(titles), { threads: 2, rangeSize: 16384 });
    assert.equal(result.report.malformed_docs, 0);
    assert.equal(result.report.docs, 1 + 8 + 811);
    assert.deepEqual([...result.pages.keys()].sort(), [...new Set(titles)].sort());
    assert.equal(result.pages.get('Anarchism')?.file, inputs[0]);
    assert.equal(result.pages.get('King Kong (1933 film)')?.url, 'https://en.wikipedia.org/wiki/King_Kong_(1933_film)');
    assert.deepEqual(pagesOf(result, inputs), sequential(inputs, titles).pages);
  });
});
