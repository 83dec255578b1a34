/**
 * The data directory (--data-dir): the embedded PostgreSQL's cluster and the
 * caches live there. Checked once, before anything is written to it, so that
 * a file, a read-only file system or a folder without write permission is
 * named as such, with the flag and what to do, instead of an errno.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TrueFilmError } from './errors.js';

const CHOOSE = 'Choose a directory you can write to with --data-dir PATH (or TRUEFILM_DATA_DIR)';

/** The first of `dir` and its ancestors that exists and is not a directory, if any. */
async function fileInTheWay(dir: string): Promise<string | null> {
  for (let current = dir; ; current = path.dirname(current)) {
    const info = await stat(current).catch(() => null);
    if (info) return info.isDirectory() ? null : current;
    if (path.dirname(current) === current) return null;
  }
}

/** The outermost ancestor of `dir` (or `dir`) that does not exist yet. */
async function firstMissing(dir: string): Promise<string> {
  let missing = dir;
  for (let current = path.dirname(dir); current !== missing; current = path.dirname(current)) {
    if (await stat(current).then(() => true, () => false)) break;
    missing = current;
  }
  return missing;
}

/**
 * Makes `dataDir` (and its parents) and proves it writable; throws a DATA_DIR
 * error naming the flag, the path and what to do. `purpose` says what needs it.
 */
export async function prepareDataDir(dataDir: string, purpose: string): Promise<void> {
  const dir = path.resolve(dataDir);
  const blocking = await fileInTheWay(dir);
  if (blocking !== null) {
    throw new TrueFilmError('DATA_DIR', `the data directory ${dir} (--data-dir) cannot be made: ${blocking} is a file, not a directory`, {
      hint: `${CHOOSE}: a new path or an existing folder. It holds ${purpose}.`,
    });
  }
  const probe = path.join(dir, `.truefilm-write-test-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true }).catch(async (err: unknown) => {
      // a recursive mkdir on a read-only file system says ENOENT: one plain mkdir says why
      await mkdir(await firstMissing(dir));
      throw err;
    });
    await writeFile(probe, '');
  } catch (err) {
    throw dataDirError(dir, err as NodeJS.ErrnoException, purpose);
  } finally {
    await rm(probe, { force: true }).catch(() => {});
  }
}

function dataDirError(dir: string, err: NodeJS.ErrnoException, purpose: string): TrueFilmError {
  const context = { cause: err };
  switch (err.code) {
    case 'EROFS':
      return new TrueFilmError('DATA_DIR', `the data directory ${dir} (--data-dir) is on a read-only file system`, {
        ...context,
        hint: `${CHOOSE}, or mount that file system read-write. It holds ${purpose}.`,
      });
    case 'EACCES':
    case 'EPERM':
      return new TrueFilmError('DATA_DIR', `the data directory ${dir} (--data-dir) is not writable by user ${os.userInfo().username}`, {
        ...context,
        hint: `${CHOOSE}, or give that user write permission on it. It holds ${purpose}.`,
      });
    case 'ENOSPC':
    case 'EDQUOT':
      return new TrueFilmError('DATA_DIR', `the data directory ${dir} (--data-dir) is on a full file system`, {
        ...context,
        hint: `Free some space there, or ${CHOOSE.charAt(0).toLowerCase() + CHOOSE.slice(1)}. It holds ${purpose}.`,
      });
  }
  return new TrueFilmError('DATA_DIR', `cannot write to the data directory ${dir} (--data-dir): ${err.message}`, {
    ...context,
    hint: `${CHOOSE}. It holds ${purpose}.`,
  });
}
