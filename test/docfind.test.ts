/**
 * The WebAssembly SIMD `<doc>` finder (src/scan/docfind.ts, wasm/docfind.c),
 * against a plain search: every alignment of a `<doc>` in the 16-byte lanes
 * and the 64-byte steps, the ends of the buffer and of the window, near
 * misses, and random bytes; both for a buffer in the finder's memory (searched
 * in place, as the worker reads) and for any other buffer (copied).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { docOf, HEADER, TRAILER, titleOf } from '../bench/generate.js';
import { docFinder, DocFinder, FIND_WINDOW, makeFinder } from '../src/scan/docfind.js';
import { fastPathOf } from '../src/scan/xml.js';
import { runAbstracts, type AbstractsResult } from '../src/stages/abstracts.js';
import { closedKeys, quiet } from './helpers/recorder.js';

const DOC = Buffer.from('<doc>');

/** Every `<doc>` that starts in [from, to) and ends within buf. */
function reference(buf: Uint8Array, from: number, to: number): number[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const out: number[] = [];
  for (let q = b.indexOf(DOC, from); q >= 0 && q < to; q = b.indexOf(DOC, q + 1)) out.push(q);
  return out;
}

function found(finder: DocFinder, buf: Uint8Array, from: number, to: number): number[] {
  const n = finder.find(buf, from, to);
  return [...finder.offsets.subarray(0, n)];
}

/** `bytes` where the worker puts them: at the start of the finder's read buffer, with stale bytes after them. */
function inPlace(finder: DocFinder, bytes: Uint8Array, stale = '<doc>'.repeat(40)): Buffer {
  const mem = finder.readBuffer(Math.max(64 << 10, bytes.length + stale.length));
  mem.fill(0);
  mem.set(bytes);
  mem.write(stale, bytes.length, 'latin1');
  return mem.subarray(0, bytes.length);
}

const finder = makeFinder();
const modes: [string, (bytes: Uint8Array) => Uint8Array][] = [
  ['a buffer of its own (copied a window at a time)', (bytes) => Buffer.from(bytes)],
  ['the finder’s read buffer (searched in place)', (bytes) => inPlace(finder!, bytes)],
];

describe('the WebAssembly SIMD <doc> finder', () => {
  test('Node 20 has WebAssembly SIMD: the finder is made, and TRUEFILM_SCAN_SIMD=0 turns it off', () => {
    assert.ok(finder instanceof DocFinder, 'no WebAssembly SIMD in this Node: the scan would fall back to Buffer.indexOf');
    for (const off of ['0', 'false', 'off', 'NO', ' 0 ']) assert.equal(makeFinder(off), null, off);
    for (const on of ['1', 'true', '']) assert.ok(makeFinder(on) instanceof DocFinder, on);
    assert.equal(docFinder(), docFinder(), 'one finder per thread');
  });

  for (const [mode, place] of modes) {
    describe(`in ${mode}`, () => {
      test('finds a <doc> at every offset of buffers of every length up to 200 (lanes, steps and the end)', () => {
        for (let len = 0; len <= 200; len++) {
          const filler = Buffer.alloc(len, '<d>oc<');
          assert.deepEqual(found(finder!, place(filler), 0, len), [], `no <doc> in ${len} bytes`);
          for (let at = 0; at + 5 <= len; at++) {
            const bytes = Buffer.from(filler);
            DOC.copy(bytes, at);
            assert.deepEqual(found(finder!, place(bytes), 0, len), reference(bytes, 0, len), `<doc> at ${at} of ${len}`);
          }
        }
      });

      test('near misses at the end, <<doc>, </doc><doc> on one line, docs side by side', () => {
        const cases: [string, number[]][] = [
          ['<doc', []],
          ['x'.repeat(60) + '<doc', []],
          ['x'.repeat(63) + '<doc', []],
          ['x'.repeat(64) + '<doc>', [64]],
          ['<<doc>', [1]],
          ['<<<<<doc>>>>', [4]],
          ['</doc><doc>', [6]],
          ['</doc>\n<doc>\n<title>A</title></doc><doc><title>B</title>', [7, 35]],
          ['<doc><doc><doc><doc><doc><doc><doc><doc><doc><doc><doc><doc><doc><doc>', Array.from({ length: 14 }, (_, i) => i * 5)],
          ['<dac> <dOc> <do c> <doc > <DOC> <doc/> <docs> </doc> <d<doc>', [55]],
          ['é<doc>千<doc>', [2, 10]],
        ];
        for (const [text, expected] of cases) {
          const bytes = Buffer.from(text);
          for (let shift = 0; shift < 70; shift++) {
            const shifted = Buffer.concat([Buffer.alloc(shift, 'x'), bytes]);
            assert.deepEqual(found(finder!, place(shifted), 0, shifted.length), expected.map((q) => q + shift), `${JSON.stringify(text)} after ${shift} bytes`);
          }
        }
      });

      test('reports only docs that start in [from, to) and end within the buffer, with offsets in the buffer', () => {
        const bytes = Buffer.from('xx<doc>xxxxxxxxx<doc>xxxxxxxxxxxxxxxxx<doc></doc><doc>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx<doc>x<do');
        const buf = place(bytes);
        for (let from = 0; from <= bytes.length; from++) {
          for (let to = from; to <= bytes.length; to++) assert.deepEqual(found(finder!, buf, from, to), reference(bytes, from, to), `[${from}, ${to})`);
        }
        // a doc that straddles the window's end is the window's; one that passes the buffer's end is nobody's
        assert.deepEqual(found(finder!, buf, 0, 3), [2]);
        assert.deepEqual(found(finder!, buf, 3, bytes.length), [16, 38, 49, 91]);
        assert.deepEqual(found(finder!, buf.subarray(0, 95), 0, 95), [2, 16, 38, 49]);
        assert.deepEqual(found(finder!, buf.subarray(0, 96), 0, 96), [2, 16, 38, 49, 91]);
      });

      test('random bytes of a small alphabet, random windows', () => {
        let seed = 12345;
        const next = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / (1 << 24);
        const alphabet = Buffer.from('<doc>/<doc>\nxé');
        for (let round = 0; round < 3000; round++) {
          const len = Math.floor(next() * 400);
          const bytes = Buffer.alloc(len);
          for (let i = 0; i < len; i++) bytes[i] = alphabet[Math.floor(next() * alphabet.length)]!;
          const from = Math.floor(next() * (len + 1));
          const to = from + Math.floor(next() * (len - from + 1));
          assert.deepEqual(found(finder!, place(bytes), from, to), reference(bytes, from, to), `round ${round}: ${bytes.toString('latin1')} [${from}, ${to})`);
        }
      });

      test('a full window of nothing but <doc>s (the most offsets one call writes)', () => {
        const bytes = Buffer.alloc(FIND_WINDOW + 4, '<doc>');
        const buf = place(bytes);
        const all = found(finder!, buf, 0, FIND_WINDOW);
        assert.equal(all.length, Math.ceil(FIND_WINDOW / 5));
        assert.deepEqual(all, reference(bytes, 0, FIND_WINDOW));
        if (finder!.holds(buf)) {
          // scan() writes three numbers a doc
          assert.equal(finder!.scan(buf, 0, 0, FIND_WINDOW), all.length);
          assert.deepEqual([...finder!.docs.subarray(0, 3 * all.length)].filter((_, i) => i % 3 === 0), all);
        }
      });
    });
  }

  test('in place, the stale bytes past the buffer are never read as a doc', () => {
    // the buffer ends inside a `<doc>` whose last bytes are still in the finder's memory from an earlier read
    for (let cut = 1; cut <= 4; cut++) {
      for (const len of [5, 16, 63, 64, 65, 1000]) {
        const bytes = Buffer.alloc(len, 'x');
        DOC.copy(bytes, len - cut, 0, cut);
        const buf = inPlace(finder!, bytes, DOC.subarray(cut).toString() + '<doc>');
        assert.deepEqual(found(finder!, buf, 0, len), [], `${cut} bytes of <doc> at the end of ${len}`);
      }
    }
  });

  test('the read buffer grows on demand, and what was found before is found after', () => {
    const f = makeFinder()!;
    const small = f.readBuffer(1000);
    small.fill('x');
    DOC.copy(small, 990);
    assert.deepEqual(found(f, small, 0, 1000), [990]);
    const big = f.readBuffer(3 << 20);
    big.fill('y');
    DOC.copy(big, (3 << 20) - 5);
    assert.deepEqual(found(f, big, (3 << 20) - FIND_WINDOW, 3 << 20), [(3 << 20) - 5]);
    assert.equal(small.length, 0, 'growing the memory detaches the buffers made before');
  });
});

describe('the fast path in WebAssembly (scan()) against the one in JS (readDocFast)', () => {
  /** Every doc of `bytes`, scanned in place in windows of `window` bytes: [offset, end, hash] from WebAssembly and from JS. */
  function both(bytes: Buffer, window = FIND_WINDOW): { wasm: number[][]; js: number[][] } {
    const buf = inPlace(finder!, bytes);
    const wasm: number[][] = [];
    const js: number[][] = [];
    let prev = -1;
    for (let from = 0; from < buf.length; from += window) {
      const n = finder!.scan(buf, prev, from, Math.min(buf.length, from + window));
      for (let k = 0; k < n; k++) {
        const [p, end, hash] = finder!.docs.subarray(3 * k, 3 * k + 3);
        wasm.push([prev, p!, end!, hash!]);
        js.push([prev, p!, ...(prev < 0 ? [-1, 0] : fastPathOf(buf, prev, p!))]);
        prev = p!;
      }
    }
    return { wasm, js };
  }

  test('reads the generated docs alike, and reads nearly all of them', () => {
    let text = HEADER;
    for (let i = 0; i < 2000; i++) text += docOf(5, i);
    const { wasm, js } = both(Buffer.from(text + '<doc>' + TRAILER));
    assert.equal(wasm.length, 2001);
    assert.deepEqual(wasm, js);
    assert.ok(wasm.filter(([, , end]) => end! >= 0).length >= 1990, 'the fast path reads the dump’s usual docs');
  });

  test('reads docs alike when their bytes are changed, added or taken away near the tags, in windows of every size', () => {
    let seed = 777;
    const next = (n: number): number => (((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n);
    const pieces = ['<', '>', '/', '&', ';', ' ', '\n', '\t', '\r', 'a', 'm', 'p', 'l', 't', 'g', 'q', 'u', 'o', 's', 'W', 'i', 'k', 'e', 'd', 'c', 'r', ':', '&amp;', '&lt;', '&gt;', '&quot;', '&apos;', '&#39;', '&amp', '&lt', '&gt', '&quot', '&apos', '&ap', '</title>', '<url>', '<url><', '</url>', '</doc>', 'Wikipedia: ', 'Wikipedia:', 'é', '千'];
    const docs: string[] = [];
    for (let i = 0; i < 3000; i++) {
      // a short doc made of the pieces, or a generated one
      let doc =
        i % 4 === 0
          ? `<doc><title>${pieces[next(pieces.length)]}${pieces[next(pieces.length)]}</title>${pieces[next(pieces.length)]}<url>${next(2) ? 'x' : ''}</url>${'\n'.repeat(next(3))}</doc>${'\n'.repeat(next(2))}`
          : docOf(9, i);
      for (let m = next(4); m > 0; m--) {
        // near the head (title, url) or the tail (</doc>)
        const at = next(3) === 0 ? Math.max(0, doc.length - 1 - next(30)) : next(Math.min(doc.length, 200));
        const piece = pieces[next(pieces.length)]!;
        const kind = next(3);
        doc = kind === 0 ? doc.slice(0, at) + piece + doc.slice(at) : kind === 1 ? doc.slice(0, at) + doc.slice(at + 1 + next(8)) : doc.slice(0, at) + piece + doc.slice(at + piece.length);
      }
      docs.push(doc.startsWith('<doc>') ? doc : '<doc>' + doc);
    }
    const bytes = Buffer.from(HEADER + docs.join(''));
    for (const window of [FIND_WINDOW, 4096, 333, 64, 17]) {
      const { wasm, js } = both(bytes, window);
      assert.ok(wasm.length >= 3000, `${wasm.length} docs`);
      assert.deepEqual(wasm, js, `windows of ${window}`);
      assert.ok(wasm.some(([, , end]) => end! < 0) && wasm.some(([, , end]) => end! >= 0));
    }
    // the buffer's end anywhere in or just after a doc (a `<doc>` within 16 bytes of the end is read with bounds checks)
    const tail = Buffer.from(docOf(9, 1) + docOf(9, 2) + '<doc>\n<title>A</title>\n<url>u</url>\n</doc>\n<doc>');
    for (let cut = tail.length - 120; cut <= tail.length; cut++) {
      const { wasm, js } = both(tail.subarray(0, cut));
      assert.deepEqual(wasm, js, `cut at ${cut}`);
    }
  });
});

describe('the scan with and without the finder (TRUEFILM_SCAN_SIMD=0), through the workers', () => {
  test('gives the same pages and counts for every thread count, range and read size, .xml and .xml.gz', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'truefilm-docfind-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    let text = HEADER;
    for (let i = 0; i < 3000; i++) text += docOf(11, i);
    // two docs on one line, and stray text with a `<<doc` in it
    text += '<doc><title>One Line A</title><url>https://en.wikipedia.org/wiki/One_Line_A</url></doc><doc><title>One Line B</title><url>https://en.wikipedia.org/wiki/One_Line_B</url></doc>\nstray <<doc\n';
    text += TRAILER;
    const xml = path.join(dir, 'abstract.xml');
    writeFileSync(xml, text);
    writeFileSync(`${xml}.gz`, gzipSync(text));
    const keys = Array.from({ length: 3000 }, (_, i) => titleOf(11, i)).filter((_, i) => i % 11 === 0).concat(['One Line B', 'Not There']);
    const run = async (simd: boolean, file: string, options: { threads: number; rangeSize?: number; readSize?: number }): Promise<string> => {
      const saved = process.env.TRUEFILM_SCAN_SIMD;
      // a worker reads its environment when the pool starts it
      process.env.TRUEFILM_SCAN_SIMD = simd ? '1' : '0';
      try {
        const result: AbstractsResult = await runAbstracts([file], closedKeys(keys), { ui: quiet, ...options });
        return JSON.stringify({ pages: [...result.pages.values()].map((p) => [p.key, p.offset, p.url, p.abstract]), report: result.report });
      } finally {
        if (saved === undefined) delete process.env.TRUEFILM_SCAN_SIMD;
        else process.env.TRUEFILM_SCAN_SIMD = saved;
      }
    };
    const expected = await run(false, xml, { threads: 1 });
    assert.equal(JSON.parse(expected).pages.length, 274);
    for (const threads of [1, 2]) {
      for (const [rangeSize, readSize] of [[undefined, undefined], [100_000, 4099], [65_536, 65_536], [333_333, 1 << 20]] as const) {
        const options = { threads, rangeSize, readSize };
        for (const simd of [true, false]) {
          const got = await run(simd, xml, options);
          assert.deepEqual(JSON.parse(got), { ...JSON.parse(expected), report: { ...JSON.parse(expected).report, threads } }, `${JSON.stringify(options)} ${simd ? 'simd' : 'indexOf'}`);
        }
      }
      for (const simd of [true, false]) {
        const got = JSON.parse(await run(simd, `${xml}.gz`, { threads }));
        assert.deepEqual(got.pages, JSON.parse(expected).pages, `.gz, ${threads} threads, ${simd ? 'simd' : 'indexOf'}`);
      }
    }
  });
});
