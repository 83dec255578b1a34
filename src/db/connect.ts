/**
 * Connections to PostgreSQL: one client, connected within a bounded time, with
 * every failure turned into a TrueFilmError that names the server (never the
 * password) and says what to do.
 */
import pg from 'pg';
import { TrueFilmError } from '../errors.js';
import { maskUrl } from '../format.js';

export const CONNECT_TIMEOUT_MS = 8000;

/**
 * How long a statement may go without a byte from the server before the
 * server counts as stalled (stopped, frozen, or cut off without a reset):
 * TRUEFILM_DB_TIMEOUT seconds, 60 by default.
 */
export function stallTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.TRUEFILM_DB_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 60_000;
}

export interface ServerAddress {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** host, port, database and user of a connection string, for messages. */
export function describeServer(url: string): ServerAddress {
  try {
    const u = new URL(url);
    const socketHost = u.searchParams.get('host');
    return {
      host: socketHost ?? (decodeURIComponent(u.hostname) || 'localhost'),
      port: u.port ? Number(u.port) : 5432,
      database: decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres',
      user: decodeURIComponent(u.username) || process.env.USER || 'postgres',
    };
  } catch {
    return { host: '?', port: 5432, database: '?', user: '?' };
  }
}

/** Advice of their own for servers that cannot be reached, by URL: the embedded servers'. */
const unreachableHints = new Map<string, string>();

/** What to tell the user when the server at `url` cannot be reached, instead of the advice about DATABASE_URL. */
export function adviseWhenUnreachable(url: string, hint: string): void {
  unreachableHints.set(url, hint);
}

/** What to do when a server cannot be reached: DATABASE_URL's or the embedded one's. */
function unreachableHint(url: string): string {
  return (
    unreachableHints.get(url) ??
    'Is the server running and the address right? Unset DATABASE_URL (and --database-url) to use the embedded server in --data-dir instead.'
  );
}

/** Turns a pg / network error into a TrueFilmError naming the server. */
export function databaseError(err: unknown, url: string, doing: string): TrueFilmError {
  if (err instanceof TrueFilmError) return err;
  const e = err as NodeJS.ErrnoException & { code?: string; message?: string };
  const server = describeServer(url);
  const where = `${server.host}:${server.port}`;
  const masked = maskUrl(url);
  const netCodes = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'];
  if (/Connection terminated|not queryable|terminating connection/i.test(e.message ?? '') && doing !== 'connecting') {
    return new TrueFilmError('DB_UNREACHABLE', `lost the connection to PostgreSQL at ${where} while ${doing}`, {
      input: masked,
      hint: 'The server went away or the session was terminated; nothing of this run was committed and the previous load is intact. Run again.',
      cause: err,
    });
  }
  if ((e.code && netCodes.includes(e.code)) || /timeout|Connection terminated unexpectedly/i.test(e.message ?? '')) {
    return new TrueFilmError('DB_UNREACHABLE', `cannot reach PostgreSQL at ${where} while ${doing} (${e.code ?? e.message})`, {
      input: masked,
      hint: unreachableHint(url),
      cause: err,
    });
  }
  switch (e.code) {
    case '28P01':
    case '28000':
      return new TrueFilmError('DB_AUTH', `PostgreSQL at ${where} refused user "${server.user}": ${e.message}`, {
        input: masked,
        hint: 'Check the user and password in DATABASE_URL / --database-url.',
        cause: err,
      });
    case '3D000':
      return new TrueFilmError('DB_UNREACHABLE', `database "${server.database}" does not exist on ${where}`, {
        input: masked,
        hint: `Create it first: createdb -h ${server.host} -p ${server.port} ${server.database}`,
        cause: err,
      });
    case '42501':
      return new TrueFilmError('DB_PRIVILEGE', `user "${server.user}" lacks a privilege while ${doing}: ${e.message}`, {
        input: masked,
        hint: `Grant it, e.g. GRANT CREATE ON DATABASE ${server.database} TO ${server.user}; GRANT CREATE ON SCHEMA public TO ${server.user};`,
        cause: err,
      });
    case '57P01':
    case '57P02':
    case '57P03':
      return new TrueFilmError('DB_UNREACHABLE', `PostgreSQL at ${where} closed the connection while ${doing}: ${e.message}`, {
        input: masked,
        hint: 'The server was shut down or the session was terminated; nothing of this run was committed. Run again.',
        cause: err,
      });
  }
  return new TrueFilmError('DB_QUERY', `PostgreSQL at ${where} failed while ${doing}: ${e.message ?? String(err)}`, {
    input: masked,
    cause: err,
  });
}

/** What the server is told of a session when it starts. */
export interface SessionOptions {
  /** its name in pg_stat_activity (default 'truefilm') */
  applicationName?: string;
  /** server settings for the whole session, as `-c name=value ...` */
  settings?: string;
}

/** The configuration of a client, or of a pool's clients: each connects within CONNECT_TIMEOUT_MS. */
export function clientConfig(url: string, session: SessionOptions = {}): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: session.applicationName ?? 'truefilm',
    options: session.settings,
  };
}

/** A connected client; gives up within CONNECT_TIMEOUT_MS. */
export async function connectClient(url: string, session: SessionOptions = {}): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(url, session));
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw databaseError(err, url, 'connecting');
  }
  return client;
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectClient(url);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs `fn` in a transaction; rolls back on any error. */
export async function withTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>, mode = 'BEGIN'): Promise<T> {
  await client.query(mode);
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** Closes a client's socket at once, without the goodbye that a stalled server would never answer. */
export function dropConnection(client: pg.Client): void {
  client.connection.stream.destroy();
}

/** Ends a client politely, or drops its connection when the server has not let it go within `ms`. */
export async function endClient(client: pg.Client, ms = 1000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.end().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        dropConnection(client);
        resolve();
      }, ms);
    }),
  ]);
  clearTimeout(timer);
}

export interface ProgressWatch {
  /** true once the server went `ms` without a byte and the connection was dropped */
  readonly stalled: boolean;
  stop(): void;
}

/**
 * Watches a busy client: each byte from the server is progress; after `ms`
 * with none, the connection is dropped, so that whatever waits on it fails at
 * once (a server that no longer answers would keep it waiting for ever).
 */
export function watchProgress(client: pg.Client, ms: number): ProgressWatch {
  let stalled = false;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      dropConnection(client);
    }, ms);
  };
  const stream = client.connection.stream;
  stream.on('data', arm);
  arm();
  return {
    get stalled() {
      return stalled;
    },
    stop() {
      clearTimeout(timer);
      stream.off('data', arm);
    },
  };
}

/** The error for a server that went `ms` without answering. */
export function stalledError(url: string, doing: string, ms: number): TrueFilmError {
  const server = describeServer(url);
  return new TrueFilmError('DB_UNREACHABLE', `PostgreSQL at ${server.host}:${server.port} has not answered for ${ms / 1000} s while ${doing}`, {
    input: maskUrl(url),
    hint:
      'The server is stopped, frozen or cut off. Nothing of this run was committed: the previous load is intact. ' +
      'Check the server and run again (TRUEFILM_DB_TIMEOUT sets this bound, in seconds).',
  });
}

/** Runs `work` on `client`, dropping the connection and failing clearly when the server stops answering. */
export async function answered<T>(client: pg.Client, url: string, doing: string, work: () => Promise<T>, ms = stallTimeoutMs()): Promise<T> {
  const watch = watchProgress(client, ms);
  try {
    return await work();
  } catch (err) {
    throw watch.stalled ? stalledError(url, doing, ms) : err;
  } finally {
    watch.stop();
  }
}
