/**
 * The CirrusSearch scanning core (src/scan/cirrus.ts) and its cutter, through
 * their push/end faces: the same documents, byte for byte, wherever a range
 * boundary or a chunk boundary falls; and what is malformed, cut short or
 * not a dump.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { cirrusDocOf, imdbOf, phpJson, titleOf } from '../bench/generate.js';
import { isTrueFilmError } from '../src/errors.js';
import { CirrusScanner, ImdbTable, LineCutter } from '../src/scan/cirrus.js';
import { sniffFormat } from '../src/scan/formats.js';
import { hashKey } from '../src/scan/hash.js';
import { KeyTable } from '../src/scan/keytable.js';
import type { ScanOutput } from '../src/scan/types.js';
import { isValidTitle, urlFromKey } from '../src/keys.js';
import { runMatch, type ArticleRef } from '../src/stages/match.js';
import type { Film, WikiPage } from '../src/types.js';
import { ROOT } from './helpers/cli.js';
import { keyTable, summarise, type ScanSummary } from './helpers/scan.js';

const EDGE = readFileSync(path.join(ROOT, 'test/fixtures/cirrus/edge.json'));

const EDGE_KEYS = [
  'Psycho (1960 film)',
  'King Kong (1933 film)',
  'Amélie',
  '千と千尋の神隠し',
  'No Namespace Field',
  'Broken JSON',
  'Tom & Jerry: The Movie',
  'Back "Slash" \\ Title',
  'Carriage Return',
  'Spaced Out',
  'Psycho (film)',
  'Not In The Dump',
];
/** wanted IMDb ids: Psycho, King Kong (m.imdb.com, escaped slashes), Amélie (no padding, protocol-relative), the 1998 Psycho, Mars Needs Moms (a look-alike link) */
const EDGE_IMDB = ['tt0054215', 'tt0024216', 'tt0211915', 'tt0155975', 'tt1305591', 'tt9999999'];

interface RangeOptions {
  piece?: number;
  maxDocBytes?: number;
  imdb?: ImdbTable;
}

/**
 * Scans `bytes` as ranges cut at `cuts`, each read in pieces of `piece` bytes,
 * as a worker does: a range that does not start the file is read from the
 * byte before it.
 */
function scanRanges(bytes: Buffer, keys: KeyTable, cuts: number[], options: RangeOptions = {}): ScanSummary {
  const piece = options.piece ?? 1 << 20;
  const bounds = [0, ...cuts, Number.MAX_SAFE_INTEGER];
  const outputs: ScanOutput[] = [];
  for (let r = 0; r + 1 < bounds.length; r++) {
    const from = bounds[r]! > 0 ? bounds[r]! - 1 : 0;
    const scanner = new CirrusScanner({ start: from, lineStart: from === 0, bound: bounds[r + 1], keys, imdb: options.imdb, maxDocBytes: options.maxDocBytes });
    for (let at = from; at < bytes.length; at += piece) {
      if (!scanner.push(bytes.subarray(at, Math.min(at + piece, bytes.length)))) break;
    }
    outputs.push(scanner.end());
  }
  return summarise(outputs);
}

/** The byte offset of the line that holds `marker`. */
const lineOf = (bytes: Buffer, marker: string): number => {
  const at = bytes.indexOf(marker);
  assert.ok(at >= 0, marker);
  return bytes.lastIndexOf('\n', at) + 1;
};

describe('CirrusScanner on the hand-made edge fixture', () => {
  const keys = keyTable(EDGE_KEYS);
  const imdb = new ImdbTable(EDGE_IMDB);
  const whole = scanRanges(EDGE, keys, [], { imdb });

  test('reads titles, opening texts and IMDb links as the format says', () => {
    const sc = new CirrusScanner({ start: 0, lineStart: true, keys, imdb });
    sc.push(EDGE);
    const out = sc.end();
    const pages = new Map<string, { url: string; abstract: string | null; offset: number; wikibaseItem?: string }>();
    for (const hit of out.hits) if (!pages.has(hit.page.key)) pages.set(hit.page.key, { ...hit.page, offset: hit.offset });

    const psycho = pages.get('Psycho (1960 film)');
    assert.deepEqual(psycho, {
      key: 'Psycho (1960 film)',
      url: 'https://en.wikipedia.org/wiki/Psycho_(1960_film)',
      abstract: 'Psycho is a 1960 American psychological horror film directed by Alfred Hitchcock & written by Joseph Stefano.',
      wikibaseItem: 'Q163038',
      offset: lineOf(EDGE, '"page_id":25'),
    });
    // opening_text trimmed; escaped slashes; \u escapes in the title; an empty opening text is no abstract
    assert.equal(pages.get('King Kong (1933 film)')?.abstract, 'King Kong is a 1933 American pre-Code adventure romance monster film.');
    assert.equal(pages.get('Amélie')?.abstract, 'Amélie is a 2001 French romantic comedy film.');
    assert.equal(pages.get('Amélie')?.url, 'https://en.wikipedia.org/wiki/Am%C3%A9lie');
    assert.equal(pages.get('千と千尋の神隠し')?.abstract, null);
    assert.equal(pages.get('No Namespace Field')?.abstract, 'A document without a namespace field is read as an article.');
    assert.equal(pages.get('Tom & Jerry: The Movie')?.abstract, 'Tom & Jerry: The Movie is a 1992 animated film; 1 < 2 > 0 and "quotes" stay.');
    assert.equal(pages.get('Back "Slash" \\ Title')?.abstract, 'A title with escaped quotes and a backslash.');
    assert.equal(pages.get('Carriage Return')?.abstract, 'A line that ends with CR LF.');
    assert.equal(pages.get('Spaced Out')?.abstract, 'Spaces around the colons.');
    // wanted for its IMDb link only: the 1998 remake links tt0155975
    assert.equal(pages.get('Psycho (1998 film)')?.offset, lineOf(EDGE, '"page_id":38'));
    // a redirect's title is not the page's key; a talk page is not an article; a broken line gives nothing
    for (const key of ['Psycho (film)', 'Broken JSON', 'Mars Needs Moms', 'Not In The Dump']) assert.equal(pages.has(key), false, key);

    // the first document (in input order) that links an id wins; the talk page (namespace 1) does not count
    const linked = new Map<string, string>();
    for (const hit of out.imdb!) if (!linked.has(hit.id)) linked.set(hit.id, hit.key);
    assert.deepEqual(Object.fromEntries(linked), {
      tt0054215: 'Psycho (1960 film)',
      tt0024216: 'King Kong (1933 film)',
      tt0211915: 'Amélie',
      tt0155975: 'Psycho (1998 film)',
    });
    assert.deepEqual(
      out.imdb!.filter((h) => h.id === 'tt0054215').map((h) => h.offset),
      [lineOf(EDGE, '"page_id":25'), lineOf(EDGE, '"page_id":37'), lineOf(EDGE, '"page_id":38')],
    );
  });

  test('counts documents and malformed lines with their byte offsets', () => {
    assert.equal(whole.docs, 17);
    assert.deepEqual(whole.samples, [
      `${lineOf(EDGE, 'this line is garbage')} line is not a JSON object`,
      `${lineOf(EDGE, '"_id":"32"')} bulk action without its document`,
      `${lineOf(EDGE, '"page_id":33')} document without "title"`,
      `${lineOf(EDGE, '"page_id":34')} document without "title"`,
      `${lineOf(EDGE, '"_id":"43"')} bulk action without its document`,
    ]);
    assert.equal(whole.malformed, 5);
    // a wanted line that is not JSON, with what JSON.parse said
    assert.equal(whole.content.length, 1);
    assert.match(whole.content[0]!, new RegExp(`^${lineOf(EDGE, 'Broken JSON')} not JSON: .*position \\d+`));
  });

  test('a document that is not wanted is not parsed: its broken JSON is not seen', () => {
    const out = scanRanges(EDGE, keyTable(['Psycho (1960 film)']), []);
    assert.deepEqual(out.content, []);
    assert.equal(out.malformed, 5);
    assert.equal(out.docs, 17);
    // without IMDb ids, documents are wanted by their title only
    assert.deepEqual(out.imdb, []);
    assert.deepEqual(
      out.hits.map((h) => JSON.parse(h.slice(h.indexOf('{'))).key),
      ['Psycho (1960 film)', 'Psycho (1960 film)'],
    );
  });

  test('gives the same documents with a range boundary at every byte offset', () => {
    for (let cut = 0; cut <= EDGE.length; cut++) {
      assert.deepEqual(scanRanges(EDGE, keys, [cut], { imdb }), whole, `boundary at byte ${cut}`);
    }
  });

  test('gives the same documents for every piece size, down to a byte at a time', () => {
    for (let piece = 1; piece <= 80; piece++) assert.deepEqual(scanRanges(EDGE, keys, [], { imdb, piece }), whole, `pieces of ${piece}`);
    for (const piece of [127, 500, 1024, 4095]) assert.deepEqual(scanRanges(EDGE, keys, [], { imdb, piece }), whole, `pieces of ${piece}`);
  });

  test('gives the same documents for many ranges read in small pieces', () => {
    for (const step of [1, 3, 17, 64, 333]) {
      const cuts: number[] = [];
      for (let c = step; c < EDGE.length; c += step) cuts.push(c);
      assert.deepEqual(scanRanges(EDGE, keys, cuts, { imdb, piece: 7 }), whole, `ranges of ${step}`);
    }
  });

  test('looks only for the keys of its window', () => {
    const sc = new CirrusScanner({ start: 0, lineStart: true, keys, from: 2, to: 4 });
    sc.push(EDGE);
    assert.deepEqual(
      sc.end().hits.map((h) => h.page.key),
      ['Amélie', '千と千尋の神隠し'],
    );
  });

  test('records every title hash of a document (its redirects too) with its offset', () => {
    const sc = new CirrusScanner({ start: 0, lineStart: true, keys: keyTable([]), index: true });
    sc.push(EDGE);
    const out = sc.end();
    assert.ok(out.hashes && out.offsets);
    const at = (offset: number): number[] => [...out.hashes!].filter((_, i) => out.offsets![i] === offset);
    const psycho = lineOf(EDGE, '"page_id":25');
    assert.deepEqual(at(psycho), [hashKey('Psycho (film)'), hashKey('Psycho 1960'), hashKey('Psycho (1960 film)')]);
    assert.deepEqual(at(lineOf(EDGE, '"page_id":27')), [hashKey('Amélie')]);
    assert.deepEqual(at(lineOf(EDGE, '"page_id":40')), [hashKey('Back "Slash" \\ Title')]);
    assert.deepEqual(at(lineOf(EDGE, '"page_id":33')), []);
  });
});

/** A generated dump: `count` documents of seed `seed`. */
function generated(seed: number, count: number, from = 0): Buffer {
  let text = '';
  for (let i = from; i < from + count; i++) text += cirrusDocOf(seed, i);
  return Buffer.from(text);
}

describe('CirrusScanner on generated documents', () => {
  const bytes = generated(3, 300);
  const keys = keyTable(Array.from({ length: 300 }, (_, i) => titleOf(3, i)).filter((_, i) => i % 3 === 0));
  const ids = Array.from({ length: 300 }, (_, i) => imdbOf(3, i)).filter((id): id is string => id !== null);
  const imdb = new ImdbTable(ids);
  const whole = scanRanges(bytes, keys, [], { imdb });

  test('finds every wanted title and IMDb link, whatever the JSON escaping', () => {
    assert.equal(whole.docs, 300);
    assert.equal(whole.malformed, 0);
    const found = new Set(whole.hits.map((h) => JSON.parse(h.slice(h.indexOf('{'))).key));
    for (let i = 0; i < 300; i++) {
      const line = cirrusDocOf(3, i).split('\n')[1]!;
      const doc = JSON.parse(line) as { namespace: number };
      // wanted by its title, or by its IMDb link when its title is one MediaWiki takes (some generated ones hold "<" and ">")
      const wanted = i % 3 === 0 || (imdbOf(3, i) !== null && isValidTitle(titleOf(3, i)));
      assert.equal(found.has(titleOf(3, i)), wanted && doc.namespace === 0, `doc ${i}`);
    }
    assert.ok(bytes.includes('\\u00') && bytes.includes('\\/'), 'some documents are written with PHP escapes');
    // every article that links a wanted id, and nothing else
    const linking = Array.from({ length: 300 }, (_, i) => i).filter((i) => imdbOf(3, i) !== null && JSON.parse(cirrusDocOf(3, i).split('\n')[1]!).namespace === 0 && isValidTitle(titleOf(3, i)));
    assert.ok(Array.from({ length: 300 }, (_, i) => imdbOf(3, i) !== null && !isValidTitle(titleOf(3, i))).includes(true), 'some documents that link an id have a title MediaWiki would refuse');
    assert.deepEqual(
      whole.imdb.map((h) => h.split(' ').slice(1).join(' ')),
      linking.map((i) => `${imdbOf(3, i)} ${titleOf(3, i)}`),
    );
  });

  test('gives the same documents for ranges of every size and pieces of every size', () => {
    for (const step of [997, 4096, 65536]) {
      const cuts: number[] = [];
      for (let c = step; c < bytes.length; c += step) cuts.push(c);
      for (const piece of [61, 4096]) assert.deepEqual(scanRanges(bytes, keys, cuts, { imdb, piece }), whole, `ranges of ${step}, pieces of ${piece}`);
    }
  });

  test('a JSON writer that escapes slashes and non-ASCII gives the same pages', () => {
    const doc = { namespace: 0, title: 'Zürich / Café 東京', opening_text: 'Über / alles.', external_link: ['https://www.imdb.com/title/tt0012345/'] };
    for (const line of [JSON.stringify(doc), phpJson(doc)]) {
      const sc = new CirrusScanner({ start: 0, lineStart: true, keys: keyTable(['Zürich / Café 東京']), imdb: new ImdbTable(['tt0012345']) });
      sc.push(Buffer.from(`{"index":{}}\n${line}\n`));
      const out = sc.end();
      assert.deepEqual(out.hits.map((h) => h.page), [{ key: 'Zürich / Café 東京', url: 'https://en.wikipedia.org/wiki/Z%C3%BCrich_/_Caf%C3%A9_%E6%9D%B1%E4%BA%AC', abstract: 'Über / alles.' }]);
      assert.deepEqual(out.imdb!.map((h) => h.id), ['tt0012345']);
    }
  });
});

describe('CirrusScanner on malformed and cut-short input', () => {
  const doc = (key: string, text: string): string => `{"index":{"_id":"1"}}\n${JSON.stringify({ namespace: 0, title: key, opening_text: text })}\n`;

  test('a line larger than the limit is counted and skipped; the next one is found', () => {
    const bytes = Buffer.from(doc('Small', 's') + doc('Big', 'x'.repeat(5000)) + doc('After', 'a'));
    const keys = keyTable(['Big', 'Small', 'After']);
    const whole = scanRanges(bytes, keys, [], { maxDocBytes: 1000 });
    assert.equal(whole.docs, 3);
    assert.deepEqual(whole.samples, [`${lineOf(bytes, '"title":"Big"')} line larger than 1000 bytes`]);
    assert.deepEqual(
      whole.hits.map((h) => JSON.parse(h.slice(h.indexOf('{'))).key),
      ['Small', 'After'],
    );
    for (const piece of [1, 64, 999, 1001, 4096]) assert.deepEqual(scanRanges(bytes, keys, [], { piece, maxDocBytes: 1000 }), whole, `pieces of ${piece}`);
    for (let cut = 0; cut <= bytes.length; cut += 7) assert.deepEqual(scanRanges(bytes, keys, [cut], { piece: 256, maxDocBytes: 1000 }), whole, `boundary at ${cut}`);
  });

  test('invalid UTF-8 in a wanted document is counted; the scan goes on', () => {
    const bad = Buffer.from(doc('Bad Bytes', 'caf\u00e9 au lait'));
    const at = bad.indexOf('\u00e9');
    bad[at] = 0xff;
    const bytes = Buffer.concat([bad, Buffer.from(doc('Good After Bad', 'fine'))]);
    const out = scanRanges(bytes, keyTable(['Bad Bytes', 'Good After Bad']), []);
    assert.deepEqual(out.content, [`${lineOf(bytes, 'Bad Bytes')} document is not valid UTF-8`]);
    assert.deepEqual(
      out.hits.map((h) => JSON.parse(h.slice(h.indexOf('{'))).key),
      ['Good After Bad'],
    );
  });

  test('a document whose title MediaWiki would refuse is no page, whatever IMDb link it holds', () => {
    const linked = (key: string, imdb: string): string =>
      `{"index":{"_id":"1"}}\n${JSON.stringify({ namespace: 0, title: key, opening_text: `${key} is a film.`, external_link: [`https://www.imdb.com/title/${imdb}/`] })}\n`;
    const bytes = Buffer.from(linked('Evil\u001b[31m\u0007', 'tt0054215') + linked('Psycho (1960 film)', 'tt0054215'));
    assert.ok(bytes.includes('\\u001b'), 'the title is JSON-escaped in the line, as a real dump writer would');
    const out = scanRanges(bytes, keyTable([]), [], { imdb: new ImdbTable(['tt0054215']) });
    assert.deepEqual(out.imdb, [`${lineOf(bytes, 'Psycho')} tt0054215 Psycho (1960 film)`]);
    assert.deepEqual(
      out.hits.map((h) => JSON.parse(h.slice(h.indexOf('{'))).key),
      ['Psycho (1960 film)'],
    );
  });

  test('a file cut inside a line is DUMP_TRUNCATED at its end; cut at a line end it is whole', () => {
    const keys = keyTable(EDGE_KEYS);
    for (let cut = 1; cut < EDGE.length; cut++) {
      const bytes = EDGE.subarray(0, cut);
      const lineStart = bytes.lastIndexOf('\n', cut - 1) + 1;
      const last = bytes.subarray(lineStart).toString();
      let whole = true;
      try {
        JSON.parse(last.trim() === '' ? 'null' : last);
      } catch {
        whole = false;
      }
      if (whole) {
        // at a line's end (or a whole JSON line without its newline) nothing is lost: no error
        assert.doesNotThrow(() => scanRanges(bytes, keys, [Math.floor(cut / 2)], { piece: 64 }), `cut at ${cut}`);
      } else {
        assert.throws(
          () => scanRanges(bytes, keys, [Math.floor(cut / 2)], { piece: 64 }),
          (err: unknown) => isTrueFilmError(err, 'DUMP_TRUNCATED') && err.offset === cut && err.message.includes(`byte ${lineStart}`),
          `cut at ${cut}`,
        );
      }
    }
  });

  test('the last line without a newline is read when it is whole', () => {
    const bytes = Buffer.from(doc('First', 'one') + doc('Last', 'two').trimEnd());
    const out = scanRanges(bytes, keyTable(['First', 'Last']), []);
    assert.deepEqual(
      out.hits.map((h) => JSON.parse(h.slice(h.indexOf('{'))).key),
      ['First', 'Last'],
    );
  });
});

describe('LineCutter (the .gz and .bz2 path)', () => {
  const keys = keyTable(EDGE_KEYS);
  const imdb = new ImdbTable(EDGE_IMDB);

  function cutAndScan(bytes: Buffer, chunkSize: number, piece: number, maxDocBytes?: number): { summary: ScanSummary; chunks: number; sent: number } {
    const cutter = new LineCutter({ chunkSize, maxDocBytes });
    const chunks = [];
    for (let at = 0; at < bytes.length; at += piece) chunks.push(...cutter.push(Buffer.from(bytes.subarray(at, at + piece))));
    chunks.push(...cutter.end());
    let next = 0;
    let sent = 0;
    const outputs = chunks.map((c, i) => {
      assert.equal(c.last, i === chunks.length - 1);
      if (maxDocBytes === undefined) assert.equal(c.start, next);
      const length = c.parts.reduce((n, p) => n + p.length, 0);
      next = c.start + length;
      sent += length;
      if (c.start > 0) assert.equal(bytes[c.start - 1], 0x0a, 'a chunk starts at a line start');
      const sc = new CirrusScanner({ start: c.start, lineStart: true, keys, imdb, maxDocBytes });
      for (const part of c.parts) sc.push(part);
      return sc.end(!c.last);
    });
    return { summary: summarise(outputs), chunks: chunks.length, sent };
  }

  test('cuts at line starts, never between an action and its document; the chunks scanned apart give the same documents', () => {
    const whole = scanRanges(EDGE, keys, [], { imdb });
    // pieces of 4 KiB and more are whole buffers: they go as they are
    for (const chunkSize of [1, 50, 300, 1000, 100_000]) {
      for (const piece of [1, 13, 512, 4096, EDGE.length]) {
        const { summary, chunks } = cutAndScan(EDGE, chunkSize, piece);
        assert.deepEqual(summary, whole, `chunks of ${chunkSize}, pieces of ${piece}`);
        if (chunkSize === 1 && piece === 1) assert.ok(chunks > 15, `${chunks} chunks`);
      }
    }
  });

  test('generated documents in large whole buffers', () => {
    const bytes = generated(5, 400);
    const k = keyTable(Array.from({ length: 400 }, (_, i) => titleOf(5, i)).filter((_, i) => i % 4 === 1));
    const expected = (() => {
      const sc = new CirrusScanner({ start: 0, lineStart: true, keys: k });
      sc.push(bytes);
      return summarise([sc.end()]);
    })();
    for (const [chunkSize, piece] of [
      [1 << 16, 1 << 17],
      [1 << 20, 1 << 20],
      [4096, 1 << 16],
    ] as const) {
      const cutter = new LineCutter({ chunkSize });
      const outputs: ScanOutput[] = [];
      const scan = (chunk: { parts: Uint8Array[]; start: number; last: boolean }): void => {
        const sc = new CirrusScanner({ start: chunk.start, lineStart: true, keys: k });
        for (const part of chunk.parts) sc.push(part);
        outputs.push(sc.end(!chunk.last));
      };
      for (let at = 0; at < bytes.length; at += piece) for (const c of cutter.push(Buffer.from(bytes.subarray(at, at + piece)))) scan(c);
      for (const c of cutter.end()) scan(c);
      assert.deepEqual(summarise(outputs), expected, `chunks of ${chunkSize}, pieces of ${piece}`);
    }
  });

  test('sends a large line as its first bytes and skips the rest', () => {
    const doc = (key: string, text: string): string => `{"index":{"_id":"1"}}\n${JSON.stringify({ namespace: 0, title: key, opening_text: text })}\n`;
    const bytes = Buffer.from(doc('Small', 's') + doc('Big', 'x'.repeat(5000)) + doc('After', 'a'));
    const k = keyTable(['Big', 'Small', 'After']);
    const expected = scanRanges(bytes, k, [], { maxDocBytes: 1000 });
    for (const piece of [7, 100, 4096]) {
      const cutter = new LineCutter({ chunkSize: 200, maxDocBytes: 1000 });
      const chunks = [];
      for (let at = 0; at < bytes.length; at += piece) chunks.push(...cutter.push(Buffer.from(bytes.subarray(at, at + piece))));
      chunks.push(...cutter.end());
      const sent = chunks.reduce((n, c) => n + c.parts.reduce((m, p) => m + p.length, 0), 0);
      if (piece < 1000) assert.ok(sent < bytes.length - 3000, `sent ${sent} of ${bytes.length}`);
      const outputs = chunks.map((c) => {
        const sc = new CirrusScanner({ start: c.start, lineStart: true, keys: k, maxDocBytes: 1000 });
        for (const part of c.parts) sc.push(part);
        return sc.end(!c.last);
      });
      assert.deepEqual(summarise(outputs), expected, `pieces of ${piece}`);
    }
  });

  test('a file cut inside a large line is DUMP_TRUNCATED', () => {
    const bytes = Buffer.from(`{"index":{}}\n{"title":"Big","opening_text":"${'x'.repeat(5000)}`);
    const cutter = new LineCutter({ chunkSize: 200, maxDocBytes: 1000 });
    for (let at = 0; at < bytes.length; at += 100) cutter.push(Buffer.from(bytes.subarray(at, at + 100)));
    assert.throws(() => cutter.end(), (err: unknown) => isTrueFilmError(err, 'DUMP_TRUNCATED') && err.offset === bytes.length);
  });
});

describe('format detection', () => {
  const sniff = (text: string, final = true) => sniffFormat(Buffer.from(text), final, 'f');
  const notADump = (err: unknown): boolean => isTrueFilmError(err, 'DUMP_FORMAT') && err.input === 'f';

  test('XML, CirrusSearch bulk actions and bare documents', () => {
    assert.equal(sniff('<feed>\n<doc>'), 'xml');
    assert.equal(sniff('\ufeff<?xml version="1.0"?><feed>'), 'xml');
    assert.equal(sniff('{"index":{"_type":"_doc","_id":"12"}}\n{"title":"A"}\n'), 'cirrus');
    assert.equal(sniff('{"namespace":0,"title":"A"}\n'), 'cirrus');
    // more bytes are needed to tell: the first line is not complete yet
    assert.equal(sniff('{"index":{"_id', false), null);
    assert.equal(sniff('', false), null);
  });

  test('anything else is DUMP_FORMAT naming the file', () => {
    assert.throws(() => sniff(''), notADump);
    assert.throws(() => sniff('  \n'), notADump);
    assert.throws(() => sniff('id,title,budget\n1,Psycho,806947\n'), (err: unknown) => notADump(err) && /starts with "id,title,budget/.test((err as Error).message));
    // a pretty-printed JSON file is not JSON lines
    assert.throws(() => sniff('{\n  "title": "A"\n}\n'), notADump);
    assert.throws(() => sniff('{"index": broken\n'), notADump);
    assert.throws(() => sniff('[1, 2, 3]\n'), notADump);
  });
});

describe('runMatch with CirrusSearch pages', () => {
  const film = (id: number, title: string, imdbId: string): Film => ({
    id,
    imdbId,
    title,
    originalTitle: null,
    releaseDate: null,
    year: 1960,
    budget: 1,
    revenue: 1,
    ratio: 1,
    rank: id,
    rating: null,
    voteCount: null,
    genres: [],
    companies: [],
  });
  const page = (key: string, abstract: string | null, source?: 'dump' | 'cirrus'): [string, WikiPage] => [key, { key, url: urlFromKey(key), abstract, source }];
  const prose = (what: string): string => `${what} is a 1960 American film that this test is about.`;
  const pages = new Map([
    page('Psycho (1960 film)', prose('Psycho'), 'cirrus'),
    page('Peeping Tom (film)', prose('Peeping Tom'), 'dump'),
    page('The Apartment', prose('The Apartment'), 'cirrus'),
    page('Spartacus (film)', prose('Spartacus')),
    page('Spartacus', prose('Spartacus')),
    page('Breathless (1960 film)', '| producer =', 'cirrus'),
  ]);
  const films = [
    film(1, 'Psycho', 'tt0054215'),
    film(2, 'Peeping Tom', 'tt0054167'),
    film(3, 'The Apartment', 'tt0053604'),
    film(4, 'Spartacus', 'tt0054331'),
    film(5, 'Breathless', 'tt0053472'),
    film(6, 'Elmer Gantry', 'tt0053793'),
  ];
  const cirrus = new Map([
    ['tt0054215', 'Psycho (1960 film)'],
    ['tt0054167', 'Peeping Tom (film)'],
    ['tt0053604', 'The Apartment'],
    ['tt0053472', 'Breathless (1960 film)'],
    // a link whose page the scan did not give: no match by it
    ['tt0053793', 'Elmer Gantry (film)'],
  ]);
  const wikidata = new Map<string, ArticleRef[]>([
    // Wikidata names an article: it wins over the IMDb link
    ['tt0054167', [{ key: 'Peeping Tom (film)', url: urlFromKey('Peeping Tom (film)') }]],
    // Wikidata knows the id but names no English article: the IMDb link matches
    ['tt0053604', []],
  ]);

  test('an IMDb link matches when Wikidata names no article; the abstract says which dump it came from', () => {
    const { matches, report } = runMatch({ films, wikidata, pages, cirrus });
    assert.deepEqual(
      matches.map((m) => [m.method, m.title, m.abstractSource]),
      [
        ['cirrus', 'Psycho (1960 film)', 'cirrus'],
        ['wikidata', 'Peeping Tom (film)', 'dump'],
        ['cirrus', 'The Apartment', 'cirrus'],
        // a page without a source is the abstract dump's
        ['title', 'Spartacus (film)', 'dump'],
        // residue is no abstract, from either dump
        ['cirrus', 'Breathless (1960 film)', null],
        ['none', null, null],
      ],
    );
    assert.deepEqual(report, { wikidata: 1, cirrus: 3, title: 1, title_online: 0, none: 1, with_abstract: 4, abstract_online: 0 });
    // without the IMDb links, titles only
    assert.deepEqual(
      runMatch({ films, wikidata: new Map(), pages }).matches.map((m) => m.method),
      ['title', 'title', 'title', 'title', 'title', 'none'],
    );
  });
});
