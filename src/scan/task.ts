/**
 * One scan task as a worker runs it, in either format (formats.ts): byte
 * ranges of a file (read here, into one reused buffer), or a chunk of a
 * decompressed `.gz`/`.bz2` (moved to the worker by the main thread). The
 * worker file is a thin wrapper over `runScanTask`.
 *
 * Results are plain data: errors come back as `error` (a TrueFilmError does
 * not keep its code across threads), and the main thread names the file.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isTrueFilmError } from '../errors.js';
import { ImdbTable } from './cirrus.js';
import { docFinder } from './docfind.js';
import { FORMATS, type FormatScanOptions } from './formats.js';
import { KeyTable } from './keytable.js';
import type { ChunkTask, RangeTask, ScanContext, ScanOutput, ScanTask, TaskError, TaskResult } from './types.js';
import { keyLogClosed, syncKeyTable } from './wanted.js';

export const DEFAULT_READ_SIZE = 256 << 10;

let table: { run: string; keys: KeyTable; imdb: ImdbTable } | null = null;
/**
 * This thread's read buffer (and its room for `PAGE` bytes of skew): in the
 * doc finder's WebAssembly memory when there is one (the XML scan searches
 * it there in place), whose pages start at offsets that are multiples of PAGE.
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

/** A chunk's parts, pushed in order; the chunk ends where a doc starts, or at the file's end. */
function scanChunk(task: ChunkTask, options: Omit<FormatScanOptions, 'start' | 'atCut'>): ScanOutput {
  const scanner = FORMATS[task.format].scanner({ ...options, start: task.start, atCut: true });
  for (const part of task.parts) scanner.push(part);
  return scanner.end(!task.last);
}

/** Each span of the file, read into the thread's read buffer and pushed from there. */
function scanSpans(task: RangeTask, options: Omit<FormatScanOptions, 'start' | 'atCut'>): ScanOutput[] {
  const format = FORMATS[task.format];
  const { buffer, size: readSize, aligned } = readBufferOf(task.readSize ?? DEFAULT_READ_SIZE);
  const outputs: ScanOutput[] = [];
  const fd = openSync(task.file, 'r');
  try {
    for (const [start, bound] of task.spans) {
      let at = format.readFrom(start);
      const scanner = format.scanner({ ...options, start: at, bound, atCut: false });
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
  return outputs;
}

export function runScanTask(task: ScanTask, context: ScanContext): TaskResult {
  const closed = keyLogClosed(context.log); // read before the keys: once closed, no key comes after
  const { keys, imdb } = tablesFor(context);
  const version = task.to ?? keys.size;
  const index = task.index && !closed;
  const options = { keys, imdb, from: task.from, to: version, index, maxDocBytes: task.maxDocBytes };
  try {
    const outputs = task.kind === 'chunk' ? [scanChunk(task, options)] : scanSpans(task, options);
    return { version, outputs, indexed: index };
  } catch (err) {
    const error: TaskError = isTrueFilmError(err)
      ? { code: err.code, message: err.message, offset: err.offset, hint: err.hint }
      : { code: 'INPUT_UNREADABLE', message: (err as Error).message };
    return { version, outputs: [], indexed: index, error };
  }
}
