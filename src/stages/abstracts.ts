/**
 * The abstracts stage: scans the abstract dump (one or several `.xml` /
 * `.xml.gz` files, one input) on a pool of worker threads for the docs whose
 * page key is wanted (SPEC section 4).
 *
 *   .xml     the file is cut into byte ranges; each worker reads its range
 *            itself and owns the docs that start in it (src/scan/scanner.ts);
 *   .xml.gz  the main thread inflates, cuts the output where a `<doc>` starts
 *            and moves the chunks (zlib's own buffers, not copies) to the
 *            workers (src/scan/gzip.ts), with a bounded number in flight so
 *            that memory stays flat.
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
import { formatBytes } from '../format.js';
import { inflateChunks, type InflatedChunk } from '../scan/gzip.js';
import { KeyTable } from '../scan/keytable.js';
import type { ScanOutput } from '../scan/scanner.js';
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
  /** bytes per range of an .xml file */
  rangeSize?: number;
  /** inflated bytes per chunk of a .gz file */
  chunkSize?: number;
  /** bytes per read in a worker */
  readSize?: number;
  /** a larger doc is malformed (and skipped) */
  maxDocBytes?: number;
  /** most docs whose key hashes are kept while keys may still come (beyond: ranges are scanned again) */
  maxIndexedDocs?: number;
}

export const ABSTRACTS_DEFAULTS = {
  rangeSize: 16 << 20,
  chunkSize: 4 << 20,
  maxIndexedDocs: 8_000_000,
  samples: 20,
};

export interface ScannedPage extends WikiPage {
  file: string;
  offset: number;
}

export interface AbstractsResult {
  /** key -> the first doc with that key in input order (file order, then byte offset) */
  pages: Map<string, ScannedPage>;
  report: AbstractsReport;
  /** a few samples, in input order */
  malformed: { file: string; offset: number; reason: string }[];
  /** bytes scanned again for keys added late (0 when none) */
  rescannedBytes: number;
}

interface Input {
  file: string;
  size: number;
  gzip: boolean;
  /** XML bytes (inflated size for .gz, known once inflated) */
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
  const magic = Buffer.alloc(2);
  const handle = await open(file, 'r');
  try {
    await handle.read(magic, 0, 2, 0);
  } finally {
    await handle.close();
  }
  const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
  return { file, size, gzip, bytes: gzip ? 0 : size };
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
  // zlib inflates on a thread of its own (libuv's pool) and keeps a core busy:
  // when every input is a .gz, the pool has one worker fewer, so that the
  // scan does not take the inflating's core (as fast on 2 cores, 40 MB less)
  const poolSize = inputs.length > 0 && inputs.every((i) => i.gzip) ? Math.max(1, threads - 1) : threads;

  const pages = new Map<string, ScannedPage>();
  const order = new Map<string, [number, number]>();
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
    const all = [...samples, ...content.values()].sort((a, b) => a.input - b.input || a.offset - b.offset);
    return {
      pages,
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
  const context: ScanContext = { run, log: wanted.log };
  const pool = new Piscina({
    filename: WORKER.href,
    workerData: context,
    minThreads: poolSize,
    maxThreads: poolSize,
    idleTimeout: 30_000,
    concurrentTasksPerWorker: 1,
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
    if (!result.error) return;
    const { code, message, offset, hint } = result.error;
    const where = input.gzip && offset !== undefined && code === 'DUMP_TRUNCATED' ? ' (of the uncompressed data)' : '';
    throw new TrueFilmError(code, message + where, { input: input.file, offset, hint });
  };
  /** hits of any pass: the first doc of a key in input order wins */
  const take = (output: ScanOutput, input: number): void => {
    for (const hit of output.hits) {
      const seen = order.get(hit.page.key);
      if (seen && (seen[0] < input || (seen[0] === input && seen[1] <= hit.offset))) continue;
      order.set(hit.page.key, [input, hit.offset]);
      pages.set(hit.page.key, { ...hit.page, file: inputs[input]!.file, offset: hit.offset });
    }
    for (const m of output.content) content.set(`${input}:${m.offset}`, { input, ...m });
  };
  /** what only the first pass counts */
  const count = (output: ScanOutput, input: number): void => {
    docs += output.docs;
    malformed += output.malformed;
    for (const m of output.samples) samples.push({ input, ...m });
  };

  const lanes = new Lanes(poolSize * 2);
  /** a chunk's parts move to the worker (each part's memory is the chunk's alone) */
  const sendChunk = (chunk: InflatedChunk, from: number, to?: number): Promise<TaskResult> => {
    const task: ChunkTask = { ...base, kind: 'chunk', parts: chunk.parts, start: chunk.start, last: chunk.last, from, to, index: false };
    return dispatch(task, [...new Set(chunk.parts.map((p) => p.buffer as ArrayBuffer))]);
  };

  try {
    // ---- first pass: every key known when a task starts ----
    for (let n = 0; n < inputs.length; n++) {
      const input = inputs[n]!;
      if (!input.gzip) {
        const ranges = Math.max(1, Math.ceil(input.size / rangeSize));
        for (let r = 0; r < ranges; r++) {
          const start = r * rangeSize;
          const end = r === ranges - 1 ? Number.MAX_SAFE_INTEGER : (r + 1) * rangeSize;
          const index = !wanted.closed && indexedDocs < maxIndexed;
          const task: RangeTask = { ...base, kind: 'range', file: input.file, spans: [[start, end]], from: 0, index, readSize: options.readSize };
          await lanes.add(async () => {
            const result = await dispatch(task);
            check(result, input);
            const output = result.outputs[0]!;
            count(output, n);
            take(output, n);
            indexedDocs += output.hashes?.length ?? 0;
            regions.push({ input: n, start, end, version: result.version, hashes: output.hashes, offsets: output.offsets });
            progress.set(n, done[n]! + Math.min(end, input.size) - start);
          });
        }
      } else {
        for await (const chunk of inflateChunks(input.file, {
          chunkSize,
          maxDocBytes: options.maxDocBytes,
          onRead: (compressed) => progress.set(n, Math.min(compressed, input.size - 1)),
        })) {
          if (aborter.signal.aborted) throw interrupted(signal);
          const end = chunk.start + chunk.parts.reduce((n, p) => n + p.length, 0);
          input.bytes = Math.max(input.bytes, end);
          await lanes.add(async () => {
            const result = await sendChunk(chunk, 0);
            check(result, input);
            const output = result.outputs[0]!;
            count(output, n);
            take(output, n);
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
        if (input.gzip) continue;
        let task: RangeTask;
        if (region.hashes && region.offsets) {
          // only the docs whose key hash is one of the late keys' are read again
          const spans: [number, number][] = [];
          for (let i = 0; i < region.hashes.length; i++) {
            if (keys.mayHave(region.hashes[i]!, region.version, final)) spans.push([region.offsets[i]!, region.offsets[i]! + 1]);
          }
          if (spans.length === 0) continue;
          candidates += spans.length;
          task = { ...base, kind: 'range', file: input.file, spans, from: region.version, to: final, index: false, readSize: 64 << 10 };
        } else {
          rescannedBytes += Math.min(region.end, input.size) - region.start;
          task = { ...base, kind: 'range', file: input.file, spans: [[region.start, region.end]], from: region.version, to: final, index: false, readSize: options.readSize };
        }
        await lanes.add(async () => {
          const result = await dispatch(task);
          check(result, input);
          for (const output of result.outputs) take(output, region.input);
        });
      }
      for (let n = 0; n < inputs.length; n++) {
        const input = inputs[n]!;
        const stale = late.filter((r) => r.input === n && input.gzip);
        if (stale.length === 0) continue;
        const stop = Math.max(...stale.map((r) => r.end));
        const fileRegions = regions.filter((r) => r.input === n);
        for await (const chunk of inflateChunks(input.file, { chunkSize, maxDocBytes: options.maxDocBytes })) {
          if (aborter.signal.aborted) throw interrupted(signal);
          const end = chunk.last ? Number.MAX_SAFE_INTEGER : chunk.start + chunk.parts.reduce((n, p) => n + p.length, 0);
          let from = final;
          for (const r of fileRegions) if (r.start < end && r.end > chunk.start) from = Math.min(from, r.version);
          const length = chunk.parts.reduce((n, p) => n + p.length, 0);
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
            `${candidates.toLocaleString('en-US')} docs read again, ${formatBytes(rescannedBytes)} scanned again`,
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
