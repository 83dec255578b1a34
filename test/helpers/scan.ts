/**
 * What the scan tests share: a KeyTable of the wanted keys, and the scanners'
 * outputs summed up as strings that deepEqual compares whatever the ranges,
 * chunks or pieces they came in.
 */
import { KeyTable } from '../../src/scan/keytable.js';
import type { ScanOutput } from '../../src/scan/types.js';

/** A KeyTable holding `keys`, in their order. */
export function keyTable(keys: Iterable<string>): KeyTable {
  const t = new KeyTable();
  for (const k of keys) t.add(k);
  return t;
}

export interface ScanSummary {
  docs: number;
  hits: string[];
  /** IMDb links found (CirrusSearch docs only) */
  imdb: string[];
  malformed: number;
  samples: string[];
  content: string[];
}

/** The outputs of one file's ranges or chunks, in order, summed up. */
export function summarise(outputs: ScanOutput[]): ScanSummary {
  const s: ScanSummary = { docs: 0, hits: [], imdb: [], malformed: 0, samples: [], content: [] };
  for (const o of outputs) {
    s.docs += o.docs;
    s.malformed += o.malformed;
    s.hits.push(...o.hits.map((h) => `${h.offset} ${h.index} ${JSON.stringify(h.page)}`));
    s.imdb.push(...(o.imdb ?? []).map((h) => `${h.offset} ${h.id} ${h.key}`));
    s.samples.push(...o.samples.map((m) => `${m.offset} ${m.reason}`));
    s.content.push(...o.content.map((m) => `${m.offset} ${m.reason}`));
  }
  return s;
}
