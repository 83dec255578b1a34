/**
 * Interrupts: SIGINT and SIGTERM while a run is loading. The run is held
 * inside its load transaction by a session that locks the previous load's
 * films against writing (its swap waits for that lock; plain readers would
 * not hold it), which makes "during the load" deterministic.
 * Then: exit 130/143, the previous load untouched and readable, no staging
 * schema left, the embedded server stopped cleanly, and the next run succeeds.
 */
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { SAMPLE, runCli, type CliResult } from '../helpers/cli.js';
import { csvWith } from '../helpers/selection.js';
import { startSparqlServer } from '../helpers/sparql-server.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase, type TestServer } from '../helpers/pg.js';

const SAMPLE_CSV = path.join(SAMPLE, 'movies_metadata.csv');
let servers: TestServer[] = [];
let tmp: string;
before(async () => {
  servers = await testServers();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-signals-'));
  await chmod(tmp, 0o755);
});
after(async () => {
  await closeTestServers();
  await rm(tmp, { recursive: true, force: true });
});

const args = (top: number, extra: string[]) => ['run', '--metadata', SAMPLE_CSV, '--top', String(top), '--offline', '--no-progress', ...extra];

/** Opens a transaction that locks `films` against writers and keeps the lock until released. */
async function holdReader(url: string): Promise<{ release: () => Promise<void> }> {
  const reader = new pg.Client({ connectionString: url });
  reader.on('error', () => {}); // the embedded server goes away under it in one test
  await reader.connect();
  await reader.query('BEGIN');
  await reader.query('LOCK TABLE films IN SHARE MODE');
  return {
    release: async () => {
      await reader.query('COMMIT');
      await reader.end();
    },
  };
}

/** Waits until the run's connection waits for a lock (it is inside its load, at the swap). */
async function untilRunWaitsForLock(url: string, child: ChildProcess): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) throw new Error(`the run exited (${child.exitCode}) before reaching its swap`);
      const { rows } = await c.query(
        `SELECT 1 FROM pg_stat_activity WHERE application_name = 'truefilm run' AND wait_event_type = 'Lock' AND datname = current_database()`,
      );
      if (rows.length > 0) return;
      await sleep(50);
    }
    throw new Error('the run never waited at its swap');
  } finally {
    await c.end();
  }
}

async function state(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return {
      films: (await c.query('SELECT id, rank FROM films ORDER BY rank')).rows,
      loads: (await c.query('SELECT count(*)::int AS n FROM truefilm_loads')).rows[0].n as number,
      staging: (await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'truefilm_staging'`)).rowCount,
      // in this database only: other test files share the server
      locks: (await c.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rowCount,
    };
  } finally {
    await c.end();
  }
}

for (const [signal, status] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  describe(`${signal} during the load`, () => {
    for (const serverName of ['embedded', 'local'] as const) {
      test(`with DATABASE_URL (${serverName} server): exit ${status}, the previous load untouched, the next run succeeds`, async (t) => {
        const server = servers.find((s) => s.name === serverName);
        if (!server) return t.skip(`no ${serverName} server answers`);
        const db: TestDatabase = await freshDatabase(server);
        try {
          const first = await runCli(args(20, ['--database-url', db.url, '--data-dir', tmp]));
          assert.equal(first.status, 0, first.stderr);
          const before = await state(db.url);
          const reader = await holdReader(db.url);
          let child!: ChildProcess;
          const running = runCli(args(40, ['--database-url', db.url, '--data-dir', tmp]), { onSpawn: (c) => (child = c) });
          await untilRunWaitsForLock(db.url, child);
          child.kill(signal);
          const result: CliResult = await running;
          await reader.release();
          assert.equal(result.status, status, result.stderr);
          assert.match(result.stderr, new RegExp(`stopped by ${signal}; the previous load, if any, is untouched`));
          assert.deepEqual(await state(db.url), before);
          const next = await runCli(args(40, ['--database-url', db.url, '--data-dir', tmp]));
          assert.equal(next.status, 0, next.stderr);
          assert.equal((await state(db.url)).films.length, 40);
        } finally {
          await db.drop();
        }
      });
    }

    test('with the embedded server of --data-dir: it is shut down cleanly, and the next run starts it again', async () => {
      const dataDir = path.join(tmp, `embedded-${signal}`);
      const first = await runCli(args(20, ['--data-dir', dataDir]));
      assert.equal(first.status, 0, first.stderr);
      const password = (await readFile(path.join(dataDir, '.pg-password'), 'utf8')).trim();
      const pidFile = path.join(dataDir, 'pgdata', 'postmaster.pid');

      // Wikidata holds the run in its matching stage until the reader is in place: the run starts its own
      // server, so the reader can only come once it is up, and must come before the run reaches its swap
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const sparql = await startSparqlServer({ table: {}, faults: async () => (await released, null) });
      let child!: ChildProcess;
      const running = runCli(
        ['run', '--metadata', SAMPLE_CSV, '--top', '40', '--no-progress', '--data-dir', dataDir, '--sparql-endpoint', sparql.url, '--wikipedia-endpoint', `${sparql.url}/none/`],
        { onSpawn: (c) => (child = c) },
      );
      await sparql.whenInFlight(1);
      const text = await readFile(pidFile, 'utf8');
      const port = Number(text.split('\n')[3]);
      assert.ok(port > 0, 'the run started the embedded server');
      const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/truefilm`;
      const before = await state(url);
      const reader = await holdReader(url);
      release();
      await untilRunWaitsForLock(url, child);
      await sparql.close();
      const serverPid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
      child.kill(signal);
      const result = await running;
      await reader.release().catch(() => {}); // the server may be gone already
      assert.equal(result.status, status, result.stderr);
      assert.ok(
        await readFile(pidFile).then(
          () => false,
          () => true,
        ),
        'postmaster.pid is gone: the server shut down cleanly',
      );
      assert.throws(() => process.kill(serverPid, 0), /ESRCH/);

      const next = await runCli(args(30, ['--data-dir', dataDir, '--report', path.join(dataDir, 'r.json')]));
      assert.equal(next.status, 0, next.stderr);
      assert.equal(before.films.length, 20);
      assert.equal(JSON.parse(await readFile(path.join(dataDir, 'r.json'), 'utf8')).load.films, 30);
    });
  });
}

describe('Ctrl-C during the matching stage', () => {
  test('Wikidata still answering while the scan waits: the requests and the worker pool stop, exit 130, nothing loaded', async () => {
    const server = servers[0]!;
    const db = await freshDatabase(server);
    // a Wikidata that takes its time: the run sits in the matching stage, the scan's pool alive
    const sparql = await startSparqlServer({ table: {}, faults: () => ({ kind: 'slow', delayMs: 60_000 }) });
    try {
      const first = await runCli(args(10, ['--database-url', db.url, '--data-dir', tmp]));
      assert.equal(first.status, 0, first.stderr);
      const before = await state(db.url);
      let child!: ChildProcess;
      const running = runCli(
        [
          'run',
          '--metadata',
          SAMPLE_CSV,
          '--abstracts',
          path.join(SAMPLE, 'enwiki-abstract-sample.xml'),
          '--sparql-endpoint',
          sparql.url,
          '--database-url',
          db.url,
          '--data-dir',
          path.join(tmp, 'scan-interrupt'),
          '--no-progress',
        ],
        { onSpawn: (c) => (child = c) },
      );
      await sparql.whenInFlight(1);
      child.kill('SIGINT');
      const result = await running;
      assert.equal(result.status, 130, result.stderr);
      assert.equal(sparql.requests[0]!.abandoned, true, 'it stopped before the 60 s answer came, not after');
      assert.deepEqual(await state(db.url), before);
      assert.ok(sparql.requests.every((r) => r.abandoned || r.status !== undefined));
    } finally {
      await sparql.close();
      await db.drop();
    }
  });
});

describe('SIGTERM while the CSV is read', () => {
  /** What a run left in a database that held no load before it: its load lock, a films table. */
  async function leftBehind(url: string): Promise<{ locks: number; films: boolean }> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query(
        `SELECT (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory'
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS locks,
                to_regclass('films') IS NOT NULL AS films`,
      );
      return rows[0];
    } finally {
      await c.end();
    }
  }

  /** Waits until the run has a connection to db in this state (and, with `locked`, holds the load lock). */
  async function untilRun(url: string, child: ChildProcess, locked: boolean): Promise<void> {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`the run exited (${child.exitCode}) too soon`);
        const { rows } = await c.query(
          `SELECT a.state, (SELECT count(*)::int FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory') AS locks
             FROM pg_stat_activity a WHERE a.application_name = 'truefilm run' AND a.datname = current_database()`,
        );
        if (rows.some((r) => r.state === 'idle' && (r.locks > 0) === locked)) return;
        await sleep(50);
      }
    } finally {
      await c.end();
    }
  }

  test('a FIFO that no writer opens: exit 143 at once, no lock held', async () => {
    const db = await freshDatabase(servers[0]!);
    try {
      const fifo = path.join(tmp, 'never.fifo');
      execFileSync('mkfifo', [fifo]);
      let child!: ChildProcess;
      const running = runCli(['run', '--metadata', fifo, '--offline', '--no-progress', '--database-url', db.url, '--data-dir', tmp], {
        onSpawn: (c) => (child = c),
        timeoutMs: 60_000,
      });
      await untilRun(db.url, child, false);
      child.kill('SIGTERM');
      const result = await running;
      assert.equal(result.status, 143, `${result.signal ?? ''} ${result.stderr}`);
      assert.match(result.stderr, /stopped by SIGTERM/);
      assert.deepEqual(await leftBehind(db.url), { locks: 0, films: false });
    } finally {
      await db.drop();
    }
  });

  test('stdin that never ends, past its header: the lock is taken, and SIGTERM stops the reading (exit 143, nothing loaded)', async () => {
    const db = await freshDatabase(servers[0]!);
    try {
      const csv = csvWith([{}]);
      const row = Buffer.from(csv.slice(csv.indexOf('\n') + 1).repeat(1000));
      let child!: ChildProcess;
      const running = runCli(['run', '--metadata', '-', '--offline', '--no-progress', '--database-url', db.url, '--data-dir', tmp], {
        onSpawn: (c) => {
          child = c;
          const stdin = c.stdin!;
          stdin.on('error', () => {}); // EPIPE once the run has stopped
          stdin.write(csv);
          const more = (): void => {
            while (!stdin.destroyed && stdin.write(row));
            if (!stdin.destroyed) stdin.once('drain', more);
          };
          more();
        },
        timeoutMs: 60_000,
      });
      await untilRun(db.url, child, true);
      child.kill('SIGTERM');
      const result = await running;
      child.stdin!.destroy();
      assert.equal(result.status, 143, `${result.signal ?? ''} ${result.stderr}`);
      assert.deepEqual(await leftBehind(db.url), { locks: 0, films: false });
    } finally {
      await db.drop();
    }
  });
});
