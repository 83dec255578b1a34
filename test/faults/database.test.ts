/**
 * PostgreSQL faults not covered by load.test.ts and signals.test.ts: a server
 * restarted between two runs, a database whose schema was dropped, a server
 * that never answers (not even a refusal); and a data directory that cannot
 * hold the embedded server (a file, a read-only file system).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmbedded } from '../../src/db/embedded.js';
import { MAIN, ROOT, SAMPLE, cleanEnv, runCli, type CliResult } from '../helpers/cli.js';
import { closeTestServers, freshDatabase, testServers, type TestServer } from '../helpers/pg.js';
import { quiet } from '../helpers/recorder.js';

const SAMPLE_CSV = path.join(SAMPLE, 'movies_metadata.csv');
let servers: TestServer[] = [];
let tmp: string;
before(async () => {
  servers = await testServers();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-dbfaults-'));
  await chmod(tmp, 0o755);
});
after(async () => {
  await closeTestServers();
  await rm(tmp, { recursive: true, force: true });
});

const run = (url: string, top: number) =>
  runCli(['run', '--metadata', SAMPLE_CSV, '--top', String(top), '--offline', '--no-progress', '--database-url', url, '--data-dir', tmp]);

test('the server restarted between two runs: the first load survives it and the second replaces it', async () => {
  const dir = path.join(tmp, 'restart');
  const first = await startEmbedded(dir, { ui: quiet, port: 0 });
  assert.equal((await run(first.url, 12)).status, 0);
  await first.stop();
  const second = await startEmbedded(dir, { ui: quiet, port: 0 });
  try {
    const pg = await import('pg');
    const c = new pg.default.Client({ connectionString: second.url });
    await c.connect();
    assert.equal((await c.query('SELECT count(*)::int AS n FROM films')).rows[0].n, 12, 'the load is durable');
    const result = await run(second.url, 17);
    assert.equal(result.status, 0, result.stderr);
    assert.equal((await c.query('SELECT count(*)::int AS n FROM films')).rows[0].n, 17);
    await c.end();
  } finally {
    await second.stop();
  }
});

test('a database whose public schema was dropped: the run creates it', async () => {
  const server = servers[0]!;
  const db = await freshDatabase(server);
  try {
    await db.query('DROP SCHEMA public CASCADE');
    const result = await run(db.url, 5);
    assert.equal(result.status, 0, result.stderr);
    assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM public.films'))[0]!.n, 5);
  } finally {
    await db.drop();
  }
});

test('a server that accepts the connection but never answers: exit 1 on the connect timeout, naming host and port', async () => {
  const silent = net.createServer(() => {}); // accepts, says nothing
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as net.AddressInfo;
  try {
    const result = await run(`postgres://postgres:pw-never-shown@127.0.0.1:${port}/x`, 5);
    assert.equal(result.status, 1);
    // the connect timeout ended it (not the system's own TCP timeouts, which take minutes)
    assert.match(result.stderr, new RegExp(`cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} while connecting \\(timeout expired\\)`));
    assert.ok(!result.stderr.includes('pw-never-shown'));
  } finally {
    silent.close();
  }
});

describe('a data directory that cannot hold the embedded server', () => {
  const commands = (dataDir: string) => [
    ['run', '--metadata', SAMPLE_CSV, '--offline', '--no-progress', '--data-dir', dataDir],
    ['dashboard', '--port', '0', '--data-dir', dataDir],
    ['db', '--data-dir', dataDir],
  ];

  test('a regular file, or a path through one: exit 1 naming --data-dir, the file, and what to do', async () => {
    const file = path.join(tmp, 'a-file');
    await writeFile(file, 'not a directory\n');
    for (const dataDir of [file, path.join(file, 'below')]) {
      for (const args of commands(dataDir)) {
        const result = await runCli(args);
        assert.equal(result.status, 1, `${args[0]}: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`the data directory ${dataDir} \\(--data-dir\\) cannot be made: ${file} is a file, not a directory`));
        assert.match(result.stderr, /Choose a directory you can write to with --data-dir PATH \(or TRUEFILM_DATA_DIR\)/);
        assert.doesNotMatch(result.stderr, /EEXIST|ENOTDIR|ENOENT/);
      }
    }
  });

  /** Runs the CLI with a read-only file system mounted on `dir`, in a mount namespace of its own. */
  const withReadOnly = (dir: string, args: string[]): Promise<CliResult> =>
    new Promise((resolve, reject) => {
      const child = spawn('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o ro,size=64k tmpfs "$0" && exec "$@"', dir, process.execPath, MAIN, ...args], {
        cwd: ROOT,
        env: cleanEnv(),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    });

  test('on a read-only file system: exit 1 saying so; with DATABASE_URL the run warns and loads', async (t) => {
    const ro = path.join(tmp, 'read-only');
    await mkdir(ro);
    const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o ro tmpfs "$0"', ro]);
    if (probe.status !== 0) return t.skip(`cannot mount a read-only file system here (unshare -m, mount): ${String(probe.stderr).trim()}`);
    for (const dataDir of [ro, path.join(ro, 'data', 'deeper')]) {
      for (const args of commands(dataDir)) {
        const result = await withReadOnly(ro, args);
        assert.equal(result.status, 1, `${args[0]}: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`the data directory ${dataDir} \\(--data-dir\\) is on a read-only file system`));
        assert.match(result.stderr, /Choose a directory you can write to with --data-dir PATH .*or mount that file system read-write/);
        assert.doesNotMatch(result.stderr, /EROFS|ENOENT/);
      }
    }
    const db = await freshDatabase(servers[0]!);
    try {
      const result = await withReadOnly(ro, ['run', '--metadata', SAMPLE_CSV, '--top', '7', '--offline', '--no-progress', '--data-dir', ro, '--database-url', db.url]);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, /warning: the data directory .* is on a read-only file system/);
      assert.match(result.stderr, /This run goes on without keeping its answers/);
      assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM films'))[0]!.n, 7);
    } finally {
      await db.drop();
    }
  });
});
