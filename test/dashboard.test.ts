/**
 * The dashboard's JSON API (SPEC section 7) against real PostgreSQL with
 * loaded data: filters, ordering by rank, limits, paging and sorting, 400s
 * that name the parameter, injection attempts in every parameter, the empty
 * database, a connection that cannot write, and the command line.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { startDashboard, type RunningDashboard } from '../src/dashboard/command.js';
import { createReader } from '../src/dashboard/queries.js';
import { isTrueFilmError } from '../src/errors.js';
import pg from 'pg';
import {
  MONEY_REPORT,
  MONEY_SPECS,
  expectedGroups,
  expectedIds,
  expectedSummary,
  loadFilms,
  moneyFilms,
  type ExpectedGroup,
  type FilmSpec,
  SQL_TITLE,
  XSS_ABSTRACT,
  XSS_COMPANY,
  XSS_GENRE,
  XSS_TITLE,
  dashboardOn,
  databaseWith,
  getJson,
  hostileFilms,
  sampleDatabase,
  startCliDashboard,
} from './helpers/dashboard.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase, type TestServer } from './helpers/pg.js';
import { closedPort, recordingUi } from './helpers/recorder.js';

const servers = await testServers();

/** The sample loaded once per server (by the CLI, which takes a while); no test writes to it. */
const samples = new Map<TestServer, Promise<TestDatabase>>();
function sharedSample(server: TestServer): Promise<TestDatabase> {
  let db = samples.get(server);
  if (!db) samples.set(server, (db = sampleDatabase(server)));
  return db;
}
after(async () => {
  await Promise.all([...samples.values()].map(async (db) => (await db.catch(() => undefined))?.drop()));
  await closeTestServers();
});

/** The values an attacker would try, in every parameter. */
const INJECTIONS = [
  "'); drop table films; --",
  "' OR '1'='1",
  "Drama' --",
  '1; DROP TABLE films',
  '1 OR 1=1',
  'rank; DROP TABLE genres',
  '%',
  '_',
  '$1',
  '\\',
];

for (const server of servers) {
  describe(`dashboard API on the ${server.name} PostgreSQL`, () => {
    let sample: TestDatabase;
    let hostile: TestDatabase;
    let empty: TestDatabase;
    let onSample: RunningDashboard;
    let onHostile: RunningDashboard;
    let onEmpty: RunningDashboard;

    before(async () => {
      [sample, hostile, empty] = await Promise.all([
        sharedSample(server),
        databaseWith(server, hostileFilms()),
        freshDatabase(server, 'tf_dash'),
      ]);
      [onSample, onHostile, onEmpty] = await Promise.all([dashboardOn(sample), dashboardOn(hostile), dashboardOn(empty)]);
    });
    after(async () => {
      await Promise.all([onSample, onHostile, onEmpty].map((d) => d?.close()));
      await Promise.all([hostile, empty].map((d) => d?.drop()));
    });

    const filmCount = async (db: TestDatabase): Promise<number> => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM films'))[0]!.n;

    test('/api/films lists the films ordered by rank, with their genres and companies', async () => {
      const expected = await sample.query<{ id: number; rank: number; title: string; budget: string }>(
        'SELECT id, rank, title, budget FROM films ORDER BY rank',
      );
      const { status, headers, body } = await getJson(onSample.url, '/api/films');
      assert.equal(status, 200);
      assert.match(headers.get('content-type')!, /^application\/json/);
      assert.equal(body.total, expected.length);
      assert.deepEqual(
        body.films.map((f: any) => [f.id, f.rank, f.title, f.budget]),
        expected.map((r) => [r.id, r.rank, r.title, Number(r.budget)]),
      );
      const first = body.films[0];
      assert.equal(first.title, 'The Blair Witch Project');
      assert.deepEqual(first.genres, ['Horror', 'Mystery']);
      assert.deepEqual(first.companies, ['Artisan Entertainment', 'Haxan Films']);
      assert.equal(first.rating, 6.3);
      assert.equal(typeof first.ratio, 'number');
      assert.equal('wikipedia_abstract' in first, false, 'the list leaves abstracts out: they come on demand');
    });

    test('limit and offset page through the ranking', async () => {
      const five = await getJson(onSample.url, '/api/films?limit=5');
      assert.deepEqual(five.body.films.map((f: any) => f.rank), [1, 2, 3, 4, 5]);
      assert.equal(five.body.total, 49);
      assert.equal(five.body.limit, 5);
      const tail = await getJson(onSample.url, '/api/films?limit=10&offset=45');
      assert.deepEqual(tail.body.films.map((f: any) => f.rank), [46, 47, 48, 49]);
      const beyond = await getJson(onSample.url, '/api/films?offset=1000');
      assert.equal(beyond.status, 200);
      assert.deepEqual(beyond.body.films, []);
      assert.equal(beyond.body.total, 49);
      const all = await getJson(onSample.url, '/api/films?limit=1000');
      assert.equal(all.body.films.length, 49);
    });

    test('genre and company filters give exactly the films linked to that name, in rank order', async () => {
      const horror = await sample.query<{ id: number }>(
        `SELECT f.id FROM films f JOIN film_genres fg ON fg.film_id = f.id JOIN genres g ON g.id = fg.genre_id
         WHERE g.name = 'Horror' ORDER BY f.rank`,
      );
      assert.ok(horror.length > 5);
      const byGenre = await getJson(onSample.url, '/api/films?genre=Horror&limit=1000');
      assert.deepEqual(byGenre.body.films.map((f: any) => f.id), horror.map((r) => r.id));
      assert.equal(byGenre.body.total, horror.length);
      for (const f of byGenre.body.films) assert.ok(f.genres.includes('Horror'));

      const disney = await sample.query<{ id: number }>(
        `SELECT f.id FROM films f JOIN film_production_companies fc ON fc.film_id = f.id
         JOIN production_companies c ON c.id = fc.company_id WHERE c.name = 'Walt Disney Productions' ORDER BY f.rank`,
      );
      const byCompany = await getJson(onSample.url, `/api/films?company=${encodeURIComponent('Walt Disney Productions')}`);
      assert.deepEqual(byCompany.body.films.map((f: any) => f.id), disney.map((r) => r.id));

      const both = await getJson(onSample.url, `/api/films?genre=Drama&company=${encodeURIComponent('Walt Disney Productions')}`);
      assert.ok(both.body.total > 0 && both.body.total < disney.length);
      for (const f of both.body.films) assert.ok(f.genres.includes('Drama') && f.companies.includes('Walt Disney Productions'));

      const unknown = await getJson(onSample.url, '/api/films?genre=Nope');
      assert.equal(unknown.status, 200);
      assert.equal(unknown.body.total, 0);
      assert.equal((await getJson(onSample.url, '/api/films?genre=horror')).body.total, 0, 'genre names match exactly');
    });

    test('q searches titles and original titles, case-insensitively and literally', async () => {
      const dragon = await getJson(onSample.url, '/api/films?q=DRAGON');
      assert.deepEqual(dragon.body.films.map((f: any) => f.title), ['The Way of the Dragon']);
      const original = await getJson(onSample.url, `/api/films?q=${encodeURIComponent('pugno')}`);
      assert.deepEqual(original.body.films.map((f: any) => f.title), ['A Fistful of Dollars'], 'original_title "Per un pugno di dollari"');
      // LIKE wildcards are plain characters here
      assert.deepEqual((await getJson(onSample.url, '/api/films?q=%25')).body.films, []);
      const wild = await getJson(onHostile.url, '/api/films?q=_');
      assert.deepEqual(wild.body.films.map((f: any) => f.id), [103]);
      const percent = await getJson(onHostile.url, '/api/films?q=100%25');
      assert.deepEqual(percent.body.films.map((f: any) => f.id), [103]);
      const blank = await getJson(onSample.url, '/api/films?q=%20%20');
      assert.equal(blank.body.total, 49, 'a blank search is no search');
    });

    test('sort and order reorder the films, ties broken by rank', async () => {
      const cheap = await getJson(onSample.url, '/api/films?sort=budget&order=asc&limit=1000');
      const budgets = cheap.body.films.map((f: any) => f.budget);
      assert.deepEqual(budgets, [...budgets].sort((a: number, b: number) => a - b));
      const rich = await getJson(onSample.url, '/api/films?sort=revenue&limit=3');
      assert.equal(rich.body.order, 'desc', 'revenue sorts highest first by default');
      const [top] = await sample.query<{ title: string }>('SELECT title FROM films ORDER BY revenue DESC, rank LIMIT 1');
      assert.equal(rich.body.films[0].title, top!.title);
      const years = (await getJson(onSample.url, '/api/films?sort=year&order=desc&limit=1000')).body.films.map((f: any) => f.year);
      const known = years.filter((y: number | null) => y !== null);
      assert.deepEqual(known, [...known].sort((a: number, b: number) => b - a));
      const unknownYears = (await sample.query<{ n: number }>('SELECT count(*)::integer AS n FROM films WHERE year IS NULL'))[0]!.n;
      assert.equal(years.length, 49);
      assert.deepEqual(years.slice(known.length), Array(unknownYears).fill(null), 'unknown years, if any, last');
      const reversed = await getJson(onSample.url, '/api/films?sort=rank&order=desc&limit=2');
      assert.deepEqual(reversed.body.films.map((f: any) => f.rank), [49, 48]);
      const titles = (await getJson(onHostile.url, '/api/films?sort=title')).body.films.map((f: any) => f.id);
      const collated = await hostile.query<{ id: number }>('SELECT id FROM films ORDER BY lower(title), rank');
      assert.deepEqual(titles, collated.map((r) => r.id), "by lower(title) in the database's collation");
      const rated = (await getJson(onHostile.url, '/api/films?sort=rating&order=asc')).body.films.map((f: any) => f.id);
      assert.equal(rated.at(-1), 105, 'a film without a rating comes last either way');
    });

    test('/api/films/:id gives one film with its abstract', async () => {
      const film = await getJson(onHostile.url, '/api/films/101');
      assert.equal(film.status, 200);
      assert.equal(film.body.title, XSS_TITLE);
      assert.equal(film.body.wikipedia_abstract, XSS_ABSTRACT);
      assert.equal(film.body.wikipedia_url, 'https://en.wikipedia.org/wiki/Script_(film)');
      assert.equal(film.body.has_abstract, true);
      assert.deepEqual(film.body.companies, [XSS_COMPANY]);
      assert.deepEqual(film.body.genres.sort(), [XSS_GENRE, 'Drama'].sort());
      const missing = await getJson(onHostile.url, '/api/films/999');
      assert.equal(missing.status, 404);
      assert.match(missing.body.error, /no film with id 999/);
    });

    test('/api/genres and /api/production-companies give the views', async () => {
      const view = await sample.query('SELECT * FROM genre_performance ORDER BY median_ratio DESC, genre');
      const genres = await getJson(onSample.url, '/api/genres');
      assert.equal(genres.status, 200);
      assert.deepEqual(
        genres.body.genres,
        view.map((r) => ({
          genre: r.genre,
          films: r.films,
          mean_ratio: r.mean_ratio,
          median_ratio: r.median_ratio,
          total_budget: Number(r.total_budget),
          total_revenue: Number(r.total_revenue),
          disputed: r.disputed,
        })),
      );

      const all = await getJson(onSample.url, '/api/production-companies');
      const [{ n }] = (await sample.query<{ n: number }>('SELECT count(*)::int AS n FROM production_company_performance')) as [{ n: number }];
      assert.equal(all.body.companies.length, n);
      assert.equal(all.body.total, n);
      const medians = all.body.companies.map((c: any) => c.median_ratio);
      assert.deepEqual(medians, [...medians].sort((a: number, b: number) => b - a));

      const big = await getJson(onSample.url, '/api/production-companies?min_films=3&limit=4');
      const expected = await sample.query<{ company: string }>(
        'SELECT company FROM production_company_performance WHERE films >= 3 ORDER BY median_ratio DESC, films DESC, company',
      );
      assert.deepEqual(big.body.companies.map((c: any) => c.company), expected.slice(0, 4).map((r) => r.company));
      assert.equal(big.body.total, expected.length);
      assert.equal(big.body.min_films, 3);
      for (const c of big.body.companies) assert.ok(c.films >= 3);
    });

    test('/api/summary gives the headline figures and the latest load', async () => {
      const { body } = await getJson(onSample.url, '/api/summary');
      assert.equal(body.empty, false);
      assert.equal(body.films, 49);
      const [counts] = await sample.query(
        `SELECT count(*) FILTER (WHERE wikipedia_match <> 'none')::int AS matched,
                count(*) FILTER (WHERE wikipedia_abstract IS NOT NULL)::int AS with_abstract FROM films`,
      );
      assert.equal(body.matched, counts!.matched);
      assert.equal(body.with_abstract, counts!.with_abstract);
      assert.equal(body.best.title, 'The Blair Witch Project');
      assert.equal(body.genres, 17);
      const [load] = await sample.query<{ loaded_at: Date }>('SELECT loaded_at FROM truefilm_loads ORDER BY id DESC LIMIT 1');
      assert.equal(body.load.loaded_at, load!.loaded_at.toISOString());
      assert.equal(body.load.csv_rows, 76);
      assert.equal(body.load.wikidata_status, 'offline');

      const hostileSummary = (await getJson(onHostile.url, '/api/summary')).body;
      assert.equal(hostileSummary.matched, 2);
      assert.deepEqual(hostileSummary.matches, { wikidata: 1, cirrus: 0, title: 1, none: 3 });
      assert.equal(hostileSummary.with_abstract, 1);
    });

    test('the latest of several loads is the one shown', async () => {
      const db = await databaseWith(server, hostileFilms().slice(0, 2));
      const dashboard = await dashboardOn(db);
      try {
        await db.query(`INSERT INTO truefilm_loads (loaded_at, films, report) VALUES ('2001-01-01T00:00:00Z', 1, '{}')`);
        const { body } = await getJson(dashboard.url, '/api/summary');
        const [latest] = await db.query<{ loaded_at: Date }>('SELECT max(loaded_at) AS loaded_at FROM truefilm_loads');
        assert.equal(body.load.loaded_at, latest!.loaded_at.toISOString());
        assert.equal(body.load.loads, 2);
      } finally {
        await dashboard.close();
        await db.drop();
      }
    });

    test('bad parameters get a 400 whose message names the parameter', async () => {
      const cases: [string, string, RegExp][] = [
        ['/api/films?limit=0', 'limit', /limit must be a whole number from 1 to 1,000, got "0"/],
        ['/api/films?limit=abc', 'limit', /limit must be a whole number/],
        ['/api/films?limit=1001', 'limit', /from 1 to 1,000/],
        ['/api/films?limit=-1', 'limit', /limit/],
        ['/api/films?limit=1e3', 'limit', /limit/],
        ['/api/films?limit=2.5', 'limit', /limit/],
        ['/api/films?offset=-5', 'offset', /offset must be a whole number from 0/],
        ['/api/films?sort=popularity', 'sort', /sort must be one of rank, title, year, budget, revenue, ratio, rating, got "popularity"/],
        ['/api/films?order=sideways', 'order', /order must be one of asc, desc/],
        ['/api/films?lmit=5', 'lmit', /unknown parameter "lmit": \/api\/films takes limit, offset, genre, company, q, sort, order/],
        ['/api/films?genre=Drama&genre=Horror', 'genre', /genre is given more than once/],
        [`/api/films?q=${'x'.repeat(201)}`, 'q', /q must be at most 200 characters, got 201/],
        ['/api/films?q=a%00b', 'q', /q must not contain control characters/],
        ['/api/films?company=a%0Ab', 'company', /control characters/],
        ['/api/films/abc', 'id', /a film id is a positive whole number/],
        ['/api/films/0', 'id', /positive whole number/],
        ['/api/films/99999999999', 'id', /positive whole number/],
        ['/api/genres?x=1', 'x', /\/api\/genres takes exclude_disputed/],
        ['/api/summary?limit=1', 'limit', /\/api\/summary takes exclude_disputed/],
        ['/api/films?exclude_disputed=yes', 'exclude_disputed', /exclude_disputed must be one of 0, 1, got "yes"/],
        ['/api/genres?exclude_disputed=2', 'exclude_disputed', /exclude_disputed must be one of 0, 1/],
        ['/api/summary?exclude_disputed=true', 'exclude_disputed', /exclude_disputed must be one of 0, 1/],
        ['/api/production-companies?exclude_disputed=-1', 'exclude_disputed', /exclude_disputed must be one of 0, 1/],
        ['/api/films/5?exclude_disputed=1', 'exclude_disputed', /\/api\/films\/:id takes no parameters/],
        ['/api/production-companies?min_films=0', 'min_films', /min_films must be a whole number from 1/],
        ['/api/production-companies?min_films=many', 'min_films', /min_films/],
        ['/api/production-companies?limit=0', 'limit', /limit must be a whole number from 1/],
      ];
      for (const [url, parameter, message] of cases) {
        const { status, body } = await getJson(onSample.url, url);
        assert.equal(status, 400, url);
        assert.equal(body.parameter, parameter, url);
        assert.match(body.error, message, url);
      }
    });

    test('an injection attempt in every parameter is data, never SQL', async () => {
      const before = await sample.query('SELECT id, rank, title FROM films ORDER BY rank');
      for (const attempt of INJECTIONS) {
        const v = encodeURIComponent(attempt);
        for (const name of ['genre', 'company', 'q']) {
          const { status, body } = await getJson(onSample.url, `/api/films?${name}=${v}`);
          assert.equal(status, 200, `${name}=${attempt}`);
          // no sample title holds these strings; a value that leaked into SQL would match everything or fail
          assert.equal(body.total, 0, `${name}=${attempt}`);
        }
        for (const name of ['limit', 'offset', 'sort', 'order']) {
          const { status, body } = await getJson(onSample.url, `/api/films?${name}=${v}`);
          assert.equal(status, 400, `${name}=${attempt}`);
          assert.equal(body.parameter, name);
        }
        for (const name of ['min_films', 'limit']) {
          const { status } = await getJson(onSample.url, `/api/production-companies?${name}=${v}`);
          assert.equal(status, 400, `${name}=${attempt}`);
        }
        const { status } = await getJson(onSample.url, `/api/films/${v}`);
        assert.equal(status, 400, `/api/films/${attempt}`);
        // as a parameter name too
        assert.equal((await getJson(onSample.url, `/api/films?${v}=1`)).status, 400);
      }
      assert.deepEqual(await sample.query('SELECT id, rank, title FROM films ORDER BY rank'), before, 'the data is untouched');
      assert.equal((await sample.query('SELECT count(*)::int AS n FROM genres'))[0]!.n, 17);

      // stored hostile text is found as itself
      const found = await getJson(onHostile.url, `/api/films?q=${encodeURIComponent(SQL_TITLE)}`);
      assert.deepEqual(found.body.films.map((f: any) => f.title), [SQL_TITLE]);
      const byCompany = await getJson(onHostile.url, `/api/films?company=${encodeURIComponent("'; DELETE FROM genres; --")}`);
      assert.deepEqual(byCompany.body.films.map((f: any) => f.id), [102]);
      const byGenre = await getJson(onHostile.url, `/api/films?genre=${encodeURIComponent(XSS_GENRE)}`);
      assert.deepEqual(byGenre.body.films.map((f: any) => f.id), [101]);
      assert.equal(await filmCount(hostile), 5);
    });

    test('the dashboard serves JSON as JSON, with a policy that forbids inline scripts', async () => {
      const api = await getJson(onHostile.url, '/api/films?q=script');
      assert.match(api.headers.get('content-type')!, /^application\/json; charset=utf-8$/);
      assert.equal(api.headers.get('x-content-type-options'), 'nosniff');
      assert.deepEqual(api.body.films.map((f: any) => f.title), [XSS_TITLE], 'the API gives the data as it is: escaping is the job of the page');
      const page = await fetch(onHostile.url);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type')!, /^text\/html/);
      const csp = page.headers.get('content-security-policy')!;
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      const html = await page.text();
      assert.match(html, /<script src="\/vendor\/chart.umd.min.js"/);
      assert.doesNotMatch(html, /cdn|https?:\/\/(?!en\.wikipedia)/i, 'nothing is fetched from elsewhere');
    });

    test('the page, its script and Chart.js are served from this server', async () => {
      for (const [route, type, marker] of [
        ['/app.js', /^text\/javascript/, 'formatMoney'],
        ['/style.css', /^text\/css/, '.headline'],
        ['/vendor/chart.umd.min.js', /^text\/javascript/, 'Chart.js v4'],
        ['/favicon.svg', /^image\/svg\+xml/, '<svg'],
      ] as const) {
        const response = await fetch(new URL(route, onSample.url));
        assert.equal(response.status, 200, route);
        assert.match(response.headers.get('content-type')!, type);
        assert.ok((await response.text()).includes(marker), route);
      }
      const head = await fetch(new URL('/api/films', onSample.url), { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
      const missing = await fetch(new URL('/../package.json', onSample.url));
      assert.equal(missing.status, 404);
      await missing.text();
      const api404 = await getJson(onSample.url, '/api/nothing');
      assert.equal(api404.status, 404);
      assert.ok(api404.body.endpoints.includes('GET /healthz'));
    });

    test('only GET and HEAD: a write method gets 405', async () => {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const { status, headers, body } = await getJson(onSample.url, '/api/films', { method, body: method === 'DELETE' ? undefined : '{}' });
        assert.equal(status, 405, method);
        assert.equal(headers.get('allow'), 'GET, HEAD');
        assert.match(body.error, /only reads/);
      }
      assert.equal(await filmCount(sample), 49);
    });

    test('the dashboard connection cannot write', async () => {
      const reader = createReader(sample.url);
      try {
        const attempts = [
          "INSERT INTO films (id, title, budget, revenue, ratio, rank, wikipedia_match) VALUES (1, 'x', 1, 1, 1, 999, 'none')",
          'DELETE FROM films',
          'DROP TABLE film_genres',
          'CREATE TABLE intruder (id int)',
          'UPDATE genres SET name = name',
        ];
        for (const sql of attempts) {
          await assert.rejects(
            reader.read((c) => c.query(sql)),
            (err: unknown) => isTrueFilmError(err, 'DB_QUERY') && (err.cause as { code?: string }).code === '25006',
            sql,
          );
        }
        // outside the dashboard's own transactions, the session is read-only too
        await assert.rejects(
          reader.read(async (c) => {
            await c.query('COMMIT');
            await c.query('CREATE TABLE intruder (id int)');
          }),
          (err: unknown) => isTrueFilmError(err) && (err.cause as { code?: string }).code === '25006',
        );
        const shown = await reader.read((c) => c.query<{ default_transaction_read_only: string }>('SHOW default_transaction_read_only'));
        assert.equal(shown.rows[0]!.default_transaction_read_only, 'on');
      } finally {
        await reader.close();
      }
      assert.equal(await filmCount(sample), 49);
      assert.deepEqual(await sample.query(`SELECT to_regclass('intruder') AS t`), [{ t: null }]);
    });

    test('an empty database gets a clear message with the command to run, not an error', async () => {
      const summary = await getJson(onEmpty.url, '/api/summary');
      assert.equal(summary.status, 200);
      assert.equal(summary.body.empty, true);
      assert.match(summary.body.message, /No data has been loaded/);
      assert.match(summary.body.hint, /npm run demo/);
      assert.match(summary.body.hint, /truefilm run/);
      const list = await getJson(onEmpty.url, '/api/films?genre=Drama');
      assert.equal(list.status, 200);
      assert.deepEqual([list.body.empty, list.body.films, list.body.total], [true, [], 0]);
      assert.deepEqual((await getJson(onEmpty.url, '/api/genres')).body.genres, []);
      assert.deepEqual((await getJson(onEmpty.url, '/api/production-companies')).body.companies, []);
      const one = await getJson(onEmpty.url, '/api/films/5');
      assert.equal(one.status, 404);
      assert.equal(one.body.empty, true);
      assert.deepEqual((await getJson(onEmpty.url, '/healthz')).body, { status: 'ok', data: 'empty' });
      assert.equal((await getJson(onEmpty.url, '/api/films?limit=0')).status, 400, 'parameters are still checked');
      assert.equal(await onEmpty.filmsLoaded(), null);
      assert.equal(await onSample.filmsLoaded(), 49);
    });

    test('/healthz answers ok while the database does, and 503 when it does not', async () => {
      assert.deepEqual((await getJson(onSample.url, '/healthz')).body, { status: 'ok', data: 'loaded' });
      const gone = await freshDatabase(server, 'tf_dash');
      const rec = recordingUi();
      const dashboard = await startDashboard({ databaseUrl: gone.url, port: 0, ui: rec.ui });
      try {
        await gone.drop();
        const { status, body } = await getJson(dashboard.url, '/healthz');
        assert.equal(status, 503);
        assert.equal(body.status, 'unavailable');
        assert.match(body.request_id, /^[0-9a-f]{12}$/);
        const api = await getJson(dashboard.url, '/api/summary');
        assert.equal(api.status, 503);
        assert.match(api.body.error, /^The database is not available right now; try again shortly \(request [0-9a-f]{12}\)\.$/);
        // the client learns nothing of the server: no URL, user, host, port or database name
        const { host, port, pathname, username } = new URL(gone.url);
        for (const answer of [body, api.body]) {
          const text = JSON.stringify(answer);
          for (const secret of [host, `:${port}`, pathname.slice(1), `${username}@`, 'postgres://']) {
            assert.ok(!text.includes(secret), `the answer ${text} shows ${secret}`);
          }
        }
        // the log has the details, under the answer's request id
        const logged = rec.warnings.find((w) => w.includes(api.body.request_id)) ?? '';
        assert.match(logged, new RegExp(`request ${api.body.request_id}: GET /api/summary: .*${pathname.slice(1)}.*does not exist`));
        assert.ok(rec.warnings.some((w) => w.includes(body.request_id) && w.includes('GET /healthz')), 'the healthz failure is logged too');
      } finally {
        await dashboard.close();
      }
    });
  });
}

/** Floats computed in two ways (PostgreSQL's avg and percentile_cont, and here) agree to rounding. */
function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual}, expected ${expected}`);
}

function sameGroups(actual: any[], expected: ExpectedGroup[], label: 'genre' | 'company', what: string): void {
  assert.deepEqual(actual.map((g) => g[label]), expected.map((g) => g.name), `${what}: the groups, in order`);
  actual.forEach((g, i) => {
    const e = expected[i]!;
    assert.deepEqual([g.films, g.total_budget, g.total_revenue, g.disputed], [e.films, e.total_budget, e.total_revenue, e.disputed], `${what}: ${e.name}`);
    close(g.mean_ratio, e.mean_ratio, `${what}: ${e.name}'s mean`);
    close(g.median_ratio, e.median_ratio, `${what}: ${e.name}'s median`);
  });
}

/** Every answer of the API about the money check agrees with what the specs say. */
async function answersMatch(base: string, specs: FilmSpec[], what: string): Promise<void> {
  for (const exclude of [false, true]) {
    const flag = exclude ? '?exclude_disputed=1' : '';
    const label = `${what}, exclude_disputed=${exclude ? 1 : 0}`;
    const list = await getJson(base, `/api/films${exclude ? '?exclude_disputed=1&' : '?'}limit=1000`);
    assert.deepEqual(list.body.films.map((f: any) => f.id), expectedIds(specs, exclude), `${label}: the films`);
    assert.equal(list.body.total, expectedIds(specs, exclude).length);
    assert.equal(list.body.filters.exclude_disputed, exclude);
    sameGroups((await getJson(base, `/api/genres${flag}`)).body.genres, expectedGroups(specs, 'genre', exclude), 'genre', `${label}: genres`);
    sameGroups(
      (await getJson(base, `/api/production-companies${flag}`)).body.companies,
      expectedGroups(specs, 'company', exclude),
      'company',
      `${label}: companies`,
    );
    const summary = (await getJson(base, `/api/summary${flag}`)).body;
    const e = expectedSummary(specs, exclude);
    assert.deepEqual(
      [summary.films, summary.left_out, summary.matched, summary.total_budget, summary.total_revenue, summary.genres, summary.companies],
      [e.films, e.left_out, e.matched, e.total_budget, e.total_revenue, e.genres, e.companies],
      `${label}: the summary's counts and totals`,
    );
    close(summary.median_ratio, e.median_ratio, `${label}: the summary's median`);
    assert.deepEqual({ id: summary.best.id, title: summary.best.title, money_check: summary.best.money_check }, e.best, `${label}: the best film`);
    assert.deepEqual(
      { confirmed: summary.money.confirmed, disputed: summary.money.disputed, unchecked: summary.money.unchecked },
      e.money,
      `${label}: the money counts are the whole load's`,
    );
    assert.equal(summary.exclude_disputed, exclude);
  }
}

for (const server of servers) {
  describe(`the money check in the API on the ${server.name} PostgreSQL`, () => {
    let db: TestDatabase;
    let dashboard: RunningDashboard;
    before(async () => {
      db = await freshDatabase(server, 'tf_dash');
      await loadFilms(db, moneyFilms(), MONEY_REPORT);
      dashboard = await dashboardOn(db);
    });
    after(async () => {
      await dashboard?.close();
      await db?.drop();
    });

    test('film rows carry the verdict and both pairs of figures; exclude_disputed=1 leaves the disputed films out', async () => {
      const { body } = await getJson(dashboard.url, '/api/films?limit=1000');
      for (const spec of MONEY_SPECS) {
        const row = body.films.find((f: any) => f.id === spec.id);
        assert.deepEqual(
          [row.budget, row.revenue, row.money_check, row.wikidata_budget, row.wikidata_revenue],
          [spec.budget, spec.revenue, spec.money?.check ?? 'unchecked', spec.money?.wikidataBudget ?? null, spec.money?.wikidataRevenue ?? null],
          spec.title,
        );
      }
      const kept = await getJson(dashboard.url, '/api/films?exclude_disputed=1&limit=1000');
      assert.deepEqual(kept.body.films.map((f: any) => f.id), expectedIds(MONEY_SPECS, true));
      assert.ok(kept.body.films.every((f: any) => f.money_check !== 'disputed'), 'no disputed film is listed');
      const zero = await getJson(dashboard.url, '/api/films?exclude_disputed=0&limit=1000');
      assert.deepEqual(zero.body, body, 'exclude_disputed=0 is the default');
      // with the other filters: Thriller has 202, 203 (disputed) and 206 (disputed)
      const thriller = await getJson(dashboard.url, '/api/films?genre=Thriller&exclude_disputed=1');
      assert.deepEqual(thriller.body.films.map((f: any) => f.id), [202]);
      const harbor = await getJson(dashboard.url, `/api/films?company=${encodeURIComponent('Harbor Films')}&exclude_disputed=1&sort=budget`);
      assert.deepEqual(harbor.body.films.map((f: any) => f.id), [207, 202]);
      const one = await getJson(dashboard.url, '/api/films/206');
      assert.deepEqual([one.body.money_check, one.body.wikidata_budget, one.body.wikidata_revenue], ['disputed', 30_000_000, 80_000_000]);
    });

    test('the aggregates and the headline, with and without the disputed films, are what the films say', async () => {
      await answersMatch(dashboard.url, MONEY_SPECS, 'the money films');
      // a group whose only film is disputed is gone without it
      const genres = (await getJson(dashboard.url, '/api/genres?exclude_disputed=1')).body.genres.map((g: any) => g.genre);
      assert.ok(!genres.includes('Science Fiction'), 'Science Fiction had only a disputed film');
      const min = await getJson(dashboard.url, '/api/production-companies?min_films=2&exclude_disputed=1');
      assert.deepEqual(
        min.body.companies.map((c: any) => c.company),
        expectedGroups(MONEY_SPECS, 'company', true).filter((g) => g.films >= 2).map((g) => g.name),
      );
      const summary = (await getJson(dashboard.url, '/api/summary')).body;
      assert.deepEqual(summary.money, { confirmed: 3, disputed: 4, unchecked: 2, status: 'ok', other_currency: 1, conversion: 'none' });
    });

    test('a large answer goes gzipped to a client that takes gzip, and as it is to one that does not', async () => {
      const raw = (encoding: string) =>
        new Promise<{ headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
          http
            .get(new URL('/api/films?limit=1000', dashboard.url), { headers: { 'accept-encoding': encoding } }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
            })
            .on('error', reject);
        });
      const plain = await raw('identity');
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.ok(plain.body.length >= 1400, `a body of ${plain.body.length} bytes is worth compressing`);
      for (const encoding of ['gzip, deflate, br', 'br;q=1.0, gzip;q=0.8']) {
        const packed = await raw(encoding);
        assert.equal(packed.headers['content-encoding'], 'gzip', encoding);
        assert.equal(packed.headers.vary, 'Accept-Encoding');
        assert.deepEqual(gunzipSync(packed.body), plain.body, 'the same answer');
      }
      assert.equal((await raw('gzip;q=0')).headers['content-encoding'], undefined, 'q=0 refuses gzip');
      const tiny = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
        http.get(new URL('/api/films/202', dashboard.url), { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          res.resume();
          resolve(res.headers);
        }).on('error', reject);
      });
      assert.equal(tiny['content-encoding'], undefined, 'a small answer goes as it is');
    });

    test('the views themselves count the disputed films of each group', async () => {
      const view = await db.query<{ genre: string; films: number; disputed: number }>('SELECT genre, films, disputed FROM genre_performance');
      const expected = expectedGroups(MONEY_SPECS, 'genre', false);
      assert.deepEqual(
        view.map((r) => [r.genre, r.films, r.disputed]).sort(),
        expected.map((g) => [g.name, g.films, g.disputed]).sort(),
      );
    });

    test('a new load is what the next request sees: load, read, load again, read', async () => {
      const loaded = await freshDatabase(server, 'tf_dash');
      const reading = await dashboardOn(loaded);
      try {
        await loadFilms(loaded, moneyFilms(), MONEY_REPORT);
        await answersMatch(reading.url, MONEY_SPECS, 'the first load');
        const first = (await getJson(reading.url, '/api/films/201')).body;
        assert.equal(first.money_check, 'disputed');
        // the second load: 201 is gone, 203 is confirmed now, a new disputed film, other figures
        const second: FilmSpec[] = [
          ...MONEY_SPECS.filter((f) => f.id !== 201).map((f) =>
            f.id === 203 ? { ...f, money: { check: 'confirmed' as const, wikidataBudget: 2_100_000, wikidataRevenue: 88_000_000 } } : f,
          ),
          { id: 210, title: 'Second Wind', budget: 20_000, revenue: 9_000_000, year: 2016, genres: [{ id: 18, name: 'Drama' }], companies: [{ id: 603, name: 'Harbor Films' }], money: { check: 'disputed', wikidataBudget: 4_000_000, wikidataRevenue: null } },
        ];
        await loadFilms(loaded, moneyFilms(second), MONEY_REPORT);
        await answersMatch(reading.url, second, 'the second load');
        assert.equal((await getJson(reading.url, '/api/films/201')).status, 404, 'a film of the first load only');
        assert.equal((await getJson(reading.url, '/api/films/203')).body.money_check, 'confirmed');
        // and every answer is byte for byte what a dashboard that never saw the first load gives
        const fresh = await dashboardOn(loaded);
        try {
          for (const route of ['/api/summary', '/api/summary?exclude_disputed=1', '/api/genres', '/api/genres?exclude_disputed=1', '/api/production-companies?min_films=2', '/api/films?limit=5&sort=budget', '/api/films/210']) {
            const [kept, anew] = await Promise.all([fetch(new URL(route, reading.url)), fetch(new URL(route, fresh.url))]);
            assert.equal(await kept.text(), await anew.text(), route);
          }
        } finally {
          await fresh.close();
        }
      } finally {
        await reading.close();
        await loaded.drop();
      }
    });

    test('every connection busy: a request waits its turn, and past the wait it is told "busy", not "down"', async () => {
      const rec = recordingUi();
      const busy = await startDashboard({ databaseUrl: db.url, port: 0, ui: rec.ui, pool: { poolSize: 2, queueWaitMs: 300 } });
      const locker = new pg.Client({ connectionString: db.url });
      await locker.connect();
      try {
        assert.equal((await getJson(busy.url, '/api/summary')).status, 200, 'kept from before the lock');
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE films IN ACCESS EXCLUSIVE MODE');
        // two answers not kept yet take both connections, and wait on the lock
        const held = ['/api/films?q=a', '/api/films?q=e'].map((route) => getJson(busy.url, route));
        // (asked outside the locker's transaction, which would see one snapshot of the statistics)
        for (;;) {
          const [{ n }] = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'truefilm-dashboard' AND wait_event_type = 'Lock' AND datname = current_database()`,
          );
          if (n === 2) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const turned = await getJson(busy.url, '/api/films?q=i');
        assert.equal(turned.status, 503);
        assert.match(turned.body.error, /^The dashboard is busy: every connection to the database stayed busy; try again shortly \(request [0-9a-f]{12}\)\.$/);
        assert.equal(turned.headers.get('retry-after'), '1');
        assert.ok(rec.warnings.some((w) => w.includes(turned.body.request_id) && /all 2 connections to PostgreSQL .* stayed busy for 0.3 s/.test(w)), rec.warnings.join('\n'));
        // a kept answer needs no connection of the pool: it is given at once
        assert.equal((await getJson(busy.url, '/api/summary')).status, 200);
        const health = await getJson(busy.url, '/healthz');
        assert.deepEqual([health.status, health.body.status], [503, 'busy'], '/healthz tells busy from down too');
        await locker.query('COMMIT');
        for (const answer of await Promise.all(held)) assert.equal(answer.status, 200, 'the held requests are answered once the lock goes');
        assert.equal((await getJson(busy.url, '/api/films?q=i')).status, 200, 'and the turned-away one on a second try');
      } finally {
        await locker.end();
        await busy.close();
      }
    });
  });
}

describe('starting and stopping the dashboard', () => {
  let db: TestDatabase;
  let tmp: string;
  before(async () => {
    db = await sharedSample(servers[0]!);
    tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-dash-'));
    // as root, the embedded server runs as the postgres user, which must reach the data directory
    await chmod(tmp, 0o755);
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  test('a port in use is a DASHBOARD_LISTEN error that says what to do', async () => {
    const first = await startDashboard({ databaseUrl: db.url, port: 0 });
    try {
      await assert.rejects(startDashboard({ databaseUrl: db.url, port: first.port }), (err: unknown) => {
        assert.ok(isTrueFilmError(err, 'DASHBOARD_LISTEN'));
        assert.match(err.message, new RegExp(`port ${first.port} is already in use`));
        assert.match(err.hint!, /--port/);
        return true;
      });
    } finally {
      await first.close();
    }
  });

  test('`truefilm dashboard` prints the address, serves, and stops on Ctrl-C', async () => {
    const port = await closedPort();
    const cli = await startCliDashboard(['--port', String(port)], { DATABASE_URL: db.url });
    assert.equal(cli.url, `http://127.0.0.1:${port}/`);
    assert.match(cli.stdout(), /49 films loaded/);
    const password = decodeURIComponent(new URL(db.url).password);
    if (password) assert.ok(!cli.stdout().includes(password), 'the password is masked');
    assert.deepEqual((await getJson(cli.url, '/healthz')).body, { status: 'ok', data: 'loaded' });
    assert.equal((await getJson(cli.url, '/api/films?limit=1')).body.films[0].rank, 1);
    const { status, stderr } = await cli.stop();
    assert.equal(status, 130, stderr);
    await assert.rejects(fetch(cli.url), 'nothing listens after Ctrl-C');
  });

  test('--host 0.0.0.0 prints an address to open on this machine', async () => {
    const port = await closedPort();
    const cli = await startCliDashboard(['--host', '0.0.0.0', '--port', String(port), '--database-url', db.url]);
    try {
      assert.equal(cli.url, `http://localhost:${port}/`);
      assert.equal((await getJson(`http://127.0.0.1:${port}/`, '/healthz')).status, 200);
    } finally {
      assert.equal((await cli.stop()).status, 130);
    }
  });

  test('without DATABASE_URL it starts the embedded PostgreSQL, says no data is loaded, and stops it', async () => {
    const port = await closedPort();
    const dataDir = path.join(tmp, 'data');
    const cli = await startCliDashboard(['--port', String(port), '--data-dir', dataDir]);
    let stopped = false;
    try {
      assert.match(cli.stdout(), /the embedded PostgreSQL \(postgres:\/\/postgres:\*\*\*\*@/);
      assert.match(cli.stdout(), /no data has been loaded yet: run `npm run demo`/);
      const { body } = await getJson(cli.url, '/api/summary');
      assert.equal(body.empty, true);
      const { status, stderr } = await cli.stop();
      stopped = true;
      assert.equal(status, 130, stderr);
    } finally {
      if (!stopped) await cli.stop();
    }
  });
});
