/**
 * The set of wanted page keys (SPEC section 4), which may grow while the scan
 * runs: Wikidata answers add keys during the first seconds of a scan that
 * takes minutes.
 *
 * The keys live in an append-only log in shared memory. The main thread
 * appends; every worker copies what is new into its own KeyTable when it
 * starts a task, and reports the log's length it used (the version). After
 * `close()` the scan looks for the keys that came after a range's version in
 * that range only.
 *
 * Log layout: `data` holds the keys' UTF-8 bytes one after another; `ends` is
 * an Int32Array [count, closed, end of key 0, end of key 1, ...]. `count` is
 * stored last (Atomics), so a reader never sees a key before its bytes.
 */
import { Changes } from '../concurrency.js';
import { TrueFilmError } from '../errors.js';
import { hashBytes } from './hash.js';
import type { KeyTable } from './keytable.js';

export interface KeyLogRef {
  data: SharedArrayBuffer;
  ends: SharedArrayBuffer;
}

/** growable SharedArrayBuffer (ES2024; Node 20 has it, the project's lib is ES2023) */
interface GrowableSharedArrayBuffer extends SharedArrayBuffer {
  grow(byteLength: number): void;
}
const GrowableSharedArrayBuffer = SharedArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => GrowableSharedArrayBuffer;

const HEADER = 2;
const MAX_DATA = 256 << 20;
const MAX_KEYS = 8 << 20;
const encoder = new TextEncoder();

export class WantedKeys {
  readonly #set = new Set<string>();
  readonly #data = new GrowableSharedArrayBuffer(64 << 10, { maxByteLength: MAX_DATA });
  readonly #ends = new GrowableSharedArrayBuffer(4 * 4096, { maxByteLength: 4 * (MAX_KEYS + HEADER) });
  #used = 0;
  /** settles at close() */
  readonly #closing = new Changes();

  constructor(initial?: Iterable<string>) {
    if (initial) this.add(initial);
  }

  /** Adds page keys; may be called at any time until close(). */
  add(keys: Iterable<string>): void {
    if (this.closed) throw new TrueFilmError('INTERNAL', 'a wanted key was added after close()');
    for (const key of keys) {
      if (this.#set.has(key)) continue;
      if (this.#set.size >= MAX_KEYS) throw new TrueFilmError('INTERNAL', `more than ${MAX_KEYS} wanted keys`);
      const bytes = encoder.encode(key);
      const end = this.#used + bytes.length;
      if (end > this.#data.byteLength) {
        if (end > MAX_DATA) throw new TrueFilmError('INTERNAL', `wanted keys take more than ${MAX_DATA} bytes`);
        this.#data.grow(Math.min(MAX_DATA, Math.max(end, this.#data.byteLength * 2)));
      }
      new Uint8Array(this.#data).set(bytes, this.#used);
      this.#used = end;
      const slot = HEADER + this.#set.size;
      if (4 * (slot + 1) > this.#ends.byteLength) this.#ends.grow(Math.min(4 * (MAX_KEYS + HEADER), this.#ends.byteLength * 2));
      const ends = new Int32Array(this.#ends);
      ends[slot] = end;
      this.#set.add(key);
      Atomics.store(ends, 0, this.#set.size);
    }
  }

  /** No more keys will come. */
  close(): void {
    if (this.closed) return;
    Atomics.store(new Int32Array(this.#ends), 1, 1);
    this.#closing.settle();
  }

  has(key: string): boolean {
    return this.#set.has(key);
  }

  get size(): number {
    return this.#set.size;
  }

  get closed(): boolean {
    return this.#closing.settled;
  }

  /** The number of keys logged so far: keys [0, version) are the ones a task stamped with it saw. */
  get version(): number {
    return this.#set.size;
  }

  /** Resolves once close() has been called. */
  whenClosed(): Promise<void> {
    return this.#closing.next();
  }

  /** The shared log, for the workers. */
  get log(): KeyLogRef {
    return { data: this.#data, ends: this.#ends };
  }
}

/** Copies the keys of the log that `table` does not hold yet; returns the version it now holds. */
export function syncKeyTable(log: KeyLogRef, table: KeyTable): number {
  const ends = new Int32Array(log.ends);
  const count = Atomics.load(ends, 0);
  if (table.size < count) {
    const data = Buffer.from(log.data);
    table.reserve(count);
    for (let i = table.size; i < count; i++) {
      const start = i === 0 ? 0 : ends[HEADER + i - 1]!;
      const end = ends[HEADER + i]!;
      // the log's bytes never change once written: the table makes a string of them only when it must
      table.addBytes(data, start, end, hashBytes(data, start, end));
    }
  }
  return count;
}

/** True once close() has been called on the WantedKeys that owns the log. */
export function keyLogClosed(log: KeyLogRef): boolean {
  return Atomics.load(new Int32Array(log.ends), 1) === 1;
}
