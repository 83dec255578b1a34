/**
 * Who uses an embedded PostgreSQL cluster: every TrueFilm process that works
 * with it (run, dashboard, db) is listed in `<cluster>/../.pg-users/<pid>`,
 * and the last one to leave stops the server. A process that died is dropped
 * from the list when it is read (its pid is gone, or is another process's:
 * the start time recorded beside it differs).
 *
 * Joining and leaving (and starting or stopping the server in between) happen
 * under one lock per cluster, so that a process never joins a server that
 * another is stopping. On Linux the lock is an abstract Unix socket: the
 * kernel releases it when its holder dies, however it dies.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrueFilmError } from '../errors.js';
import { alive } from '../processes.js';

const LOCK_WAIT_MS = 90_000;

/** The kernel's start time of `pid` (Linux), to tell it from a later process with the same pid; '' elsewhere. */
function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

function lockName(clusterDir: string): string {
  const key = createHash('sha256').update(path.resolve(clusterDir)).digest('hex').slice(0, 24);
  return process.platform === 'linux' ? `\0truefilm-cluster-${key}` : path.join(path.dirname(clusterDir), '.pg-lock.sock');
}

function listen(server: net.Server, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(name, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** A socket file whose owner is gone refuses connections. */
function staleSocket(name: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(name);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Runs `fn` holding the cluster's lock (waiting for another holder up to LOCK_WAIT_MS). */
export async function withClusterLock<T>(clusterDir: string, fn: () => Promise<T>): Promise<T> {
  const name = lockName(clusterDir);
  const server = net.createServer((socket) => socket.destroy());
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await listen(server, name);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      if (!name.startsWith('\0') && (await staleSocket(name))) {
        await rm(name, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new TrueFilmError('DB_EMBEDDED', `another TrueFilm process has been starting or stopping the embedded PostgreSQL for ${LOCK_WAIT_MS / 1000} s`, {
          input: clusterDir,
          hint: 'Wait for it, or stop it, and run again.',
        });
      }
      await sleep(100);
    }
  }
  server.unref();
  try {
    return await fn();
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export class ServerUsers {
  private readonly dir: string;

  constructor(clusterDir: string) {
    this.dir = path.join(path.dirname(clusterDir), '.pg-users');
  }

  /** Lists this process: its start time, and its command for whoever looks in the folder. */
  async add(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(path.join(this.dir, String(process.pid)), `${startTimeOf(process.pid)}\n${process.argv.slice(2, 3).join(' ')}\n`);
  }

  async remove(): Promise<void> {
    await rm(path.join(this.dir, String(process.pid)), { force: true });
  }

  /** The pids of the live users, other than this process; entries of dead processes are removed. */
  async others(): Promise<number[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const live: number[] = [];
    for (const name of names) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || pid === process.pid) continue;
      const recorded = (await readFile(path.join(this.dir, name), 'utf8').catch(() => '')).split('\n')[0];
      if (alive(pid) && (!recorded || recorded === startTimeOf(pid))) live.push(pid);
      else await rm(path.join(this.dir, name), { force: true });
    }
    return live;
  }
}
