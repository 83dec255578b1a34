/**
 * `--source metadata`: the Kaggle movies CSV, as <data-dir>/movies_metadata.csv.
 * From METADATA_URL when set, else with the Kaggle CLI when its credentials
 * are present; otherwise it says how to get the file (Kaggle wants an
 * account), which is not a failure: the bundled sample runs meanwhile.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TrueFilmError } from '../errors.js';
import { formatBytes } from '../format.js';
import { onPath } from '../tools.js';
import type { DownloadContext } from './context.js';
import { httpUrlOf, urlName } from './listing.js';
import { KAGGLE_DATASET, KAGGLE_PAGE, METADATA_NAME } from './options.js';
import { gunzipFile, UnpackError, unzipMember } from './unpack.js';

export async function sourceMetadata(ctx: DownloadContext): Promise<void> {
  const { config, report, dataDir } = ctx;
  const csv = path.join(dataDir, METADATA_NAME);
  if (existsSync(csv) && !config.force) {
    report.say(`metadata: ${csv} is already there: nothing to do`);
  } else if (config.metadataUrl !== null) {
    await fromUrl(ctx, config.metadataUrl, csv);
  } else if (kaggleCredentials()) {
    await fromKaggle(ctx, csv);
  } else if (existsSync(csv)) {
    report.say(`metadata: keeping ${csv} (--force, but neither METADATA_URL nor Kaggle credentials are set)`);
  } else {
    report.say(howToGetIt(dataDir));
  }
}

function howToGetIt(dataDir: string): string {
  return `metadata: ${METADATA_NAME} is not in ${dataDir}, and there is no way to fetch it here
(no METADATA_URL, no Kaggle credentials). To get it, either
  - download it from ${KAGGLE_PAGE}
    (a free Kaggle account; the file ${METADATA_NAME}) and put it in ${dataDir};
    into the container: docker cp ${METADATA_NAME} backend:/app/data/
  - or install the Kaggle CLI (pip install kaggle), save an API token from
    https://www.kaggle.com/settings as ~/.kaggle/kaggle.json (or set
    KAGGLE_USERNAME and KAGGLE_KEY), and run this again
  - or set METADATA_URL to a copy of it (.csv, .csv.gz or .zip) and run again.
Meanwhile the bundled sample (data/sample/) runs the whole pipeline: npm run demo`;
}

function kaggleCredentials(): boolean {
  if (process.env.KAGGLE_USERNAME && process.env.KAGGLE_KEY) return true;
  const dir = process.env.KAGGLE_CONFIG_DIR ?? path.join(process.env.HOME ?? os.homedir(), '.kaggle');
  return existsSync(path.join(dir, 'kaggle.json'));
}

/** Fetches METADATA_URL into a work directory kept for resuming, and unpacks it. */
async function fromUrl(ctx: DownloadContext, text: string, csv: string): Promise<void> {
  const url = httpUrlOf(text, 'METADATA_URL');
  const name = urlName(url);
  const work = path.join(ctx.dataDir, '.metadata-download');
  const fetched = path.join(work, name);
  await mkdir(work, { recursive: true });
  ctx.scratch(work);
  if (ctx.config.force) await Promise.all([rm(fetched, { force: true }), rm(`${fetched}.part`, { force: true })]);
  ctx.report.say(`metadata: ${url}`);
  if (!existsSync(fetched)) await ctx.download(url, fetched, ctx.config.metadataChecksum, 'METADATA_CHECKSUM', 'check METADATA_URL');
  await install(ctx, fetched, csv, work);
}

/** The Kaggle CLI, run as the user would, into a fresh work directory. */
async function fromKaggle(ctx: DownloadContext, csv: string): Promise<void> {
  const kaggle = onPath('kaggle');
  if (kaggle === null) {
    throw new TrueFilmError('DOWNLOAD_TOOL', 'Kaggle credentials are set but the kaggle command is not installed: pip install kaggle, then run again (or set METADATA_URL)');
  }
  const work = path.join(ctx.dataDir, '.kaggle-download');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    ctx.report.say(`metadata: downloading ${METADATA_NAME} from Kaggle (${KAGGLE_DATASET})`);
    await runTool(kaggle, ['datasets', 'download', KAGGLE_DATASET, '-f', METADATA_NAME, '-p', work], ctx.signal).catch((err: Error) => {
      throw new TrueFilmError('DOWNLOAD_TOOL', `the Kaggle CLI failed (${err.message}): check the credentials, and that your account can download ${KAGGLE_PAGE}`, { cause: err });
    });
    const zipped = path.join(work, `${METADATA_NAME}.zip`);
    const plain = path.join(work, METADATA_NAME);
    if (!existsSync(zipped) && !existsSync(plain)) throw new TrueFilmError('DOWNLOAD_TOOL', `the Kaggle CLI left no ${METADATA_NAME} in ${work}`);
    await install(ctx, existsSync(zipped) ? zipped : plain, csv, work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Runs `command` with the terminal's stdout and stderr; rejects unless it exits 0. */
function runTool(command: string, args: string[], signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], signal });
    child.once('error', reject);
    child.once('close', (code, sig) => (code === 0 ? resolve() : reject(new Error(sig ? `stopped by ${sig}` : `exit status ${code}`))));
  });
}

/**
 * Unpacks `fetched` (.zip, .gz or the CSV itself) into `csv.part`, checks
 * that it is the movies CSV, and renames it `csv`; the work directory goes.
 */
async function install(ctx: DownloadContext, fetched: string, csv: string, work: string): Promise<void> {
  const part = `${csv}.part`;
  const name = path.basename(fetched);
  try {
    try {
      if (name.endsWith('.zip')) await unzipMember(fetched, METADATA_NAME, part);
      else if (name.endsWith('.gz')) await gunzipFile(fetched, part, { signal: ctx.signal });
      else await rename(fetched, part);
    } catch (err) {
      if (!(err instanceof UnpackError) || err.disk) throw err;
      await rm(fetched, { force: true });
      throw new TrueFilmError('DOWNLOAD_BAD_FILE', `${name} cannot be unpacked (${err.message}): deleted it; run again to download it afresh`, { cause: err });
    }
    const first = await firstLine(part);
    if (!['budget', 'revenue', 'imdb_id'].every((column) => first.includes(column))) {
      await rm(work, { recursive: true, force: true });
      throw new TrueFilmError('DOWNLOAD_BAD_FILE', `the file fetched does not look like ${METADATA_NAME} (its first line: ${JSON.stringify(first.slice(0, 120))})`);
    }
    await rename(part, csv);
  } finally {
    await rm(part, { force: true });
  }
  await rm(work, { recursive: true, force: true });
  ctx.report.say(`metadata: ready in ${csv} (${formatBytes((await stat(csv)).size)})`);
}

async function firstLine(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.toString('utf8', 0, bytesRead).split('\n')[0]!.replace(/\r/g, '');
  } finally {
    await handle.close();
  }
}
