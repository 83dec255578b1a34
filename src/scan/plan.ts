/**
 * What the scan's tasks are: the inputs, described once, and the tasks of
 * each pass, made as the driver asks for them (src/stages/abstracts.ts sends
 * them to the pool). Nothing here knows of threads.
 *
 *   plain    the file is cut into byte ranges; each worker reads its range
 *            itself and owns the docs (lines) that start in it;
 *   .gz      the main thread inflates, and the format's cutter cuts the
 *   .bz2     output into chunks where a doc starts (decompress.ts), which
 *            move to the workers (the decompressor's own buffers, not copies).
 *
 * Keys may be added while the first pass runs. Each task reports the version
 * of the key log it used; once the set is closed, the keys a region has not
 * seen are looked for in that region only (the late pass).
 */
import { open } from 'node:fs/promises';
import { TrueFilmError } from '../errors.js';
import { statInput } from '../input.js';
import { compressionOf, decompressChunks } from './decompress.js';
import { sniffFormat, SNIFF_BYTES } from './formats.js';
import type { KeyTable } from './keytable.js';
import type { ChunkTask, DumpInput, FormatChunk, RangeTask, ScanTask } from './types.js';

/** A part of one input scanned by one first-pass task, and what it saw. */
export interface Region {
  input: number;
  start: number;
  end: number;
  /** the keys [0, version) were looked for */
  version: number;
  /** each doc's key hash and offset, when the task indexed them */
  hashes?: Int32Array;
  offsets?: Float64Array;
}

/** A task to send, and what the driver needs to know of it. */
export interface PlannedTask {
  /** the input's index */
  input: number;
  task: ScanTask;
  /** the buffers that move to the worker with it (a chunk's) */
  transfer?: ArrayBuffer[];
  /** the part of the input it scans: [start, end) */
  start: number;
  end: number;
  /** (late pass) docs read again through the index, and bytes scanned again */
  candidates: number;
  rescanned: number;
}

export interface PlanOptions {
  /** bytes per range of an uncompressed file */
  rangeSize: number;
  /** decompressed bytes per chunk of a .gz or .bz2 file */
  chunkSize: number;
  /** bytes per read in a worker */
  readSize?: number;
  maxDocBytes?: number;
  /** once aborted, no more tasks are made */
  signal?: AbortSignal;
}

export interface FirstPassHooks {
  /** Asked as each range task is made: should it index its docs' key hashes (keys may still come, and the index has room)? */
  index(): boolean;
  /** A compressed input's on-disk bytes read so far (its size once it is all decompressed). */
  read(input: number, bytes: number): void;
}

/** A file of the input: its size, and its compression and format from its first bytes. */
export async function describeInput(file: string): Promise<DumpInput> {
  const info = await statInput(file, {
    missing: 'no such abstract dump file',
    unreadable: 'cannot read the abstract dump',
    hint: 'Check --abstracts / TRUEFILM_ABSTRACTS, or run ./data_download.sh.',
  });
  if (!info.isFile()) throw new TrueFilmError('INPUT_UNREADABLE', 'not a file', { input: file, hint: 'Pass the abstract dump file itself.' });
  const size = info.size;
  const head = Buffer.alloc(Math.min(size, SNIFF_BYTES));
  const handle = await open(file, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const compression = compressionOf(head);
  if (compression !== 'none') return { file, size, compression, format: null, bytes: 0 };
  // a file's first bytes say which dump it is (a compressed file's say so once decompressed)
  return { file, size, compression, format: sniffFormat(head, head.length === size, file), bytes: size };
}

/** The first pass, in input order: every key known when a task starts is looked for. */
export async function* firstPassTasks(inputs: DumpInput[], options: PlanOptions, hooks: FirstPassHooks): AsyncGenerator<PlannedTask> {
  for (let n = 0; n < inputs.length && !options.signal?.aborted; n++) {
    if (inputs[n]!.compression === 'none') yield* rangeTasks(inputs[n]!, n, options, hooks);
    else yield* chunkTasks(inputs[n]!, n, options, hooks);
  }
}

/** A plain file's byte ranges; the last one runs to the file's end, whatever it is by then. */
function* rangeTasks(input: DumpInput, n: number, options: PlanOptions, hooks: FirstPassHooks): Generator<PlannedTask> {
  const { rangeSize, readSize, maxDocBytes } = options;
  const ranges = Math.max(1, Math.ceil(input.size / rangeSize));
  for (let r = 0; r < ranges && !options.signal?.aborted; r++) {
    const start = r * rangeSize;
    const end = r === ranges - 1 ? Number.MAX_SAFE_INTEGER : (r + 1) * rangeSize;
    const task: RangeTask = { format: input.format!, kind: 'range', file: input.file, spans: [[start, end]], from: 0, index: hooks.index(), readSize, maxDocBytes };
    yield { input: n, task, start, end, candidates: 0, rescanned: 0 };
  }
}

/** A compressed file's chunks, as it is decompressed (which tells its format and its size). */
async function* chunkTasks(input: DumpInput, n: number, options: PlanOptions, hooks: FirstPassHooks): AsyncGenerator<PlannedTask> {
  hooks.read(n, 0);
  const onRead = (compressed: number): void => hooks.read(n, Math.min(compressed, input.size - 1));
  for await (const chunk of decompressChunks(input.file, input.compression as 'gzip' | 'bzip2', { ...options, onRead })) {
    if (options.signal?.aborted) return;
    input.format = chunk.format;
    const end = chunk.start + lengthOf(chunk);
    input.bytes = Math.max(input.bytes, end);
    yield { input: n, ...chunkTask(chunk, 0, undefined, options), start: chunk.start, end: chunk.last ? Number.MAX_SAFE_INTEGER : end, candidates: 0, rescanned: 0 };
  }
  hooks.read(n, input.size);
}

/**
 * The late pass: the keys [region.version, final) came after a region was
 * scanned. A plain file's region is searched again for them through its
 * index of key hashes (only the docs whose hash is a late key's are read
 * again), or whole when it has no index; a compressed file is decompressed
 * again up to its last such region, and the chunks that overlap one are
 * scanned again.
 */
export async function* latePassTasks(inputs: DumpInput[], regions: Region[], keys: KeyTable, final: number, options: PlanOptions): AsyncGenerator<PlannedTask> {
  const late = regions.filter((r) => r.version < final).sort((a, b) => a.input - b.input || a.start - b.start);
  for (const region of late) {
    if (options.signal?.aborted) return;
    const input = inputs[region.input]!;
    if (input.compression !== 'none') continue;
    const planned = regionAgain(input, region, keys, final, options);
    if (planned !== null) yield planned;
  }
  for (let n = 0; n < inputs.length; n++) {
    const stale = late.filter((r) => r.input === n);
    if (inputs[n]!.compression === 'none' || stale.length === 0) continue;
    yield* chunksAgain(inputs[n]!, n, regions.filter((r) => r.input === n), stale, final, options);
  }
}

/** A plain file's region, for the late keys: the candidate docs its index names, or the whole region; null when no doc may be wanted. */
function regionAgain(input: DumpInput, region: Region, keys: KeyTable, final: number, options: PlanOptions): PlannedTask | null {
  const base = { format: input.format!, kind: 'range', file: input.file, from: region.version, to: final, index: false, maxDocBytes: options.maxDocBytes } as const;
  const at = { input: region.input, start: region.start, end: region.end };
  if (region.hashes && region.offsets) {
    // (a CirrusSearch document has a hash for each of its titles: its offset comes once)
    const spans: [number, number][] = [];
    for (let i = 0; i < region.hashes.length; i++) {
      const offset = region.offsets[i]!;
      if (keys.mayHave(region.hashes[i]!, region.version, final) && spans.at(-1)?.[0] !== offset) spans.push([offset, offset + 1]);
    }
    if (spans.length === 0) return null;
    return { ...at, task: { ...base, spans, readSize: 64 << 10 }, candidates: spans.length, rescanned: 0 };
  }
  const rescanned = Math.min(region.end, input.size) - region.start;
  return { ...at, task: { ...base, spans: [[region.start, region.end]], readSize: options.readSize }, candidates: 0, rescanned };
}

/** A compressed file decompressed again: the chunks that overlap a region scanned before some keys came, for those keys. */
async function* chunksAgain(input: DumpInput, n: number, regions: Region[], stale: Region[], final: number, options: PlanOptions): AsyncGenerator<PlannedTask> {
  const stop = Math.max(...stale.map((r) => r.end));
  for await (const chunk of decompressChunks(input.file, input.compression as 'gzip' | 'bzip2', options)) {
    if (options.signal?.aborted) return;
    const length = lengthOf(chunk);
    const end = chunk.last ? Number.MAX_SAFE_INTEGER : chunk.start + length;
    let from = final;
    for (const r of regions) if (r.start < end && r.end > chunk.start) from = Math.min(from, r.version);
    if (from < final) yield { input: n, ...chunkTask(chunk, from, final, options), start: chunk.start, end, candidates: 0, rescanned: length };
    if (end >= stop) return;
  }
}

/** A chunk's task; its parts move to the worker (each part's memory is the chunk's alone). */
function chunkTask(chunk: FormatChunk, from: number, to: number | undefined, options: PlanOptions): { task: ChunkTask; transfer: ArrayBuffer[] } {
  const task: ChunkTask = { format: chunk.format, kind: 'chunk', parts: chunk.parts, start: chunk.start, last: chunk.last, from, to, index: false, maxDocBytes: options.maxDocBytes };
  return { task, transfer: [...new Set(chunk.parts.map((p) => p.buffer as ArrayBuffer))] };
}

const lengthOf = (chunk: FormatChunk): number => chunk.parts.reduce((n, p) => n + p.length, 0);
