/**
 * The pipeline end to end through the command line, against every real
 * PostgreSQL server the machine has: what lands in the database is what SPEC
 * section 3 gives, read independently by test/helpers/oracle.py (python3; without
 * it the tests check the rest and are marked skipped, saying so).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SAMPLE, realCsvPath, runCli, WITHOUT_REAL_DATA } from './helpers/cli.js';
import { asStored, loadedFilms, oracle } from './helpers/oracle.js';
import { SELECTION_CSV } from './helpers/selection.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase, type TestServer } from './helpers/pg.js';
import { expectedGroups, type FilmSpec } from './helpers/dashboard.js';

const SAMPLE_CSV = path.join(SAMPLE, 'movies_metadata.csv');
const REAL_CSV = realCsvPath();


let servers: TestServer[] = [];
let tmp: string;
before(async () => {
  servers = await testServers();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-pipeline-'));
});
after(async () => {
  await closeTestServers();
  await rm(tmp, { recursive: true, force: true });
});

async function run(db: TestDatabase, args: string[]) {
  const result = await runCli(['run', '--database-url', db.url, '--offline', '--no-progress', '--data-dir', tmp, ...args]);
  assert.equal(result.status, 0, `run failed:\n${result.stderr}`);
  return result;
}

for (const serverName of ['embedded', 'local'] as const) {
  describe(`load into the ${serverName} server`, () => {
    let db: TestDatabase | null = null;
    before(async (t) => {
      const server = servers.find((s) => s.name === serverName);
      if (!server) return;
      db = await freshDatabase(server);
      void t;
    });
    after(async () => db?.drop());

    const needServer = (t: { skip: (m: string) => void }): TestDatabase | null => {
      if (!db) t.skip(`no ${serverName} PostgreSQL server answers`);
      return db;
    };

    test('the real 4,994 rows: the top 1000 films, genres and companies are what SPEC section 3 gives', { skip: WITHOUT_REAL_DATA }, async (t) => {
      const d = needServer(t);
      if (!d) return;
      const reportPath = path.join(tmp, `report-${serverName}.json`);
      await run(d, ['--metadata', REAL_CSV, '--top', '1000', '--report', reportPath]);
      const report = JSON.parse(await readFile(reportPath, 'utf8'));
      assert.equal(report.metadata.rows, 4994);
      assert.equal(report.metadata.duplicates, 1);
      assert.deepEqual(report.metadata.samples.duplicates, [{ line: 1468, reason: 'id 105045 appeared before' }]);
      assert.equal(report.load.films, 1000);
      const [counts] = await d.query<{ g: number; fg: number; c: number; fc: number }>(
        `SELECT (SELECT count(*) FROM genres)::int g, (SELECT count(*) FROM film_genres)::int fg,
                (SELECT count(*) FROM production_companies)::int c, (SELECT count(*) FROM film_production_companies)::int fc`,
      );
      assert.deepEqual(
        [report.load.genres, report.load.film_genres, report.load.production_companies, report.load.film_production_companies],
        [counts!.g, counts!.fg, counts!.c, counts!.fc],
      );
      // every film is matched 'none' until the Wikipedia stages have something to match with
      const [none] = await d.query<{ n: number }>(`SELECT count(*)::int n FROM films WHERE wikipedia_match = 'none'`);
      assert.equal(none!.n, 1000);

      const expected = oracle(t, REAL_CSV, 1000);
      if (!expected) return;
      assert.equal(expected.films.length, 1000);
      assert.deepEqual(await loadedFilms(d), asStored(expected.films));
      for (const key of ['rows', 'malformed', 'duplicates', 'eligible', 'selected', 'bad_literals'] as const) {
        assert.equal(report.metadata[key], expected.report[key], `metadata.${key}`);
      }
      assert.equal(
        counts!.fg,
        expected.films.reduce((n, f) => n + f.genres.length, 0),
      );
    });

    test('the sample: malformed broken records, the duplicate, every eligible film, and the views', async (t) => {
      const d = needServer(t);
      if (!d) return;
      const reportPath = path.join(tmp, `sample-${serverName}.json`);
      const result = await run(d, ['--metadata', SAMPLE_CSV, '--report', reportPath]);
      const loaded = await loadedFilms(d);
      const report = JSON.parse(await readFile(reportPath, 'utf8'));
      const m = report.metadata;
      assert.deepEqual(
        { rows: m.rows, malformed: m.malformed, duplicates: m.duplicates },
        { rows: 76, malformed: 6, duplicates: 1 },
      );
      // the three stubs have too few fields, the three tails too: each line is named
      assert.deepEqual(
        m.samples.malformed.map((s: { reason: string }) => s.reason),
        Array(5).fill(0).map((_, i) => (i % 2 === 0 ? '10 fields where the header has 24' : '15 fields where the header has 24')),
      );
      // counted by hand from the sample: 20 well-formed rows have a budget under 1000 (or 0) or no revenue
      assert.deepEqual({ eligible: m.eligible, selected: m.selected }, { eligible: 49, selected: 49 });
      assert.equal(m.rows - m.malformed - m.duplicates - m.eligible, 20, 'SPEC section 6: malformed + duplicates + not eligible + eligible = rows');

      // the summary names the top films and a masked URL
      assert.match(result.stdout, /The Blair Witch Project/);
      assert.match(result.stdout, /rank\s+title\s+year\s+budget\s+revenue\s+ratio/);

      // views: per genre, a film counts once; mean and median as SQL computes them from films
      const genres = await d.query<{ genre: string; films: number; mean_ratio: number; median_ratio: number; total_budget: string }>(
        'SELECT * FROM genre_performance',
      );
      const horror = loaded.filter((f) => f.genres.some((g) => g.name === 'Horror'));
      const ratios = horror.map((f) => f.ratio).sort((a, b) => a - b);
      const median = ratios.length % 2 ? ratios[(ratios.length - 1) / 2]! : (ratios[ratios.length / 2 - 1]! + ratios[ratios.length / 2]!) / 2;
      const row = genres.find((g) => g.genre === 'Horror')!;
      assert.equal(row.films, horror.length);
      assert.ok(Math.abs(row.median_ratio - median) < 1e-9 * median);
      assert.ok(Math.abs(row.mean_ratio - ratios.reduce((a, b) => a + b, 0) / ratios.length) < 1e-9 * median);
      assert.equal(Number(row.total_budget), horror.reduce((n, f) => n + f.budget, 0));
      // both views, every row, computed here from the loaded films: a film counts once per name
      const disputed = new Set((await d.query<{ id: number }>("SELECT id FROM films WHERE money_check = 'disputed'")).map((r) => r.id));
      const specs: FilmSpec[] = loaded.map((f) => ({ ...f, money: disputed.has(f.id) ? { check: 'disputed' } : undefined }));
      for (const [view, label, kind] of [
        ['genre_performance', 'genre', 'genre'],
        ['production_company_performance', 'company', 'company'],
      ] as const) {
        const viewRows: Record<string, string | number>[] = await d.query<Record<string, string | number>>(`SELECT * FROM ${view}`);
        const expected = new Map(expectedGroups(specs, kind, false).map((g) => [g.name, g]));
        assert.equal(viewRows.length, expected.size, `${view}: one row per name`);
        assert.ok(viewRows.length > 10, `${view}: ${viewRows.length} rows`);
        for (const row of viewRows) {
          const want = expected.get(row[label] as string)!;
          assert.ok(want !== undefined, `${view}: ${row[label]} is a name of the loaded films`);
          assert.deepEqual([row.films, Number(row.total_budget), Number(row.total_revenue), row.disputed], [want.films, want.total_budget, want.total_revenue, want.disputed], `${view} ${row[label]}`);
          for (const k of ['mean_ratio', 'median_ratio'] as const) {
            assert.ok(Math.abs((row[k] as number) - want[k]) <= 1e-9 * want[k], `${view} ${row[label]} ${k}: ${row[k]} against ${want[k]}`);
          }
        }
      }
      // the load is recorded with its report
      const loads = await d.query<{ films: number; report: { metadata: { rows: number } } }>('SELECT films, report FROM truefilm_loads ORDER BY id');
      assert.equal(loads.at(-1)!.report.metadata.rows, 76);

      const expected = oracle(t, SAMPLE_CSV, 1000);
      if (expected) assert.deepEqual(loaded, asStored(expected.films));
    });

    test('the selection fixture: what lands is what the oracle reads, with --min-budget 0 and --top too', async (t) => {
      const d = needServer(t);
      if (!d) return;
      for (const [top, minBudget] of [
        [1000, 1000],
        [1000, 0],
        [5, 1],
      ] as const) {
        const reportPath = path.join(tmp, `selection-${serverName}.json`);
        await run(d, ['--metadata', SELECTION_CSV, '--top', String(top), '--min-budget', String(minBudget), '--report', reportPath]);
        const report = JSON.parse(await readFile(reportPath, 'utf8'));
        const loaded = await loadedFilms(d);
        assert.ok(loaded.every((f) => f.budget > 0), 'no film with a budget of 0');
        // a genre keeps the name of the best-ranked film that lists it (900022's, not 900021's own 'Docu')
        if (top === 1000) assert.equal(loaded.find((f) => f.id === 900021)?.genres[0]?.name, 'Documentary');
        const expected = oracle(t, SELECTION_CSV, top, minBudget);
        if (!expected) return;
        assert.deepEqual(loaded, asStored(expected.films), `--top ${top} --min-budget ${minBudget}`);
        for (const key of ['rows', 'malformed', 'duplicates', 'eligible', 'selected', 'bad_literals'] as const) {
          assert.equal(report.metadata[key], expected.report[key], `metadata.${key} with --top ${top} --min-budget ${minBudget}`);
        }
      }
    });

    test('NULs in a title, a genre, an id and a bad literal: dropped where the records are made; the load and its report are stored', async (t) => {
      const d = needServer(t);
      if (!d) return;
      const text = await readFile(SELECTION_CSV, 'utf8');
      const withNul = text
        .replace('The Lantern Keeper,A quiet', 'The Lan\0tern Keeper,A quiet')
        .replace("{'id': 18, 'name': 'Drama'}, {'id': 9648", "{'id': 18, 'name': 'Dra\0ma'}, {'id': 9648")
        .replace(',900022,', ',9000\x0022,')
        .replace("\"[{'id': 35, 'name': 'Comedy'}\"", "\"[{'id': 35, 'name': 'Com\0edy'}\"");
      assert.equal(withNul.split('\0').length, 5, 'four NULs went in');
      const file = path.join(tmp, 'nul.csv');
      await writeFile(file, withNul);
      const reportPath = path.join(tmp, `nul-${serverName}.json`);
      await run(d, ['--metadata', file, '--report', reportPath]);
      const loaded = await loadedFilms(d);
      const keeper = loaded.find((f) => f.id === 900001)!;
      assert.deepEqual([keeper.title, keeper.genres], ['The Lantern Keeper', [{ id: 18, name: 'Drama' }, { id: 9648, name: 'Mystery' }]]);
      assert.equal(loaded[0]!.id, 900022, 'the id read without its NUL');
      const [load] = await d.query<{ report: { metadata: { samples: { bad_literals: { line: number; reason: string }[] } } } }>(
        'SELECT report FROM truefilm_loads ORDER BY id DESC LIMIT 1',
      );
      const sample = load!.report.metadata.samples.bad_literals.find((s) => s.line === 7);
      assert.equal(sample?.reason, "genres is not a list of {'id', 'name'}: [{'id': 35, 'name': 'Comedy'}", 'the sample, stored in jsonb, without its NUL');
      const expected = oracle(t, file, 1000);
      if (expected) assert.deepEqual(loaded, asStored(expected.films));
    });

    test('--min-budget 0 on the real rows: their many budgets of 0 are left out, and the run loads', { skip: WITHOUT_REAL_DATA }, async (t) => {
      const d = needServer(t);
      if (!d) return;
      await run(d, ['--metadata', REAL_CSV, '--top', '50', '--min-budget', '0']);
      const loaded = await loadedFilms(d);
      assert.equal(loaded.length, 50);
      assert.ok(loaded.every((f) => f.budget > 0 && Number.isFinite(f.ratio)), 'every ratio is finite');
      const expected = oracle(t, REAL_CSV, 50, 0);
      if (expected) assert.deepEqual(loaded, asStored(expected.films));
    });

    test('--top and --min-budget select as SPEC section 3 says', { skip: WITHOUT_REAL_DATA }, async (t) => {
      const d = needServer(t);
      if (!d) return;
      await run(d, ['--metadata', REAL_CSV, '--top', '25', '--min-budget', '1']);
      const loaded = await loadedFilms(d);
      assert.equal(loaded.length, 25);
      const expected = oracle(t, REAL_CSV, 25, 1);
      if (expected) assert.deepEqual(loaded, asStored(expected.films));
    });
  });
}
