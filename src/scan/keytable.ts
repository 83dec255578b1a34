/**
 * The wanted keys as one worker holds them: an open-addressing table from a
 * key's hash to its index in the key log (the order keys were added), and the
 * keys themselves for the exact comparison. A doc is wanted in a scan pass
 * when its key's index falls in the pass's window [from, to): a second pass
 * over a range looks for the keys that arrived after its first pass only.
 */
import { hashKey } from './hash.js';

export class KeyTable {
  #hashes = new Int32Array(1024);
  #slots = new Int32Array(1024).fill(-1);
  #mask = 1023;
  readonly keys: string[] = [];
  #keyHashes = new Int32Array(1024);
  readonly #index = new Map<string, number>();

  get size(): number {
    return this.keys.length;
  }

  /** Adds the next key of the log (its index is the table's size before the call); `hash` when known. */
  add(key: string, hash = hashKey(key)): void {
    const index = this.keys.length;
    this.keys.push(key);
    if (!this.#index.has(key)) this.#index.set(key, index);
    if (index === this.#keyHashes.length) {
      const grown = new Int32Array(index * 2);
      grown.set(this.#keyHashes);
      this.#keyHashes = grown;
    }
    this.#keyHashes[index] = hash;
    if (this.keys.length * 2 > this.#slots.length) this.reserve(this.keys.length); // inserts every key, this one too
    else this.#insert(hash, index);
  }

  /** Makes room for `count` keys at once (no rehash while they are added). */
  reserve(count: number): void {
    let size = this.#slots.length;
    while (count * 2 > size) size *= 2;
    if (size === this.#slots.length) return;
    this.#hashes = new Int32Array(size);
    this.#slots = new Int32Array(size).fill(-1);
    this.#mask = size - 1;
    for (let index = 0; index < this.keys.length; index++) this.#insert(this.#keyHashes[index]!, index);
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

  /** The index of `key` in the log, or -1. */
  indexOf(key: string): number {
    return this.#index.get(key) ?? -1;
  }

  #insert(hash: number, index: number): void {
    const mask = this.#mask;
    let slot = (hash ^ (hash >>> 15)) & mask;
    while (this.#slots[slot]! >= 0) slot = (slot + 1) & mask;
    this.#slots[slot] = index;
    this.#hashes[slot] = hash;
  }
}
