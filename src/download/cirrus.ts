/**
 * `--source cirrus`: the English Wikipedia CirrusSearch content dump of the
 * newest complete date, as <data-dir>/cirrus/<YYYYMMDD>/*.json.bz2, kept
 * compressed. What it expects of the server, and why: docs/cirrus-download.md.
 *
 * A dump is fetched into cirrus/<date>.part/ and renamed cirrus/<date>/ once
 * every file is there and checked, so that a directory under a date's name is
 * always complete, and is what a later run (or an offline one) takes as done.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TrueFilmError, isTrueFilmError } from '../errors.js';
import { formatBytes } from '../format.js';
import { notFoundError, sizeOf } from '../http/transfer.js';
import { BZIP2_COMMANDS, onPath } from '../tools.js';
import type { Check, DownloadContext } from './context.js';
import { checkSpace } from './disk.js';
import {
  CIRRUS_INDEX,
  CIRRUS_SHARD_RE,
  CIRRUS_WIKI,
  algoOf,
  digestFilesFor,
  digestIn,
  dumpFiles,
  httpUrlOf,
  legacyCirrusRe,
  listingDates,
  listingNames,
  publishesDigests,
} from './listing.js';

/** The dump of one date, as its listing shows it. */
interface LocatedDump {
  dirUrl: string;
  /** every entry of its directory's listing */
  entries: string[];
  /** its files, in shard order */
  shards: string[];
}

/** A date that cannot be used, and why (the words that follow "skipping <date>: "). */
type Located = { dump: LocatedDump } | { skip: string };

/** The dump's files ready for the pipeline, in shard order (absolute paths). */
export type CirrusFiles = string[];

export async function sourceCirrus(ctx: DownloadContext): Promise<CirrusFiles> {
  const { config, report } = ctx;
  const base = httpUrlOf(config.cirrusBaseUrl, 'CIRRUS_BASE_URL').replace(/[?#].*$/s, '').replace(/\/*$/, '/');
  const root = path.join(ctx.dataDir, 'cirrus');
  await mkdir(root, { recursive: true });
  ctx.scratch(root);
  report.say(`cirrus: the ${CIRRUS_INDEX} CirrusSearch dump from ${base}`);

  let dates: string[];
  if (config.cirrusDate !== null) {
    dates = [config.cirrusDate];
  } else {
    const listed = await listDates(ctx, base, root);
    if (!Array.isArray(listed)) return listed.ready;
    dates = listed;
  }

  const skipped: string[] = [];
  for (const date of dates) {
    if (existsSync(path.join(root, date)) && !config.force) {
      report.say(`cirrus: the dump of ${date} is already complete in ${path.join(root, date)}: nothing to do`);
      return ready(ctx, path.join(root, date), date);
    }
    const located = await locate(ctx, base, date);
    if ('dump' in located) return fetchDump(ctx, root, date, located.dump);
    report.say(`cirrus: skipping ${date}: ${located.skip}`);
    skipped.push(located.skip);
  }
  if (config.cirrusDate !== null) {
    throw new TrueFilmError('DOWNLOAD_SOURCE', `the CirrusSearch dump of CIRRUS_DATE=${config.cirrusDate} cannot be used: ${skipped[0]}`);
  }
  throw new TrueFilmError('DOWNLOAD_SOURCE', `no complete ${CIRRUS_WIKI} content dump at ${base} (looked at ${dates.length} date(s), see above)`, {
    hint: 'Run again later, or see --help (CIRRUS_BASE_URL and CIRRUS_DATE choose another dump).',
  });
}

/**
 * The dates the index page lists, newest first; when the page cannot be
 * fetched, the newest complete download already here (with a warning).
 */
async function listDates(ctx: DownloadContext, base: string, root: string): Promise<string[] | { ready: CirrusFiles }> {
  let page: string | null;
  try {
    page = await ctx.fetchText(base);
  } catch (err) {
    if (isTrueFilmError(err, 'INTERRUPTED')) throw err;
    const why = (err as Error).message;
    const local = await localDates(root);
    if (local.length > 0 && !ctx.config.force) {
      ctx.report.warn(`cannot list the CirrusSearch dumps at ${base} (${why}): using the complete download of ${local[0]} already here`);
      return { ready: await ready(ctx, path.join(root, local[0]!), local[0]!) };
    }
    throw new TrueFilmError('DOWNLOAD_SOURCE', `cannot list the CirrusSearch dumps at ${base}: ${why}. Check the address (CIRRUS_BASE_URL) and the network, then run again.`, { cause: err });
  }
  if (page === null) throw notFoundError(base, 404, 'Check CIRRUS_BASE_URL (see --help)');
  const dates = listingDates(listingNames(page));
  if (dates.length === 0) {
    throw new TrueFilmError('DOWNLOAD_SOURCE', `the listing of ${base} holds no dump date (a YYYYMMDD/ directory): is CIRRUS_BASE_URL the index of the CirrusSearch dumps? (see --help)`);
  }
  return dates;
}

/** The complete downloads under `root` (YYYYMMDD directories), newest first. */
async function localDates(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && /^\d{8}$/.test(e.name))
    .map((e) => e.name)
    .sort()
    .reverse();
}

/** A listing's entries, or null when the directory is not there (404). */
async function listing(ctx: DownloadContext, url: string): Promise<string[] | null> {
  let page: string | null;
  try {
    page = await ctx.fetchText(url);
  } catch (err) {
    if (isTrueFilmError(err, 'INTERRUPTED')) throw err;
    throw new TrueFilmError('DOWNLOAD_SOURCE', `could not list ${url}: ${(err as Error).message}. Run again later.`, { cause: err });
  }
  return page === null ? null : listingNames(page);
}

/**
 * The content dump of one date: today's layout (<date>/index_name=enwiki_content/,
 * complete once it holds _SUCCESS), else the older one
 * (<date>/enwiki-<date>-cirrussearch-content.json.gz).
 */
async function locate(ctx: DownloadContext, base: string, date: string): Promise<Located> {
  // the "=" written %3D, as the server's own links do
  const dirUrl = `${base}${date}/index_name%3D${CIRRUS_INDEX}/`;
  const entries = await listing(ctx, dirUrl);
  if (entries !== null) {
    const shards = dumpFiles(entries, CIRRUS_SHARD_RE);
    if (!entries.includes('_SUCCESS')) return { skip: `not complete yet: no _SUCCESS marker in ${dirUrl} (${shards.length} file(s) so far)` };
    if (shards.length === 0) {
      throw new TrueFilmError(
        'DOWNLOAD_SOURCE',
        `${dirUrl} is marked complete (_SUCCESS) but lists no ${CIRRUS_WIKI} content shard (${CIRRUS_INDEX}-${date}-NNNNN.json.bz2 or .json.gz): ` +
          'the layout of the dumps has changed, or this is not a CirrusSearch dump',
        { hint: 'See --help; CIRRUS_BASE_URL and CIRRUS_DATE choose another dump.' },
      );
    }
    return { dump: { dirUrl, entries, shards } };
  }

  const legacyUrl = `${base}${date}/`;
  const legacy = await listing(ctx, legacyUrl);
  if (legacy === null) return { skip: `${legacyUrl} is not there (HTTP 404)` };
  const shards = dumpFiles(legacy, legacyCirrusRe(date));
  if (shards.length === 0) {
    return { skip: `it holds no ${CIRRUS_WIKI} content dump (neither index_name=${CIRRUS_INDEX}/ nor ${CIRRUS_WIKI}-${date}-cirrussearch-content.json.gz)` };
  }
  return { dump: { dirUrl: legacyUrl, entries: legacy, shards } };
}

/**
 * Downloads the files of `dump` into root/date.part/, one at a time (the
 * server allows few connections per address), then renames it root/date.
 */
async function fetchDump(ctx: DownloadContext, root: string, date: string, dump: LocatedDump): Promise<CirrusFiles> {
  const { report } = ctx;
  const final = path.join(root, date);
  const work = path.join(root, `${date}.part`);
  if (ctx.config.force) await Promise.all([rm(final, { recursive: true, force: true }), rm(work, { recursive: true, force: true })]);
  await mkdir(work, { recursive: true });
  ctx.scratch(work);
  const n = dump.shards.length;
  report.say(`cirrus: taking the dump of ${date}: ${n} file(s) in ${dump.dirUrl}`);

  // every size first: the free space is checked for the whole dump before any of it is fetched (the real one is tens of GB)
  const sizes: (number | null | 'present')[] = [];
  let need = 0;
  for (const shard of dump.shards) {
    if (existsSync(path.join(work, shard))) {
      sizes.push('present');
      continue;
    }
    const size = await ctx.remoteSize(dump.dirUrl + shard, NOT_FOUND_HINT);
    sizes.push(size);
    if (size !== null) need += Math.max(0, size - (await sizeOf(path.join(work, `${shard}.part`))));
  }
  await checkSpace(work, need, `download the ${date} ${CIRRUS_INDEX} dump (${n} file(s))`, (m) => report.warn(m));

  if (!publishesDigests(dump.entries)) {
    report.warn(`${dump.dirUrl} publishes no checksums: each file is checked against the size the server announces and its compression header`);
  }
  const sums = new DigestLists(ctx, dump);
  for (const [i, shard] of dump.shards.entries()) {
    const size = sizes[i]!;
    if (size === 'present') {
      report.say(`cirrus: [${i + 1}/${n}] ${shard} is already downloaded and checked`);
      continue;
    }
    report.say(`cirrus: [${i + 1}/${n}] ${shard}`);
    const check = await sums.checkFor(shard);
    const unverified = digestFilesFor(shard, dump.entries).length > 0 ? `no checksum file in ${dump.dirUrl} names ${shard}: not verified` : '';
    await ctx.fetchVerified(dump.dirUrl + shard, path.join(work, shard), size, check, unverified, NOT_FOUND_HINT);
    await checkMagic(path.join(work, shard));
  }

  await writeFile(path.join(work, '.source'), `url=${dump.dirUrl}\ndate=${date}\n${dump.shards.map((s) => `file=${s}\n`).join('')}`);
  await rename(work, final);
  return ready(ctx, final, date);
}

const NOT_FOUND_HINT =
  'the dump may have been removed since its listing was read (dumps.wikimedia.org keeps about four weeks of CirrusSearch dumps): run again to take the newest complete one';

/** The checksum files a dump's directory shows, each fetched once per run. */
class DigestLists {
  private readonly fetched = new Map<string, string | null>();

  constructor(
    private readonly ctx: DownloadContext,
    private readonly dump: LocatedDump,
  ) {}

  /** The digest of `shard` from the first checksum file that names it, or null. */
  async checkFor(shard: string): Promise<Check> {
    for (const { name, lone } of digestFilesFor(shard, this.dump.entries)) {
      const url = this.dump.dirUrl + name;
      if (!this.fetched.has(name)) {
        try {
          this.fetched.set(name, await this.ctx.fetchText(url));
        } catch (err) {
          if (isTrueFilmError(err, 'INTERRUPTED')) throw err;
          throw new TrueFilmError('DOWNLOAD_CHECKSUM', `could not fetch the checksum file ${url}: ${(err as Error).message}. Run again later.`, { cause: err });
        }
      }
      const text = this.fetched.get(name);
      const hex = text == null ? null : digestIn(text, shard, { lone });
      if (hex !== null) return { algo: algoOf(hex)!, hex, from: url };
    }
    return null;
  }
}

/** Checks that `file` starts as its name says (.gz: 1f 8b, .bz2: "BZh"): an error page saved under a shard's name is deleted. */
async function checkMagic(file: string): Promise<void> {
  const want = file.endsWith('.gz') ? { name: 'gzip', magic: '1f8b' } : file.endsWith('.bz2') ? { name: 'bzip2', magic: '425a68' } : null;
  if (want === null) return;
  const handle = await open(file, 'r');
  const head = Buffer.alloc(3);
  const { bytesRead } = await handle.read(head, 0, 3, 0).finally(() => handle.close());
  const hex = head.subarray(0, bytesRead).toString('hex');
  if (hex.startsWith(want.magic)) return;
  await rm(file, { force: true });
  throw new TrueFilmError(
    'DOWNLOAD_BAD_FILE',
    `${path.basename(file)} is not a ${want.name} file (it starts with the bytes ${hex || 'nothing'}): deleted it; run again to download it afresh`,
  );
}

/** The dump's files in `dir`, in shard order, and what the user should know of them. */
async function ready(ctx: DownloadContext, dir: string, date: string): Promise<CirrusFiles> {
  const { report } = ctx;
  const names = dumpFiles(await readdir(dir), new RegExp(`${CIRRUS_SHARD_RE.source}|${legacyCirrusRe().source}`));
  if (names.length === 0) {
    throw new TrueFilmError('DOWNLOAD_SOURCE', `${dir} holds no file of a CirrusSearch dump: remove it (rm -r ${dir}) and run again`);
  }
  const files = names.map((n) => path.join(dir, n));
  let bytes = 0;
  for (const f of files) bytes += (await stat(f)).size;
  report.say(`cirrus: ready: ${files.length} file(s) of the dump of ${date} in ${dir} (${formatBytes(bytes)}), kept compressed`);

  if (files[0]!.endsWith('.bz2') && !BZIP2_COMMANDS.some((tool) => onPath(tool) !== null)) {
    report.warn('the pipeline reads .bz2 files through lbzip2 or bzip2, and none is installed here: apt-get install lbzip2 (or bzip2)');
  }
  const others = (await readdir(path.dirname(dir), { withFileTypes: true }))
    .filter((e) => e.isDirectory() && path.join(path.dirname(dir), e.name) !== dir)
    .map((e) => path.join(path.dirname(dir), e.name));
  if (others.length > 0) {
    report.say(`cirrus: not used by these files, and taking disk space: ${others.join(' ')} (rm -r them when you no longer need them)`);
  }
  return files;
}
