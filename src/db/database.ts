/**
 * The database a command works with: DATABASE_URL when given, else the
 * embedded server in the data directory (started here, stopped on close).
 */
import type pg from 'pg';
import { prepareDataDir } from '../data-dir.js';
import type { Ui } from '../ui.js';
import { connectClient, endClient } from './connect.js';
import { startEmbedded, type EmbeddedServer } from './embedded.js';

export interface Database {
  /** the connection string (with its password: mask it before printing) */
  url: string;
  /** the embedded server, when this command uses it */
  embedded: EmbeddedServer | null;
  /** disconnects every client made here and stops the embedded server if it was started here */
  close(): Promise<void>;
  connect(applicationName?: string): Promise<pg.Client>;
}

export interface DatabaseOptions {
  databaseUrl: string | null;
  dataDir: string;
  ui: Ui;
  embeddedPort?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (!options.databaseUrl) await prepareDataDir(options.dataDir, 'the embedded PostgreSQL (used when DATABASE_URL is not set) and the caches');
  const embedded = options.databaseUrl
    ? null
    : await startEmbedded(options.dataDir, { ui: options.ui, port: options.embeddedPort });
  const url = options.databaseUrl ?? embedded!.url;
  const clients = new Set<pg.Client>();
  let closed: Promise<void> | null = null;
  return {
    url,
    embedded,
    async connect(applicationName) {
      const client = await connectClient(url, { applicationName });
      clients.add(client);
      client.once('end', () => clients.delete(client));
      return client;
    },
    close: () =>
      (closed ??= (async () => {
        await Promise.all([...clients].map((c) => endClient(c)));
        await embedded?.stop();
      })()),
  };
}
