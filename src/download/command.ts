/**
 * `truefilm download` (./data_download.sh): fills the data directory with
 * what `truefilm run` reads, one source after another, then says what the
 * pipeline will find there and how to run it.
 */
import { existsSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { prepareDataDir } from '../data-dir.js';
import { TrueFilmError } from '../errors.js';
import { shellWord } from '../format.js';
import { userAgent } from '../http/client.js';
import { alive } from '../processes.js';
import type { Ui } from '../ui.js';
import { sourceAbstracts } from './abstracts.js';
import { sourceCirrus, type CirrusFiles } from './cirrus.js';
import { DownloadContext, Reporter } from './context.js';
import { sourceMetadata } from './metadata.js';
import { ABSTRACTS_XML_NAME, METADATA_NAME, type DownloadConfig } from './options.js';

export async function commandDownload(config: DownloadConfig, ui: Ui, signal: AbortSignal): Promise<void> {
  await prepareDataDir(config.dataDir, 'the downloads');
  const report = new Reporter(ui);
  if (config.contact === null && config.sources.some((s) => s !== 'metadata')) {
    ui.info(
      'note: Wikimedia asks every client to name a contact in its User-Agent (https://meta.wikimedia.org/wiki/User-Agent_policy); ' +
        'set yours with --contact you@example.org (or a URL), or TRUEFILM_CONTACT.',
    );
  }
  const ctx = new DownloadContext(config, report, userAgent(config.contact), signal);
  const releaseLock = await lockDataDir(ctx.dataDir);
  try {
    let cirrus: CirrusFiles = [];
    for (const source of config.sources) {
      if (source === 'metadata') await sourceMetadata(ctx);
      else if (source === 'abstracts') await sourceAbstracts(ctx);
      else cirrus = await sourceCirrus(ctx);
    }
    report.say(summary(ctx.dataDir, cirrus));
  } finally {
    await ctx.close();
    await releaseLock();
  }
}

const LOCK_NAME = '.download.lock';

/**
 * One download at a time per data directory: a lock file holding the pid,
 * made exclusively; a lock whose process is gone is taken over.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lock = path.join(dataDir, LOCK_NAME);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new TrueFilmError('DOWNLOAD_CONFLICT', `another download is already working in ${dataDir} (process ${pid})`, {
        hint: `Wait for it to finish, or stop it. If no download is running, remove ${lock}.`,
      });
    }
    await rm(lock, { force: true });
  }
}

/** What the pipeline will find in the data directory, and what to do next. */
function summary(dataDir: string, cirrus: CirrusFiles): string {
  const metadataMissing = !existsSync(path.join(dataDir, METADATA_NAME));
  if (cirrus.length === 0) {
    const missing = [...(metadataMissing ? [METADATA_NAME] : []), ...(existsSync(path.join(dataDir, ABSTRACTS_XML_NAME)) ? [] : [ABSTRACTS_XML_NAME])];
    return missing.length === 0
      ? `done: ${dataDir} holds ${METADATA_NAME} and ${ABSTRACTS_XML_NAME}. Next, the pipeline: node dist/main.js run (in the container: docker exec backend node dist/main.js --threads 8)`
      : `done, but ${dataDir} has no ${missing.join(' ')} yet (see above). Meanwhile: npm run demo (the bundled sample)`;
  }
  const where = `${cirrus.length} file(s) in ${path.dirname(cirrus[0]!)}`;
  return [
    metadataMissing
      ? `done, but ${dataDir} has no ${METADATA_NAME} yet (./data_download.sh --source metadata tells how to get it). The CirrusSearch dump is ready (${where}).`
      : `done: ${dataDir} holds ${METADATA_NAME} and the CirrusSearch dump (${where}).`,
    'To read it, run the pipeline with these arguments (in the container: docker exec backend ...):',
    `  node dist/main.js ${cirrus.map((f) => `--abstracts ${shellWord(f)}`).join(' ')}`,
    'or set the environment instead:',
    `  TRUEFILM_ABSTRACTS=${shellWord(cirrus.join(path.delimiter))}`,
  ].join('\n');
}
