import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { MAX_DEPTH, parsePythonLiteral, type PyValue } from '../src/literal.js';
import { realCsvPath, WITHOUT_REAL_DATA } from './helpers/cli.js';

const ok = (text: string): PyValue => {
  const r = parsePythonLiteral(text);
  assert.ok(r.ok, `expected ${JSON.stringify(text)} to parse, got ${r.ok ? '' : r.error}`);
  return r.value;
};
const bad = (text: string): { error: string; offset: number } => {
  const r = parsePythonLiteral(text);
  assert.ok(!r.ok, `expected ${JSON.stringify(text)} to be refused, got ${JSON.stringify(r.ok && r.value)}`);
  return r;
};
// dicts are null-prototype objects: compare their plain copies
const plain = (v: PyValue): unknown => JSON.parse(JSON.stringify(v));

describe('Python literal parser', () => {
  test('the real shapes: lists of dicts, single and double quotes', () => {
    assert.deepEqual(plain(ok("[{'id': 16, 'name': 'Animation'}, {'id': 35, 'name': 'Comedy'}]")), [
      { id: 16, name: 'Animation' },
      { id: 35, name: 'Comedy' },
    ]);
    assert.deepEqual(plain(ok(`[{'name': "D'Pelicula", 'id': 93489}]`)), [{ name: "D'Pelicula", id: 93489 }]);
    assert.deepEqual(plain(ok('[]')), []);
  });

  test('constants, numbers, tuples, nesting', () => {
    assert.equal(ok('None'), null);
    assert.equal(ok('True'), true);
    assert.equal(ok('False'), false);
    assert.deepEqual(plain(ok('[1, -2, 3.5, 1e3, .5, 1_000, +7]')), [1, -2, 3.5, 1000, 0.5, 1000, 7]);
    assert.deepEqual(plain(ok('(1, (2,), [])')), [1, [2], []]);
    assert.deepEqual(plain(ok("[(1), ({'a': 2}), (), ((3,))]")), [1, { a: 2 }, [], [3]], '(x) is x, as in Python; (x,) and () are tuples');
    assert.deepEqual(plain(ok("{'a': {'b': [None, True]}, 1: 'x'}")), { a: { b: [null, true] }, 1: 'x' });
    assert.deepEqual(plain(ok('[1, 2,]')), [1, 2]);
  });

  test('an integer with a leading zero is refused, as Python does; a float or a zero may have one', () => {
    for (const text of ['016', '-016', '0_1', "[{'id': 016}]"]) assert.match(bad(text).error, /an integer cannot start with 0/, text);
    assert.deepEqual(plain(ok('[00, 0_0, 016.5, 016e1, 0.5]')), [0, 0, 16.5, 160, 0.5]);
  });

  test('escapes: \\xNN, \\uNNNN, \\UNNNNNNNN, octal, quotes, backslash, unknown escapes kept', () => {
    assert.equal(ok(String.raw`'caf\xe9'`), 'café');
    assert.equal(ok(String.raw`'\u65e5\u672c'`), '日本');
    assert.equal(ok(String.raw`'\U0001F3AC'`), '🎬');
    assert.equal(ok(String.raw`'\101\0'`), 'A\0');
    assert.equal(ok(String.raw`'It\'s'`), "It's");
    assert.equal(ok(String.raw`"say \"hi\""`), 'say "hi"');
    assert.equal(ok(String.raw`'a\\b'`), 'a\\b');
    assert.equal(ok(String.raw`'tab\there'`), 'tab\there');
    assert.equal(ok(String.raw`'\q'`), '\\q');
    assert.equal(ok("'line\\\ncontinued'"), 'linecontinued');
  });

  test('prefixes, raw strings, adjacent literals, triple quotes', () => {
    assert.equal(ok("u'Amélie'"), 'Amélie');
    assert.equal(ok(String.raw`r'C:\new'`), 'C:\\new');
    assert.equal(ok(`'ab' "cd"`), 'abcd');
    assert.equal(ok(`'''it's'''`), "it's");
  });

  test('refuses what is not a literal, with an offset, and never evaluates', () => {
    assert.equal(bad("[{'id': 1, 'name': 'x'}").offset, 23);
    bad("{'a' 1}");
    bad("'unterminated");
    bad('__import__("os").system("true")');
    bad('[1] [2]');
    bad("'\\x4'");
    bad("'\\N{DASH}'");
    bad('');
    bad('nan');
    assert.match(bad('[' .repeat(MAX_DEPTH + 2)).error, /nested deeper/);
  });

  test('agrees with Python ast.literal_eval on every genres/companies value of the real 4,994 rows', { skip: WITHOUT_REAL_DATA }, (t) => {
    const python = spawnSync('python3', ['--version']);
    if (python.status !== 0) {
      t.skip('python3 is not installed: this cross-check needs it');
      return;
    }
    const rows = parse(readFileSync(realCsvPath()), { columns: true, bom: true }) as Record<string, string>[];
    const values = [...new Set(rows.flatMap((r) => [r.genres!, r.production_companies!, r.belongs_to_collection!, r.spoken_languages!]))].filter(
      (v) => v !== '',
    );
    const script = `
import ast, json, sys
out = []
for v in json.load(sys.stdin):
    try: out.append({"ok": True, "value": ast.literal_eval(v)})
    except Exception as e: out.append({"ok": False})
json.dump(out, sys.stdout, ensure_ascii=False)`;
    const run = spawnSync('python3', ['-c', script], { input: JSON.stringify(values), maxBuffer: 256 << 20, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const expected = JSON.parse(run.stdout) as { ok: boolean; value?: unknown }[];
    assert.equal(expected.length, values.length);
    let compared = 0;
    values.forEach((v, i) => {
      const ours = parsePythonLiteral(v);
      assert.equal(ours.ok, expected[i]!.ok, `parse outcome differs for ${v.slice(0, 80)}`);
      if (ours.ok) assert.deepEqual(plain(ours.value), expected[i]!.value, `value differs for ${v.slice(0, 80)}`);
      compared++;
    });
    assert.ok(compared > 4000, `only ${compared} values compared`);
  });

  test('fuzz: mutated real values give a value or a refusal, never an exception or a hang', () => {
    const seeds = [
      `[{'id': 16, 'name': 'Animation'}, {'id': 35, 'name': 'Comedy'}]`,
      `[{'name': "D'Pelicula", 'id': 93489}, {'name': 'Caf\\xe9 \\u00e9', 'id': 2}]`,
      `{'id': 10194, 'name': 'Toy Story Collection', 'poster_path': None, 'x': [1.5e3, True]}`,
    ];
    const alphabet = `[]{}()'",:\\ xuUN01789eE.+-_TrueFalsNoe\n\t`;
    let state = 0x2545f491;
    const rand = (n: number): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    let parsed = 0;
    let refused = 0;
    for (let i = 0; i < 20000; i++) {
      let s = seeds[rand(seeds.length)]!;
      for (let m = 1 + rand(4); m > 0; m--) {
        const at = rand(s.length + 1);
        const op = rand(3);
        const ch = alphabet[rand(alphabet.length)]!;
        s = op === 0 ? s.slice(0, at) + ch + s.slice(at) : op === 1 ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + ch + s.slice(at + 1);
      }
      const r = parsePythonLiteral(s); // must return, not throw
      if (r.ok) parsed++;
      else {
        refused++;
        assert.ok(r.offset >= 0 && r.offset <= s.length, `offset ${r.offset} outside ${JSON.stringify(s)}`);
      }
    }
    assert.ok(parsed > 100 && refused > 100, `mutations should both keep and break values: ${parsed} parsed, ${refused} refused`);
  });
});
