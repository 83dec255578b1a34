/**
 * What every source of `truefilm download` shares: where it writes, how it
 * talks (lines on stdout, warnings and progress on stderr), the HTTP clients,
 * and the one step they all take: a file fetched, verified, and only then
 * given its name.
 */
import { rename, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { TrueFilmError, isTrueFilmError } from '../errors.js';
import { formatBytes, formatDuration } from '../format.js';
import { HttpClient } from '../http/client.js';
import { FileTransfers, sizeOf, type DigestAlgo, type TransferEvents } from '../http/transfer.js';
import type { Task, Ui } from '../ui.js';
import { checkSpace } from './disk.js';
import { algoOf, digestIn, parseGivenDigest, publishedDigestCandidates, urlName } from './listing.js';
import type { DownloadConfig } from './options.js';

/** What a download is checked against: a digest and where it came from, "<VAR>=none", or nothing. */
export type Check = { algo: DigestAlgo; hex: string; from: string } | { skipped: string } | null;

/**
 * Lines for the user: what is done on stdout (as a script's output is read),
 * warnings and progress on stderr. A line on stdout first closes the bars,
 * which would otherwise redraw over it on a shared terminal.
 */
export class Reporter {
  constructor(
    private readonly ui: Ui,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  say(line: string): void {
    this.ui.close();
    this.out.write(line + '\n');
  }

  warn(message: string): void {
    this.ui.warn(message);
  }

  task(label: string, total: number): Task {
    return this.ui.task(label, total, 'bytes');
  }
}

const REDIRECTS = [301, 302, 303, 307, 308];
const MAX_REDIRECTS = 5;

export class DownloadContext {
  readonly dataDir: string;
  private readonly http: HttpClient;
  private readonly transfers: FileTransfers;
  /** directories made for the work, removed at the end when left empty (the last made first) */
  private readonly scratchDirs: string[] = [];

  constructor(
    readonly config: DownloadConfig,
    readonly report: Reporter,
    userAgent: string,
    readonly signal: AbortSignal,
  ) {
    this.dataDir = path.resolve(config.dataDir);
    const policy = { userAgent, maxTries: config.tries, backoffMs: config.retryDelayMs, signal };
    // listings and checksum files: small answers, read whole
    this.http = new HttpClient({ ...policy, concurrency: 1, timeoutMs: 120_000, maxTotalMs: 30 * 60_000, maxBackoffMs: 5 * 60_000 });
    this.transfers = new FileTransfers(policy);
  }

  async close(): Promise<void> {
    for (const dir of [...this.scratchDirs].reverse()) await rmdir(dir).catch(() => {});
    await Promise.all([this.http.close(), this.transfers.close()]);
  }

  /** Marks `dir` to be removed at the end if nothing is left in it. */
  scratch(dir: string): void {
    if (!this.scratchDirs.includes(dir)) this.scratchDirs.push(dir);
  }

  /** The body of a small file (a listing, a checksum list), or null when the server has no such file (404/410). */
  async fetchText(url: string): Promise<string | null> {
    let current = url;
    for (let hop = 0; ; hop++) {
      const res = await this.http.request({ url: current, readStatuses: [...REDIRECTS, 404, 410] }, (r) => r);
      if (res.status === 404 || res.status === 410) return null;
      if (!REDIRECTS.includes(res.status)) return res.body;
      const location = res.headers.location;
      if (typeof location !== 'string' || hop >= MAX_REDIRECTS) {
        throw new TrueFilmError('HTTP_BAD_RESPONSE', `HTTP ${res.status} without a usable Location${hop >= MAX_REDIRECTS ? ` after ${MAX_REDIRECTS} redirects` : ''}`, { input: url });
      }
      current = new URL(location, current).href;
    }
  }

  /** The size the server announces for `url` (null: it does not say); a missing file throws. */
  remoteSize(url: string, notFoundHint?: string): Promise<number | null> {
    return this.transfers.size(url, notFoundHint);
  }

  /** A digest the user gave (`VAR`), checked before any request. */
  givenCheck(given: string, variable: string): Check {
    const parsed = parseGivenDigest(given);
    if (parsed === undefined) {
      throw new TrueFilmError('DOWNLOAD_CHECKSUM', `${variable} must be an md5, sha1, sha256 or sha512 digest in hex (or none), got ${JSON.stringify(given)}`);
    }
    return parsed === 'none' ? { skipped: `${variable}=none` } : { ...parsed, from: variable };
  }

  /** A digest published beside `url` (publishedDigestCandidates), or null when none is. */
  async publishedCheck(url: string, variable: string): Promise<Check> {
    const name = urlName(url);
    for (const candidate of publishedDigestCandidates(url)) {
      let text: string | null;
      try {
        text = await this.fetchText(candidate.url);
      } catch (err) {
        if (isTrueFilmError(err, 'INTERRUPTED')) throw err;
        throw new TrueFilmError('DOWNLOAD_CHECKSUM', `could not fetch the checksum file ${candidate.url}: ${(err as Error).message}. Run again, or set ${variable} (a digest, or none).`, { cause: err });
      }
      if (text === null) continue;
      const hex = digestIn(text, name, { lone: candidate.lone });
      if (hex === null) {
        this.report.warn(`${candidate.url} does not give a digest for ${name}: ignoring it`);
        continue;
      }
      return { algo: algoOf(hex)!, hex, from: candidate.url };
    }
    return null;
  }

  /**
   * Downloads `url` to `dest`, resuming `dest.part`, and verifies it; `dest`
   * appears only once complete and verified. A digest given (`given`, from
   * `variable`) is read before any request; the file is asked for (HEAD)
   * before any digest published beside it, so that a missing file is what
   * is reported.
   */
  async download(url: string, dest: string, given: string | null, variable: string, notFoundHint?: string): Promise<Check> {
    const givenCheck = given === null ? null : this.givenCheck(given, variable);
    const size = await this.remoteSize(url, notFoundHint);
    const check = givenCheck ?? (await this.publishedCheck(url, variable));
    const name = urlName(url);
    await this.fetchVerified(url, dest, size, check, `no checksum is published beside ${name} (and ${variable} is not set): not verified`, notFoundHint);
    return check;
  }

  /**
   * The transfer itself, once the size (null: unknown) and the check are
   * known: `dest.part` resumed, its size and digest checked, then renamed
   * `dest`. `unverified` is the warning when there is nothing to check against.
   */
  async fetchVerified(url: string, dest: string, size: number | null, check: Check, unverified: string, notFoundHint?: string): Promise<void> {
    const part = `${dest}.part`;
    const name = urlName(url);
    if (size !== null) await checkSpace(path.dirname(dest), Math.max(0, size - Math.min(size, await sizeOf(part))), `download ${name}`, (m) => this.report.warn(m));
    const algo = check !== null && 'algo' in check ? check.algo : null;
    const result = await this.transfers.download({ url, part, name, size, hash: algo, notFoundHint, events: this.transferEvents(url, name) });
    if (check !== null && 'algo' in check) {
      this.report.say(`verifying ${name} (${check.algo} from ${check.from})`);
      if (result.digest !== check.hex) {
        await rm(part, { force: true });
        throw new TrueFilmError(
          'DOWNLOAD_CHECKSUM',
          `checksum mismatch for ${name}: expected ${check.algo} ${check.hex} (from ${check.from}), got ${result.digest}. The download was deleted`,
          { hint: 'Run again to download it afresh; if it fails again, the file on the server or its checksum is wrong.' },
        );
      }
      this.report.say('checksum ok');
    } else if (check !== null) {
      this.report.say(`not verifying ${name} (${check.skipped})`);
    } else if (unverified !== '') {
      this.report.warn(unverified);
    }
    await rename(part, dest);
  }

  /** A line and a progress bar per try; warnings for retries and restarts. */
  private transferEvents(url: string, name: string): TransferEvents {
    let task: Task | null = null;
    let from = 0;
    return {
      tryStart: (at, total) => {
        from = at;
        this.report.say(
          at > 0
            ? `resuming ${name} at ${formatBytes(at)}${total !== null ? ` of ${formatBytes(total)}` : ''}`
            : `downloading ${name}${total !== null ? ` (${formatBytes(total)})` : ''} from ${url}`,
        );
        task = this.report.task(name, total === null ? 0 : total - at);
      },
      progress: (written) => task?.update(written - from),
      tryEnd: () => {
        task?.stop();
        task = null;
      },
      retry: (why, delayMs) => this.report.warn(`${why}: trying again${delayMs >= 1000 ? ` in ${formatDuration(delayMs)}` : ''}`),
      restart: (why) => this.report.warn(why),
    };
  }
}
