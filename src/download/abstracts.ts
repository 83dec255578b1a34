/**
 * `--source abstracts`: the English Wikipedia abstract dump, as
 * <data-dir>/enwiki-latest-abstract.xml, the file `truefilm run` reads by
 * default. A `.source` stamp beside it names the URL it came from, so that a
 * second run with the same URL does nothing and one with another URL does
 * not silently keep the old file.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TrueFilmError } from '../errors.js';
import { formatBytes } from '../format.js';
import type { Check, DownloadContext } from './context.js';
import { checkSpace } from './disk.js';
import { httpUrlOf, urlName } from './listing.js';
import { ABSTRACTS_XML_NAME } from './options.js';
import { gunzipFile, gzipRecordedSize, UnpackError } from './unpack.js';

export async function sourceAbstracts(ctx: DownloadContext): Promise<void> {
  const { config, report, dataDir } = ctx;
  const url = httpUrlOf(config.abstractsUrl, 'ABSTRACTS_URL');
  const name = urlName(url);
  const xml = path.join(dataDir, ABSTRACTS_XML_NAME);
  const stamp = path.join(dataDir, `.${ABSTRACTS_XML_NAME}.source`);

  if (existsSync(xml) && !config.force) {
    if (!existsSync(stamp)) {
      report.say(`abstracts: ${xml} is already there (not downloaded by this command): keeping it; --force replaces it`);
      return;
    }
    const was = /^url=(.*)$/m.exec(await readFile(stamp, 'utf8'))?.[1] ?? '';
    if (was !== url) {
      throw new TrueFilmError('DOWNLOAD_CONFLICT', `${xml} was downloaded from ${was}, not from ABSTRACTS_URL=${url}: run with --force to replace it`);
    }
    report.say(`abstracts: ${xml} is already there (from ${url}): nothing to do`);
    return;
  }

  const notFoundHint =
    'dumps.wikimedia.org keeps only its last few runs, and Wikimedia stopped producing the abstract dumps in February 2025 (T382069): ' +
    `take ${name} from a mirror (https://dumps.wikimedia.org/mirrors.html) or the Internet Archive and set ABSTRACTS_URL (see --help)`;
  report.say(`abstracts: ${url}`);
  const writeStamp = async (check: Check): Promise<void> => {
    const digest = check !== null && 'algo' in check ? `${check.algo}:${check.hex}` : '';
    await writeFile(`${stamp}.tmp`, `url=${url}\nfile=${name}\nchecksum=${digest}\n`);
    await rename(`${stamp}.tmp`, stamp);
  };

  if (name.endsWith('.gz')) {
    const gz = path.join(dataDir, name);
    if (config.force) await Promise.all([rm(gz, { force: true }), rm(`${gz}.part`, { force: true })]);
    let check: Check = null;
    if (existsSync(gz)) report.say(`${name} is already downloaded and checked`);
    else check = await ctx.download(url, gz, config.abstractsChecksum, 'ABSTRACTS_CHECKSUM', notFoundHint);
    await decompress(ctx, gz, `${xml}.part`);
    await writeStamp(check);
    await rename(`${xml}.part`, xml);
    if (config.keepGz) report.say(`kept ${gz} (--keep-gz)`);
    else await rm(gz, { force: true });
  } else if (name.endsWith('.xml')) {
    const download = `${xml}.download`;
    if (config.force) await rm(`${download}.part`, { force: true });
    const check = await ctx.download(url, download, config.abstractsChecksum, 'ABSTRACTS_CHECKSUM', notFoundHint);
    await writeStamp(check);
    await rename(download, xml);
  } else {
    throw new TrueFilmError('DOWNLOAD_SOURCE', `ABSTRACTS_URL must name a .xml.gz or .xml file, got ${JSON.stringify(name)}`);
  }
  report.say(`abstracts: ready in ${xml} (${formatBytes((await stat(xml)).size)})`);
}

/**
 * Inflates `gz` into `out` (removed unless complete) after checking the free
 * space: DECOMPRESS_RATIO times the .gz, or the size the gzip trailer records
 * when that is more. A file that does not inflate is deleted; on a full disk
 * it is kept.
 */
async function decompress(ctx: DownloadContext, gz: string, out: string): Promise<void> {
  const gzName = path.basename(gz);
  const gzSize = (await stat(gz)).size;
  const need = Math.max(gzSize * ctx.config.decompressRatio, (await gzipRecordedSize(gz)) ?? 0);
  await checkSpace(path.dirname(out), need, `decompress ${gzName}`, (m) => ctx.report.warn(m));
  ctx.report.say(`decompressing ${gzName} into ${path.basename(out, '.part')}`);
  const task = ctx.report.task(`gunzip`, gzSize);
  try {
    await gunzipFile(gz, out, { onRead: (read) => task.update(read), signal: ctx.signal });
  } catch (err) {
    await rm(out, { force: true });
    if (!(err instanceof UnpackError)) throw err;
    if (err.disk) {
      throw new TrueFilmError('DOWNLOAD_NO_SPACE', `the disk could not take the decompressed ${gzName} (${err.message}): the .gz is kept; free some space and run again`, { input: gz, cause: err });
    }
    await rm(gz, { force: true });
    throw new TrueFilmError('DOWNLOAD_BAD_FILE', `${gz} is not a valid gzip file (${err.message}): deleted it; run again to download it afresh`, { cause: err });
  } finally {
    task.stop();
  }
}
