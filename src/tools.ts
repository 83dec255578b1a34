/** Programs outside Node that TrueFilm runs (bzip2, the Kaggle CLI) or points the user to. */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** the system decompressors for .bz2, in order of preference (the scan runs the first there is; the download warns when none is) */
export const BZIP2_COMMANDS = ['lbzip2', 'bzip2'];

/** The executable `name` on the PATH, or null (an executable regular file: an empty file bind-mounted over a tool does not count). */
export function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      const info = statSync(candidate);
      if (info.isFile() && info.size > 0) return candidate;
    } catch {
      // not there
    }
  }
  return null;
}
