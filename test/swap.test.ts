/**
 * The swap under concurrent readers (SPEC section 5): while runs replace the
 * load again and again, dashboard readers in a loop never get an error, never
 * an empty answer, and never a mix of two loads: each answer is the previous
 * load or the new one, whole.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseCommandLine } from '../src/config.js';
import { startDashboard } from '../src/dashboard/command.js';
import { runPipeline } from '../src/pipeline.js';
import { SAMPLE } from './helpers/cli.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase, type TestServer } from './helpers/pg.js';
import { quiet } from './helpers/recorder.js';

const SAMPLE_CSV = path.join(SAMPLE, 'movies_metadata.csv');
const SWAPS = 12;
const READERS = 8;
/** the two loads that alternate: --top 20 and --top 40 */
const SIZES = [20, 40];

let servers: TestServer[] = [];
let tmp: string;
before(async () => {
  servers = await testServers();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-swap-'));
});
after(async () => {
  await closeTestServers();
  await rm(tmp, { recursive: true, force: true });
});

function load(db: TestDatabase, top: number): Promise<unknown> {
  const config = parseCommandLine(
    ['run', '--metadata', SAMPLE_CSV, '--top', String(top), '--offline', '--database-url', db.url, '--data-dir', tmp, '--no-progress'],
    {},
  );
  assert.equal(config.command, 'run');
  return runPipeline(config as Extract<typeof config, { command: 'run' }>, quiet, new AbortController().signal);
}

interface Tally {
  answers: number;
  errors: string[];
  empty: string[];
  mixed: string[];
}

/** What one answer says is wrong with it, if anything. */
async function readOnce(base: string, n: number, tally: Tally): Promise<void> {
  const which = ['/api/films?limit=50', '/api/genres', '/api/summary', '/api/production-companies?min_films=1'][n % 4]!;
  let status = 0;
  let body: any;
  try {
    const response = await fetch(new URL(which, base));
    status = response.status;
    body = await response.json();
  } catch (err) {
    tally.errors.push(`${which}: ${(err as Error).message}`);
    return;
  }
  tally.answers++;
  if (status !== 200) {
    tally.errors.push(`${which}: ${status} ${JSON.stringify(body).slice(0, 200)}`);
    return;
  }
  if (which.startsWith('/api/films')) {
    if (body.films.length === 0) tally.empty.push(which);
    else if (!SIZES.includes(body.total) || body.films.length !== body.total) tally.mixed.push(`${which}: total ${body.total}, ${body.films.length} films`);
  } else if (which === '/api/genres') {
    if (body.genres.length === 0) tally.empty.push(which);
  } else if (which === '/api/summary') {
    if (body.empty !== false || body.films === 0) tally.empty.push(which);
    else if (!SIZES.includes(body.films)) tally.mixed.push(`${which}: ${body.films} films`);
  } else if (body.companies.length === 0) tally.empty.push(which);
}

for (const serverName of ['embedded', 'local'] as const) {
  describe(`the swap under concurrent readers on the ${serverName} server`, () => {
    test(`${SWAPS} swaps while ${READERS} readers loop: no error, no empty answer, no mix of two loads`, async (t) => {
      const server = servers.find((s) => s.name === serverName);
      if (!server) return t.skip(`no ${serverName} PostgreSQL server answers`);
      const db = await freshDatabase(server);
      const dashboard = await startDashboard({ databaseUrl: db.url, port: 0, host: '127.0.0.1' });
      try {
        await load(db, SIZES[0]!);
        const oid = async () => (await db.query<{ oid: number }>(`SELECT 'public.films'::regclass::oid AS oid`))[0]!.oid;
        const films = await oid();
        const tally: Tally = { answers: 0, errors: [], empty: [], mixed: [] };
        let swapping = true;
        const readers = Array.from({ length: READERS }, async (_, r) => {
          for (let n = r; swapping; n++) await readOnce(dashboard.url, n, tally);
        });
        try {
          for (let swap = 1; swap <= SWAPS; swap++) await load(db, SIZES[swap % 2]!);
        } finally {
          swapping = false;
          await Promise.all(readers);
        }
        assert.ok(tally.answers > 0, 'the readers got answers');
        assert.deepEqual(tally.errors, [], `errors among ${tally.answers} answers`);
        assert.deepEqual(tally.empty, [], `empty answers among ${tally.answers}`);
        assert.deepEqual(tally.mixed, [], `answers mixing two loads among ${tally.answers}`);
        const loads = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM truefilm_loads');
        assert.equal(loads[0]!.n, SWAPS + 1, 'every swap committed');
        assert.equal(await oid(), films, 'the swaps replaced rows: films is the same table');
      } finally {
        await dashboard.close();
        await db.drop();
      }
    });
  });
}

test('tables of another shape (an older release): the load replaces them by tables of the current shape', async () => {
  const db = await freshDatabase(servers[0]!);
  try {
    await db.query(`CREATE TABLE films (id integer PRIMARY KEY, title text)`);
    await db.query(`INSERT INTO films VALUES (1, 'from an older release')`);
    await load(db, 20);
    const films = await db.query<{ n: number; shape: string }>(
      `SELECT count(*)::int AS n, obj_description('public.films'::regclass, 'pg_class') AS shape FROM films`,
    );
    assert.equal(films[0]!.n, 20);
    assert.match(films[0]!.shape, /^truefilm load shape [0-9a-f]{16}$/);
    await db.query(`COMMENT ON TABLE films IS 'truefilm load shape 0000000000000000'`);
    const before = (await db.query<{ oid: number }>(`SELECT 'public.films'::regclass::oid AS oid`))[0]!.oid;
    await load(db, 40);
    const after = await db.query<{ oid: number; n: number; views: number }>(
      `SELECT 'public.films'::regclass::oid AS oid, (SELECT count(*)::int FROM films) AS n,
              (SELECT count(*)::int FROM genre_performance) AS views`,
    );
    assert.notEqual(after[0]!.oid, before, 'a shape that differs gets new tables');
    assert.equal(after[0]!.n, 40);
    assert.ok(after[0]!.views > 0, 'the views were made again over the new tables');
  } finally {
    await db.drop();
  }
});
