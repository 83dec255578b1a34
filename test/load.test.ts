/**
 * The load's guarantees against real PostgreSQL: a run replaces the previous
 * load atomically, a failed or killed run leaves it complete and readable,
 * two runs never interleave, and missing privileges are named.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { parseCommandLine } from '../src/config.js';
import { isTrueFilmError } from '../src/errors.js';
import { runPipeline } from '../src/pipeline.js';
import { SAMPLE, runCli } from './helpers/cli.js';
import { closeTestServers, freshDatabase, testServers, withDatabaseName, type TestDatabase, type TestServer } from './helpers/pg.js';
import { quiet } from './helpers/recorder.js';

const SAMPLE_CSV = path.join(SAMPLE, 'movies_metadata.csv');

let servers: TestServer[] = [];
let tmp: string;
before(async () => {
  servers = await testServers();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-load-'));
});
after(async () => {
  await closeTestServers();
  await rm(tmp, { recursive: true, force: true });
});

function config(db: TestDatabase, top: number) {
  const c = parseCommandLine(
    ['run', '--metadata', SAMPLE_CSV, '--top', String(top), '--offline', '--database-url', db.url, '--data-dir', tmp, '--no-progress'],
    {},
  );
  assert.equal(c.command, 'run');
  return c as Extract<typeof c, { command: 'run' }>;
}

async function snapshot(db: TestDatabase) {
  return {
    films: await db.query('SELECT * FROM films ORDER BY rank'),
    genres: await db.query('SELECT * FROM genres ORDER BY id'),
    links: await db.query('SELECT * FROM film_genres ORDER BY film_id, genre_id'),
    companies: await db.query('SELECT * FROM film_production_companies ORDER BY film_id, company_id'),
    view: await db.query('SELECT * FROM genre_performance'),
    loads: await db.query('SELECT count(*)::int AS n FROM truefilm_loads'),
    staging: await db.query(`SELECT nspname FROM pg_namespace WHERE nspname = 'truefilm_staging'`),
  };
}

/** A promise with its resolve function. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

for (const serverName of ['embedded', 'local'] as const) {
  describe(`atomic replace on the ${serverName} server`, () => {
    let db: TestDatabase | null = null;
    let server: TestServer | undefined;
    before(async () => {
      server = servers.find((s) => s.name === serverName);
      if (server) db = await freshDatabase(server);
    });
    after(async () => db?.drop());
    const need = (t: { skip: (m: string) => void }) => {
      if (!db) t.skip(`no ${serverName} PostgreSQL server answers`);
      return db;
    };

    test('a run that fails after COPY leaves the previous load complete; readers never see the new rows early', async (t) => {
      const d = need(t);
      if (!d) return;
      await runPipeline(config(d, 20), quiet, new AbortController().signal);
      const previous = await snapshot(d);
      assert.equal(previous.films.length, 20);

      let seenDuringLoad: unknown[] = [];
      await assert.rejects(
        runPipeline(config(d, 40), quiet, new AbortController().signal, {
          beforeSwap: async (client) => {
            const [{ n }] = (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM truefilm_staging.films')).rows as [{ n: number }];
            assert.equal(n, 40, 'the new rows are COPYed before the swap');
            seenDuringLoad = await d.query('SELECT * FROM films ORDER BY rank');
            throw new Error('injected failure after COPY');
          },
        }),
        /injected failure after COPY/,
      );
      assert.deepEqual(seenDuringLoad, previous.films, 'a reader during the load sees the previous load');
      assert.deepEqual(await snapshot(d), previous, 'the previous load is untouched');

      // and the next run succeeds and replaces it
      await runPipeline(config(d, 40), quiet, new AbortController().signal);
      const next = await snapshot(d);
      assert.equal(next.films.length, 40);
      assert.equal((next.loads[0] as { n: number }).n, 2);
      assert.deepEqual(next.staging, []);
    });

    test('the connection killed during the load (pg_terminate_backend): a clear error, the previous load intact', async (t) => {
      const d = need(t);
      if (!d) return;
      await runPipeline(config(d, 15), quiet, new AbortController().signal);
      const previous = await snapshot(d);
      const err = await runPipeline(config(d, 30), quiet, new AbortController().signal, {
        beforeSwap: async (client) => {
          const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
          await d.query('SELECT pg_terminate_backend($1)', [pid]);
          await client.query('SELECT 1'); // the next statement meets the closed connection
        },
      }).then(
        () => assert.fail('the run should fail'),
        (e: unknown) => e,
      );
      assert.ok(isTrueFilmError(err, 'DB_UNREACHABLE'), `got ${String(err)}`);
      assert.match((err as Error).message, /lost the connection to PostgreSQL at 127\.0\.0\.1:\d+ while/);
      assert.match((err as { hint: string }).hint, /nothing of this run was committed/);
      assert.deepEqual(await snapshot(d), previous);
    });

    test('two runs at once: the second fails at once naming the first; the first completes', async (t) => {
      const d = need(t);
      if (!d) return;
      const reached = gate();
      const release = gate();
      const first = runPipeline(config(d, 10), quiet, new AbortController().signal, {
        beforeSwap: async () => {
          reached.open();
          await release.opened;
        },
      });
      await reached.opened;
      const second = await runCli(['run', '--metadata', SAMPLE_CSV, '--top', '5', '--offline', '--no-progress', '--database-url', d.url, '--data-dir', tmp]);
      release.open();
      await first;
      assert.equal(second.status, 1);
      assert.match(second.stderr, /another TrueFilm run is loading into this database \(server process \d+, truefilm run/);
      assert.equal((await d.query('SELECT count(*)::int AS n FROM films'))[0]!.n, 10);
    });

    test('a role without CREATE rights: exit 1 naming the privilege and how to grant it', async (t) => {
      const d = need(t);
      if (!d || !server) return;
      const role = `tf_reader_${randomBytes(4).toString('hex')}`;
      const password = randomBytes(9).toString('hex');
      await d.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
      await d.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
      try {
        const u = new URL(withDatabaseName(server.adminUrl, d.name));
        u.username = role;
        u.password = password;
        const result = await runCli(['run', '--metadata', SAMPLE_CSV, '--offline', '--no-progress', '--database-url', u.toString(), '--data-dir', tmp]);
        assert.equal(result.status, 1, result.stderr);
        assert.match(result.stderr, new RegExp(`user "${role}" lacks a privilege while preparing the load: permission denied for database`));
        assert.match(result.stderr, /GRANT CREATE ON DATABASE/);
        assert.ok(!result.stderr.includes(password), 'the password is never printed');
        assert.match(result.stderr, new RegExp(`${role}:\\*\\*\\*\\*@`));
      } finally {
        const c = new pg.Client({ connectionString: d.url });
        await c.connect();
        await c.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`).catch(() => {});
        await c.end();
      }
    });
  });
}
