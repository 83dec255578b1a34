/**
 * CirrusSearch dumps through runAbstracts(): the same Piscina pool over byte
 * ranges (.json) and decompressed chunks (.json.gz through zlib, .json.bz2
 * through the system's bzip2), alone or mixed with abstract dumps. Whatever
 * the thread count, range size, compression, or the moment keys arrive, the
 * pages and IMDb links are the ones a plain sequential scan of the files gives.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { cirrusDocOf, docOf, HEADER, imdbOf, TRAILER, titleOf } from '../bench/generate.js';
import { isTrueFilmError } from '../src/errors.js';
import { CirrusScanner, ImdbTable } from '../src/scan/cirrus.js';
import type { ScanOutput } from '../src/scan/types.js';
import { DocScanner } from '../src/scan/xml.js';
import { runAbstracts, WantedKeys, type AbstractsOptions, type AbstractsResult } from '../src/stages/abstracts.js';
import { ROOT } from './helpers/cli.js';
import { bzip2 } from './helpers/download.js';
import { arrivingKeys, closedKeys, hookedUi } from './helpers/recorder.js';
import { keyTable } from './helpers/scan.js';

const EDGE_JSON = path.join(ROOT, 'test/fixtures/cirrus/edge.json');
const EDGE_XML = path.join(ROOT, 'test/fixtures/dump/edge.xml');

let dir = '';
/** the files by name; `plain` maps a compressed file to the uncompressed one it holds */
const files: Record<string, string> = {};
const plain = new Map<string, string>();
const keys: string[] = [];
const ids: string[] = [];

const scan = (inputs: string[], wanted: WantedKeys, options: Partial<AbstractsOptions> = {}): Promise<AbstractsResult> =>
  runAbstracts(inputs, wanted, { threads: 2, ui: hookedUi(), imdbIds: ids, ...options });

interface Expected {
  pages: string[];
  imdb: [string, string][];
  docs: number;
  malformed: number;
  bytes: number;
}

/** What a plain sequential scan of the uncompressed files gives, one core at a time: the oracle. */
function sequential(inputs: string[], wanted: string[], imdbIds: string[] = ids): Expected {
  const table = keyTable(wanted);
  const imdb = new ImdbTable(imdbIds);
  const pages = new Map<string, string>();
  const linked = new Map<string, string>();
  const linkedBy = new Map<string, number>();
  let docs = 0;
  let malformed = 0;
  let bytes = 0;
  inputs.forEach((file, n) => {
    const data = readFileSync(plain.get(file) ?? file);
    bytes += data.length;
    const cirrus = data[0] === 0x7b;
    const sc = cirrus ? new CirrusScanner({ start: 0, lineStart: true, keys: table, imdb }) : new DocScanner({ start: 0, fileStart: true, keys: table });
    sc.push(data);
    const out: ScanOutput = sc.end();
    docs += out.docs;
    malformed += out.malformed + out.content.length;
    for (const hit of out.hits) {
      if (pages.has(hit.page.key)) continue;
      pages.set(hit.page.key, JSON.stringify([hit.page.key, n, hit.offset, hit.page.url, hit.page.abstract, cirrus ? 'cirrus' : 'dump', hit.page.wikibaseItem]));
    }
    // the doc that links the fewest IMDb titles wins, then the first in input order
    for (const hit of out.imdb ?? []) {
      const seen = linkedBy.get(hit.id);
      if (seen !== undefined && seen <= hit.titleLinks) continue;
      linkedBy.set(hit.id, hit.titleLinks);
      linked.set(hit.id, hit.key);
    }
  });
  return { pages: [...pages.values()].sort(), imdb: [...linked], docs, malformed, bytes };
}

function pagesOf(result: AbstractsResult, inputs: string[]): string[] {
  return [...result.pages.values()].map((p) => JSON.stringify([p.key, inputs.indexOf(p.file), p.offset, p.url, p.abstract, p.source, p.wikibaseItem])).sort();
}

function cirrusText(seed: number, count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += cirrusDocOf(seed, i);
  return text;
}

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'truefilm-cirrus-'));
  const write = (name: string, data: string | Buffer, of?: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, data);
    files[name] = file;
    if (of) plain.set(file, files[of]!);
    return file;
  };
  const a = Buffer.from(cirrusText(11, 700));
  const c = Buffer.from(cirrusText(12, 400));
  const edge = readFileSync(EDGE_JSON);
  let xml = HEADER;
  for (let i = 0; i < 300; i++) xml += docOf(11, i);
  xml += TRAILER;
  write('a.json', a);
  write('b.json', edge);
  write('c.json', c);
  write('x.xml', xml);
  write('a.json.gz', gzipSync(a), 'a.json');
  write('b.json.gz', gzipSync(edge), 'b.json');
  write('c.json.gz', gzipSync(c), 'c.json');
  write('a.json.bz2', bzip2(a), 'a.json');
  write('b.json.bz2', bzip2(edge), 'b.json');
  write('c.json.bz2', bzip2(c), 'c.json');
  write('x.xml.gz', gzipSync(xml), 'x.xml');
  write('x.xml.bz2', bzip2(Buffer.from(xml)), 'x.xml');
  for (let i = 0; i < 700; i += 5) keys.push(titleOf(11, i));
  for (let i = 2; i < 400; i += 9) keys.push(titleOf(12, i));
  // keys in several files (the first in input order wins), some in the XML edge fixture and the Cirrus one
  keys.push('Psycho (1960 film)', 'King Kong (1933 film)', 'Amélie', 'Broken JSON', 'Tom & Jerry: The Movie', 'Nowhere To Be Found', titleOf(11, 3));
  for (let i = 0; i < 700; i++) {
    const id = imdbOf(11, i);
    if (id && i % 2 === 0) ids.push(id);
  }
  for (let i = 0; i < 400; i++) {
    const id = imdbOf(12, i);
    if (id) ids.push(id);
  }
  ids.push('tt0054215', 'tt0024216', 'tt0211915', 'tt0155975', 'tt0000001');
});

after(() => rmSync(dir, { recursive: true, force: true }));

const f = (...names: string[]): string[] => names.map((n) => files[n]!);

describe('runAbstracts on CirrusSearch dumps gives the sequential result', () => {
  test('for every thread count and range size (.json)', async () => {
    const inputs = f('a.json', 'b.json', 'c.json');
    const expected = sequential(inputs, keys);
    assert.ok(expected.pages.length > 200 && expected.imdb.length > 100, `${expected.pages.length} pages, ${expected.imdb.length} IMDb links`);
    for (const [threads, rangeSize] of [
      [1, undefined],
      [2, 4096],
      [3, 1000],
      [4, 65536],
    ] as const) {
      const result = await scan(inputs, closedKeys(keys), { threads, rangeSize });
      assert.deepEqual(pagesOf(result, inputs), expected.pages, `threads ${threads}, ranges of ${rangeSize}`);
      assert.deepEqual([...result.imdb], expected.imdb, `threads ${threads}, ranges of ${rangeSize}`);
      assert.deepEqual(result.report, { files: 3, bytes: expected.bytes, docs: expected.docs, threads, malformed_docs: expected.malformed, samples: result.report.samples });
      assert.equal(result.rescannedBytes, 0);
    }
  });

  test('for .json.gz, .json.bz2 and a mix of them with abstract dumps, whatever the chunk size', async () => {
    for (const [names, threads, chunkSize] of [
      [['a.json.gz', 'b.json.gz', 'c.json.gz'], 1, 4096],
      [['a.json.bz2', 'b.json.bz2', 'c.json.bz2'], 2, undefined],
      [['a.json.bz2', 'b.json', 'c.json.gz'], 3, 1000],
      [['x.xml', 'a.json.gz', 'b.json.bz2', 'x.xml.bz2'], 2, 65536],
      [['b.json', 'x.xml.gz', 'c.json.bz2'], 2, 10_000],
    ] as const) {
      const inputs = f(...names);
      const expected = sequential(inputs, keys);
      const result = await scan(inputs, closedKeys(keys), { threads, chunkSize, rangeSize: 8192 });
      assert.deepEqual(pagesOf(result, inputs), expected.pages, `${names} ${threads} threads`);
      assert.deepEqual([...result.imdb], expected.imdb, `${names}`);
      const pool = inputs.every((file) => plain.has(file)) ? Math.max(1, threads - 1) : threads;
      assert.deepEqual(result.report, { files: names.length, bytes: expected.bytes, docs: expected.docs, threads: pool, malformed_docs: expected.malformed, samples: result.report.samples }, `${names}`);
    }
  });

  test('a page held by an abstract dump and a CirrusSearch dump: the first in input order wins', async () => {
    const wanted = ['Psycho (1960 film)', 'Amélie'];
    const xmlFirst = await scan(f('x.xml', 'b.json'), closedKeys(wanted), { imdbIds: [] });
    const xmlEdgeFirst = await scan([EDGE_XML, files['b.json']!], closedKeys(wanted), { imdbIds: [] });
    assert.equal(xmlEdgeFirst.pages.get('Psycho (1960 film)')?.source, 'dump');
    assert.equal(xmlEdgeFirst.pages.get('Psycho (1960 film)')?.file, EDGE_XML);
    assert.equal(xmlEdgeFirst.pages.get('Psycho (1960 film)')?.wikibaseItem, undefined);
    const cirrusFirst = await scan([files['b.json']!, EDGE_XML], closedKeys(wanted), { imdbIds: [] });
    assert.deepEqual(cirrusFirst.pages.get('Psycho (1960 film)'), {
      key: 'Psycho (1960 film)',
      url: 'https://en.wikipedia.org/wiki/Psycho_(1960_film)',
      abstract: 'Psycho is a 1960 American psychological horror film directed by Alfred Hitchcock & written by Joseph Stefano.',
      wikibaseItem: 'Q163038',
      source: 'cirrus',
      file: files['b.json'],
      offset: readFileSync(EDGE_JSON).indexOf('{"template"'),
    });
    assert.equal(xmlFirst.pages.get('Psycho (1960 film)')?.source, 'cirrus');
    // without IMDb ids asked, no document is wanted for its links
    assert.deepEqual([...cirrusFirst.imdb], []);
  });

  test('an IMDb id linked by a list page first and by the film’s own page later: the film’s page wins, for every split', async () => {
    const line = (title: string, links: string[]) =>
      `{"index":{"_type":"page","_id":"${title.length}"}}\n` +
      JSON.stringify({ namespace: 0, title, opening_text: `${title} text.`, external_link: links.map((id) => `https://www.imdb.com/title/${id}/`) }) +
      '\n';
    const text =
      line('List of 1960s horror films', ['tt0054215', 'tt0055304', 'tt0057129']) +
      line('Alfred Hitchcock filmography', ['tt0054215', 'tt0052357']) +
      line('Psycho (1960 film)', ['tt0054215']) +
      line('The Innocents (1961 film)', ['tt0055018', 'tt0055304']) +
      line('Psycho (1998 film)', ['tt0155975', 'tt0054215']);
    const file = path.join(dir, 'lists-first.json');
    writeFileSync(file, text);
    for (const rangeSize of [64, 200, 1 << 20]) {
      for (const threads of [1, 2]) {
        const result = await scan([file], closedKeys([]), { imdbIds: ['tt0054215', 'tt0055304'], rangeSize, threads });
        assert.deepEqual(
          Object.fromEntries(result.imdb),
          // Psycho: its own page links it alone; The Innocents' page links two, the list three
          { tt0054215: 'Psycho (1960 film)', tt0055304: 'The Innocents (1961 film)' },
          `range ${rangeSize}, threads ${threads}`,
        );
      }
    }
  });

  test('the malformed samples name the file and the offset, in input order', async () => {
    const result = await scan(f('a.json', 'b.json'), closedKeys(keys), { rangeSize: 2048 });
    const edge = readFileSync(EDGE_JSON);
    const line = (marker: string): number => edge.lastIndexOf('\n', edge.indexOf(marker)) + 1;
    let notJson = '';
    try {
      JSON.parse(edge.toString('utf8', line('Broken JSON'), edge.indexOf('\n', line('Broken JSON'))));
    } catch (err) {
      notJson = `not JSON: ${(err as Error).message}`;
    }
    assert.deepEqual(result.report.samples, [
      { file: files['b.json'], offset: line('this line is garbage'), reason: 'line is not a JSON object' },
      { file: files['b.json'], offset: line('"_id":"32"'), reason: 'bulk action without its document' },
      { file: files['b.json'], offset: line('"page_id":33'), reason: 'document without "title"' },
      { file: files['b.json'], offset: line('"page_id":34'), reason: 'document without "title"' },
      { file: files['b.json'], offset: line('Broken JSON'), reason: notJson },
      { file: files['b.json'], offset: line('"_id":"43"'), reason: 'bulk action without its document' },
    ]);
  });
});

describe('keys that arrive while a CirrusSearch scan runs', () => {
  // the redirects of generated documents hash as candidates too: ask for some
  const late = (): string[] => [...keys, `${titleOf(11, 10)} redirect 0`, titleOf(11, 11)];

  test('are looked for through the index of title hashes: no range is scanned again', async () => {
    const inputs = f('a.json', 'b.json', 'c.json');
    const expected = sequential(inputs, late());
    const { wanted, ui } = arrivingKeys(late());
    const result = await scan(inputs, wanted, { threads: 2, rangeSize: 8192, ui });
    assert.deepEqual(pagesOf(result, inputs), expected.pages);
    assert.deepEqual([...result.imdb], expected.imdb);
    assert.equal(result.report.malformed_docs, expected.malformed);
    assert.equal(result.rescannedBytes, 0);
  });

  test('are looked for by scanning the ranges again when there is no index', async () => {
    const inputs = f('a.json', 'b.json', 'c.json');
    const expected = sequential(inputs, late());
    const { wanted, ui } = arrivingKeys(late());
    const result = await scan(inputs, wanted, { threads: 3, rangeSize: 8192, ui, maxIndexedDocs: 0 });
    assert.deepEqual(pagesOf(result, inputs), expected.pages);
    assert.deepEqual([...result.imdb], expected.imdb);
    assert.equal(result.report.malformed_docs, expected.malformed);
    assert.ok(result.rescannedBytes > 0 && result.rescannedBytes <= expected.bytes, `rescanned ${result.rescannedBytes}`);
  });

  test('in .json.bz2 and .json.gz, by decompressing again the part scanned before they came', async () => {
    const inputs = f('a.json.bz2', 'b.json', 'c.json.gz');
    const expected = sequential(inputs, late());
    const { wanted, ui } = arrivingKeys(late());
    const result = await scan(inputs, wanted, { threads: 2, chunkSize: 8192, rangeSize: 4096, ui });
    assert.deepEqual(pagesOf(result, inputs), expected.pages);
    assert.deepEqual([...result.imdb], expected.imdb);
    assert.equal(result.report.malformed_docs, expected.malformed);
  });
});

describe('CirrusSearch faults', () => {
  test('a .json cut inside a line is DUMP_TRUNCATED with the file and the offset', async () => {
    const data = readFileSync(files['a.json']!);
    const cut = path.join(dir, 'cut.json');
    const at = data.indexOf('"text":', 200_000);
    writeFileSync(cut, data.subarray(0, at));
    await assert.rejects(
      scan([files['b.json']!, cut], closedKeys(keys), { rangeSize: 50_000 }),
      (err: unknown) => isTrueFilmError(err, 'DUMP_TRUNCATED') && err.input === cut && err.offset === at,
    );
  });

  test('a .bz2 or .gz of a cut-short dump is DUMP_TRUNCATED at its uncompressed offset', async () => {
    const data = readFileSync(files['c.json']!);
    const at = data.indexOf('"source_text":', 100_000);
    for (const [name, pack] of [
      ['cut.json.bz2', bzip2],
      ['cut.json.gz', gzipSync],
    ] as const) {
      const file = path.join(dir, name);
      writeFileSync(file, pack(data.subarray(0, at)));
      await assert.rejects(
        scan([file], closedKeys(keys), { chunkSize: 10_000 }),
        (err: unknown) => isTrueFilmError(err, 'DUMP_TRUNCATED') && err.input === file && err.offset === at && /uncompressed/.test(err.message),
        name,
      );
    }
  });

  test('a corrupt or cut-short .bz2 is DUMP_BZIP2 naming the file, with what bzip2 said', async () => {
    const bz = readFileSync(files['a.json.bz2']!);
    const corrupt = Buffer.from(bz);
    for (let i = 3000; i < 3100; i++) corrupt[i] = corrupt[i]! ^ 0x5a;
    writeFileSync(path.join(dir, 'corrupt.json.bz2'), corrupt);
    writeFileSync(path.join(dir, 'short.json.bz2'), bz.subarray(0, bz.length - 1000));
    for (const [name, what] of [
      ['corrupt.json.bz2', /the bzip2 data is corrupt: bzip2 exited with status 2 \(bzip2: Data integrity error/],
      ['short.json.bz2', /the bzip2 file is cut short: bzip2 exited with status 2 \(bzip2: Compressed file ends unexpectedly/],
    ] as const) {
      const file = path.join(dir, name);
      await assert.rejects(
        scan([files['b.json']!, file], closedKeys(keys)),
        (err: unknown) => isTrueFilmError(err, 'DUMP_BZIP2') && err.input === file && typeof err.offset === 'number' && err.offset > 0 && what.test(err.message),
        name,
      );
    }
  });

  test('with no bzip2 installed a .bz2 is BZIP2_MISSING naming the file; lbzip2 is preferred when present', async (t) => {
    const saved = process.env.PATH;
    t.after(() => {
      process.env.PATH = saved;
      delete process.env.TRUEFILM_TEST_LBZIP2_LOG;
    });
    const empty = path.join(dir, 'no-tools');
    mkdirSync(empty, { recursive: true });
    process.env.PATH = empty;
    await assert.rejects(
      scan(f('b.json', 'c.json.bz2'), closedKeys(keys)),
      (err: unknown) =>
        isTrueFilmError(err, 'BZIP2_MISSING') && err.input === files['c.json.bz2'] && /lbzip2, bzip2/.test(err.message) && /apt-get install lbzip2/.test(err.hint ?? ''),
    );
    // a plain file needs no tool
    assert.ok((await scan(f('b.json'), closedKeys(keys))).pages.size > 0);

    // an lbzip2 (here a stand-in that logs its arguments and runs bzip2) comes first
    const tools = path.join(dir, 'tools');
    mkdirSync(tools, { recursive: true });
    const log = path.join(dir, 'lbzip2.log');
    writeFileSync(path.join(tools, 'lbzip2'), '#!/bin/sh\necho "$@" >> "$TRUEFILM_TEST_LBZIP2_LOG"\nexec bzip2 "$@"\n');
    chmodSync(path.join(tools, 'lbzip2'), 0o755);
    process.env.PATH = `${tools}:${saved}`;
    process.env.TRUEFILM_TEST_LBZIP2_LOG = log;
    const inputs = f('c.json.bz2');
    const result = await scan(inputs, closedKeys(keys));
    assert.deepEqual(pagesOf(result, inputs), sequential(inputs, keys).pages);
    assert.equal(readFileSync(log, 'utf8'), '-d -c\n');
  });

  test('a file in neither format is DUMP_FORMAT naming it, compressed or not', async () => {
    const csv = path.join(ROOT, 'test/fixtures/dump/not-a-dump.xml');
    const gz = path.join(dir, 'movies.csv.gz');
    const bz = path.join(dir, 'movies.csv.bz2');
    const pretty = path.join(dir, 'pretty.json');
    const empty = path.join(dir, 'empty.json.gz');
    writeFileSync(gz, gzipSync(readFileSync(csv)));
    writeFileSync(bz, bzip2(readFileSync(csv)));
    writeFileSync(pretty, JSON.stringify({ title: 'A', opening_text: 'B' }, null, 2) + '\n');
    writeFileSync(empty, gzipSync(Buffer.alloc(0)));
    for (const file of [csv, gz, bz, pretty, empty]) {
      await assert.rejects(
        scan([files['b.json']!, file], closedKeys(keys)),
        (err: unknown) => isTrueFilmError(err, 'DUMP_FORMAT') && err.input === file && /neither an abstract dump \(<feed>\) nor a CirrusSearch dump/.test(err.message),
        file,
      );
    }
  });

  test('a 50 MB line is counted as malformed, skipped in flat memory, and the scan goes on (.json, .json.gz, .json.bz2)', async () => {
    const doc = (key: string, text: string): string => `{"index":{"_id":"1"}}\n{"namespace":0,"title":${JSON.stringify(key)},"opening_text":${JSON.stringify(text)}}\n`;
    const head = doc('Before', 'before');
    const text = head + doc('Huge', 'x'.repeat(50 << 20)) + doc('After', 'after');
    const json = path.join(dir, 'huge.json');
    writeFileSync(json, text);
    writeFileSync(json + '.gz', gzipSync(text));
    writeFileSync(json + '.bz2', bzip2(Buffer.from(text)));
    for (const file of [json, json + '.gz', json + '.bz2']) {
      const result = await scan([file], closedKeys(['Before', 'Huge', 'After']), { rangeSize: 1 << 20, chunkSize: 1 << 20 });
      assert.deepEqual([...result.pages.keys()], ['Before', 'After'], file);
      assert.equal(result.report.docs, 3);
      assert.equal(result.report.malformed_docs, 1);
      assert.deepEqual(result.report.samples, [{ file, offset: Buffer.byteLength(head) + '{"index":{"_id":"1"}}\n'.length, reason: `line larger than ${8 << 20} bytes` }]);
    }
  });

  test('an abort during a .bz2 scan stops it and rejects with INTERRUPTED', async () => {
    const controller = new AbortController();
    const ui = hookedUi(() => controller.abort());
    const wanted = new WantedKeys(keys); // never closed: only the abort can end the scan
    await assert.rejects(
      scan(f('a.json.bz2', 'c.json'), wanted, { ui, chunkSize: 4096, signal: controller.signal }),
      (err: unknown) => isTrueFilmError(err, 'INTERRUPTED'),
    );
  });
});
