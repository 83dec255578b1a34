/**
 * What the download reads in the pages of a dump server, as pure functions:
 * the entries of a directory listing, the digest of a file in a list of
 * checksums, the name at the end of a URL. No I/O: the tests give them text.
 */
import { TrueFilmError } from '../errors.js';
import type { DigestAlgo } from '../http/transfer.js';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#39);/g, (_m, name: string) => ENTITIES[name]!);
}

function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a malformed escape: the name as written
  }
}

/**
 * The entries of an HTML directory listing (nginx's or Apache's autoindex),
 * in page order, each once: the last path segment of each link,
 * percent-decoded, with a trailing "/" for a directory. "../", links to the
 * page itself, sort links (`?C=N;O=D`) and fragments are left out. The link is
 * read, never the text: autoindex cuts long names in the text.
 */
export function listingNames(html: string): string[] {
  const names: string[] = [];
  for (const m of html.matchAll(/\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)) {
    const href = decodeEntities(m[1] ?? m[2]!).replace(/[?#].*$/s, '');
    const dir = href.endsWith('/');
    const segment = (dir ? href.slice(0, -1) : href).split('/').at(-1)!;
    if (segment === '' || segment === '.' || segment === '..') continue;
    const name = percentDecode(segment) + (dir ? '/' : '');
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** `text` when it is an http(s) URL; else the error names the variable that holds it. */
export function httpUrlOf(text: string, variable: string): string {
  if (!/^https?:\/\/[^/]/i.test(text)) throw new TrueFilmError('DOWNLOAD_SOURCE', `${variable} must be an http(s):// URL, got ${JSON.stringify(text)}`);
  return text;
}

/** The file name at the end of a URL, without its query string or fragment. */
export function urlName(url: string): string {
  return url.replace(/[?#].*$/s, '').split('/').at(-1)!;
}

/** The algorithm of a hex digest, from its length; null when it is not one. */
export function algoOf(hex: string): DigestAlgo | null {
  if (!/^[0-9a-fA-F]+$/.test(hex)) return null;
  return ({ 32: 'md5', 40: 'sha1', 64: 'sha256', 128: 'sha512' } as const)[hex.length as 32 | 40 | 64 | 128] ?? null;
}

/**
 * The digest of `name` in a checksum file, in lower case, or null: a line
 * `<hex>  <name>` (or `<hex> *<name>`, binary mode), or else, when `lone` is
 * allowed, a first line holding only `<hex>` (a `<file>.sha256` that names no
 * file). Only a digest of a known length counts.
 */
export function digestIn(text: string, name: string, options: { lone: boolean }): string | null {
  const lines = text.split(/\r?\n/);
  for (const line of lines) {
    const [hex, file] = line.trim().split(/\s+/);
    if (hex !== undefined && (file === name || file === `*${name}`) && algoOf(hex)) return hex.toLowerCase();
  }
  const first = lines[0]?.trim() ?? '';
  if (options.lone && /^[0-9a-fA-F]+$/.test(first) && algoOf(first)) return first.toLowerCase();
  return null;
}

/** The lists of digests that a dump directory may publish, for many files at once. */
const SUMS_LIST_RE = /^(SHA256SUMS|SHA512SUMS|SHA1SUMS|MD5SUMS)$|(md5|sha1|sha256|sha512)sums(\.txt)?$/;
const DIGEST_EXTENSIONS = ['sha256', 'sha512', 'sha1', 'md5'] as const;

/**
 * The checksum files that a directory's entries offer for `file`, best first:
 * `<file>.sha256`, `.sha512`, `.sha1`, `.md5`, then the lists (SHA256SUMS,
 * `*-md5sums.txt`...). Only what the listing shows: none is asked for blindly.
 */
export function digestFilesFor(file: string, entries: readonly string[]): { name: string; lone: boolean }[] {
  const own = DIGEST_EXTENSIONS.map((ext) => `${file}.${ext}`).filter((n) => entries.includes(n));
  const lists = entries.filter((n) => SUMS_LIST_RE.test(n) && /^[A-Za-z0-9._-]+$/.test(n)).sort();
  return [...own.map((name) => ({ name, lone: true })), ...lists.map((name) => ({ name, lone: false }))];
}

/** Whether a directory's entries hold any checksum file at all. */
export function publishesDigests(entries: readonly string[]): boolean {
  return entries.some((n) => SUMS_LIST_RE.test(n) || /\.(sha256|sha512|sha1|md5)$/.test(n));
}

/**
 * The checksum files that may sit beside a download, best first, for a
 * digest that is not given: `<url>.sha256` ... `.md5`; for a Wikimedia dump run
 * (`enwiki-20250201-...`) its `-sha1sums.txt` and `-md5sums.txt`; then
 * SHA256SUMS in the same directory.
 */
export function publishedDigestCandidates(url: string): { url: string; lone: boolean }[] {
  const base = url.replace(/[?#].*$/s, '');
  const dir = base.slice(0, base.lastIndexOf('/'));
  const out = DIGEST_EXTENSIONS.map((ext) => ({ url: `${base}.${ext}`, lone: true }));
  const run = /^([A-Za-z0-9_]+-\d{8})-/.exec(urlName(url));
  if (run) out.push({ url: `${dir}/${run[1]}-sha1sums.txt`, lone: false }, { url: `${dir}/${run[1]}-md5sums.txt`, lone: false });
  out.push({ url: `${dir}/SHA256SUMS`, lone: false });
  return out;
}

export interface GivenDigest {
  algo: DigestAlgo;
  hex: string;
}

/**
 * A digest given by the user (`ABSTRACTS_CHECKSUM`): hex of a known length,
 * optionally `<algo>:` before it; "none" skips verification. Undefined when
 * the text is neither.
 */
export function parseGivenDigest(text: string): GivenDigest | 'none' | undefined {
  if (text === 'none') return 'none';
  const colon = text.indexOf(':');
  const hex = (colon < 0 ? text : text.slice(colon + 1)).toLowerCase();
  const algo = algoOf(hex);
  if (algo === null || (colon >= 0 && text.slice(0, colon).toLowerCase() !== algo)) return undefined;
  return { algo, hex };
}

/** The CirrusSearch files in today's layout: enwiki_content-20250830-00000.json.bz2 */
export const CIRRUS_WIKI = 'enwiki';
export const CIRRUS_INDEX = `${CIRRUS_WIKI}_content`;
export const CIRRUS_SHARD_RE = new RegExp(`^${CIRRUS_INDEX}-\\d{8}(-\\d+)?\\.json\\.(bz2|gz)$`);
/** the older layout: one enwiki-<date>-cirrussearch-content.json.gz per date */
export const legacyCirrusRe = (date = '\\d{8}'): RegExp => new RegExp(`^${CIRRUS_WIKI}-${date}-cirrussearch-content\\.json\\.(bz2|gz)$`);

/** The shard number of a dump file: the number after its second "-" (0 when none). */
function shardNumber(name: string): number {
  return Number.parseInt(name.split('-')[2] ?? '', 10) || 0;
}

/**
 * The files among `entries` that match `pattern`, in shard order; a .bz2
 * whose .gz twin is listed is left out (the pipeline reads gzip itself).
 */
export function dumpFiles(entries: readonly string[], pattern: RegExp): string[] {
  const matching = [...new Set(entries.filter((n) => pattern.test(n)))];
  return matching
    .filter((n) => !(n.endsWith('.bz2') && matching.includes(n.slice(0, -'.bz2'.length) + '.gz')))
    .sort((a, b) => shardNumber(a) - shardNumber(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** The dates (YYYYMMDD/ directories) of a listing, newest first. */
export function listingDates(entries: readonly string[]): string[] {
  return [...new Set(entries.filter((n) => /^\d{8}\/$/.test(n)).map((n) => n.slice(0, 8)))].sort().reverse();
}
