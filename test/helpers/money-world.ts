/**
 * Wikidata's money for a list of films, made up from a seed: each film gets
 * the statements of one case of SPEC section 4a (agreeing and differing
 * figures, P2769 alone or beside P2130, ranks, places, currencies, units,
 * lexical forms, an IMDb id on two items, none at all), as items of the
 * SPARQL test server's graph; and what the oracle of SPEC 4a
 * (money-oracle.ts) says of each film, from the same statements.
 */
import type { Film } from '../../src/types.js';
import { oracleMoney, type OracleRates, type OracleStatement, type OracleVerdict } from './money-oracle.js';
import { seeded as random } from './random.js';
import { CURRENCIES, UNIT_ONE, USD, WORLDWIDE, type Item, type Statement } from './wikidata-rdf.js';

const UNITED_STATES = 'Q30';
const FRENCH_FRANC = 'Q4734';
export const MONEY_CURRENCIES: Record<string, string> = { Q4734: 'FRF' };

export const MONEY_CASES = [
  'agrees',
  'differs-0.1',
  'differs-3',
  'differs-2600',
  'p2769-only',
  'p2130-and-p2769',
  'preferred-over-normal',
  'preferred-without-unit',
  'deprecated-only',
  'box-office-worldwide',
  'box-office-us-only',
  'box-office-unqualified',
  'several-amounts',
  'pounds',
  'franc-without-rate',
  'unitless',
  'lexical-forms',
  'two-items',
  'none',
] as const;
export type MoneyCase = (typeof MONEY_CASES)[number];

export interface MoneyWorld {
  /** the items: the films' own (with their articles) and the second items of the two-item case */
  items: Item[];
  currencies: Record<string, string>;
  cases: Map<number, MoneyCase>;
  /** film id -> the oracle's verdict */
  expected: Map<number, OracleVerdict>;
}

const cost = (amount: string, extra: Partial<Statement> = {}): Statement => ({ property: 'P2130', amount, ...extra });
const boxOffice = (amount: string, extra: Partial<Statement> = {}): Statement => ({ property: 'P2142', amount, ...extra });
const near = (x: number, next: () => number): number => Math.round(x * (0.7 + next() * 0.6));
const plus = (x: number): string => `+${Math.round(x)}`;

/** The statements of one case, for a film (split over two items in the two-item case). */
function statementsOf(c: MoneyCase, film: Film, next: () => number): [Statement[], Statement[]] {
  const b = film.budget;
  const r = film.revenue;
  switch (c) {
    case 'agrees':
      return [[cost(plus(near(b, next))), boxOffice(plus(near(r, next)), { qualifiers: { P3005: [WORLDWIDE] } })], []];
    case 'differs-0.1':
      return [[cost(plus(b * 10))], []];
    case 'differs-3':
      return [[cost(plus(b / 3)), boxOffice(plus(near(r, next)))], []];
    case 'differs-2600':
      return [[cost(plus(b * 2600))], []];
    case 'p2769-only':
      return [[{ property: 'P2769', amount: plus(near(b, next)) }], []];
    case 'p2130-and-p2769':
      return [[cost(plus(near(b, next))), { property: 'P2769', amount: plus(b * 50) }], []];
    case 'preferred-over-normal':
      return [[cost(plus(b)), cost(plus(b * 7), { rank: 'preferred' })], []];
    case 'preferred-without-unit':
      // the preferred amount does not count (no unit), so the normal one does: rule 3 comes before rule 4
      return [[cost(plus(b * 40), { rank: 'preferred', unit: UNIT_ONE }), cost(plus(near(b, next)))], []];
    case 'deprecated-only':
      return [[cost(plus(b), { rank: 'deprecated' }), boxOffice(plus(r), { rank: 'deprecated' })], []];
    case 'box-office-worldwide':
      return [[boxOffice(plus(r * 5), { qualifiers: { P3005: [WORLDWIDE] } })], []];
    case 'box-office-us-only':
      return [[boxOffice(plus(near(r, next)), { qualifiers: { P3005: [UNITED_STATES] } }), boxOffice(plus(r * 9), { qualifiers: { P3005: [WORLDWIDE, UNITED_STATES] } })], []];
    case 'box-office-unqualified':
      return [[boxOffice(plus(near(r, next)))], []];
    case 'several-amounts':
      return [[cost(plus(b * 8)), cost(plus(near(b, next))), cost(plus(b / 9)), boxOffice(plus(r / 4)), boxOffice(plus(r * 4))], []];
    case 'pounds':
      // in pounds, about Kaggle's figure at 1990s-2010s rates (0.5-0.7 pounds a dollar)
      return [[cost(plus(b * 0.6), { unit: 'Q25224' })], []];
    case 'franc-without-rate':
      // francs after 2001 have no rate; before, they convert
      return [[cost(plus(b * 5.5), { unit: FRENCH_FRANC }), boxOffice(plus(near(r, next)))], []];
    case 'unitless':
      return [[cost(plus(b), { unit: UNIT_ONE })], []];
    case 'lexical-forms':
      return [[cost(`${(b / 1e6).toFixed(1)}E6`), boxOffice(`+${Math.round(r)}.00`), boxOffice('-5'), cost('+0')], []];
    case 'two-items':
      // the box office on a second item with the same IMDb id and no English article
      return [[cost(plus(near(b, next)))], [boxOffice(plus(r * 3))]];
    case 'none':
      return [[], []];
  }
}

function asOracle(s: Statement, currencies: Record<string, string>): OracleStatement {
  const unit = s.unit ?? USD;
  return {
    property: s.property as OracleStatement['property'],
    rank: s.rank ?? 'normal',
    amount: s.amount,
    unit,
    currency: currencies[unit] ?? null,
    places: s.qualifiers?.P3005 ?? [],
  };
}

/**
 * The films' items: each film's first item holds its IMDb id, its English
 * articles (`articles`, as the SPARQL table of a wiki world gives them) and
 * the statements of its case; the cases go round the films in a seeded order.
 */
export function buildMoneyWorld(films: readonly Film[], articles: Readonly<Record<string, readonly string[]>>, seed: number, rates: OracleRates | null): MoneyWorld {
  const next = random(seed);
  const currencies = { ...CURRENCIES, ...MONEY_CURRENCIES };
  const world: MoneyWorld = { items: [], currencies: MONEY_CURRENCIES, cases: new Map(), expected: new Map() };
  const order = [...MONEY_CASES].sort(() => next() - 0.5);
  films.forEach((film, i) => {
    const c = order[i % order.length]!;
    world.cases.set(film.id, c);
    const [mine, second] = film.imdbId === null ? [[], []] : statementsOf(c, film, next);
    if (film.imdbId !== null) {
      world.items.push({ id: `Q${700_000_000 + film.id}`, imdb: [film.imdbId], articles: [...(articles[film.imdbId] ?? [])], statements: mine });
      if (c === 'two-items') world.items.push({ id: `Q${800_000_000 + film.id}`, imdb: [film.imdbId], articles: [`https://de.wikipedia.org/wiki/Film_${film.id}`], statements: second });
    }
    const all = [...mine, ...second].map((s) => asOracle(s, currencies));
    world.expected.set(film.id, oracleMoney(film, film.imdbId === null ? undefined : all, rates));
  });
  return world;
}

/** What the oracle says when Wikidata gives nothing (offline and not cached, or down): every film unchecked. */
export function unanswered(films: readonly Film[]): Map<number, OracleVerdict> {
  return new Map(films.map((f) => [f.id, oracleMoney(f, undefined, null)]));
}
