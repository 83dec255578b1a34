/**
 * The abstract dump's scanning core (src/scan/xml.ts) and its cutter, through their
 * push/end faces: the same docs, byte for byte, wherever a range boundary or a
 * chunk boundary falls.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { docOf, HEADER, TRAILER, titleOf } from '../bench/generate.js';
import { isTrueFilmError } from '../src/errors.js';
import { urlFromKey } from '../src/keys.js';
import { docFinder, FIND_WINDOW, type DocFinder } from '../src/scan/docfind.js';
import { DocCutter } from '../src/scan/xml.js';
import { hashBytes, hashKey } from '../src/scan/hash.js';
import { KeyTable } from '../src/scan/keytable.js';
import type { ScanOutput } from '../src/scan/types.js';
import { DocScanner } from '../src/scan/xml.js';
import { keyLogClosed, syncKeyTable, WantedKeys } from '../src/scan/wanted.js';
import { ROOT } from './helpers/cli.js';
import { keyTable, summarise, type ScanSummary } from './helpers/scan.js';

const FIXTURES = path.join(ROOT, 'test/fixtures/dump');
const EDGE = readFileSync(path.join(FIXTURES, 'edge.xml'));

const EDGE_KEYS = [
  'Psycho (1960 film)',
  'Wikipedia: The Film',
  'Wiki Wiki Pedia',
  'Tom & Jerry: The Movie',
  'Amélie',
  '千と千尋の神隠し',
  'Mars Needs Moms',
  'Serialization Error Page',
  'Not Applicable Page',
  "The Astronaut's Wife",
  'No URL Here',
  'Broken Links',
  'Unclosed Abstract',
  'Unclosed Doc',
  'King Kong (1933 film)',
  'One Line A',
  'One Line B',
  'Numeric & Entity',
  'The Film',
  'Wiki',
  'Not In The Dump',
];

/**
 * How the scanner finds `<doc>`s: with Buffer.indexOf, or with the WebAssembly
 * SIMD finder, on pushed buffers of their own (copied into its memory) or on
 * its read buffer (searched in place, as the worker reads the file).
 */
type Finding = 'indexOf' | 'simd' | 'simd in place';
const FINDINGS: Finding[] = ['simd', 'simd in place', 'indexOf'];

/** Scans `bytes` as ranges cut at `cuts`, each read in pieces of `piece` bytes. */
function scanRanges(bytes: Buffer, keys: KeyTable, cuts: number[], piece = 1 << 20, maxDocBytes?: number, finding: Finding = 'simd'): ScanSummary {
  const finder: DocFinder | null = finding === 'indexOf' ? null : docFinder();
  if (finding !== 'indexOf') assert.ok(finder, 'no WebAssembly SIMD finder');
  const readBuffer = finding === 'simd in place' ? finder!.readBuffer(Math.min(piece, bytes.length + 1)) : null;
  const bounds = [0, ...cuts, Number.MAX_SAFE_INTEGER];
  const outputs: ScanOutput[] = [];
  for (let r = 0; r + 1 < bounds.length; r++) {
    const start = bounds[r]!;
    const scanner = new DocScanner({ start, bound: bounds[r + 1], fileStart: start === 0, keys, maxDocBytes, finder });
    for (let at = start; at < bytes.length; at += piece) {
      let chunk = bytes.subarray(at, Math.min(at + piece, bytes.length));
      if (readBuffer !== null) chunk = readBuffer.subarray(0, bytes.copy(readBuffer, 0, at, at + chunk.length));
      if (!scanner.push(chunk)) break;
    }
    outputs.push(scanner.end());
  }
  return summarise(outputs);
}

const offsetOf = (marker: string): number => {
  const at = EDGE.indexOf(marker);
  assert.ok(at >= 0, marker);
  return EDGE.lastIndexOf('<doc>', at);
};

for (const finding of FINDINGS) {
  describe(`DocScanner on the hand-made edge fixture (${finding})`, () => {
    const scan = (bytes: Buffer, keys: KeyTable, cuts: number[], piece?: number, maxDocBytes?: number): ScanSummary =>
      scanRanges(bytes, keys, cuts, piece, maxDocBytes, finding);
    const keys = keyTable(EDGE_KEYS);
    const whole = scan(EDGE, keys, []);

    test('reads keys, URLs and abstracts as SPEC section 4 says', () => {
      const pages = new Map<string, { url: string; abstract: string | null; offset: number }>();
      const sc = new DocScanner({ start: 0, fileStart: true, finder: finding === 'indexOf' ? null : docFinder(), keys });
      sc.push(EDGE);
      for (const hit of sc.end().hits) if (!pages.has(hit.page.key)) pages.set(hit.page.key, { ...hit.page, offset: hit.offset });

      assert.equal(pages.get('Psycho (1960 film)')?.abstract, 'Psycho is a 1960 American psychological horror film directed by Alfred Hitchcock & written by Joseph Stefano.');
      assert.equal(pages.get('Psycho (1960 film)')?.offset, offsetOf('Psycho is a 1960'));
      // `Wikipedia: ` is a prefix: only the first one goes
      assert.equal(pages.get('Wikipedia: The Film')?.abstract, 'A page whose title itself starts with "Wikipedia: ".');
      assert.equal(pages.has('The Film'), false);
      assert.equal(pages.get('Wiki Wiki Pedia')?.url, 'https://en.wikipedia.org/wiki/Wiki_Wiki_Pedia');
      assert.equal(pages.has('Wiki'), false);
      assert.equal(pages.get('Tom & Jerry: The Movie')?.abstract, 'Tom & Jerry: The Movie is a 1992 animated film; 1 < 2 > 0 and "quotes" stay raw.');
      assert.equal(pages.get('Amélie')?.abstract, 'Amélie is a 2001 French romantic comedy film.');
      assert.equal(pages.get('千と千尋の神隠し')?.abstract, null);
      // infobox residue is returned as decoded: the matching step filters it
      assert.equal(pages.get('Mars Needs Moms')?.abstract, '| based_on       =');
      assert.equal(pages.get('Serialization Error Page')?.abstract, null);
      assert.equal(pages.get('Not Applicable Page')?.abstract, null);
      // no <title>: the key from the URL, percent-decoded, `_` read as a space
      assert.equal(pages.get("The Astronaut's Wife")?.abstract, 'A doc without a title: its key comes from the URL.');
      // re-indented layout and two docs on one line
      assert.equal(pages.get('King Kong (1933 film)')?.abstract, 'King Kong is a 1933 American pre-Code adventure romance monster film.');
      assert.equal(pages.get('One Line A')?.abstract, 'First on the line.');
      assert.equal(pages.get('One Line B')?.abstract, 'Second on the line.');
      assert.equal(pages.get('Numeric & Entity')?.url, 'https://en.wikipedia.org/wiki/Numeric_%26_Entity');
      // the links are never read
      assert.equal(pages.get('Broken Links')?.abstract, 'Its links are broken, but links are never read.');
      // malformed docs are never pages
      for (const key of ['No URL Here', 'Unclosed Abstract', 'Unclosed Doc', 'Not In The Dump']) assert.equal(pages.has(key), false, key);
      assert.equal(whole.docs, 20);
    });

    test('counts malformed docs with their byte offsets', () => {
      assert.deepEqual(whole.samples, [
        `${offsetOf('No URL Here')} doc without <url>`,
        `${EDGE.indexOf('this line is garbage')} text between docs`,
        `${offsetOf('Neither a title nor a URL')} doc without <title> or <url>`,
        `${offsetOf('This doc has no closing tag')} doc without </doc> before the next <doc>`,
      ]);
      assert.equal(whole.malformed, 4);
      // a wanted doc that is not well-formed XML
      assert.deepEqual(whole.content, [`${offsetOf('Its abstract is never closed')} not well-formed XML: Unexpected close tag`]);
    });

    test('a doc that is not wanted is not parsed: its unclosed abstract is not seen', () => {
      const out = scan(EDGE, keyTable(['Psycho (1960 film)']), []);
      assert.deepEqual(out.content, []);
      assert.equal(out.malformed, 4);
      assert.equal(out.docs, 20);
    });

    test('gives the same docs with a range boundary at every byte offset', () => {
      for (let cut = 0; cut <= EDGE.length; cut++) {
        assert.deepEqual(scan(EDGE, keys, [cut]), whole, `boundary at byte ${cut}`);
      }
    });

    test('gives the same docs for every chunk size, down to a byte at a time', () => {
      for (let piece = 1; piece <= 80; piece++) assert.deepEqual(scan(EDGE, keys, [], piece), whole, `pieces of ${piece}`);
      for (const piece of [127, 500, 1024, 4095]) assert.deepEqual(scan(EDGE, keys, [], piece), whole, `pieces of ${piece}`);
    });

    test('gives the same docs for many ranges read in small pieces', () => {
      for (const step of [1, 3, 17, 64, 333]) {
        const cuts: number[] = [];
        for (let c = step; c < EDGE.length; c += step) cuts.push(c);
        assert.deepEqual(scan(EDGE, keys, cuts, 7), whole, `ranges of ${step}`);
      }
    });

    test('looks only for the keys of its window', () => {
      const sc = new DocScanner({ start: 0, fileStart: true, finder: finding === 'indexOf' ? null : docFinder(), keys, from: 3, to: 5 });
      sc.push(EDGE);
      assert.deepEqual(
        sc.end().hits.map((h) => h.page.key),
        ['Tom & Jerry: The Movie', 'Amélie'],
      );
    });

    test('records every doc key hash and offset when asked (for keys that come late)', () => {
      const sc = new DocScanner({ start: 0, fileStart: true, finder: finding === 'indexOf' ? null : docFinder(), keys: keyTable([]), index: true });
      sc.push(EDGE);
      const out = sc.end();
      assert.ok(out.hashes && out.offsets);
      const at = [...out.offsets].indexOf(offsetOf('Tom &amp; Jerry'));
      assert.equal(out.hashes[at], hashKey('Tom & Jerry: The Movie'));
      assert.equal([...out.offsets].indexOf(offsetOf('The_Astronaut')) >= 0, true);
      assert.equal(out.hashes[[...out.offsets].indexOf(offsetOf('The_Astronaut'))], hashKey("The Astronaut's Wife"));
    });
  });
}

describe('the three ways of finding docs agree', () => {
  test('on generated docs, read in pieces that cut the 16-byte lanes and 64 KiB windows everywhere', () => {
    const docs: string[] = [];
    for (let i = 0; i < 400; i++) docs.push(docOf(3, i));
    // docs on one line, a doc at a 64 KiB boundary, garbage between docs
    docs.splice(100, 0, '<doc><title>One Line A</title><url>https://en.wikipedia.org/wiki/One_Line_A</url><abstract>a</abstract></doc><doc><title>One Line B</title><url>https://en.wikipedia.org/wiki/One_Line_B</url></doc>\n');
    docs.splice(200, 0, 'stray <<doc text\n');
    const bytes = Buffer.from(HEADER + docs.join('') + TRAILER);
    const keys = keyTable(Array.from({ length: 400 }, (_, i) => titleOf(3, i)).filter((_, i) => i % 7 === 0).concat(['One Line B']));
    const expected = scanRanges(bytes, keys, [], 1 << 20, undefined, 'indexOf');
    assert.ok(expected.hits.length > 50 && expected.docs === 402, `${expected.docs} docs, ${expected.hits.length} hits`);
    for (const finding of FINDINGS) {
      for (const piece of [1 << 20, 65536, 65537, 4099, 1000, 77, 16, 15]) {
        assert.deepEqual(scanRanges(bytes, keys, [], piece, undefined, finding), expected, `${finding}, pieces of ${piece}`);
      }
      for (const cut of [1, 65536, 65540, 100_001, bytes.length - 20]) {
        assert.deepEqual(scanRanges(bytes, keys, [cut, cut + 70_000], 65536, undefined, finding), expected, `${finding}, boundaries at ${cut}`);
      }
    }
  });

  test('a <doc> at and around the 64 KiB window boundaries', () => {
    const doc = (title: string, abstract: string): string => `<doc>\n<title>Wikipedia: ${title}</title>\n<url>${urlFromKey(title)}</url>\n<abstract>${abstract}</abstract>\n<links>\n</links>\n</doc>\n`;
    const keys = keyTable(['Filler', 'At The Boundary', 'After']);
    for (const boundary of [FIND_WINDOW, 2 * FIND_WINDOW]) {
      for (let target = boundary - 6; target <= boundary + 6; target++) {
        // a doc long enough that the next one starts at `target`
        const head = HEADER + doc('Filler', '');
        const filler = doc('Filler', 'x'.repeat(target - head.length - doc('Filler', '').length));
        const bytes = Buffer.from(head + filler + doc('At The Boundary', 'b') + doc('After', 'c') + TRAILER);
        assert.equal(bytes.indexOf('<doc>\n<title>Wikipedia: At The Boundary'), target);
        const expected = scanRanges(bytes, keys, [], 1 << 20, undefined, 'indexOf');
        assert.equal(expected.docs, 4);
        assert.equal(expected.hits.length, 4);
        for (const finding of FINDINGS) {
          for (const piece of [1 << 20, boundary + 3]) {
            assert.deepEqual(scanRanges(bytes, keys, [], piece, undefined, finding), expected, `${finding}: a doc at ${target}, pieces of ${piece}`);
          }
        }
      }
    }
  });
});

describe('DocScanner on malformed and cut-short input', () => {
  test('a doc larger than the limit is counted and skipped; the next one is found', () => {
    const big = `<doc>\n<title>Wikipedia: Big</title>\n<url>${urlFromKey('Big')}</url>\n<abstract>${'x'.repeat(5000)}</abstract>\n<links>\n</links>\n</doc>\n`;
    const small = `<doc>\n<title>Wikipedia: Small</title>\n<url>${urlFromKey('Small')}</url>\n<abstract>s</abstract>\n<links>\n</links>\n</doc>\n`;
    const bytes = Buffer.from(`<feed>\n${small}${big}${small.replace(/Small/g, 'After')}</feed>\n`);
    const keys = keyTable(['Big', 'Small', 'After']);
    const whole = scanRanges(bytes, keys, [], 1 << 20, 1000);
    assert.equal(whole.docs, 3);
    assert.deepEqual(whole.samples, [`${bytes.indexOf('<doc>\n<title>Wikipedia: Big')} doc larger than 1000 bytes`]);
    assert.deepEqual(
      whole.hits.map((h) => JSON.parse(h.slice(h.indexOf('{'))).key),
      ['Small', 'After'],
    );
    for (const piece of [1, 64, 999, 1001, 4096]) assert.deepEqual(scanRanges(bytes, keys, [], piece, 1000), whole, `pieces of ${piece}`);
    for (let cut = 0; cut <= bytes.length; cut += 97) assert.deepEqual(scanRanges(bytes, keys, [cut], 256, 1000), whole, `boundary at ${cut}`);
  });

  test('invalid UTF-8 in a wanted doc is counted; the scan goes on', () => {
    const bytes = readFileSync(path.join(FIXTURES, 'invalid-utf8.xml'));
    const out = scanRanges(bytes, keyTable(['Bad Bytes', 'Good After Bad']), []);
    assert.deepEqual(out.content, [`${bytes.indexOf('<doc>')} doc is not valid UTF-8`]);
    assert.equal(out.hits.length, 1);
    assert.match(out.hits[0]!, /Good After Bad/);
  });

  test('a file cut anywhere before its </feed> is DUMP_TRUNCATED at its end, never a silent success', () => {
    const keys = keyTable(EDGE_KEYS);
    const feedClose = EDGE.lastIndexOf('</feed>');
    for (let cut = 60; cut < feedClose + 7; cut++) {
      const bytes = EDGE.subarray(0, cut);
      assert.throws(
        () => scanRanges(bytes, keys, [Math.floor(cut / 2)], 64),
        (err: unknown) => isTrueFilmError(err, 'DUMP_TRUNCATED') && err.offset === cut,
        `cut at ${cut}`,
      );
    }
    // the final newline is not needed
    assert.deepEqual(scanRanges(EDGE.subarray(0, feedClose + 7), keys, []), scanRanges(EDGE, keys, []));
  });

  test('a truncated fixture names where the doc cut short starts', () => {
    const bytes = readFileSync(path.join(FIXTURES, 'truncated.xml'));
    assert.throws(
      () => scanRanges(bytes, keyTable([]), []),
      (err: unknown) => isTrueFilmError(err, 'DUMP_TRUNCATED') && err.offset === bytes.length && err.message.includes(`byte ${bytes.lastIndexOf('<doc>')}`),
    );
    const noClose = readFileSync(path.join(FIXTURES, 'no-feed-close.xml'));
    assert.throws(() => scanRanges(noClose, keyTable([]), []), (err: unknown) => isTrueFilmError(err, 'DUMP_TRUNCATED') && /without <\/feed>/.test(err.message));
  });

  test('a file that is not a dump is DUMP_FORMAT at offset 0', () => {
    const bytes = readFileSync(path.join(FIXTURES, 'not-a-dump.xml'));
    assert.throws(() => scanRanges(bytes, keyTable([]), []), (err: unknown) => isTrueFilmError(err, 'DUMP_FORMAT') && err.offset === 0);
    assert.throws(() => scanRanges(Buffer.alloc(0), keyTable([]), []), (err: unknown) => isTrueFilmError(err, 'DUMP_FORMAT'));
  });

  test('an empty feed has no docs', () => {
    const out = scanRanges(Buffer.from('<?xml version="1.0"?>\n<feed>\n</feed>\n'), keyTable(['A']), []);
    assert.equal(out.docs, 0);
    assert.equal(out.malformed, 0);
  });
});

describe('DocCutter (the .gz path)', () => {
  test('cuts where a <doc> starts; the chunks scanned apart give the same docs', () => {
    const keys = keyTable(EDGE_KEYS);
    const whole = scanRanges(EDGE, keys, []);
    // pieces of 4 KiB and more are whole buffers (not from Node's pool): they go as they are
    for (const chunkSize of [1, 50, 300, 1000, 100_000]) {
      for (const piece of [1, 13, 512, 4096, EDGE.length]) {
        const cutter = new DocCutter({ chunkSize });
        const chunks = [];
        for (let at = 0; at < EDGE.length; at += piece) chunks.push(...cutter.push(Buffer.from(EDGE.subarray(at, at + piece))));
        chunks.push(...cutter.end());
        assert.deepEqual(Buffer.concat(chunks.flatMap((c) => c.parts)), EDGE);
        let next = 0;
        const outputs = chunks.map((c, i) => {
          assert.equal(c.last, i === chunks.length - 1);
          assert.equal(c.start, next);
          next += c.parts.reduce((n, p) => n + p.length, 0);
          if (c.start > 0) assert.equal(Buffer.from(c.parts[0]!.subarray(0, 5)).toString(), '<doc>');
          const sc = new DocScanner({ start: c.start, fileStart: c.start === 0, keys });
          for (const part of c.parts) sc.push(part);
          return sc.end(!c.last);
        });
        assert.deepEqual(summarise(outputs), whole, `chunks of ${chunkSize}, pieces of ${piece}`);
      }
    }
  });

  test('sends a large doc as its first bytes and skips the rest', () => {
    const big = `<doc>\n<title>Wikipedia: Big</title>\n<url>${urlFromKey('Big')}</url>\n<abstract>${'x'.repeat(5000)}</abstract>\n<links>\n</links>\n</doc>\n`;
    const small = `<doc>\n<title>Wikipedia: Small</title>\n<url>${urlFromKey('Small')}</url>\n<abstract>s</abstract>\n<links>\n</links>\n</doc>\n`;
    const bytes = Buffer.from(`<feed>\n${small}${big}${small}</feed>\n`);
    const keys = keyTable(['Big', 'Small']);
    const expected = scanRanges(bytes, keys, [], 1 << 20, 1000);
    for (const piece of [7, 100, 4096]) {
      const cutter = new DocCutter({ chunkSize: 200, maxDocBytes: 1000 });
      const chunks = [];
      for (let at = 0; at < bytes.length; at += piece) chunks.push(...cutter.push(Buffer.from(bytes.subarray(at, at + piece))));
      chunks.push(...cutter.end());
      const sent = chunks.reduce((n, c) => n + c.parts.reduce((m, p) => m + p.length, 0), 0);
      // a doc that outgrows the limit across pushes is not kept whole
      if (piece < 1000) assert.ok(sent < bytes.length - 3000, `sent ${sent} of ${bytes.length}`);
      const outputs = chunks.map((c) => {
        const sc = new DocScanner({ start: c.start, fileStart: c.start === 0, keys, maxDocBytes: 1000 });
        for (const part of c.parts) sc.push(part);
        return sc.end(!c.last);
      });
      assert.deepEqual(summarise(outputs), expected, `pieces of ${piece}`);
    }
  });
});

describe('WantedKeys: the shared key log', () => {
  test('a worker table synced at any moment holds the keys in the order they came, beyond every growth', () => {
    const wanted = new WantedKeys(['First']);
    const reader = new KeyTable();
    assert.equal(syncKeyTable(wanted.log, reader), 1);
    const all = ['First'];
    for (let round = 0; round < 6; round++) {
      const batch = Array.from({ length: 1500 }, (_, i) => `Key ${round}-${i} ${'é'.repeat(i % 40)} 千`);
      wanted.add([...batch, 'First']); // a key already there is not logged twice
      all.push(...batch);
      assert.equal(syncKeyTable(wanted.log, reader), all.length);
    }
    assert.equal(wanted.size, all.length);
    assert.equal(wanted.version, all.length);
    assert.deepEqual(reader.keys, all);
    assert.equal(reader.indexOf(all[4321]!), 4321);
    assert.equal(reader.mayHave(hashKey(all[8000]!), 8000, 8001), true);
    assert.equal(keyLogClosed(wanted.log), false);
    wanted.close();
    assert.equal(keyLogClosed(wanted.log), true);
    assert.throws(() => wanted.add(['Late']), (err: unknown) => isTrueFilmError(err, 'INTERNAL'));
  });
});

describe('KeyTable and hashes', () => {
  test('a key hashes alike as bytes and as a string; windows select by index', () => {
    const key = 'Tom & Jerry: 千と千尋';
    assert.equal(hashBytes(Buffer.from(key)), hashKey(key));
    const t = keyTable(['a', 'b', key]);
    assert.equal(t.mayHave(hashKey(key), 0, 3), true);
    assert.equal(t.mayHave(hashKey(key), 0, 2), false);
    assert.equal(t.mayHave(hashKey('zzz'), 0, 3), false);
    assert.equal(t.indexOf(key), 2);
    for (let i = 0; i < 5000; i++) t.add(`key ${i}`);
    assert.equal(t.mayHave(hashKey('key 4999'), 0, t.size), true);
    assert.equal(t.indexOf('key 4999'), 5002);
  });

  test('keys given as bytes are found alike, made strings only when compared; a key added twice is found at its first index', () => {
    const t = new KeyTable();
    const bytes = Buffer.from('AmélieTom & Jerry千と千尋Amélie');
    const ends = [0, 7, 18, 30, 37];
    t.add('Psycho');
    for (let i = 0; i + 1 < ends.length; i++) t.addBytes(bytes, ends[i]!, ends[i + 1]!, hashBytes(bytes, ends[i]!, ends[i + 1]!));
    t.add('Amélie');
    assert.deepEqual(t.keys, ['Psycho', 'Amélie', 'Tom & Jerry', '千と千尋', 'Amélie', 'Amélie']);
    assert.equal(t.indexOf('Amélie'), 1);
    assert.equal(t.indexOf('千と千尋'), 3);
    assert.equal(t.indexOf('Amelie'), -1);
    assert.equal(t.mayHave(hashKey('Tom & Jerry'), 0, 2), false);
    assert.equal(t.mayHave(hashKey('Tom & Jerry'), 2, 3), true);
    for (let i = 0; i < 3000; i++) t.addBytes(Buffer.from(`key ${i}`), 0, `key ${i}`.length, hashKey(`key ${i}`));
    assert.equal(t.indexOf('key 2999'), 3005);
    assert.equal(t.keyAt(1030), 'key 1024');
  });
});
