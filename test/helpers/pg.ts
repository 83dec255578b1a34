/**
 * The real PostgreSQL servers the integration tests run against:
 * - the embedded server (shared by `npm test` through TRUEFILM_TEST_EMBEDDED_URL,
 *   or started here in a temporary directory when a file runs alone);
 * - the machine's own server at 127.0.0.1:5432 (user postgres, trust auth),
 *   when it answers.
 * Each test gets a database of its own, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';
import { createUi } from '../../src/ui.js';

const LOCAL_URL = process.env.TRUEFILM_TEST_LOCAL_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestServer {
  name: 'embedded' | 'local';
  /** a URL to a maintenance database where databases can be created */
  adminUrl: string;
}

let ownEmbedded: { server: EmbeddedServer; dir: string } | null = null;
let serversPromise: Promise<TestServer[]> | null = null;

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function embeddedUrl(): Promise<string> {
  if (process.env.TRUEFILM_TEST_EMBEDDED_URL) return process.env.TRUEFILM_TEST_EMBEDDED_URL;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'truefilm-test-pg-'));
  await chmod(dir, 0o755); // as root, the server runs as the postgres user, which must reach it
  const server = await startEmbedded(dir, { ui: createUi({ progress: false, quiet: true }), port: 0 });
  ownEmbedded = { server, dir };
  return server.url;
}

/** Embedded always; the local server too when it answers. */
export function testServers(): Promise<TestServer[]> {
  serversPromise ??= (async () => {
    const servers: TestServer[] = [{ name: 'embedded', adminUrl: await embeddedUrl() }];
    if (await answers(LOCAL_URL)) servers.push({ name: 'local', adminUrl: LOCAL_URL });
    else console.error(`# note: no PostgreSQL answers at ${LOCAL_URL}; tests run against the embedded server only`);
    return servers;
  })();
  return serversPromise;
}

/** Stops an embedded server that this process started (call from `after`). */
export async function closeTestServers(): Promise<void> {
  if (ownEmbedded) {
    await ownEmbedded.server.stop();
    await rm(ownEmbedded.dir, { recursive: true, force: true });
    ownEmbedded = null;
    serversPromise = null;
  }
}

export function withDatabaseName(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + database;
  return u.toString();
}

export interface TestDatabase {
  url: string;
  name: string;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** A new empty database on `server`. */
export async function freshDatabase(server: TestServer, prefix = 'tf_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabaseName(server.adminUrl, name);
  return {
    url,
    name,
    async query(sql, params) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async drop() {
      const a = new pg.Client({ connectionString: server.adminUrl });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
