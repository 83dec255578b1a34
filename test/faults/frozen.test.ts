/**
 * A frozen database: the test's own PostgreSQL stopped with SIGSTOP (the
 * postmaster and every backend) at the moment the run's first COPY data
 * reaches it, held there by a proxy that reads the protocol. SIGTERM then ends
 * the run (exit 143); without one, the run gives up after TRUEFILM_DB_TIMEOUT
 * with a message that says so. Either way the previous load is intact once
 * the server runs again. And a dashboard whose connection meets a frozen
 * server answers 503 instead of hanging, and stops on SIGTERM.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';
import { SAMPLE, runCli, type CliResult } from '../helpers/cli.js';
import { startCliDashboard } from '../helpers/dashboard.js';
import { startPgProxy } from '../helpers/pg-proxy.js';
import { quiet } from '../helpers/recorder.js';

const SAMPLE_CSV = path.join(SAMPLE, 'movies_metadata.csv');
let tmp: string;
let server: EmbeddedServer;
/** processes stopped by a test, continued in `after` whatever happened */
const frozen = new Set<number>();

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-frozen-'));
  await chmod(tmp, 0o755); // as root, the server runs as the postgres user
  server = await startEmbedded(path.join(tmp, 'own-server'), { ui: quiet, port: 0 });
});
after(async () => {
  thaw();
  await server?.stop();
  await rm(tmp, { recursive: true, force: true });
});

/** The server's postmaster and its children (backends and helpers). */
async function serverProcesses(): Promise<number[]> {
  const postmaster = Number((await readFile(path.join(server.clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        // the parent pid is the 4th field, after the command name in parentheses
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

async function freeze(): Promise<void> {
  for (const pid of await serverProcesses()) {
    process.kill(pid, 'SIGSTOP');
    frozen.add(pid);
  }
}

function thaw(): void {
  for (const pid of frozen) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone already
    }
  }
  frozen.clear();
}

async function state() {
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    // the run's connection is gone once the server notices its socket closed, and its transaction with it
    for (let i = 0; i < 600; i++) {
      const { rowCount } = await c.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'truefilm run'`);
      if (!rowCount) break;
      await sleep(50);
    }
    return {
      films: (await c.query('SELECT id, rank FROM films ORDER BY rank')).rows,
      loads: (await c.query('SELECT count(*)::int AS n FROM truefilm_loads')).rows[0].n as number,
      staging: (await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'truefilm_staging'`)).rowCount,
      runs: (await c.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'truefilm run'`)).rowCount,
    };
  } finally {
    await c.end();
  }
}

const run = (url: string, top: number, options: Parameters<typeof runCli>[1] = {}): Promise<CliResult> =>
  runCli(['run', '--metadata', SAMPLE_CSV, '--top', String(top), '--offline', '--no-progress', '--database-url', url, '--data-dir', tmp], options);

/** A run through a proxy that freezes the server when the run's COPY data arrives; `then` acts on the run there. */
async function frozenDuringCopy(then: (child: ChildProcess) => void, env: Record<string, string> = {}): Promise<CliResult> {
  let reached!: () => void;
  const atCopy = new Promise<void>((resolve) => (reached = resolve));
  const proxy = await startPgProxy(server.url, async () => {
    await freeze();
    reached();
  });
  try {
    let child!: ChildProcess;
    const running = run(proxy.url, 40, { onSpawn: (c) => (child = c), env });
    await Promise.race([atCopy, running.then((r) => assert.fail(`the run ended (${r.status}) before its COPY:\n${r.stderr}`))]);
    then(child);
    return await running;
  } finally {
    thaw();
    await proxy.close();
  }
}

test('SIGSTOP of the server during COPY, then SIGTERM: exit 143, and the previous load is intact once the server runs again', async (t) => {
  const first = await run(server.url, 20);
  assert.equal(first.status, 0, first.stderr);
  const before = await state();

  let signalled = 0;
  const result = await frozenDuringCopy((child) => {
    signalled = Date.now();
    child.kill('SIGTERM');
  });
  // the product's bound is 5 s; measured here, never asserted (the machine's load varies)
  t.diagnostic(`SIGTERM to exit with the server frozen: ${Date.now() - signalled} ms`);
  assert.equal(result.status, 143, result.stderr);
  assert.match(result.stderr, /stopped by SIGTERM/);
  assert.match(result.stderr, /the previous load, if any, is untouched/);

  assert.deepEqual(await state(), before, 'the previous load, and nothing else');
  const next = await run(server.url, 30);
  assert.equal(next.status, 0, next.stderr);
  assert.equal((await state()).films.length, 30);
});

test('SIGSTOP of the server during COPY and no signal: the run gives up after TRUEFILM_DB_TIMEOUT, saying why', async () => {
  const first = await run(server.url, 20);
  assert.equal(first.status, 0, first.stderr);
  const before = await state();

  const result = await frozenDuringCopy(() => {}, { TRUEFILM_DB_TIMEOUT: '2' });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /PostgreSQL at 127\.0\.0\.1:\d+ has not answered for 2 s while copying films/);
  assert.match(result.stderr, /Nothing of this run was committed: the previous load is intact/);
  assert.deepEqual(await state(), before);
});

test('a dashboard whose server is frozen: 503 instead of a hanging request, and SIGTERM stops it', async () => {
  const first = await run(server.url, 20);
  assert.equal(first.status, 0, first.stderr);
  const dashboard = await startCliDashboard(['--port', '0', '--database-url', server.url], { TRUEFILM_DB_TIMEOUT: '2' });
  try {
    assert.equal((await fetch(new URL('/api/films?limit=5', dashboard.url))).status, 200, 'a pooled connection is open');
    await freeze();
    const answer = await fetch(new URL('/api/films?limit=5', dashboard.url));
    assert.equal(answer.status, 503);
    assert.match(((await answer.json()) as { error: string }).error, /The database is not available right now/);
    dashboard.child.kill('SIGTERM');
    await new Promise((resolve) => dashboard.child.once('exit', resolve));
    const { status, stderr } = await dashboard.stop();
    assert.equal(status, 143, stderr);
    // every request first asks for the latest load (dashboard/answers.ts): that is what meets the frozen server
    assert.match(stderr, /has not answered for 2 s while checking for a new load/, 'the log says why');
  } finally {
    thaw();
    await dashboard.stop();
  }
});
