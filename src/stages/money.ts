/**
 * The second opinion on the money (SPEC section 4a): Wikidata's budget and
 * box office beside Kaggle's, and a verdict for every film. A ratio ranking
 * gathers data errors at its top (a budget of 5,000 where the film cost $13M
 * makes a 2,000x "success"); the verdict says which of its films the rest of
 * the world's figures back. It changes nothing in the selection or the rank.
 *
 * For each kind (budget, box office), over the statements of all the film's
 * items, in this order:
 * 1. a deprecated statement never counts; the budget is P2130 (cost), and
 *    P2769 (budget) only when no P2130 statement is left;
 * 2. box office counts worldwide (P3005 = Q13780930) or unqualified, never a
 *    country's or region's figure;
 * 3. US dollars count as they are; another currency only when converted at
 *    the rate of the film's release year; no unit (Q199), zero and less never;
 * 4. when some of what is left is preferred, only the preferred count;
 * 5. of several amounts, the one nearest Kaggle's (smallest |ln(kaggle/amount)|;
 *    within 1e-9 a tie, won by the smaller amount).
 * A kind agrees when 0.5 <= kaggle / amount <= 2. A film is disputed when a
 * kind differs, confirmed when none differs and one agrees, else unchecked.
 */
import { loadRates, type Rates } from '../rates.js';
import type { Film, MoneyCheck, MoneyComparison, MoneyReport, MoneyStatement, MoneyVerdict, WikidataReport } from '../types.js';

const US_DOLLAR = 'Q4917';
const NO_UNIT = 'Q199';
const WORLDWIDE = 'Q13780930';
const TIE = 1e-9;
/** what a bigint column holds: an amount past it is no film's money */
const MAX_AMOUNT = 2 ** 63 - 1;
/** xsd:decimal and xsd:double lexical forms (`+60000`, `8000000.00`, `1.5E7`, `.5`); nothing else is a number here */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export interface MoneyOptions {
  /** Wikidata's status: the report's, and why films without an answer are unchecked */
  status: WikidataReport['status'];
  /** the rate table: loaded from the package when not given; null for none */
  rates?: { rates: Rates; name: string } | null;
}

export interface MoneyResult {
  /** one verdict per film, in the films' order */
  verdicts: MoneyVerdict[];
  report: MoneyReport;
}

/** An amount in US dollars, or why it does not count: `currency` when only the want of a rate keeps it out. */
function inDollars(s: MoneyStatement, year: number | null, rates: Rates | null): number | 'currency' | null {
  if (!DECIMAL.test(s.amount) || s.unit === NO_UNIT) return null;
  const amount = Number(s.amount);
  if (!(amount > 0)) return null;
  if (s.unit === US_DOLLAR) return amount <= MAX_AMOUNT ? amount : null;
  const rate = rates !== null && year !== null && s.currency !== null ? rates(s.currency, year) : null;
  if (rate === null) return 'currency';
  const usd = amount / rate;
  return Number.isFinite(usd) && usd <= MAX_AMOUNT ? usd : null;
}

/** Rules 3 to 5 over one kind's statements: the counting amount in dollars, or null. */
function counting(statements: readonly MoneyStatement[], kaggle: number, year: number | null, rates: Rates | null, leftOut: { currency: boolean }): number | null {
  const amounts: { usd: number; preferred: boolean }[] = [];
  for (const s of statements) {
    const usd = inDollars(s, year, rates);
    if (usd === 'currency') leftOut.currency = true;
    else if (usd !== null) amounts.push({ usd, preferred: s.rank === 'preferred' });
  }
  const preferred = amounts.filter((a) => a.preferred);
  const left = (preferred.length > 0 ? preferred : amounts).map((a) => a.usd);
  if (left.length === 0) return null;
  const distance = (usd: number): number => Math.abs(Math.log(kaggle / usd));
  const nearest = Math.min(...left.map(distance));
  return Math.min(...left.filter((usd) => distance(usd) - nearest <= TIE));
}

function compare(kaggle: number, wikidata: number | null): MoneyComparison {
  if (wikidata === null) return 'none';
  const ratio = kaggle / wikidata;
  return ratio >= 0.5 && ratio <= 2 ? 'agrees' : 'differs';
}

const rounded = (usd: number | null): number | null => (usd === null ? null : Math.sign(usd) * Math.round(Math.abs(usd)));

/** One film's verdict. `statements` undefined: Wikidata did not answer for it. */
export function judgeMoney(film: Pick<Film, 'budget' | 'revenue' | 'year' | 'imdbId'>, statements: readonly MoneyStatement[] | undefined, rates: Rates | null): MoneyVerdict {
  const leftOut = { currency: false };
  let budget: number | null = null;
  let revenue: number | null = null;
  if (film.imdbId !== null && statements !== undefined) {
    const live = statements.filter((s) => s.rank !== 'deprecated');
    const cost = live.filter((s) => s.property === 'P2130');
    budget = counting(cost.length > 0 ? cost : live.filter((s) => s.property === 'P2769'), film.budget, film.year, rates, leftOut);
    const boxOffice = live.filter((s) => s.property === 'P2142' && (s.places.length === 0 || s.places.includes(WORLDWIDE)));
    revenue = counting(boxOffice, film.revenue, film.year, rates, leftOut);
  }
  const kinds = { budget: compare(film.budget, budget), revenue: compare(film.revenue, revenue) };
  const factors = [
    kinds.budget === 'differs' ? Math.max(film.budget / budget!, budget! / film.budget) : 0,
    kinds.revenue === 'differs' ? Math.max(film.revenue / revenue!, revenue! / film.revenue) : 0,
  ];
  const check: MoneyCheck =
    kinds.budget === 'differs' || kinds.revenue === 'differs' ? 'disputed' : kinds.budget === 'agrees' || kinds.revenue === 'agrees' ? 'confirmed' : 'unchecked';
  return {
    wikidataBudget: rounded(budget),
    wikidataRevenue: rounded(revenue),
    ...kinds,
    check,
    factor: check === 'disputed' ? Math.max(...factors) : null,
    otherCurrency: leftOut.currency,
  };
}

/**
 * Every film's verdict from the statements Wikidata gave (IMDb id -> the
 * statements of its items; an id absent: no answer).
 */
export async function runMoney(films: readonly Film[], statements: ReadonlyMap<string, readonly MoneyStatement[]>, options: MoneyOptions): Promise<MoneyResult> {
  const table = options.rates === undefined ? await loadRates() : options.rates;
  const verdicts = films.map((film) => judgeMoney(film, film.imdbId === null ? undefined : statements.get(film.imdbId), table?.rates ?? null));
  const report: MoneyReport = { status: options.status, confirmed: 0, disputed: 0, unchecked: 0, other_currency: 0, conversion: table?.name ?? 'none' };
  for (const v of verdicts) {
    report[v.check]++;
    if (v.otherCurrency) report.other_currency++;
  }
  return { verdicts, report };
}
