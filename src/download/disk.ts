/** Free disk space, checked before a download or a decompression starts rather than found out half-way. */
import { statfs } from 'node:fs/promises';
import { TrueFilmError } from '../errors.js';

/** 1234567890 -> "1.2 GB": always one decimal, so that a tight margin reads as one */
export function spaceText(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${Math.floor(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Bytes free for this user on the file system of `dir`; null when it cannot tell. */
export async function freeBytes(dir: string): Promise<number | null> {
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
    throw new TrueFilmError('DOWNLOAD_NO_SPACE', `not enough free disk space in ${dir} to ${what}: about ${spaceText(need)} needed, ${spaceText(free)} free`, {
      hint: 'Free some space, or put the data on a bigger disk with --data-dir/TRUEFILM_DATA_DIR (and give `truefilm run` the same --data-dir).',
    });
  }
}
