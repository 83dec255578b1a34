/**
 * `truefilm download` (and ./data_download.sh, which runs it): its options,
 * its help, and the names and addresses it knows. Light on purpose: --help
 * and a usage error load this file and nothing of the download itself.
 */
export const SOURCES = ['abstracts', 'cirrus', 'metadata'] as const;
export type Source = (typeof SOURCES)[number];
/** the CSV is all a run needs: online, the live Wikipedia answers what a dump would (the dumps are the offline option) */
export const DEFAULT_SOURCES: readonly Source[] = ['metadata'];

export const DEFAULT_ABSTRACTS_URL = 'https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-abstract.xml.gz';
export const DEFAULT_CIRRUS_BASE_URL = 'https://dumps.wikimedia.org/other/cirrus_search_index/';
/** the names `truefilm run` reads from its data directory by default */
export const ABSTRACTS_XML_NAME = 'enwiki-latest-abstract.xml';
export const METADATA_NAME = 'movies_metadata.csv';
export const KAGGLE_DATASET = 'rounakbanik/the-movies-dataset';
export const KAGGLE_PAGE = 'https://www.kaggle.com/datasets/rounakbanik/the-movies-dataset';

const DOWNLOAD_DEFAULTS = {
  tries: 5,
  retryDelaySeconds: 10,
  decompressRatio: 8,
} as const;

export interface DownloadConfig {
  command: 'download';
  /** in the order given, each once */
  sources: Source[];
  dataDir: string;
  force: boolean;
  keepGz: boolean;
  /** the user's e-mail address or URL, for the User-Agent */
  contact: string | null;
  progress: boolean;
  /** attempts per file, each resuming the last */
  tries: number;
  /** the first wait before another attempt; it doubles with each */
  retryDelayMs: number;
  /** free space demanded before decompressing, as a multiple of the .gz size */
  decompressRatio: number;
  abstractsUrl: string;
  abstractsChecksum: string | null;
  cirrusBaseUrl: string;
  cirrusDate: string | null;
  metadataUrl: string | null;
  metadataChecksum: string | null;
}

type Env = Record<string, string | undefined>;

export interface ParseContext {
  problems: { add(message: string): void };
  /** the program's rule for a contact (config.ts), so that `run` and `download` accept the same */
  contactOf(flag: string, text: string | undefined): string | null;
  defaultDataDir: string;
}

function wholeNumber(context: ParseContext, name: string, text: string | undefined, fallback: number, min: number, what: string): number {
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min) {
    context.problems.add(`${name} must be ${what}, got ${JSON.stringify(text)}`);
    return fallback;
  }
  return Number(text);
}

const FLAGS_WITH_VALUE = new Set(['--source', '--data-dir', '--contact']);
const SWITCHES = new Set(['--force', '--keep-gz', '--no-progress']);

/**
 * The download's arguments: `--flag value` and `--flag=value`, as the script
 * always took them. Every problem goes to `context.problems`.
 */
export function parseDownloadArgs(args: string[], env: Env, context: ParseContext): DownloadConfig {
  const { problems } = context;
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (FLAGS_WITH_VALUE.has(name)) {
      const value = name === arg ? args[++i] : arg.slice(eq + 1);
      if (value === undefined) problems.add(`${name} needs a value`);
      else values.set(name, [...(values.get(name) ?? []), value]);
    } else if (SWITCHES.has(arg)) {
      switches.add(arg);
    } else {
      problems.add(`unknown option ${JSON.stringify(arg)}`);
    }
  }

  const sources: Source[] = [];
  for (const s of values.get('--source') ?? DEFAULT_SOURCES) {
    if (!(SOURCES as readonly string[]).includes(s)) problems.add(`--source must be one of: ${SOURCES.join(' ')}; got ${JSON.stringify(s)}`);
    else if (!sources.includes(s as Source)) sources.push(s as Source);
  }
  const cirrusDate = env.CIRRUS_DATE || null;
  if (cirrusDate !== null && !/^\d{8}$/.test(cirrusDate)) problems.add(`CIRRUS_DATE must be a dump date as YYYYMMDD, got ${JSON.stringify(cirrusDate)}`);
  const contactFlag = values.has('--contact') ? '--contact' : 'TRUEFILM_CONTACT';

  return {
    command: 'download',
    sources,
    // an empty TRUEFILM_DATA_DIR (compose passes unset variables as empty) means the default
    dataDir: values.get('--data-dir')?.at(-1) || env.TRUEFILM_DATA_DIR || context.defaultDataDir,
    force: switches.has('--force'),
    keepGz: switches.has('--keep-gz'),
    contact: context.contactOf(contactFlag, values.get('--contact')?.at(-1) ?? env.TRUEFILM_CONTACT),
    progress: !switches.has('--no-progress'),
    tries: wholeNumber(context, 'DOWNLOAD_TRIES', env.DOWNLOAD_TRIES, DOWNLOAD_DEFAULTS.tries, 1, 'a whole number from 1'),
    retryDelayMs: 1000 * wholeNumber(context, 'DOWNLOAD_RETRY_DELAY', env.DOWNLOAD_RETRY_DELAY, DOWNLOAD_DEFAULTS.retryDelaySeconds, 0, 'a whole number of seconds'),
    decompressRatio: wholeNumber(context, 'DECOMPRESS_RATIO', env.DECOMPRESS_RATIO, DOWNLOAD_DEFAULTS.decompressRatio, 1, 'a whole number from 1'),
    abstractsUrl: env.ABSTRACTS_URL || DEFAULT_ABSTRACTS_URL,
    abstractsChecksum: env.ABSTRACTS_CHECKSUM || null,
    cirrusBaseUrl: env.CIRRUS_BASE_URL || DEFAULT_CIRRUS_BASE_URL,
    cirrusDate,
    metadataUrl: env.METADATA_URL || null,
    metadataChecksum: env.METADATA_CHECKSUM || null,
  };
}

export const DOWNLOAD_HELP = `Usage: ./data_download.sh [options]
       truefilm download [options]          (the same program)

Downloads what \`truefilm run\` reads into its data directory (data/ in the
current directory, as \`truefilm run\`, or --data-dir / TRUEFILM_DATA_DIR).
Three sources, chosen with --source:
  metadata    ${METADATA_NAME}, the Kaggle "The Movies Dataset" CSV
  abstracts   ${ABSTRACTS_XML_NAME}, the English Wikipedia abstract dump
              (of 2025-02-01, the last there is), decompressed: the file that
              \`truefilm run\` reads when it is given no --abstracts
  cirrus      the newest complete CirrusSearch dump of English Wikipedia's
              articles (the enwiki_content index), kept compressed in
              cirrus/<YYYYMMDD>/; at the end it prints the --abstracts
              arguments (and the TRUEFILM_ABSTRACTS value) that read it
By default: ${DEFAULT_SOURCES.join(' ')}. Work already done is skipped, so running it
again after an interruption goes on where it stopped (a partial download is
kept as <file>.part and resumed).

Which abstracts to use today
  Wikimedia stopped producing the abstract dumps in February 2025 (Phabricator
  T382069): the abstract dump is frozen at 2025-02-01, and for films its text
  is often infobox residue ("| producer =") rather than prose. The
  CirrusSearch dump is made every week from the live articles: its
  opening_text is the lead's prose, and its external links give IMDb ids,
  which match films without asking Wikidata. It is big, though: about 40 GB
  of .json.bz2 (2026: some 65 files of about 600 MB) to download and keep,
  against one .gz of the abstract dump that decompresses to about 7 GB.
  Use cirrus when you have the disk space and the bandwidth: it gives current,
  cleaner abstracts and more matches. The abstract dump is the smaller one,
  and is what \`truefilm run\` reads with no arguments.
  Neither is needed to run online: the pipeline matches the films and takes
  their abstracts from the live Wikipedia (the MediaWiki Action API,
  https://en.wikipedia.org/w/api.php), first from the dump when there is one.

Options
  --source NAME    download only this source (${SOURCES.join(', ')});
                   repeat for several (default: ${DEFAULT_SOURCES.join(' ')}):
                     metadata   from METADATA_URL when set, else with the
                                Kaggle CLI when its credentials are present,
                                else it tells how to get the file
                     abstracts  from ABSTRACTS_URL: download (resumable),
                                verify its checksum, decompress
                     cirrus     from CIRRUS_BASE_URL: find the newest complete
                                date, download its files (resumable), verify
                                them, keep them compressed
  --data-dir DIR   where the files go [env TRUEFILM_DATA_DIR]
                   (default: data/ in the current directory, where
                   \`truefilm run\` looks; give it the same --data-dir)
  --contact EMAIL-or-URL
                   your e-mail address or a URL, put in the User-Agent of
                   every request, as Wikimedia's policy asks [env TRUEFILM_CONTACT]
  --keep-gz        keep the downloaded .gz of the abstract dump after
                   decompressing it (deleted by default: the .xml is what the
                   pipeline reads)
  --force          download again even when the files are already there
  --no-progress    plain lines instead of progress bars
  -h, --help       this text

Environment
  ABSTRACTS_URL         the abstract dump, .xml.gz or .xml; default:
                        ${DEFAULT_ABSTRACTS_URL}
  ABSTRACTS_CHECKSUM    its expected digest in hex: md5, sha1, sha256 or sha512
                        (told apart by length; "sha256:<hex>" also works), or
                        "none" to skip verification. Unset: a digest published
                        beside the file is used: <file>.sha256, .sha512, .sha1 or
                        .md5, else the dump's <wiki>-<date>-sha1sums.txt or
                        -md5sums.txt, else SHA256SUMS; without any, only gzip's
                        own CRC check guards the file
  CIRRUS_BASE_URL       the index of the CirrusSearch dumps (a directory listing
                        of YYYYMMDD/ dates); default:
                        ${DEFAULT_CIRRUS_BASE_URL}
  CIRRUS_DATE           take the dump of this date (YYYYMMDD) instead of the
                        newest complete one
  METADATA_URL          a copy of ${METADATA_NAME} (.csv, .csv.gz or .zip)
  METADATA_CHECKSUM     as ABSTRACTS_CHECKSUM, for METADATA_URL
  KAGGLE_USERNAME, KAGGLE_KEY (or ~/.kaggle/kaggle.json)
                        credentials of the Kaggle CLI (pip install kaggle)
  DOWNLOAD_TRIES        attempts per file, each resuming the last (default ${DOWNLOAD_DEFAULTS.tries})
  DOWNLOAD_RETRY_DELAY  seconds before the first new attempt (default ${DOWNLOAD_DEFAULTS.retryDelaySeconds}); the
                        wait doubles with each, with jitter, up to 5 minutes. A
                        server's Retry-After (HTTP 429, 503) is honoured instead
  DECOMPRESS_RATIO      free space demanded before decompressing, as a multiple
                        of the .gz size (default ${DOWNLOAD_DEFAULTS.decompressRatio}; the 2025-02-01 dump holds
                        about 7 GB of XML)

The abstract dump
  The naming convention of the dumps: the run directory
  https://dumps.wikimedia.org/<wiki>/<YYYYMMDD>/ holds
  <wiki>-<YYYYMMDD>-abstract.xml.gz (every page in one file), the same split in
  <wiki>-<YYYYMMDD>-abstract1.xml.gz .. abstract27.xml.gz, and the digests of
  all its files in <wiki>-<YYYYMMDD>-md5sums.txt and -sha1sums.txt;
  <wiki>/latest/<wiki>-latest-abstract.xml.gz was the newest run's copy. The
  download is saved as ${ABSTRACTS_XML_NAME}, the name the pipeline reads.
  dumps.wikimedia.org keeps only its last few runs: when the default URL
  answers 404, take the same file from a mirror listed at
  https://dumps.wikimedia.org/mirrors.html or from the Internet Archive, and
  set ABSTRACTS_URL (and ABSTRACTS_CHECKSUM when the mirror has no digests).

The CirrusSearch dump: what this command expects of the server
  (from public descriptions of dumps.wikimedia.org, not checked against it
  here: if it has changed, the command stops with a message saying what it
  did not find)
  - CIRRUS_BASE_URL is an HTML directory listing of dates, YYYYMMDD/, one a
    week; about four weeks are kept.
  - <date>/index_name=enwiki_content/ lists the files of the English
    articles' index, enwiki_content-<date>-00000.json.bz2, -00001... (each
    Elasticsearch bulk NDJSON: an action line, then the document), and a file
    _SUCCESS once all of them are published, about 12 hours after the
    directory appears. A date without _SUCCESS is not complete: it is
    skipped for the date before it.
  - The older layout, https://dumps.wikimedia.org/other/cirrussearch/ (no
    longer updated since January 2026), is read too, for mirrors that keep
    it: <date>/enwiki-<date>-cirrussearch-content.json.gz, one file with no
    completion marker.
  - No checksums are published beside these files today. A digest file that
    a listing shows is used (<file>.sha256, .sha512, .sha1, .md5, SHA256SUMS,
    *-md5sums.txt...); otherwise each file is checked against the size the
    server announces and its bzip2/gzip header.
  The files are fetched one at a time (dumps.wikimedia.org allows few
  connections per address) into cirrus/<date>.part/, which becomes
  cirrus/<date>/ once every file is there and checked. The free space for the
  whole dump is checked before the first byte. The pipeline reads the .gz
  itself and the .bz2 through lbzip2 or bzip2 (apt-get install lbzip2).

Exit status: 0 done (or nothing left to do), 1 a download or check failed
(the message says which file and what to do), 2 bad usage, 130/143 stopped by
Ctrl-C/SIGTERM (run it again to resume).
`;
