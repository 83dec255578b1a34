/** A scratch place for a benchmark: a temporary folder, and a database in it unless one is given. */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbedded } from '../src/db/embedded.js';
import { createUi } from '../src/ui.js';

export interface Scratch {
  /** the temporary folder (its data directory too) */
  tmp: string;
  /** `databaseUrl`, or the embedded server's started in `tmp` */
  url: string;
  /** stops the server started here and removes the folder */
  close(): Promise<void>;
}

export async function scratch(name: string, databaseUrl?: string): Promise<Scratch> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), `truefilm-bench-${name}-`));
  chmodSync(tmp, 0o755); // as root, the embedded server runs as the postgres user
  const embedded = databaseUrl ? null : await startEmbedded(path.join(tmp, 'db'), { ui: createUi({ progress: false, quiet: true }), port: 0 });
  return {
    tmp,
    url: databaseUrl ?? embedded!.url,
    async close() {
      await embedded?.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
