/**
 * The wanted keys as one worker holds them: an open-addressing table from a
 * key's hash to its index in the key log (the order keys were added), and the
 * keys themselves for the exact comparison. A doc is wanted in a scan pass
 * when its key's index falls in the pass's window [from, to): a second pass
 * over a range looks for the keys that arrived after its first pass only.
 *
 * Keys synced from the shared log come as UTF-8 bytes with their hash
 * (addBytes): they are made strings only when a doc with the same hash is
 * compared with them, so that a worker's start (thousands of keys) costs
 * the hashing and the table, not a string and a Map entry per key.
 */
import { hashKey } from './hash.js';

export class KeyTable {
  #hashes = new Int32Array(1024);
  #slots = new Int32Array(1024).fill(-1);
  #mask = 1023;
  #size = 0;
  #keyHashes = new Int32Array(1024);
  /** each key as a string, once it was given or made */
  readonly #strings: (string | undefined)[] = [];
  /** keys given as bytes: where they are ([source, start, end] by index) */
  readonly #sources: (Uint8Array | undefined)[] = [];
  #starts = new Int32Array(1024);
  #ends = new Int32Array(1024);

  get size(): number {
    return this.#size;
  }

  /** Every key, by index. */
  get keys(): string[] {
    return Array.from({ length: this.#size }, (_, index) => this.keyAt(index));
  }

  /** The key with this index. */
  keyAt(index: number): string {
    let key = this.#strings[index];
    if (key === undefined) {
      const source = this.#sources[index]!;
      key = Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8', this.#starts[index], this.#ends[index]);
      this.#strings[index] = key;
    }
    return key;
  }

  /** Adds the next key of the log (its index is the table's size before the call); `hash` when known. */
  add(key: string, hash = hashKey(key)): void {
    const index = this.#room();
    this.#strings[index] = key;
    this.#sources[index] = undefined;
    this.#insertNew(index, hash);
  }

  /** Adds the next key as its UTF-8 bytes source[start, end) (which must not change) and their hash. */
  addBytes(source: Uint8Array, start: number, end: number, hash: number): void {
    const index = this.#room();
    this.#strings[index] = undefined;
    this.#sources[index] = source;
    this.#starts[index] = start;
    this.#ends[index] = end;
    this.#insertNew(index, hash);
  }

  /** Makes room for `count` keys at once (no rehash while they are added). */
  reserve(count: number): void {
    let size = this.#slots.length;
    while (count * 2 > size) size *= 2;
    if (size === this.#slots.length) return;
    this.#hashes = new Int32Array(size);
    this.#slots = new Int32Array(size).fill(-1);
    this.#mask = size - 1;
    for (let index = 0; index < this.#size; index++) this.#insert(this.#keyHashes[index]!, index);
  }

  /** True when some key with this hash has an index in [from, to): the doc may be wanted. */
  mayHave(hash: number, from: number, to: number): boolean {
    const hashes = this.#hashes;
    const slots = this.#slots;
    const mask = this.#mask;
    for (let slot = (hash ^ (hash >>> 15)) & mask; ; slot = (slot + 1) & mask) {
      const index = slots[slot]!;
      if (index < 0) return false;
      if (hashes[slot] === hash && index >= from && index < to) return true;
    }
  }

  /** The index of `key` (its first, if it was added more than once), or -1. */
  indexOf(key: string): number {
    const hash = hashKey(key);
    const hashes = this.#hashes;
    const slots = this.#slots;
    const mask = this.#mask;
    let first = -1;
    for (let slot = (hash ^ (hash >>> 15)) & mask; ; slot = (slot + 1) & mask) {
      const index = slots[slot]!;
      if (index < 0) return first;
      if (hashes[slot] === hash && (first < 0 || index < first) && this.keyAt(index) === key) first = index;
    }
  }

  /** The next key's index, with room for it. */
  #room(): number {
    const index = this.#size;
    if (index === this.#keyHashes.length) {
      this.#keyHashes = grown(this.#keyHashes);
      this.#starts = grown(this.#starts);
      this.#ends = grown(this.#ends);
    }
    return index;
  }

  #insertNew(index: number, hash: number): void {
    this.#size = index + 1;
    this.#keyHashes[index] = hash;
    if (this.#size * 2 > this.#slots.length) this.reserve(this.#size); // inserts every key, this one too
    else this.#insert(hash, index);
  }

  #insert(hash: number, index: number): void {
    const mask = this.#mask;
    let slot = (hash ^ (hash >>> 15)) & mask;
    while (this.#slots[slot]! >= 0) slot = (slot + 1) & mask;
    this.#slots[slot] = index;
    this.#hashes[slot] = hash;
  }
}

function grown(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}
