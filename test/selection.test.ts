/**
 * The selection rules of SPEC section 3 and of docs/selection.md (what SPEC
 * leaves open), case by case, through the metadata stage's exported function:
 * the hand-made fixture test/fixtures/selection/movies_metadata.csv holds one
 * row per rule, and the number and date rules are tried on rows made here.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { parseNamedRefs, runMetadata, type MetadataResult } from '../src/stages/metadata.js';
import type { Film } from '../src/types.js';
import { oracle, ORACLE_PY } from './helpers/oracle.js';
import { quiet } from './helpers/recorder.js';
import { csvWith, SELECTION_CSV } from './helpers/selection.js';

const read = (file: string, minBudget = 1000, top = 1000) => runMetadata(file, { top, minBudget, ui: quiet, samples: 100 });

let tmp: string;
let result: MetadataResult;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-selection-'));
  result = await read(SELECTION_CSV);
});
after(async () => rm(tmp, { recursive: true, force: true }));

const film = (id: number): Film => {
  const f = result.films.find((x) => x.id === id);
  assert.ok(f, `film ${id} is selected`);
  return f;
};

/** A file of the fixture's plain row, once per change (test/helpers/selection.ts). */
async function rows(name: string, changes: Record<string, string>[]): Promise<string> {
  const file = path.join(tmp, name);
  await writeFile(file, csvWith(changes));
  return file;
}

/**
 * The stage's reading of a file is the oracle's (test/helpers/oracle.py, from
 * SPEC and docs/selection.md): counts, malformed lines, and every selected film
 * with the ids of its genres and companies (their names, which the load settles
 * across films, are compared with what lands in the database in test/pipeline.test.ts).
 */
function agreesWithOracle(t: { skip(message: string): void }, file: string, got: MetadataResult, minBudget = 1000): void {
  const expected = oracle(t, file, 1000, minBudget);
  if (!expected) return;
  const { samples, ...counts } = got.report;
  const { malformed_lines: lines, ...expectedCounts } = expected.report;
  assert.deepEqual(counts, expectedCounts, 'the counts');
  assert.deepEqual(
    samples.malformed.map((s) => s.line),
    lines.slice(0, samples.malformed.length),
    'the malformed lines',
  );
  const ids = (refs: { id: number }[]) => refs.map((r) => r.id).sort((a, b) => a - b);
  assert.deepEqual(
    got.films.map((f) => ({
      id: f.id, rank: f.rank, ratio: f.ratio, budget: f.budget, revenue: f.revenue, title: f.title, original_title: f.originalTitle,
      release_date: f.releaseDate, year: f.year, imdb_id: f.imdbId, rating: f.rating === null ? null : Math.fround(f.rating), vote_count: f.voteCount,
      genres: ids(f.genres), companies: ids(f.companies),
    })),
    expected.films.map((f) => ({
      id: f.id, rank: f.rank, ratio: f.ratio, budget: f.budget, revenue: f.revenue, title: f.title, original_title: f.original_title,
      release_date: f.release_date, year: f.year, imdb_id: f.imdb_id, rating: f.rating === null ? null : Math.fround(f.rating), vote_count: f.vote_count,
      genres: ids(f.genres), companies: ids(f.companies),
    })),
  );
}

describe('the selection fixture', () => {
  test('the oracle reads it alike, with the default --min-budget, 0 and 1', async (t) => {
    agreesWithOracle(t, SELECTION_CSV, result);
    for (const minBudget of [0, 1]) agreesWithOracle(t, SELECTION_CSV, await read(SELECTION_CSV, minBudget), minBudget);
  });

  test('counts: rows, malformed, the duplicate, eligible, bad literals (SPEC section 6 sums up)', () => {
    const r = result.report;
    assert.deepEqual(
      { rows: r.rows, malformed: r.malformed, duplicates: r.duplicates, eligible: r.eligible, selected: r.selected, bad_literals: r.bad_literals },
      { rows: 37, malformed: 11, duplicates: 1, eligible: 22, selected: 22, bad_literals: 7 },
    );
  });

  test('every malformed row, with its line and the first rule it fails', () => {
    assert.deepEqual(
      result.report.samples.malformed.map((s) => [s.line, s.reason]),
      [
        [14, 'budget "1e19" does not fit a bigint'],
        [15, 'revenue "1e400" does not fit a bigint'],
        [16, 'revenue "1e21" does not fit a bigint'],
        [17, 'vote_count "1e10" does not fit an integer'],
        [18, 'vote_average "1e39" does not fit a real'],
        [19, 'budget "1.5" is not a whole number'],
        [20, 'budget "n/a" is not a number'],
        [21, 'id "007" is not a positive integer'],
        [22, 'id "2147483648" is not a positive integer'],
        [23, 'vote_count "12.5" is not a whole number'],
        [24, '10 fields where the header has 24'],
      ],
    );
  });

  test('an eligible duplicate: the first copy wins though the later one differs (and would rank first)', () => {
    assert.deepEqual(result.report.samples.duplicates, [{ line: 40, reason: 'id 900003 appeared before' }]);
    const f = film(900003);
    assert.deepEqual([f.title, f.budget, f.revenue, f.rank], ['Night Ferry', 1_000_000, 30_000_000, 2]);
  });

  test('a malformed row\'s id is not seen: the well-formed copy after the broken stub is no duplicate', () => {
    assert.equal(film(900020).title, 'The Second Reel');
  });

  test('eligible: budget >= --min-budget, budget > 0, revenue > 0', async () => {
    const ids = result.films.map((f) => f.id);
    for (const id of [900009, 900010, 900011]) assert.ok(!ids.includes(id), `${id} is not eligible`);
    const anyBudget = await read(SELECTION_CSV, 0);
    const lowered = anyBudget.films.map((f) => f.id);
    assert.ok(!lowered.includes(900009), 'a budget of 0 is never eligible, even with --min-budget 0');
    assert.ok(!lowered.includes(900011), 'nor a revenue of 0');
    assert.equal(anyBudget.films.find((f) => f.id === 900010)?.ratio, 45, 'a budget of 1 (in millions) is, below the default minimum');
    assert.equal(anyBudget.report.eligible, result.report.eligible + 1);
  });

  test('order: ratio descending, then id ascending', () => {
    const twins = result.films.filter((f) => f.ratio === 10).map((f) => [f.id, f.rank]);
    assert.deepEqual(twins, [
      [900023, 6],
      [900024, 7],
    ]);
    assert.deepEqual(
      result.films.map((f) => f.rank),
      result.films.map((_, i) => i + 1),
    );
  });

  test('title falls back to original_title; white space at the ends is no part of a value; empty text is null', () => {
    assert.deepEqual([film(900004).title, film(900004).originalTitle], ['La Dernière Valse', 'La Dernière Valse']);
    const orchard = film(900025);
    assert.deepEqual([orchard.title, orchard.imdbId], ['Winter Orchard', null]);
    assert.equal(film(900008).budget, 250_000, 'a budget written " 250000 "');
  });

  test('an invalid or non-ISO date gives a null year; a real leap day does not', () => {
    assert.deepEqual([film(900004).releaseDate, film(900004).year], [null, null], '1964-02-30');
    assert.deepEqual([film(900027).releaseDate, film(900027).year], [null, null], '2012-9-29');
    assert.deepEqual([film(900028).releaseDate, film(900028).year], ['2000-02-29', 2000]);
  });

  test('numbers in other shapes: 6e5, 3.6e6, 5000000.0, 12.0, +42, 1e38; absent votes are null', () => {
    assert.deepEqual([film(900007).budget, film(900007).revenue, film(900007).voteCount, film(900007).rating], [600_000, 3_600_000, 12, null]);
    assert.deepEqual([film(900008).revenue, film(900008).voteCount], [5_000_000, null]);
    assert.deepEqual([film(900026).voteCount, film(900026).rating], [42, 1e38]);
  });

  test('a bad literal is counted and leaves the film without what it lists; the other column stands', () => {
    assert.deepEqual(
      result.report.samples.bad_literals.map((s) => [s.line, s.reason.slice(0, s.reason.indexOf(':'))]),
      [
        [10, 'genres is not a list of {\'id\', \'name\'}'], // 900008: 'name': None
        [7, 'genres is not a list of {\'id\', \'name\'}'], // 900005: unclosed
        [8, 'production_companies is not a list of {\'id\', \'name\'}'], // 900006: a dict
        [37, 'genres is not a list of {\'id\', \'name\'}'], // 900031: 0x1c
        [36, 'genres is not a list of {\'id\', \'name\'}'], // 900030: True
        [38, 'genres is not a list of {\'id\', \'name\'}'], // 900032: 016
        [39, 'genres is not a list of {\'id\', \'name\'}'], // 900033: \N{...}
      ],
    );
    assert.deepEqual([film(900005).genres, film(900005).companies], [[], [{ id: 70003, name: 'Quarry Lane Films' }]]);
    assert.deepEqual([film(900006).genres, film(900006).companies], [[{ id: 37, name: 'Western' }], []]);
    for (const id of [900008, 900030, 900031, 900032, 900033]) assert.deepEqual(film(id).genres, [], `film ${id}`);
  });

  test('genres and companies: tuples, "double-quoted" names, 16.0 as an id, the first of a repeated id, escapes, b\'...\', extra keys', () => {
    assert.deepEqual(film(900002).genres, [{ id: 12, name: 'Adventure' }]);
    assert.deepEqual(film(900002).companies, [{ id: 70002, name: "D'Arcy Brothers" }]);
    assert.deepEqual(film(900007).genres, [
      { id: 16, name: 'Animation' },
      { id: 10751, name: 'Family' },
    ]);
    assert.deepEqual(film(900007).companies, [{ id: 70004, name: 'Café Noir Studio' }]);
    assert.deepEqual(film(900031).companies, [{ id: 70011, name: 'Byte Pictures' }]);
    assert.deepEqual(film(900029).genres, [{ id: 28, name: 'Action' }]);
  });

  test('escapes that PostgreSQL cannot store: \\x00 is dropped, a lone \\ud800 becomes U+FFFD', () => {
    assert.deepEqual(film(900025).companies, [
      { id: 70009, name: 'Studio \ufffd Nine' },
      { id: 70010, name: 'NullPoint' },
    ]);
  });
});

describe('numbers, one column at a time (docs/selection.md, "Numbers")', () => {
  const cases: [string, string, string | null][] = [
    // column, value, the reason it is malformed (null: it fits)
    ['budget', '1e18', null],
    ['budget', '373554033.0', null],
    ['budget', '+5e4', null],
    ['budget', '.5e6', null],
    ['budget', '9223372036854774784', null],
    ['budget', '9223372036854775807', 'does not fit a bigint'],
    ['budget', '1e19', 'does not fit a bigint'],
    ['budget', '1e21', 'does not fit a bigint'],
    ['budget', '1e400', 'does not fit a bigint'],
    ['budget', '-1e400', 'does not fit a bigint'],
    ['budget', '1.5', 'is not a whole number'],
    ['budget', '', 'is not a number'],
    ['budget', 'Infinity', 'is not a number'],
    ['budget', 'NaN', 'is not a number'],
    ['budget', '0x10', 'is not a number'],
    ['budget', '1_000', 'is not a number'],
    ['budget', '1 000', 'is not a number'],
    ['budget', '١٠٠٠', 'is not a number'],
    ['revenue', '1e19', 'does not fit a bigint'],
    ['revenue', '1e400', 'does not fit a bigint'],
    ['revenue', '1e21', 'does not fit a bigint'],
    ['vote_count', '2147483647', null],
    ['vote_count', '-2147483648', null],
    ['vote_count', '2147483648', 'does not fit an integer'],
    ['vote_count', '1e10', 'does not fit an integer'],
    ['vote_count', '1e400', 'does not fit an integer'],
    ['vote_count', 'many', 'is not a number'],
    ['vote_average', '3.4028234e38', null],
    ['vote_average', '1e39', 'does not fit a real'],
    ['vote_average', '1e400', 'does not fit a real'],
    ['vote_average', 'n/a', 'is not a number'],
  ];

  test('each value fits its column or makes the row malformed, named with its line', async (t) => {
    const file = await rows('numbers.csv', cases.map(([name, value]) => ({ [name]: value })));
    const got = await read(file);
    const { report } = got;
    const expected = cases.flatMap(([name, value, reason], i) => (reason === null ? [] : [[i + 2, `${name} ${JSON.stringify(value)} ${reason}`]]));
    assert.deepEqual(
      report.samples.malformed.map((s) => [s.line, s.reason]),
      expected,
    );
    assert.equal(report.eligible, cases.length - expected.length);
    agreesWithOracle(t, file, got);
  });

  test('ids: digits, no leading zero, at most 2147483647', async (t) => {
    const ids = ['1', '2147483647', '0', '007', '+7', '7.0', '1e3', '2147483648', ' 12 '];
    const file = await rows('ids.csv', ids.map((id) => ({ id })));
    const got = await read(file);
    const { report, films } = got;
    assert.deepEqual(
      report.samples.malformed.map((s) => s.reason),
      ['id "0" is not a positive integer', 'id "007" is not a positive integer', 'id "+7" is not a positive integer', 'id "7.0" is not a positive integer', 'id "1e3" is not a positive integer', 'id "2147483648" is not a positive integer'],
    );
    assert.deepEqual(films.map((f) => f.id).sort((a, b) => a - b), [1, 12, 2147483647]);
    agreesWithOracle(t, file, got);
  });

  test('dates: a real Gregorian day of years 1 to 9999, else release_date and year are null', async (t) => {
    const dates = ['2000-02-29', '1900-02-29', '0001-01-01', '0050-06-15', '9999-12-31', '0000-01-01', '2019-02-29', '2019-13-01', '2019-1-01', ' 1995-12-22 ', '1995-12-22T00:00'];
    const file = await rows('dates.csv', dates.map((d) => ({ release_date: d })));
    const got = await read(file);
    const byId = new Map(got.films.map((f) => [f.id, [f.releaseDate, f.year]]));
    assert.deepEqual(
      dates.map((_, i) => byId.get(i + 1)),
      [
        ['2000-02-29', 2000],
        [null, null],
        ['0001-01-01', 1],
        ['0050-06-15', 50],
        ['9999-12-31', 9999],
        [null, null],
        [null, null],
        [null, null],
        [null, null],
        ['1995-12-22', 1995],
        [null, null],
      ],
    );
    agreesWithOracle(t, file, got);
  });
});

describe('genres and companies (docs/selection.md)', () => {
  test('the stage and the oracle read 20,000 mutated values alike: kept refs, or bad', async (t) => {
    const seeds = [
      `[{'id': 16, 'name': 'Animation'}, {'id': 35, 'name': 'Comedy'}]`,
      `[{'name': "D'Pelicula", 'id': 93489}, {'name': 'Caf\\xe9 \\u00e9', 'id': 2}]`,
      `({'id': 10194, 'name': 'Toy Story', 'poster_path': None, 'x': [1.5e3, True]},)`,
      `[{'id': 1_6, 'name': b'Bytes' 'str'}, {'id': -7.0, 'name': r'raw\\n'}]`,
      `[{'id': 016, 'name': 'Dr\\N{LATIN SMALL LETTER A}ma'}, {'id': 0x1c, 'name': u'\\x00\\ud800'}]`,
    ];
    const alphabet = `[]{}()'",:\\ xuUNbrj01789eE.+-_TrueFalsNoe\n\t`;
    let state = 0x9e3779b9;
    const rand = (n: number): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const values: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let v = seeds[rand(seeds.length)]!;
      for (let m = 1 + rand(3); m > 0; m--) {
        const at = rand(v.length + 1);
        const op = rand(3);
        const ch = alphabet[rand(alphabet.length)]!;
        v = op === 0 ? v.slice(0, at) + ch + v.slice(at) : op === 1 ? v.slice(0, at) + v.slice(at + 1) : v.slice(0, at) + ch + v.slice(at + 1);
      }
      values.push(v);
    }
    const ours = values.map((v) => parseNamedRefs(v.trim()));
    const kept = ours.filter((r) => r !== null).length;
    assert.ok(kept > 2000 && kept < 18_000, `mutations should both keep and break values: ${kept} kept`);
    if (spawnSync('python3', ['--version']).status !== 0) return t.skip('python3 is not installed');
    const file = path.join(tmp, 'values.json');
    await writeFile(file, JSON.stringify(values));
    const run = spawnSync('python3', [ORACLE_PY, '--refs', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(run.status, 0, run.stderr);
    const theirs = JSON.parse(run.stdout) as (typeof ours)[number][];
    const differ = values.flatMap((v, i) => (JSON.stringify(ours[i]) === JSON.stringify(theirs[i]) ? [] : [{ value: v, stage: ours[i], oracle: theirs[i] }]));
    assert.deepEqual(differ.slice(0, 5), [], `${differ.length} of ${values.length} values read differently`);
  });
});
