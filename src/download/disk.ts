/** Free disk space, checked before a download or a decompression starts rather than found out half-way. */
import { statfs } from 'node:fs/promises';
import { TrueFilmError } from '../errors.js';
import { formatBytes } from '../format.js';

/** Bytes free for this user on the file system of `dir`; null when it cannot tell. */
async function freeBytes(dir: string): Promise<number | null> {
  try {
    const fs = await statfs(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return null;
  }
}

/**
 * Throws DOWNLOAD_NO_SPACE when `need` bytes do not fit in `dir`;
 * `what` completes "not enough free disk space in DIR to ...".
 */
export async function checkSpace(dir: string, need: number, what: string, warn: (message: string) => void): Promise<void> {
  const free = await freeBytes(dir);
  if (free === null) {
    warn(`cannot tell the free space in ${dir}: going on`);
    return;
  }
  if (need > free) {
    throw new TrueFilmError('DOWNLOAD_NO_SPACE', `not enough free disk space in ${dir} to ${what}: about ${formatBytes(need, 1)} needed, ${formatBytes(free, 1)} free`, {
      hint: 'Free some space, or put the data on a bigger disk with --data-dir/TRUEFILM_DATA_DIR (and give `truefilm run` the same --data-dir).',
    });
  }
}
