/**
 * What a scan found, put together from its tasks' outputs, which come back in
 * any order: the result is that of a sequential scan of the inputs, whatever
 * the thread count, range size, compression or timing.
 *
 * The rule is "first in input order wins" (file order, then byte offset):
 * a key's page is its first doc; an IMDb id's page is the document that
 * links the fewest distinct IMDb titles (a film's own page links its title
 * alone, a list or a filmography many), then the first such.
 */
import { inInput } from './decompress.js';
import { FORMATS } from './formats.js';
import type { DumpInput, ScanOutput, TaskResult } from './types.js';
import type { DumpSample, WikiPage } from '../types.js';

export interface ScannedPage extends WikiPage {
  /** 'dump': from an abstract dump; 'cirrus': from a CirrusSearch dump */
  source: 'dump' | 'cirrus';
  file: string;
  offset: number;
  /** the page's Wikidata item (CirrusSearch `wikibase_item`), when known */
  wikibaseItem?: string;
}

export interface Collected {
  /** key -> the first doc with that key in input order */
  pages: Map<string, ScannedPage>;
  /** IMDb id -> the key of the document that won it (its page is in `pages`), in the input order of those documents */
  imdb: Map<string, string>;
  /** docs scanned, malformed ones included */
  docs: number;
  /** malformed docs, and wanted docs that could not be read */
  malformed: number;
  /** the first few of them, in input order */
  samples: DumpSample[];
}

/** Where a doc is: [input, offset], compared in input order. */
type Place = [input: number, offset: number];
const before = (a: Place, b: Place): boolean => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

export class Collector {
  readonly #inputs: DumpInput[];
  readonly #pages = new Map<string, { page: ScannedPage; at: Place }>();
  readonly #imdb = new Map<string, { key: string; links: number; at: Place }>();
  readonly #samples: { at: Place; reason: string }[] = [];
  readonly #sampleCount: number;
  /** wanted docs that could not be read, by place: a doc read by both passes counts once */
  readonly #content = new Map<string, { at: Place; reason: string }>();
  #docs = 0;
  #malformed = 0;

  /** `inputs`: the scan's inputs, in order (their format says what a page's source is) */
  constructor(inputs: DumpInput[], samples: number) {
    this.#inputs = inputs;
    this.#sampleCount = samples;
  }

  /** A first-pass task's result: checked, counted, its hits taken; its output. */
  first(result: TaskResult, input: number): ScanOutput {
    this.#check(result, input);
    const output = result.outputs[0]!;
    this.#docs += output.docs;
    this.#malformed += output.malformed;
    for (const m of output.samples) this.#samples.push({ at: [input, m.offset], reason: m.reason });
    this.take(output, input);
    return output;
  }

  /** A later pass's result (for keys that came late): checked, its hits taken. Its docs were counted by the first pass. */
  again(result: TaskResult, input: number): void {
    this.#check(result, input);
    for (const output of result.outputs) this.take(output, input);
  }

  /** The hits of a task of any pass. */
  take(output: ScanOutput, input: number): void {
    const { file, format } = this.#inputs[input]!;
    const source = FORMATS[format!].source; // known once the input's first bytes were read, before any task
    for (const hit of output.hits) {
      const at: Place = [input, hit.offset];
      const seen = this.#pages.get(hit.page.key);
      if (seen !== undefined && !before(at, seen.at)) continue;
      this.#pages.set(hit.page.key, { page: { ...hit.page, source, file, offset: hit.offset }, at });
    }
    for (const hit of output.imdb ?? []) {
      const at: Place = [input, hit.offset];
      const seen = this.#imdb.get(hit.id);
      if (seen !== undefined && (seen.links < hit.titleLinks || (seen.links === hit.titleLinks && !before(at, seen.at)))) continue;
      this.#imdb.set(hit.id, { key: hit.key, links: hit.titleLinks, at });
    }
    for (const m of output.content) this.#content.set(`${input}:${m.offset}`, { at: [input, m.offset], reason: m.reason });
  }

  /** What was found, in input order. */
  result(): Collected {
    const byPlace = <T extends { at: Place }>(a: T, b: T): number => a.at[0] - b.at[0] || a.at[1] - b.at[1];
    const pages = new Map([...this.#pages.values()].sort(byPlace).map(({ page }) => [page.key, page] as const));
    const imdb = new Map([...this.#imdb].sort(([, a], [, b]) => byPlace(a, b)).map(([id, won]) => [id, won.key] as const));
    const all = [...this.#samples, ...this.#content.values()].sort(byPlace);
    return {
      pages,
      imdb,
      docs: this.#docs,
      malformed: this.#malformed + this.#content.size,
      samples: all.slice(0, this.#sampleCount).map(({ at, reason }) => ({ file: this.#inputs[at[0]]!.file, offset: at[1], reason })),
    };
  }

  /** A task's failure (it comes back as data) is the scan's, naming the file. */
  #check(result: TaskResult, input: number): void {
    const { file, compression } = this.#inputs[input]!;
    if (result.error) throw inInput(result.error, file, compression !== 'none');
  }
}
