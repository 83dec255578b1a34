/**
 * The embedded server shared by several TrueFilm processes on one data
 * directory: whoever started it, the last process to finish stops it; a
 * terminal's Ctrl-C to one process does not reach it; a dashboard answers
 * again once the server comes back; a stale postmaster.pid naming a live
 * process, and a server killed under `truefilm db`, are named with what to do.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { MAIN, ROOT, SAMPLE, cleanEnv, runCli, type CliResult } from '../helpers/cli.js';
import { startSparqlServer } from '../helpers/sparql-server.js';

const SAMPLE_CSV = path.join(SAMPLE, 'movies_metadata.csv');
let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-shared-'));
  await chmod(tmp, 0o755); // as root, the server runs as the postgres user
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  output(): string;
  /** resolves with the first match of `pattern` in stdout */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  exited: Promise<CliResult>;
}

/** Starts the built CLI; `detached` puts it in a process group of its own, as a terminal does a foreground job. */
function startCli(args: string[], detached = false): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: cleanEnv(), detached });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<CliResult>((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
  return {
    child,
    output: () => stdout + stderr,
    exited,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = pattern.exec(stdout);
          if (m) {
            child.stdout.off('data', check);
            resolve(m);
          }
        };
        child.stdout.on('data', check);
        check();
        void exited.then((r) => reject(new Error(`exited (${r.status}) before printing ${pattern}:\n${r.stdout}\n${r.stderr}`)));
      }),
  };
}

const dashboard = (dataDir: string, detached = false) => startCli(['dashboard', '--port', '0', '--data-dir', dataDir], detached);

async function postmaster(dataDir: string): Promise<number | null> {
  const text = await readFile(path.join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8').catch(() => null);
  return text === null ? null : Number(text.split('\n')[0]);
}

function alive(pid: number | null): boolean {
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function untilGone(pid: number): Promise<void> {
  while (alive(pid)) await sleep(50);
}

async function films(url: string): Promise<{ status: number; total?: number }> {
  const response = await fetch(new URL('/api/films?limit=1', url));
  const body = (await response.json()) as { total?: number };
  return { status: response.status, total: body.total };
}

/** A run of the sample held in its matching stage until `release()`: Wikidata answers only then. */
async function heldRun(dataDir: string, top: number) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const sparql = await startSparqlServer({ table: {}, faults: async () => (await released, null) });
  const run = startCli([
    'run', '--metadata', SAMPLE_CSV, '--top', String(top), '--no-progress', '--data-dir', dataDir,
    '--sparql-endpoint', sparql.url, '--wikipedia-endpoint', `${sparql.url}/none/`,
  ]);
  await Promise.race([sparql.whenInFlight(1), run.exited.then((r) => assert.fail(`the run ended early (${r.status}):\n${r.stderr}`))]);
  return {
    run,
    release: async () => {
      release();
      const result = await run.exited;
      await sparql.close();
      return result;
    },
  };
}

const load = (dataDir: string, top: number) =>
  runCli(['run', '--metadata', SAMPLE_CSV, '--top', String(top), '--offline', '--no-progress', '--data-dir', dataDir]);

test('a dashboard started during a run keeps the server: after the run it still answers; its own Ctrl-C, the last, stops the server', async () => {
  const dataDir = path.join(tmp, 'dashboard-during-run');
  assert.equal((await load(dataDir, 10)).status, 0);
  const held = await heldRun(dataDir, 20); // the run starts the server
  const pid = await postmaster(dataDir);
  const dash = dashboard(dataDir);
  const [, url] = await dash.waitFor(/open (http:\/\/\S+)/);
  const result = await held.release();
  assert.equal(result.status, 0, result.stderr);
  assert.ok(alive(pid), 'the run left the server running for the dashboard');
  assert.deepEqual(await films(url!), { status: 200, total: 20 });

  dash.child.kill('SIGINT');
  assert.equal((await dash.exited).status, 130);
  await untilGone(pid!);
  assert.equal(await postmaster(dataDir), null, 'the last process stopped the server cleanly');
});

test('Ctrl-C to the process group of the dashboard that started the server: a concurrent run still loads, and stops the server after', async () => {
  const dataDir = path.join(tmp, 'ctrl-c-group');
  assert.equal((await load(dataDir, 10)).status, 0);
  const dash = dashboard(dataDir, true); // it starts the server, in its own process group
  await dash.waitFor(/open (http:\/\/\S+)/);
  const pid = await postmaster(dataDir);
  const held = await heldRun(dataDir, 25); // joins the dashboard's server

  process.kill(-dash.child.pid!, 'SIGINT'); // what a terminal's Ctrl-C does
  assert.equal((await dash.exited).status, 130);
  assert.ok(alive(pid), 'the server is not in the dashboard’s process group, and the run still uses it');

  const result = await held.release();
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /Loaded 25 films/);
  await untilGone(pid!);
  assert.equal(await postmaster(dataDir), null, 'the run, the last, stopped it');
});

test('the server stopped from outside: the dashboard answers 503, then 200 once a run has started it again', async () => {
  const dataDir = path.join(tmp, 'comes-back');
  assert.equal((await load(dataDir, 10)).status, 0);
  const dash = dashboard(dataDir);
  try {
    const [, url] = await dash.waitFor(/open (http:\/\/\S+)/);
    assert.deepEqual(await films(url!), { status: 200, total: 10 });
    const pid = await postmaster(dataDir);
    process.kill(pid!, 'SIGINT'); // a fast shutdown that TrueFilm did not ask for
    await untilGone(pid!);
    assert.equal((await films(url!)).status, 503);

    const again = await load(dataDir, 15); // starts the server again, where it was
    assert.equal(again.status, 0, again.stderr);
    assert.ok(alive(await postmaster(dataDir)), 'the run leaves it running for the dashboard');
    assert.deepEqual(await films(url!), { status: 200, total: 15 });
  } finally {
    dash.child.kill('SIGINT');
    await dash.exited;
  }
  // the log said what the 503 was, and gave advice for the embedded server, not for a DATABASE_URL that is unset
  assert.match(dash.output(), /This is the embedded PostgreSQL of .*comes-back\/pgdata: it stopped, or was stopped\. Run the command again/);
  assert.doesNotMatch(dash.output(), /DATABASE_URL/);
});

test('a stale postmaster.pid naming a live process that is not PostgreSQL: exit 1 naming it and what to do', async () => {
  const dataDir = path.join(tmp, 'stale-pid');
  assert.equal((await load(dataDir, 10)).status, 0);
  const pidFile = path.join(dataDir, 'pgdata', 'postmaster.pid');
  const other = spawn('sleep', ['600']);
  try {
    // what a server that died uncleanly leaves, its pid since taken by another process
    await writeFile(pidFile, `${other.pid}\n${path.join(dataDir, 'pgdata')}\n1700000000\n54329\n\n127.0.0.1\n  1234   5678\nready   \n`);
    for (const args of [['run', '--metadata', SAMPLE_CSV, '--offline', '--no-progress', '--data-dir', dataDir], ['db', '--data-dir', dataDir]]) {
      const result = await runCli(args);
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`postmaster\\.pid names process ${other.pid} \\(sleep\\), which is not PostgreSQL: the file is stale`));
      assert.match(result.stderr, new RegExp(`rm ${pidFile.replace(/[.]/g, '\\.')}`));
      assert.doesNotMatch(result.stderr, /ECONNREFUSED|DATABASE_URL unset/);
    }
    await rm(pidFile);
    assert.equal((await load(dataDir, 12)).status, 0, 'once the file is gone, the server starts');
  } finally {
    other.kill();
  }
});

test('`truefilm db` whose server is killed: exit 1 saying so, with the server’s last words', async () => {
  const dataDir = path.join(tmp, 'db-killed');
  const db = startCli(['db', '--data-dir', dataDir, '--port', '0']);
  await db.waitFor(/Press Ctrl-C/);
  const pid = await postmaster(dataDir);
  process.kill(pid!, 'SIGKILL');
  const result = await db.exited;
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`the embedded PostgreSQL \\(process ${pid}\\) stopped while \`truefilm db\` was keeping it running`));
  assert.match(result.stderr, /Its last words:\n {4}\S/);
  assert.match(result.stderr, /Start it again with truefilm db/);
});
