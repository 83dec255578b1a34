/**
 * The answer caches of the network stages (`<data-dir>/cache/*.json`): one
 * JSON file of `{ version, entries: { key: entry } }`, read leniently (a bad
 * entry is dropped, a bad file is rebuilt with one warning) and written by
 * merging with what is on disk (another run may have added to it), aside and
 * renamed, so that an interrupted run never leaves it half-written.
 *
 * A file over MAX_CACHE_BYTES is not read (one warning; the run asks again
 * and writes a new one): its size is checked before it is read, as parsing
 * JSON takes several times the file's size in memory. What is written stays
 * under it, the entries fetched longest ago left out first.
 */
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatMiB } from './format.js';
import type { Ui } from './ui.js';

export interface CacheSpec<E> {
  file: string;
  version: number;
  /** for messages: "the Wikidata cache" */
  name: string;
  /** for messages: what happens without it, "asking Wikidata again" */
  without: string;
  /** the entry when it is valid, else null (it is then dropped) */
  validate(key: string, raw: unknown): E | null;
}

interface CacheFile {
  version: number;
  entries: Record<string, unknown>;
}

/**
 * The largest cache file read (and written). A top-1000 run writes about
 * 0.2 MB to the Wikidata cache and 1–2 MB to the Wikipedia cache (the intro
 * extracts are most of it); reading and rewriting a file takes several times
 * its size in memory (two caches of 7 MiB: a run's peak RSS went from 117 MB
 * to 216 MB; of 15 MiB, to 332 MB), so the limit is what bounds it.
 */
export const MAX_CACHE_BYTES = 8 << 20;

/** The file's text; null when it is absent; a string saying why when it is not read. */
async function readBounded(file: string): Promise<{ text: string } | { why: string } | null> {
  try {
    // a FIFO or a device would block or never end: only a regular file is opened
    const info = await stat(file);
    if (!info.isFile()) return { why: 'not a regular file' };
    if (info.size > MAX_CACHE_BYTES) return { why: `${formatMiB(info.size)}, over the ${formatMiB(MAX_CACHE_BYTES)} a cache may have` };
    const handle = await open(file, 'r');
    try {
      // read at most one byte past the limit: a file that grew since stat() is refused, not read whole
      const buf = Buffer.allocUnsafe(Math.min(info.size, MAX_CACHE_BYTES) + 1);
      let length = 0;
      while (length < buf.length) {
        const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      if (length > MAX_CACHE_BYTES) return { why: `over the ${formatMiB(MAX_CACHE_BYTES)} a cache may have` };
      return { text: buf.toString('utf8', 0, length) };
    } finally {
      await handle.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { why: (err as Error).message };
  }
}

export async function readCache<E>(spec: CacheSpec<E>, ui: Ui): Promise<Map<string, E>> {
  const read = await readBounded(spec.file);
  if (read === null) return new Map();
  if ('why' in read) {
    ui.warn(`cannot read ${spec.name} ${spec.file} (${read.why}): ${spec.without}`);
    return new Map();
  }
  const text = read.text;
  try {
    const doc = JSON.parse(text) as CacheFile;
    if (doc?.version !== spec.version || typeof doc.entries !== 'object' || doc.entries === null) {
      throw new Error(`not a version ${spec.version} cache`);
    }
    const entries = new Map<string, E>();
    for (const [key, raw] of Object.entries(doc.entries)) {
      const entry = spec.validate(key, raw);
      if (entry !== null) entries.set(key, entry);
    }
    return entries;
  } catch (err) {
    ui.warn(`${spec.name} ${spec.file} is unreadable (${(err as Error).message}): it will be rebuilt`);
    return new Map();
  }
}

/**
 * Merges `fresh` into the cache file, atomically; a failure is a warning,
 * never an error. What is written stays within MAX_CACHE_BYTES, so that the
 * next run reads it: past that, the entries fetched longest ago are left out
 * (this run's answers are kept first).
 */
export async function writeCache<E>(spec: CacheSpec<E>, fresh: ReadonlyMap<string, E>, ui: Ui): Promise<void> {
  const entries = await readCache(spec, { ...ui, warn() {} });
  for (const [key, entry] of fresh) entries.set(key, entry);
  const lines = withinBudget(entries, fresh, MAX_CACHE_BYTES - 100);
  entries.clear();
  const temp = `${spec.file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(path.dirname(spec.file), { recursive: true });
    await writeLines(temp, `{\n "version": ${spec.version},\n "entries": {\n`, lines, '\n }\n}\n');
    await rename(temp, spec.file);
  } catch (err) {
    await rm(temp, { force: true });
    ui.warn(`cannot write ${spec.name} ${spec.file} (${(err as Error).message}): the next run asks again`);
  }
}

/**
 * Each entry as its line of the file (`"key": {...}`), sorted by key, as many
 * as fit in `budget` bytes: this run's first, then the most recently fetched.
 */
function withinBudget<E>(entries: ReadonlyMap<string, E>, fresh: ReadonlyMap<string, E>, budget: number): string[] {
  let all = [...entries].map(([key, entry]) => {
    const line = `  ${JSON.stringify(key)}: ${JSON.stringify(entry)}`;
    // the line and the ",\n" after it
    return { key, line, bytes: Buffer.byteLength(line) + 2, fresh: fresh.has(key), fetched: fetchedOf(entry) };
  });
  if (all.reduce((n, e) => n + e.bytes, 0) > budget) {
    all.sort((a, b) => Number(b.fresh) - Number(a.fresh) || (a.fetched < b.fetched ? 1 : a.fetched > b.fetched ? -1 : 0));
    let total = 0;
    all = all.filter((e) => (total + e.bytes <= budget ? ((total += e.bytes), true) : false));
  }
  return all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((e) => e.line);
}

/** When an entry was fetched (ISO 8601, which sorts as text); '' when it does not say. */
function fetchedOf(entry: unknown): string {
  const fetched = (entry as { fetched?: unknown } | null)?.fetched;
  return typeof fetched === 'string' ? fetched : '';
}

/** Writes `head`, the lines joined by ",\n", and `tail`, a MiB at a time rather than as one string. */
async function writeLines(file: string, head: string, lines: readonly string[], tail: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    let part = head;
    for (const [i, line] of lines.entries()) {
      part += (i > 0 ? ',\n' : '') + line;
      if (part.length >= 1 << 20) {
        await handle.write(part);
        part = '';
      }
    }
    await handle.write(part + tail);
  } finally {
    await handle.close();
  }
}
