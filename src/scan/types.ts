/**
 * What the scan's parts say to each other, whatever the dump's format: the
 * scanner's output, the chunks a cutter makes, and the faces of both.
 */
import type { WikiPage } from '../types.js';
import type { ErrorCode } from '../errors.js';
import type { KeyTable } from './keytable.js';
import type { KeyLogRef } from './wanted.js';

/** The two dumps `--abstracts` reads: the abstract dump's XML, the CirrusSearch dump's NDJSON. */
export type DumpFormat = 'xml' | 'cirrus';
export type Compression = 'none' | 'gzip' | 'bzip2';

/** One file of the scan's input. */
export interface DumpInput {
  file: string;
  /** bytes on disk */
  size: number;
  compression: Compression;
  /** known from the first bytes; for a compressed file, once it is decompressed */
  format: DumpFormat | null;
  /** dump bytes (decompressed size for .gz/.bz2, known once decompressed) */
  bytes: number;
}

/** A doc (a CirrusSearch document line) whose key is wanted, or that links a wanted IMDb id. */
export interface ScanHit {
  /** the key's index in the key log (-1: a CirrusSearch document wanted for its IMDb link only) */
  index: number;
  /** absolute offset of the doc's `<doc>` (or of the CirrusSearch document's line) */
  offset: number;
  page: WikiPage & { wikibaseItem?: string };
}

/** A CirrusSearch document whose `external_link` list holds an IMDb title link with a wanted id. */
export interface ImdbHit {
  /** the wanted IMDb id, as it was given (`tt0054215`) */
  id: string;
  /** the document's page key */
  key: string;
  offset: number;
  /** how many distinct IMDb titles the document links: a film's own page links one, a list many */
  titleLinks: number;
}

export interface Malformed {
  offset: number;
  reason: string;
}

export interface ScanOutput {
  /** docs (document lines) owned, malformed ones included */
  docs: number;
  hits: ScanHit[];
  /** malformed items found for every doc, whatever is wanted */
  malformed: number;
  samples: Malformed[];
  /** wanted docs that could not be read (all of them): only wanted docs are parsed, so only they can be found so */
  content: Malformed[];
  /** with `index`: each doc's key hash and offset, in input order (CirrusSearch: each title of a document, its redirects' too) */
  hashes?: Int32Array;
  offsets?: Float64Array;
  /** CirrusSearch: the documents that link a wanted IMDb id, in input order */
  imdb?: ImdbHit[];
}

/** What every format's scanner takes. */
export interface ScanOptions {
  /** absolute offset of the first byte pushed */
  start: number;
  /** docs that start at or after this offset are not this scanner's (default: none) */
  bound?: number;
  keys: KeyTable;
  /** the key window: a doc is wanted when its key's index is in [from, to) */
  from?: number;
  to?: number;
  /** record every doc's key hash and offset (to look up keys that arrive later) */
  index?: boolean;
  /** a larger doc is malformed, and skipped in flat memory */
  maxDocBytes?: number;
}

/**
 * A scanning core: bytes in, wanted docs, counts and malformed samples out.
 * It knows nothing of threads, files or decompression.
 */
export interface Scanner {
  /** Feeds the next bytes; returns false once the scanner needs no more (a doc started at or after the bound). */
  push(bytes: Uint8Array): boolean;
  /** The input ends here: at the file's end, or (`atCut`) where a cutter cut it, where a doc starts. */
  end(atCut?: boolean): ScanOutput;
}

/** Bytes of the decompressed file from `start` on, in parts that follow one another. */
export interface InflatedChunk {
  /** each part's buffer belongs to the chunk alone: it can be moved to a worker */
  parts: Uint8Array[];
  /** offset of the first part's first byte in the decompressed file: 0 or where a doc starts */
  start: number;
  /** the chunk ends the file; otherwise a doc starts right after it */
  last: boolean;
}

export interface CutterOptions {
  /** decompressed bytes per chunk, about */
  chunkSize: number;
  maxDocBytes?: number;
}

/** Cuts decompressed bytes into chunks that each start where a doc may start, so that any worker can scan one. */
export interface Cutter {
  /** The next decompressed bytes. A whole buffer that the caller gives up may become part of a chunk as it is (and be moved). */
  push(data: Uint8Array): InflatedChunk[];
  /** The decompressed data ends: the last chunk. */
  end(): InflatedChunk[];
}

// ---- the tasks, between the main thread and the workers (src/scan/task.ts) ----

/** What every task of a run shares, handed to each worker once (Piscina's workerData). */
export interface ScanContext {
  /** identifies the run (its key log): a worker keeps one key table per run */
  run: string;
  log: KeyLogRef;
  /** the wanted IMDb ids (CirrusSearch documents that link one are wanted) */
  imdb: string[];
}

interface TaskBase {
  format: DumpFormat;
  /** the key window: keys [from, to) are looked for; `to` absent = all keys logged when the task starts */
  from: number;
  to?: number;
  /** record every doc's key hash and offset, unless the key set is closed when the task starts */
  index: boolean;
  maxDocBytes?: number;
}

/** Docs (lines) that start in [start, bound) of a file; `spans` for several ranges of one file. */
export interface RangeTask extends TaskBase {
  kind: 'range';
  file: string;
  spans: [start: number, bound: number][];
  readSize?: number;
}

/** A decompressed chunk that starts at the file's start or where a doc starts, and ends at one or at the end. */
export interface ChunkTask extends TaskBase {
  kind: 'chunk';
  /** the chunk's bytes, in parts that follow one another (moved to the worker, not copied) */
  parts: Uint8Array[];
  /** offset of the first part's first byte in the decompressed file */
  start: number;
  /** the chunk ends the file (else it ends where a doc starts) */
  last: boolean;
}

export type ScanTask = RangeTask | ChunkTask;

export interface TaskError {
  code: ErrorCode;
  message: string;
  offset?: number;
  hint?: string;
}

export interface TaskResult {
  /** the keys [0, version) were known to this task (the window's end) */
  version: number;
  outputs: ScanOutput[];
  /** the index covers the task's docs (false when the key set was closed when it started) */
  indexed: boolean;
  error?: TaskError;
  /** Date.now() when a worker began the task (set by src/workers/scan.ts) */
  startedAt?: number;
}

/** A chunk of a decompressed file, in the format found at its start. */
export interface FormatChunk extends InflatedChunk {
  format: DumpFormat;
}

export const DEFAULT_MAX_DOC_BYTES = 8 << 20;
