/**
 * The abstracts stage: scans the dump (one or several files, one input) on a
 * pool of worker threads for the docs whose page key is wanted (SPEC section
 * 4). Two formats, told apart by each file's first bytes
 * (src/scan/formats.ts): the abstract dump's XML (`<feed>`, src/scan/xml.ts)
 * and the CirrusSearch content dump's NDJSON (bulk action and document
 * lines, src/scan/cirrus.ts), where a document is also wanted when its
 * `external_link`s hold an IMDb title link with a wanted id (`imdbIds`):
 * the result maps those ids to the page.
 *
 * runAbstracts drives named parts: the planners of src/scan/plan.ts make the
 * tasks of the first pass and of the late pass (keys may be added while the
 * scan runs: WantedKeys), ScanPool sends them to the workers through
 * Piscina's own bounded queue, and the Collector of src/scan/collect.ts puts
 * their outputs together, first in input order winning. The result is the
 * same whatever the thread count, range size, compression or timing.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { TrueFilmError } from '../errors.js';
import { formatBytes, formatCount } from '../format.js';
import { Collector, type ScannedPage } from '../scan/collect.js';
import { KeyTable } from '../scan/keytable.js';
import { describeInput, firstPassTasks, latePassTasks, type PlannedTask, type PlanOptions, type Region } from '../scan/plan.js';
import type { DumpInput, ScanContext, TaskResult } from '../scan/types.js';
import { syncKeyTable, type WantedKeys } from '../scan/wanted.js';
import type { AbstractsReport, DumpSample } from '../types.js';
import type { Task, Ui } from '../ui.js';

export { WantedKeys } from '../scan/wanted.js';
export type { ScannedPage } from '../scan/collect.js';

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

export interface AbstractsResult {
  /** key -> the first doc with that key in input order (file order, then byte offset) */
  pages: Map<string, ScannedPage>;
  /** IMDb id -> the key of the first CirrusSearch document, in input order, whose `external_link`s link it (its page is in `pages`) */
  imdb: Map<string, string>;
  /** the run report's section; `samples`: a few malformed docs, in input order */
  report: AbstractsReport & { samples: DumpSample[] };
  /** bytes scanned again for keys added late (0 when none) */
  rescannedBytes: number;
}

const WORKER = new URL('../workers/scan' + path.extname(fileURLToPath(import.meta.url)), import.meta.url);

export async function runAbstracts(files: string[], wanted: WantedKeys, options: AbstractsOptions): Promise<AbstractsResult> {
  if (options.signal?.aborted) throw interrupted(options.signal);
  const inputs: DumpInput[] = [];
  for (const file of files) inputs.push(await describeInput(file));
  const threads = poolSize(inputs, options.threads);
  const collector = new Collector(inputs, ABSTRACTS_DEFAULTS.samples);
  if (inputs.length === 0) {
    await wanted.whenClosed();
    return resultOf(inputs, threads, collector, 0);
  }
  const pool = new ScanPool(threads, { run: randomUUID(), log: wanted.log, imdb: [...new Set(options.imdbIds ?? [])] }, options.signal);
  const plan: PlanOptions = {
    rangeSize: Math.max(1, options.rangeSize ?? ABSTRACTS_DEFAULTS.rangeSize),
    chunkSize: Math.max(1, options.chunkSize ?? ABSTRACTS_DEFAULTS.chunkSize),
    readSize: options.readSize,
    maxDocBytes: options.maxDocBytes,
    signal: pool.stopped,
  };
  const run: Run = { pool, inputs, wanted, plan, collector };
  const progress = new Progress(options.ui, inputs);
  try {
    const regions = await firstPass(run, progress, options.maxIndexedDocs ?? ABSTRACTS_DEFAULTS.maxIndexedDocs);
    progress.stop();
    await pool.until(wanted.whenClosed());
    const rescannedBytes = await latePass(run, regions, options.ui);
    return resultOf(inputs, threads, collector, rescannedBytes);
  } catch (err) {
    throw await pool.stop(err);
  } finally {
    progress.stop();
    await pool.close();
  }
}

/** What both passes work with. */
interface Run {
  pool: ScanPool;
  inputs: DumpInput[];
  wanted: WantedKeys;
  plan: PlanOptions;
  collector: Collector;
}

/**
 * zlib inflates on a thread of its own (libuv's pool), bzip2 in a process of
 * its own, and keeps a core busy: when every input is compressed, the pool
 * has one worker fewer, so that the scan does not take the decompressing's
 * core (as fast on 2 cores, 40 MB less).
 */
function poolSize(inputs: DumpInput[], threads: number): number {
  const size = Math.max(1, Math.floor(threads));
  return inputs.length > 0 && inputs.every((i) => i.compression !== 'none') ? Math.max(1, size - 1) : size;
}

/** Every key known when a task starts is looked for; returns the regions scanned, with the version of the keys each saw. */
async function firstPass({ pool, inputs, wanted, plan, collector }: Run, progress: Progress, maxIndexedDocs: number): Promise<Region[]> {
  const regions: Region[] = [];
  let indexed = 0;
  const hooks = { index: () => !wanted.closed && indexed < maxIndexedDocs, read: (n: number, bytes: number) => progress.read(n, bytes) };
  for await (const planned of firstPassTasks(inputs, plan, hooks)) {
    const { input, start, end } = planned;
    await pool.send(planned, (result) => {
      const output = collector.first(result, input);
      indexed += output.hashes?.length ?? 0;
      regions.push({ input, start, end, version: result.version, hashes: output.hashes, offsets: output.offsets });
      if (planned.task.kind === 'range') progress.ranged(input, start, Math.min(end, inputs[input]!.size), result.startedAt);
    });
  }
  await pool.settle();
  return regions;
}

/** The keys that came after a region was scanned, looked for in that region only; returns the bytes scanned again. */
async function latePass({ pool, inputs, wanted, plan, collector }: Run, regions: Region[], ui: Ui): Promise<number> {
  const final = wanted.version;
  const since = Math.min(final, ...regions.map((r) => r.version));
  if (since === final) return 0;
  const keys = new KeyTable();
  syncKeyTable(wanted.log, keys);
  let candidates = 0;
  let rescanned = 0;
  for await (const planned of latePassTasks(inputs, regions, keys, final, plan)) {
    candidates += planned.candidates;
    rescanned += planned.rescanned;
    await pool.send(planned, (result) => collector.again(result, planned.input));
  }
  await pool.settle();
  if (candidates > 0 || rescanned > 0) {
    ui.info(`abstracts: ${final - since} keys came late: ${formatCount(candidates)} docs read again, ${formatBytes(rescanned)} scanned again`);
  }
  return rescanned;
}

function resultOf(inputs: DumpInput[], threads: number, collector: Collector, rescannedBytes: number): AbstractsResult {
  const { pages, imdb, docs, malformed, samples } = collector.result();
  const bytes = inputs.reduce((n, i) => n + i.bytes, 0);
  return { pages, imdb, report: { files: inputs.length, bytes, docs, threads, malformed_docs: malformed, samples }, rescannedBytes };
}

function interrupted(signal: AbortSignal | undefined): TrueFilmError {
  return new TrueFilmError('INTERRUPTED', 'the dump scan was stopped', { cause: signal?.reason });
}

/**
 * The scan's worker pool: Piscina, whose own queue (`maxQueue`) holds at
 * most as many tasks as there are workers, so that at most two tasks per
 * worker are in flight (a chunk's memory is held until its task is done);
 * stopped by the caller's signal (Ctrl-C) or by the first task that fails.
 */
class ScanPool {
  readonly #pool: Piscina;
  readonly #stop = new AbortController();
  /** rejects once the scan is stopped: with the first failure, or INTERRUPTED */
  readonly #stopped: Promise<never>;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: () => void;
  readonly #inFlight = new Set<Promise<void>>();
  #failure: unknown = null;

  constructor(size: number, context: ScanContext, signal: AbortSignal | undefined) {
    this.#pool = new Piscina({
      filename: WORKER.href,
      workerData: context,
      minThreads: size,
      maxThreads: size,
      maxQueue: size,
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
    this.#pool.on('error', () => {});
    this.#signal = signal;
    this.#stopped = new Promise<never>((_, reject) => {
      this.#stop.signal.addEventListener('abort', () => reject(this.#failure ?? interrupted(signal)), { once: true });
    });
    this.#stopped.catch(() => {});
    this.#onAbort = () => this.#stop.abort(signal?.reason);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    // a stop that came while the inputs' first bytes were read stops the scan at once
    if (signal?.aborted) this.#onAbort();
  }

  /** Aborted once the scan is stopped. */
  get stopped(): AbortSignal {
    return this.#stop.signal;
  }

  /**
   * Sends a task; `took` takes its result (what it throws fails the scan).
   * Resolves when the pool's queue has room for another; rejects once the
   * scan is stopped.
   */
  async send(planned: PlannedTask, took: (result: TaskResult) => void): Promise<void> {
    if (this.#stop.signal.aborted) return this.#stopped;
    const settled = this.#run(planned).then(took).catch((err: unknown) => {
      this.#failure ??= err;
      this.#stop.abort();
    });
    this.#inFlight.add(settled);
    void settled.finally(() => this.#inFlight.delete(settled));
    // Piscina's 'drain' comes only once every worker was busy at some moment:
    // while workers still start up, or when tasks end faster than they start,
    // it may never come (the process then exits with the wait pending). The
    // end of any task in flight is what frees a place in the queue.
    while (this.#pool.queueSize >= this.#pool.options.maxQueue) await this.#unlessStopped(Promise.race(this.#inFlight));
  }

  /** Waits for every task sent; rejects once the scan is stopped. */
  async settle(): Promise<void> {
    await this.#unlessStopped(Promise.all(this.#inFlight));
  }

  /** Waits for `promise`; rejects once the scan is stopped. */
  async until(promise: Promise<void>): Promise<void> {
    await this.#unlessStopped(promise);
  }

  /** Stops what runs after `err`, and returns the error the scan ends with. */
  async stop(err: unknown): Promise<unknown> {
    this.#failure ??= err; // before the abort, whose rejections come after it
    this.#stop.abort();
    await Promise.allSettled([...this.#inFlight]);
    return this.#signal?.aborted ? interrupted(this.#signal) : this.#failure;
  }

  async close(): Promise<void> {
    this.#signal?.removeEventListener('abort', this.#onAbort);
    await this.#pool.destroy().catch(() => {});
  }

  /**
   * Waits for `promise`, and rejects once the scan is stopped, also when both
   * happened (a stopped scan's planners make no more tasks, and its last
   * tasks may all be over: nothing in flight is no success then).
   */
  async #unlessStopped<T>(promise: Promise<T>): Promise<T> {
    const value = await Promise.race([this.#stopped, promise]);
    if (this.#stop.signal.aborted) return this.#stopped;
    return value;
  }

  async #run({ task, transfer }: PlannedTask): Promise<TaskResult> {
    try {
      return (await Promise.race([this.#pool.run(task, { signal: this.#stop.signal, transferList: transfer }), this.#stopped])) as TaskResult;
    } catch (err) {
      if (err instanceof TrueFilmError || this.#stop.signal.aborted) throw err;
      // expected failures come back as data: this is a worker that died
      throw new TrueFilmError('INTERNAL', `a scan worker failed: ${(err as Error).message}`, {
        input: task.kind === 'range' ? task.file : undefined,
        cause: err,
      });
    }
  }
}

/** The scan's progress bar, in on-disk bytes: the ranges done, and how much of each compressed file was read. */
class Progress {
  readonly #bar: Task;
  readonly #done: number[];
  #stopped = false;

  constructor(ui: Ui, inputs: DumpInput[]) {
    this.#bar = ui.task('abstracts', inputs.reduce((n, i) => n + i.size, 0), 'bytes');
    this.#done = inputs.map(() => 0);
  }

  /** A range [start, end) of a plain input is done; its worker began it at `startedAt` (the scan's rate counts from the first such). */
  ranged(input: number, start: number, end: number, startedAt?: number): void {
    this.#bar.begin(startedAt);
    this.#set(input, this.#done[input]! + end - start);
  }

  /** A compressed input's bytes read so far: inflating on this thread begins at once. */
  read(input: number, bytes: number): void {
    this.#bar.begin();
    this.#set(input, bytes);
  }

  stop(): void {
    if (!this.#stopped) this.#bar.stop();
    this.#stopped = true;
  }

  #set(input: number, bytes: number): void {
    this.#done[input] = bytes;
    this.#bar.update(this.#done.reduce((a, b) => a + b, 0));
  }
}
