/**
 * PostgreSQL faults (issue 7) not covered by load.test.ts and signals.test.ts:
 * a server restarted between two runs, a database whose schema was dropped,
 * a server that never answers (not even a refusal).
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startEmbedded } from '../../src/db/embedded.js';
import { SAMPLE, runCli } from '../helpers/cli.js';
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

test('a server that accepts the connection but never answers: exit 1 within 10 s, naming host and port', async () => {
  const silent = net.createServer(() => {}); // accepts, says nothing
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as net.AddressInfo;
  try {
    const started = Date.now();
    const result = await run(`postgres://postgres:pw-never-shown@127.0.0.1:${port}/x`, 5);
    assert.equal(result.status, 1);
    assert.match(result.stderr, new RegExp(`cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port} while connecting`));
    assert.ok(!result.stderr.includes('pw-never-shown'));
    assert.ok(Date.now() - started < 10_000, 'the product promises to give up within 10 s');
  } finally {
    silent.close();
  }
});
