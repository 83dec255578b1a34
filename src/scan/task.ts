/**
 * One scan task as a worker runs it: a byte range of a file (read here, into
 * one reused buffer), a list of single docs (late keys), or a chunk of a
 * decompressed `.gz`/`.bz2` (moved to the worker by the main thread), in
 * either format: the abstract dump's XML (DocScanner) or CirrusSearch NDJSON
 * (CirrusScanner). The worker file is a thin wrapper over `runScanTask`.
 *
 * Results are plain data: errors come back as `error` (a TrueFilmError does
 * not keep its code across threads), and the main thread names the file.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isTrueFilmError, type ErrorCode } from '../errors.js';
import { CirrusScanner, ImdbTable } from './cirrus.js';
import type { DumpFormat } from './decompress.js';
import { docFinder } from './docfind.js';
import { KeyTable } from './keytable.js';
import { DocScanner, type ScanOutput } from './scanner.js';
import { keyLogClosed, syncKeyTable, type KeyLogRef } from './wanted.js';

export const DEFAULT_READ_SIZE = 256 << 10;

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

/** A decompressed chunk that starts at the file's start or at a `<doc>` (a line), and ends at one or at the end. */
export interface ChunkTask extends TaskBase {
  kind: 'chunk';
  /** the chunk's bytes, in parts that follow one another (moved to the worker, not copied) */
  parts: Uint8Array[];
  /** offset of the first part's first byte in the inflated file */
  start: number;
  /** the chunk ends the file (else it ends where a `<doc>` starts) */
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

let table: { run: string; keys: KeyTable; imdb: ImdbTable } | null = null;
/**
 * This thread's read buffer (and its room for `PAGE` bytes of skew): in the
 * XML finder's WebAssembly memory when there is one (it is searched there in
 * place), whose pages start at offsets that are multiples of PAGE.
 */
let reads: { buffer: Buffer; size: number; aligned: boolean } | null = null;
const PAGE = 4096;

function readBufferOf(size: number): { buffer: Buffer; size: number; aligned: boolean } {
  if (reads === null || reads.size !== size || reads.buffer.length !== size + PAGE) {
    const finder = docFinder();
    reads =
      finder !== null
        ? { buffer: finder.readBuffer(size + PAGE), size, aligned: true }
        : { buffer: Buffer.allocUnsafe(size + PAGE), size, aligned: false };
  }
  return reads;
}

/**
 * Where in the read buffer a read of the file at `at` goes: at the same
 * offset within a page as in the file, when the buffer's pages are known. The
 * kernel's copy (rep movsb) runs up to 3× slower on this machine when the
 * destination lies a few bytes past the source's place in a page (4K
 * aliasing): a CirrusSearch range, read from the byte before its start into
 * a page-aligned buffer, spent 3× the time reading.
 */
function skewOf(at: number, aligned: boolean): number {
  return aligned ? at % PAGE : 0;
}

function tablesFor(context: ScanContext): { keys: KeyTable; imdb: ImdbTable } {
  if (table === null || table.run !== context.run) table = { run: context.run, keys: new KeyTable(), imdb: new ImdbTable(context.imdb) };
  syncKeyTable(context.log, table.keys);
  return table;
}

/** What both scanners are to the task: bytes in, output out. */
interface Scanner {
  push(bytes: Uint8Array): boolean;
  end(atBoundary?: boolean): ScanOutput;
}

export function runScanTask(task: ScanTask, context: ScanContext): TaskResult {
  const closed = keyLogClosed(context.log); // read before the keys: once closed, no key comes after
  const { keys, imdb } = tablesFor(context);
  const version = task.to ?? keys.size;
  const index = task.index && !closed;
  const options = { keys, from: task.from, to: version, index, maxDocBytes: task.maxDocBytes };
  const outputs: ScanOutput[] = [];
  try {
    if (task.kind === 'chunk') {
      // a chunk starts at the file's start or where a doc (a line) starts
      const scanner: Scanner =
        task.format === 'xml'
          ? new DocScanner({ ...options, start: task.start, fileStart: task.start === 0 })
          : new CirrusScanner({ ...options, imdb, start: task.start, lineStart: true });
      const finder = task.format === 'xml' ? docFinder() : null;
      if (finder !== null && finder.fastPath) {
        // copied through the finder's read buffer, where the whole fast path runs in WebAssembly
        const { buffer, size } = readBufferOf(DEFAULT_READ_SIZE);
        for (const part of task.parts) {
          for (let at = 0; at < part.length; at += size) {
            const n = Math.min(size, part.length - at);
            buffer.set(part.subarray(at, at + n));
            scanner.push(buffer.subarray(0, n));
          }
        }
      } else {
        for (const part of task.parts) scanner.push(part);
      }
      outputs.push(scanner.end(!task.last));
      return { version, outputs, indexed: index };
    }
    const { buffer, size: readSize, aligned } = readBufferOf(task.readSize ?? DEFAULT_READ_SIZE);
    const fd = openSync(task.file, 'r');
    try {
      for (const [start, bound] of task.spans) {
        // a line starts after a `\n`: a range that does not start the file is read from the byte before it
        const from = task.format === 'cirrus' && start > 0 ? start - 1 : start;
        const scanner: Scanner =
          task.format === 'xml'
            ? new DocScanner({ ...options, start, bound, fileStart: start === 0 })
            : new CirrusScanner({ ...options, imdb, start: from, bound, lineStart: from === 0 });
        let at = from;
        for (;;) {
          const skew = skewOf(at, aligned);
          const n = readSync(fd, buffer, skew, readSize, at);
          if (n === 0) break;
          at += n;
          if (!scanner.push(buffer.subarray(skew, skew + n))) break;
        }
        outputs.push(scanner.end());
      }
    } finally {
      closeSync(fd);
    }
    return { version, outputs, indexed: index };
  } catch (err) {
    const error: TaskError = isTrueFilmError(err)
      ? { code: err.code, message: err.message, offset: err.offset, hint: err.hint }
      : { code: 'INPUT_UNREADABLE', message: (err as Error).message };
    return { version, outputs, indexed: index, error };
  }
}
