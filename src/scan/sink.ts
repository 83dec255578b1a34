/**
 * Where a scanner puts what it finds, whatever the format: the docs counted,
 * the malformed ones (a few samples with their offsets), the wanted ones, the
 * index of every doc's key hash (for keys that come later), and the key
 * window that says what is wanted. `output()` is the scanner's result.
 */
import type { KeyTable } from './keytable.js';
import type { ImdbHit, Malformed, ScanHit, ScanOptions, ScanOutput } from './types.js';

/** malformed docs kept as samples, per scanner */
const SAMPLES = 10;

export class ScanSink {
  /** docs owned, malformed ones included */
  docs = 0;
  readonly #keys: KeyTable;
  readonly #from: number;
  readonly #to: number;
  #malformed = 0;
  readonly #samples: Malformed[] = [];
  readonly #content: Malformed[] = [];
  readonly #hits: ScanHit[] = [];
  readonly #imdb: ImdbHit[] | null;
  #hashes: Int32Array | null = null;
  #offsets: Float64Array | null = null;
  #indexed = 0;

  /** `imdb`: the format links IMDb ids (the output then lists the documents that link a wanted one) */
  constructor(options: ScanOptions, imdb = false) {
    this.#keys = options.keys;
    this.#from = options.from ?? 0;
    this.#to = options.to ?? Number.MAX_SAFE_INTEGER;
    this.#imdb = imdb ? [] : null;
    if (options.index) {
      this.#hashes = new Int32Array(1024);
      this.#offsets = new Float64Array(1024);
    }
  }

  /** Every doc's key hash is recorded. */
  get indexing(): boolean {
    return this.#hashes !== null;
  }

  /** Some key of the window has this hash: the doc may be wanted (its key is then compared). */
  mayWant(hash: number): boolean {
    return this.#keys.mayHave(hash, this.#from, this.#to);
  }

  /** The key's index in the key log (its first), or -1. */
  indexOf(key: string): number {
    return this.#keys.indexOf(key);
  }

  /** A key with this index is wanted. */
  inWindow(index: number): boolean {
    return index >= this.#from && index < this.#to;
  }

  /** A malformed doc, found whatever is wanted. */
  malformed(offset: number, reason: string): void {
    this.#malformed++;
    if (this.#samples.length < SAMPLES) this.#samples.push({ offset, reason });
  }

  /** A wanted doc that cannot be read. */
  unreadable(offset: number, reason: string): void {
    this.#content.push({ offset, reason });
  }

  /** Records a doc's key hash (when indexing). */
  index(hash: number, offset: number): void {
    if (this.#hashes === null || this.#offsets === null) return;
    if (this.#indexed === this.#hashes.length) {
      const hashes = new Int32Array(this.#indexed * 2);
      hashes.set(this.#hashes);
      this.#hashes = hashes;
      const offsets = new Float64Array(this.#indexed * 2);
      offsets.set(this.#offsets);
      this.#offsets = offsets;
    }
    this.#hashes[this.#indexed] = hash;
    this.#offsets[this.#indexed++] = offset;
  }

  hit(hit: ScanHit): void {
    this.#hits.push(hit);
  }

  /** A document that links a wanted IMDb id. */
  linked(hit: ImdbHit): void {
    this.#imdb?.push(hit);
  }

  output(): ScanOutput {
    const out: ScanOutput = { docs: this.docs, hits: this.#hits, malformed: this.#malformed, samples: this.#samples, content: this.#content };
    if (this.#imdb !== null) out.imdb = this.#imdb;
    if (this.#hashes !== null && this.#offsets !== null) {
      out.hashes = this.#hashes.slice(0, this.#indexed);
      out.offsets = this.#offsets.slice(0, this.#indexed);
    }
    return out;
  }
}
