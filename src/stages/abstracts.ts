/**
 * The abstracts stage: scans the dump (one or several files, one input) on a
 * pool of worker threads for the docs whose page key is wanted (SPEC section
 * 4). Two formats, told apart by each file's first bytes
 * (src/scan/decompress.ts): the abstract dump's XML (`<feed>`, scanned by
 * src/scan/scanner.ts) and the CirrusSearch content dump's NDJSON (bulk action
 * and document lines, src/scan/cirrus.ts), where a document is also wanted
 * when its `external_link`s hold an IMDb title link with a wanted id
 * (`imdbIds`): the result maps those ids to the page.
 *
 *   plain    the file is cut into byte ranges; each worker reads its range
 *            itself and owns the docs (lines) that start in it;
 *   .gz      the main thread inflates, cuts the output where a `<doc>` (a
 *            line) starts and moves the chunks (zlib's own buffers, not
 *            copies) to the workers (src/scan/gzip.ts), with a bounded number
 *            in flight so that memory stays flat;
 *   .bz2     the same, with lbzip2 or bzip2 decompressing in a child process.
 *
 * Keys may be added while the scan runs (WantedKeys). Each task reports the
 * version of the key log it used; once the set is closed, the keys a range has
 * not seen are looked for in that range only: through the range's index of
 * key hashes (built while the set is open: only the candidate docs are read
 * again), or by scanning the range again for those keys. The result is the
 * same whatever the thread count, range size, compression or timing.
 */
import { randomUUID } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { TrueFilmError } from '../errors.js';
import { formatBytes, formatCount } from '../format.js';
import { compressionOf, decompressChunks, inInput, type FormatChunk } from '../scan/decompress.js';
import { sniffFormat, SNIFF_BYTES } from '../scan/formats.js';
import { KeyTable } from '../scan/keytable.js';
import type { Compression, DumpFormat, ScanOutput } from '../scan/types.js';
import type { ChunkTask, RangeTask, ScanContext, ScanTask, TaskResult } from '../scan/task.js';
import { syncKeyTable, type WantedKeys } from '../scan/wanted.js';
import type { AbstractsReport, WikiPage } from '../types.js';
import type { Ui } from '../ui.js';

export { WantedKeys } from '../scan/wanted.js';

export interface AbstractsOptions {
  /**
   * Piscina pool size (--threads). When every input is a .gz, zlib inflates
   * on a thread of its own and the pool has one worker fewer (at least one).
   */
  threads: number;
  ui: Ui;
  /** Ctrl-C: stop the pool promptly, reject with INTERRUPTED */
  signal?: AbortSignal;
  /** bytes per range of an uncompressed file */
  rangeSize?: number;
  /** decompressed bytes per chunk of a .gz or .bz2 file */
  chunkSize?: number;
  /** bytes per read in a worker */
  readSize?: number;
  /** a larger doc is malformed (and skipped) */
  maxDocBytes?: number;
  /** most docs whose key hashes are kept while keys may still come (beyond: ranges are scanned again) */
  maxIndexedDocs?: number;
  /** IMDb ids (`tt0054215`): a CirrusSearch document whose `external_link`s link one is wanted too */
  imdbIds?: Iterable<string>;
}

export const ABSTRACTS_DEFAULTS = {
  rangeSize: 16 << 20,
  chunkSize: 4 << 20,
  maxIndexedDocs: 8_000_000,
  samples: 20,
};

export interface ScannedPage extends WikiPage {
  /** 'dump': from an abstract dump; 'cirrus': from a CirrusSearch dump */
  source: 'dump' | 'cirrus';
  file: string;
  offset: number;
  /** the page's Wikidata item (CirrusSearch `wikibase_item`), when known */
  wikibaseItem?: string;
}

export interface AbstractsResult {
  /** key -> the first doc with that key in input order (file order, then byte offset) */
  pages: Map<string, ScannedPage>;
  /** IMDb id -> the key of the first CirrusSearch document, in input order, whose `external_link`s link it (its page is in `pages`) */
  imdb: Map<string, string>;
  report: AbstractsReport;
  /** a few samples, in input order */
  malformed: { file: string; offset: number; reason: string }[];
  /** bytes scanned again for keys added late (0 when none) */
  rescannedBytes: number;
}

interface Input {
  file: string;
  size: number;
  compression: Compression;
  /** known from the first bytes; for a compressed file, once it is decompressed */
  format: DumpFormat | null;
  /** dump bytes (decompressed size for .gz/.bz2, known once decompressed) */
  bytes: number;
}

/** A part of one input scanned by one first-pass task, and what it saw. */
interface Region {
  input: number;
  start: number;
  end: number;
  version: number;
  hashes?: Int32Array;
  offsets?: Float64Array;
}

const WORKER = new URL('../workers/scan' + path.extname(fileURLToPath(import.meta.url)), import.meta.url);

async function describeInput(file: string): Promise<Input> {
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new TrueFilmError('INPUT_UNREADABLE', 'not a file', { input: file, hint: 'Pass the abstract dump file itself.' });
    size = info.size;
  } catch (err) {
    if (err instanceof TrueFilmError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new TrueFilmError('INPUT_NOT_FOUND', 'no such abstract dump file', {
        input: file,
        hint: 'Check --abstracts / TRUEFILM_ABSTRACTS, or run ./data_download.sh.',
        cause: err,
      });
    }
    throw new TrueFilmError('INPUT_UNREADABLE', `cannot read the abstract dump: ${(err as Error).message}`, { input: file, cause: err });
  }
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

/** At most `limit` promises at once; the first failure stops everything. */
class Lanes {
  readonly #limit: number;
  readonly #running = new Set<Promise<void>>();
  #failure: unknown = null;

  constructor(limit: number) {
    this.#limit = limit;
  }

  async add(work: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.#limit) await Promise.race(this.#running);
    if (this.#failure !== null) throw this.#failure;
    const p: Promise<void> = work().then(
      () => {
        this.#running.delete(p);
      },
      (err: unknown) => {
        this.#running.delete(p);
        this.#failure ??= err;
      },
    );
    this.#running.add(p);
  }

  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.race(this.#running);
    if (this.#failure !== null) throw this.#failure;
  }

  /** waits for what runs, without throwing (after another failure) */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }
}

function interrupted(signal: AbortSignal | undefined): TrueFilmError {
  return new TrueFilmError('INTERRUPTED', 'the dump scan was stopped', { cause: signal?.reason });
}

export async function runAbstracts(files: string[], wanted: WantedKeys, options: AbstractsOptions): Promise<AbstractsResult> {
  const { ui, signal } = options;
  const threads = Math.max(1, Math.floor(options.threads));
  const rangeSize = Math.max(1, options.rangeSize ?? ABSTRACTS_DEFAULTS.rangeSize);
  const chunkSize = Math.max(1, options.chunkSize ?? ABSTRACTS_DEFAULTS.chunkSize);
  const maxIndexed = options.maxIndexedDocs ?? ABSTRACTS_DEFAULTS.maxIndexedDocs;
  if (signal?.aborted) throw interrupted(signal);

  const inputs: Input[] = [];
  for (const file of files) inputs.push(await describeInput(file));
  // zlib inflates on a thread of its own (libuv's pool), bzip2 in a process of
  // its own, and keeps a core busy: when every input is compressed, the pool
  // has one worker fewer, so that the scan does not take the decompressing's
  // core (as fast on 2 cores, 40 MB less)
  const poolSize = inputs.length > 0 && inputs.every((i) => i.compression !== 'none') ? Math.max(1, threads - 1) : threads;

  const pages = new Map<string, ScannedPage>();
  const order = new Map<string, [number, number]>();
  const imdb = new Map<string, string>();
  const imdbOrder = new Map<string, [links: number, input: number, offset: number]>();
  const imdbIds = [...new Set(options.imdbIds ?? [])];
  const regions: Region[] = [];
  const samples: { input: number; offset: number; reason: string }[] = [];
  const content = new Map<string, { input: number; offset: number; reason: string }>();
  let docs = 0;
  let malformed = 0;
  let indexedDocs = 0;
  let rescannedBytes = 0;

  const finish = (): AbstractsResult => {
    // pages in input order (as the tasks completed, they came in any order)
    const sorted = [...pages.values()].sort((a, b) => order.get(a.key)![0] - order.get(b.key)![0] || a.offset - b.offset);
    pages.clear();
    for (const page of sorted) pages.set(page.key, page);
    // ids in the input order of the doc that won them
    const where = (id: string): [number, number] => imdbOrder.get(id)!.slice(1) as [number, number];
    const ids = [...imdb.keys()].sort((a, b) => where(a)[0] - where(b)[0] || where(a)[1] - where(b)[1]);
    const linked = new Map(ids.map((id) => [id, imdb.get(id)!] as const));
    const all = [...samples, ...content.values()].sort((a, b) => a.input - b.input || a.offset - b.offset);
    return {
      pages,
      imdb: linked,
      report: { files: inputs.length, bytes: inputs.reduce((n, i) => n + i.bytes, 0), docs, threads: poolSize, malformed_docs: malformed + content.size },
      malformed: all.slice(0, ABSTRACTS_DEFAULTS.samples).map((m) => ({ file: inputs[m.input]!.file, offset: m.offset, reason: m.reason })),
      rescannedBytes,
    };
  };
  if (inputs.length === 0) {
    await wanted.whenClosed();
    return finish();
  }

  const run = randomUUID();
  const context: ScanContext = { run, log: wanted.log, imdb: imdbIds };
  const pool = new Piscina({
    filename: WORKER.href,
    workerData: context,
    minThreads: poolSize,
    maxThreads: poolSize,
    idleTimeout: 30_000,
    concurrentTasksPerWorker: 1,
    // Piscina loads the worker with require() first. Node 20.19+ can require()
    // an ES module, but when that require meets the same module half-loaded by
    // an import() it aborts the whole process (a V8 fatal error, "IsGraphAsync
    // must be used on an instantiated module"; seen once in 20 soak runs).
    // Without require(esm), the require fails at once and Piscina import()s.
    execArgv: [...process.execArgv, '--no-experimental-require-module'],
  });
  // A task's own failure rejects its run(); what the pool emits besides (a
  // result that comes back after its task was aborted) has nobody to tell.
  pool.on('error', () => {});
  const aborter = new AbortController();
  const onAbort = (): void => aborter.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const abortedPromise = new Promise<never>((_, reject) => {
    aborter.signal.addEventListener('abort', () => reject(interrupted(signal)), { once: true });
  });
  abortedPromise.catch(() => {});
  // a stop that came while the inputs' first bytes were read, before the listener, stops the scan at once
  if (signal?.aborted) onAbort();

  const totalDisk = inputs.reduce((n, i) => n + i.size, 0);
  const bar = ui.task('abstracts', totalDisk, 'bytes');
  let stopped = false;
  /** on-disk bytes done per input (compressed bytes read, for a .gz) */
  const done: number[] = inputs.map(() => 0);
  const progress = {
    set: (input: number, bytes: number): void => {
      done[input] = bytes;
      bar.update(done.reduce((a, b) => a + b, 0));
    },
    stop: (): void => {
      if (!stopped) bar.stop();
      stopped = true;
    },
  };

  const base = { maxDocBytes: options.maxDocBytes };
  const dispatch = async (task: ScanTask, transfer?: ArrayBuffer[]): Promise<TaskResult> => {
    try {
      return (await Promise.race([pool.run(task, { signal: aborter.signal, transferList: transfer }), abortedPromise])) as TaskResult;
    } catch (err) {
      if (err instanceof TrueFilmError || aborter.signal.aborted) throw err;
      // expected failures come back as data: this is a worker that died
      throw new TrueFilmError('INTERNAL', `a scan worker failed: ${(err as Error).message}`, {
        input: task.kind === 'range' ? task.file : undefined,
        cause: err,
      });
    }
  };
  const check = (result: TaskResult, input: Input): void => {
    if (result.error) throw inInput(result.error, input.file, input.compression !== 'none');
  };
  const before = (seen: [number, number] | undefined, input: number, offset: number): boolean =>
    seen !== undefined && (seen[0] < input || (seen[0] === input && seen[1] <= offset));
  /** hits of any pass: the first doc of a key (of an IMDb id) in input order wins */
  const take = (output: ScanOutput, input: number): void => {
    const source = inputs[input]!.format === 'cirrus' ? 'cirrus' : 'dump';
    for (const hit of output.hits) {
      if (before(order.get(hit.page.key), input, hit.offset)) continue;
      order.set(hit.page.key, [input, hit.offset]);
      pages.set(hit.page.key, { ...hit.page, source, file: inputs[input]!.file, offset: hit.offset });
    }
    for (const hit of output.imdb ?? []) {
      // the film's own page links its IMDb title alone; a list or a filmography links many
      const seen = imdbOrder.get(hit.id);
      if (seen && (seen[0] < hit.titleLinks || (seen[0] === hit.titleLinks && before([seen[1], seen[2]], input, hit.offset)))) continue;
      imdbOrder.set(hit.id, [hit.titleLinks, input, hit.offset]);
      imdb.set(hit.id, hit.key);
    }
    for (const m of output.content) content.set(`${input}:${m.offset}`, { input, ...m });
  };
  /** what only the first pass counts */
  const count = (output: ScanOutput, input: number): void => {
    docs += output.docs;
    malformed += output.malformed;
    for (const m of output.samples) samples.push({ input, ...m });
  };
  /** a first-pass task's result: checked, counted, its hits taken; its output */
  const firstPass = (result: TaskResult, input: number): ScanOutput => {
    check(result, inputs[input]!);
    const output = result.outputs[0]!;
    count(output, input);
    take(output, input);
    return output;
  };

  const lanes = new Lanes(poolSize * 2);
  /** a chunk's parts move to the worker (each part's memory is the chunk's alone) */
  const sendChunk = (chunk: FormatChunk, from: number, to?: number): Promise<TaskResult> => {
    const task: ChunkTask = { ...base, format: chunk.format, kind: 'chunk', parts: chunk.parts, start: chunk.start, last: chunk.last, from, to, index: false };
    return dispatch(task, [...new Set(chunk.parts.map((p) => p.buffer as ArrayBuffer))]);
  };

  try {
    // ---- first pass: every key known when a task starts ----
    for (let n = 0; n < inputs.length; n++) {
      const input = inputs[n]!;
      if (input.compression === 'none') {
        const format = input.format!;
        const ranges = Math.max(1, Math.ceil(input.size / rangeSize));
        for (let r = 0; r < ranges; r++) {
          const start = r * rangeSize;
          const end = r === ranges - 1 ? Number.MAX_SAFE_INTEGER : (r + 1) * rangeSize;
          const index = !wanted.closed && indexedDocs < maxIndexed;
          const task: RangeTask = { ...base, format, kind: 'range', file: input.file, spans: [[start, end]], from: 0, index, readSize: options.readSize };
          await lanes.add(async () => {
            const result = await dispatch(task);
            // the scan began when a worker began its first range (the pool's start-up came before)
            bar.begin(result.startedAt);
            const output = firstPass(result, n);
            indexedDocs += output.hashes?.length ?? 0;
            regions.push({ input: n, start, end, version: result.version, hashes: output.hashes, offsets: output.offsets });
            progress.set(n, done[n]! + Math.min(end, input.size) - start);
          });
        }
      } else {
        // inflating on this thread starts at once
        bar.begin();
        for await (const chunk of decompressChunks(input.file, input.compression, {
          chunkSize,
          maxDocBytes: options.maxDocBytes,
          onRead: (compressed) => progress.set(n, Math.min(compressed, input.size - 1)),
        })) {
          if (aborter.signal.aborted) throw interrupted(signal);
          input.format = chunk.format;
          const end = chunk.start + chunk.parts.reduce((n, p) => n + p.length, 0);
          input.bytes = Math.max(input.bytes, end);
          await lanes.add(async () => {
            const result = await sendChunk(chunk, 0);
            firstPass(result, n);
            regions.push({ input: n, start: chunk.start, end: chunk.last ? Number.MAX_SAFE_INTEGER : end, version: result.version });
          });
        }
        progress.set(n, input.size);
      }
    }
    await Promise.race([lanes.drain(), abortedPromise]);
    progress.stop();

    // ---- the keys that came after a region was scanned ----
    await Promise.race([wanted.whenClosed(), abortedPromise]);
    const final = wanted.version;
    const late = regions.filter((r) => r.version < final);
    if (late.length > 0) {
      const keys = new KeyTable();
      syncKeyTable(wanted.log, keys);
      let candidates = 0;
      for (const region of late.sort((a, b) => a.input - b.input || a.start - b.start)) {
        const input = inputs[region.input]!;
        if (input.compression !== 'none') continue;
        const format = input.format!;
        let task: RangeTask;
        if (region.hashes && region.offsets) {
          // only the docs whose key hash is one of the late keys' are read again
          // (a CirrusSearch document has a hash for each of its titles: its offset comes once)
          const spans: [number, number][] = [];
          for (let i = 0; i < region.hashes.length; i++) {
            const offset = region.offsets[i]!;
            if (keys.mayHave(region.hashes[i]!, region.version, final) && spans.at(-1)?.[0] !== offset) spans.push([offset, offset + 1]);
          }
          if (spans.length === 0) continue;
          candidates += spans.length;
          task = { ...base, format, kind: 'range', file: input.file, spans, from: region.version, to: final, index: false, readSize: 64 << 10 };
        } else {
          rescannedBytes += Math.min(region.end, input.size) - region.start;
          task = { ...base, format, kind: 'range', file: input.file, spans: [[region.start, region.end]], from: region.version, to: final, index: false, readSize: options.readSize };
        }
        await lanes.add(async () => {
          const result = await dispatch(task);
          check(result, input);
          for (const output of result.outputs) take(output, region.input);
        });
      }
      for (let n = 0; n < inputs.length; n++) {
        const input = inputs[n]!;
        if (input.compression === 'none') continue;
        const stale = late.filter((r) => r.input === n);
        if (stale.length === 0) continue;
        const stop = Math.max(...stale.map((r) => r.end));
        const fileRegions = regions.filter((r) => r.input === n);
        for await (const chunk of decompressChunks(input.file, input.compression, { chunkSize, maxDocBytes: options.maxDocBytes })) {
          if (aborter.signal.aborted) throw interrupted(signal);
          const length = chunk.parts.reduce((n, p) => n + p.length, 0);
          const end = chunk.last ? Number.MAX_SAFE_INTEGER : chunk.start + length;
          let from = final;
          for (const r of fileRegions) if (r.start < end && r.end > chunk.start) from = Math.min(from, r.version);
          if (from < final) {
            rescannedBytes += length;
            await lanes.add(async () => {
              const result = await sendChunk(chunk, from, final);
              check(result, input);
              take(result.outputs[0]!, n);
            });
          }
          if (end >= stop) break;
        }
      }
      await Promise.race([lanes.drain(), abortedPromise]);
      if (candidates > 0 || rescannedBytes > 0) {
        ui.info(
          `abstracts: ${final - Math.min(...late.map((r) => r.version))} keys came late: ` +
            `${formatCount(candidates)} docs read again, ${formatBytes(rescannedBytes)} scanned again`,
        );
      }
    }
    return finish();
  } catch (err) {
    aborter.abort();
    await lanes.settle();
    if (signal?.aborted) throw interrupted(signal);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    progress.stop();
    await pool.destroy().catch(() => {});
  }
}
