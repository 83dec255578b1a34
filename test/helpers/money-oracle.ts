/**
 * SPEC section 4a ("The second opinion on the money") read on its own: which of a film's
 * Wikidata budget and box-office statements count, and the verdict. It imports nothing
 * from src/, so that a misreading shared with the product cannot hide.
 *
 * Where the SPEC is silent, it decides (each decision is marked "Decision:" below).
 */

/** One Wikidata statement of P2130 (cost), P2769 (budget) or P2142 (box office), of any of the film's items. */
export interface OracleStatement {
  property: 'P2130' | 'P2769' | 'P2142';
  rank: 'preferred' | 'normal' | 'deprecated';
  /** the amount's lexical form as the service gave it: '60000', '+60000', '8000000.00', '1.5E7', '-5' (xsd:decimal or xsd:double) */
  amount: string;
  /** the unit's Q-id: 'Q4917' is the US dollar, 'Q199' the unit "1" (unitless) */
  unit: string;
  /** the unit item's ISO 4217 code (its wdt:P498) or null when it has none */
  currency: string | null;
  /** the statement's P3005 ("valid in place") qualifier values, Q-ids; [] when it has none */
  places: string[];
}
export interface OracleFilm { budget: number; revenue: number; year: number | null; imdbId: string | null }
/** Units of `currency` per 1 US dollar in `year`, or null when the table has no rate for that currency and year. */
export type OracleRates = (currency: string, year: number) => number | null;
export interface OracleVerdict {
  /** the counting budget amount in USD, rounded half away from zero; null when none counts */
  wikidataBudget: number | null;
  wikidataRevenue: number | null;
  check: 'confirmed' | 'disputed' | 'unchecked';
  /** disputed films only: the largest max(kaggle/wikidata, wikidata/kaggle) among the kinds that differ; else null */
  factor: number | null;
  /** true when some amount of this film that reached the currency rule was left out for its currency */
  otherCurrency: boolean;
}

const US_DOLLAR = 'Q4917';
const UNITLESS = 'Q199';
const WORLDWIDE = 'Q13780930';
/** rule 5: distances within this of each other are a tie */
const TIE = 1e-9;

/**
 * An xsd:decimal or xsd:double lexical form: an optional sign, digits with an optional
 * fraction, an optional exponent. Decision: '.5' and '5.' parse (both are valid
 * xsd:decimal forms); whitespace, 'INF', 'NaN', '1_000', '60,000' and hex do not; a form
 * whose value is not finite ('1E400') does not count either.
 */
const LEXICAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function parseAmount(text: string): number | null {
  if (!LEXICAL.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** Rule 1 for the budget: no deprecated statement; P2769 only when no P2130 is left. */
function budgetStatements(statements: readonly OracleStatement[]): OracleStatement[] {
  const live = statements.filter((s) => s.rank !== 'deprecated');
  const cost = live.filter((s) => s.property === 'P2130');
  // a P2130 left here blocks P2769 even when its amount will not count (zero, unitless, no rate)
  return cost.length > 0 ? cost : live.filter((s) => s.property === 'P2769');
}

/** Rules 1 and 2 for the box office: no deprecated statement; worldwide or no P3005 at all. */
function boxOfficeStatements(statements: readonly OracleStatement[]): OracleStatement[] {
  return statements.filter(
    (s) => s.property === 'P2142' && s.rank !== 'deprecated' && (s.places.length === 0 || s.places.includes(WORLDWIDE)),
  );
}

interface Amount { usd: number; preferred: boolean }

/** Rule 3: the amounts in US dollars, and whether one was left out for its currency. */
function inDollars(
  statements: readonly OracleStatement[],
  year: number | null,
  rates: OracleRates | null,
): { amounts: Amount[]; otherCurrency: boolean } {
  const amounts: Amount[] = [];
  let otherCurrency = false;
  for (const s of statements) {
    const amount = parseAmount(s.amount);
    // Decision: a form that does not parse, an amount <= 0 and a unitless amount are out
    // before the currency rule, so they never make otherCurrency true.
    if (amount === null || amount <= 0 || s.unit === UNITLESS) continue;
    const preferred = s.rank === 'preferred';
    if (s.unit === US_DOLLAR) {
      amounts.push({ usd: amount, preferred });
      continue;
    }
    // Decision: any other unit is another currency; it counts only when converted at the
    // rate of the film's year (USD = amount / rate). Decision: a rate that is not a
    // positive finite number is no rate.
    const rate = rates !== null && s.currency !== null && year !== null ? rates(s.currency, year) : null;
    if (rate === null || !Number.isFinite(rate) || rate <= 0) {
      otherCurrency = true;
      continue;
    }
    amounts.push({ usd: amount / rate, preferred });
  }
  return { amounts, otherCurrency };
}

/**
 * Rules 4 and 5: only the preferred when there are some; then the amount nearest Kaggle's
 * figure, by |ln(kaggle / usd)|. Decision: the amounts whose distance is within 1e-9 of the
 * smallest distance are tied, and the smallest of them wins (so the order does not matter).
 * Kaggle's figures are positive: a selected film is eligible (SPEC section 3).
 */
function nearest(amounts: readonly Amount[], kaggle: number): number | null {
  const preferred = amounts.filter((a) => a.preferred);
  const left = (preferred.length > 0 ? preferred : amounts).map((a) => a.usd);
  if (left.length === 0) return null;
  const distance = (usd: number): number => Math.abs(Math.log(kaggle / usd));
  const best = Math.min(...left.map(distance));
  return Math.min(...left.filter((usd) => distance(usd) - best <= TIE));
}

/** Decision: the stored figure is rounded; the verdict uses the unrounded amount. */
function roundHalfAwayFromZero(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

/** `statements` undefined: Wikidata gave no answer for the film (offline and not cached, or unavailable). `rates` null: no table. */
export function oracleMoney(film: OracleFilm, statements: readonly OracleStatement[] | undefined, rates: OracleRates | null): OracleVerdict {
  // Decision: no IMDb id, or no answer from Wikidata: unchecked, with no figures.
  if (film.imdbId === null || statements === undefined) {
    return { wikidataBudget: null, wikidataRevenue: null, check: 'unchecked', factor: null, otherCurrency: false };
  }
  const budget = inDollars(budgetStatements(statements), film.year, rates);
  const revenue = inDollars(boxOfficeStatements(statements), film.year, rates);
  const wikidataBudget = nearest(budget.amounts, film.budget);
  const wikidataRevenue = nearest(revenue.amounts, film.revenue);

  const kinds: { kaggle: number; wikidata: number }[] = [];
  if (wikidataBudget !== null) kinds.push({ kaggle: film.budget, wikidata: wikidataBudget });
  if (wikidataRevenue !== null) kinds.push({ kaggle: film.revenue, wikidata: wikidataRevenue });
  const factors = kinds
    .filter(({ kaggle, wikidata }) => !(kaggle / wikidata >= 0.5 && kaggle / wikidata <= 2))
    .map(({ kaggle, wikidata }) => Math.max(kaggle / wikidata, wikidata / kaggle));

  return {
    wikidataBudget: wikidataBudget === null ? null : roundHalfAwayFromZero(wikidataBudget),
    wikidataRevenue: wikidataRevenue === null ? null : roundHalfAwayFromZero(wikidataRevenue),
    check: factors.length > 0 ? 'disputed' : kinds.length > 0 ? 'confirmed' : 'unchecked',
    factor: factors.length > 0 ? Math.max(...factors) : null,
    otherCurrency: budget.otherCurrency || revenue.otherCurrency,
  };
}
