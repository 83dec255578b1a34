/**
 * The answer caches of the network stages (`<data-dir>/cache/*.json`): one
 * JSON file of `{ version, entries: { key: entry } }`, read leniently (a bad
 * entry is dropped, a bad file is rebuilt with one warning) and written by
 * merging with what is on disk (another run may have added to it), aside and
 * renamed, so that an interrupted run never leaves it half-written.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
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

export async function readCache<E>(spec: CacheSpec<E>, ui: Ui): Promise<Map<string, E>> {
  let text: string;
  try {
    text = await readFile(spec.file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    ui.warn(`cannot read ${spec.name} ${spec.file} (${(err as Error).message}): ${spec.without}`);
    return new Map();
  }
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

/** Merges `fresh` into the cache file, atomically; a failure is a warning, never an error. */
export async function writeCache<E>(spec: CacheSpec<E>, fresh: ReadonlyMap<string, E>, ui: Ui): Promise<void> {
  const entries = await readCache(spec, { ...ui, warn() {} });
  for (const [key, entry] of fresh) entries.set(key, entry);
  const doc: CacheFile = {
    version: spec.version,
    entries: Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
  const temp = `${spec.file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(path.dirname(spec.file), { recursive: true });
    await writeFile(temp, JSON.stringify(doc, null, 1) + '\n');
    await rename(temp, spec.file);
  } catch (err) {
    await rm(temp, { force: true });
    ui.warn(`cannot write ${spec.name} ${spec.file} (${(err as Error).message}): the next run asks again`);
  }
}
