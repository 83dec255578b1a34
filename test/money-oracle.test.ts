// The money oracle (test/helpers/money-oracle.ts) against cases worked out by hand from
// SPEC section 4a, one rule at a time. Each expected verdict below is the SPEC's answer
// written out, not the oracle's output copied back.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  oracleMoney,
  type OracleFilm,
  type OracleRates,
  type OracleStatement,
  type OracleVerdict,
} from './helpers/money-oracle.js';

const WORLDWIDE = 'Q13780930';
const USA = 'Q30';
const UK = 'Q145';

/** a selected film of 2000 with an IMDb id; Kaggle's budget and revenue */
const film = (budget: number, revenue: number, more: Partial<OracleFilm> = {}): OracleFilm => ({
  budget,
  revenue,
  year: 2000,
  imdbId: 'tt0000001',
  ...more,
});
/** a normal-rank statement in US dollars with no P3005 */
const usd = (property: OracleStatement['property'], amount: string, more: Partial<OracleStatement> = {}): OracleStatement => ({
  property,
  rank: 'normal',
  amount,
  unit: 'Q4917',
  currency: 'USD',
  places: [],
  ...more,
});
const eur = (property: OracleStatement['property'], amount: string, more: Partial<OracleStatement> = {}): OracleStatement =>
  usd(property, amount, { unit: 'Q4916', currency: 'EUR', ...more });
const gbp = (property: OracleStatement['property'], amount: string, more: Partial<OracleStatement> = {}): OracleStatement =>
  usd(property, amount, { unit: 'Q25224', currency: 'GBP', ...more });
const jpy = (property: OracleStatement['property'], amount: string, more: Partial<OracleStatement> = {}): OracleStatement =>
  usd(property, amount, { unit: 'Q8146', currency: 'JPY', ...more });
const unitless = (property: OracleStatement['property'], amount: string, more: Partial<OracleStatement> = {}): OracleStatement =>
  usd(property, amount, { unit: 'Q199', currency: null, ...more });

/** Invented rates, chosen exact in binary so that the hand-worked dollars are exact. */
const TABLE: Record<string, Record<number, number>> = {
  EUR: { 2000: 0.5 },
  GBP: { 2000: 0.625 },
  JPY: { 2000: 100 },
  XXX: { 2000: 0 },
};
const RATES: OracleRates = (currency, year) => TABLE[currency]?.[year] ?? null;

const verdict = (
  wikidataBudget: number | null,
  wikidataRevenue: number | null,
  check: OracleVerdict['check'],
  factor: number | null = null,
  otherCurrency = false,
): OracleVerdict => ({ wikidataBudget, wikidataRevenue, check, factor, otherCurrency });
const UNCHECKED = verdict(null, null, 'unchecked');

const check = (f: OracleFilm, statements: readonly OracleStatement[] | undefined, expected: OracleVerdict, rates: OracleRates | null = RATES): void => {
  assert.deepEqual(oracleMoney(f, statements, rates), expected);
};

describe('money oracle: verdicts', () => {
  test('both kinds agree: confirmed', () => {
    check(film(10_000_000, 30_000_000), [usd('P2130', '9000000'), usd('P2142', '31000000')], verdict(9_000_000, 31_000_000, 'confirmed'));
  });

  test('one kind agrees and the other has no figure: confirmed', () => {
    check(film(10_000_000, 30_000_000), [usd('P2142', '31000000')], verdict(null, 31_000_000, 'confirmed'));
  });

  test('kaggle/wikidata 0.1: disputed, factor 10', () => {
    check(film(1_000_000, 5_000_000), [usd('P2130', '10000000')], verdict(10_000_000, null, 'disputed', 10));
  });

  test('kaggle/wikidata 3: disputed, factor 3', () => {
    check(film(3_000_000, 5_000_000), [usd('P2130', '1000000')], verdict(1_000_000, null, 'disputed', 3));
  });

  test("the SPEC's example, a budget of 5,000 where the film cost $13M: factor 2600, both ways", () => {
    check(film(5_000, 50_000_000), [usd('P2130', '13000000')], verdict(13_000_000, null, 'disputed', 2600));
    check(film(26_000_000, 50_000_000), [usd('P2130', '10000')], verdict(10_000, null, 'disputed', 2600));
  });

  test('exactly 0.5 and exactly 2 agree; just past 2 differs', () => {
    check(film(5_000_000, 1), [usd('P2130', '10000000')], verdict(10_000_000, null, 'confirmed'));
    check(film(20_000_000, 1), [usd('P2130', '10000000')], verdict(10_000_000, null, 'confirmed'));
    check(film(20_000_001, 1), [usd('P2130', '10000000')], verdict(10_000_000, null, 'disputed', 2.0000001));
  });

  test('one kind differs, the other agrees: disputed, the factor is the differing kind', () => {
    check(
      film(10_000_000, 100_000_000),
      [usd('P2130', '10000000'), usd('P2142', '25000000')],
      verdict(10_000_000, 25_000_000, 'disputed', 4),
    );
  });

  test('both kinds differ: the factor is the larger of the two', () => {
    // budget 10M/30M: factor 3; box office 100M/400M: factor 4
    check(
      film(10_000_000, 100_000_000),
      [usd('P2130', '30000000'), usd('P2142', '400000000')],
      verdict(30_000_000, 400_000_000, 'disputed', 4),
    );
    // budget 1M/10M: factor 10; box office 300M/100M: factor 3
    check(
      film(1_000_000, 300_000_000),
      [usd('P2130', '10000000'), usd('P2142', '100000000')],
      verdict(10_000_000, 100_000_000, 'disputed', 10),
    );
  });

  test('the verdict compares the unrounded amount; only the stored figure is rounded', () => {
    // 1,000,000 / 2,000,000.4 is just under 0.5 (differs), though the stored 2,000,000 would agree
    check(film(1_000_000, 1), [usd('P2130', '2000000.4')], verdict(2_000_000, null, 'disputed', 2.0000004));
  });

  test('the stored figure is rounded half away from zero', () => {
    check(film(2_000_000, 1), [usd('P2130', '2000000.5')], verdict(2_000_001, null, 'confirmed'));
    // 200,000,050 JPY at 100 JPY per dollar: 2,000,000.5 USD
    check(film(2_000_000, 1), [jpy('P2130', '200000050')], verdict(2_000_001, null, 'confirmed'));
  });
});

describe('money oracle: unchecked films', () => {
  test('no statements at all', () => {
    check(film(10_000_000, 30_000_000), [], UNCHECKED);
  });

  test('Wikidata gave no answer (statements undefined)', () => {
    check(film(10_000_000, 30_000_000), undefined, UNCHECKED);
  });

  test('no IMDb id: unchecked with no figures, whatever the statements', () => {
    check(film(10_000_000, 30_000_000, { imdbId: null }), [usd('P2130', '10000000'), usd('P2142', '30000000')], UNCHECKED);
    check(film(10_000_000, 30_000_000, { imdbId: null }), [eur('P2130', '10000000')], UNCHECKED, null);
  });

  test('deprecated statements only', () => {
    check(
      film(10_000_000, 30_000_000),
      [usd('P2130', '10000000', { rank: 'deprecated' }), usd('P2769', '10000000', { rank: 'deprecated' }), usd('P2142', '30000000', { rank: 'deprecated' })],
      UNCHECKED,
    );
  });
});

describe('money oracle: rule 1, the budget properties', () => {
  test('P2769 only: it counts', () => {
    check(film(10_000_000, 1), [usd('P2769', '12000000')], verdict(12_000_000, null, 'confirmed'));
  });

  test('P2130 and P2769: P2769 is ignored, even when it is nearer', () => {
    check(film(10_000_000, 1), [usd('P2130', '30000000'), usd('P2769', '10000000')], verdict(30_000_000, null, 'disputed', 3));
  });

  test('P2130 deprecated only, with a P2769: the P2769 counts', () => {
    check(
      film(10_000_000, 1),
      [usd('P2130', '30000000', { rank: 'deprecated' }), usd('P2769', '10000000')],
      verdict(10_000_000, null, 'confirmed'),
    );
  });

  test('a P2130 left after rule 1 blocks P2769 even when its own amount does not count', () => {
    check(film(10_000_000, 1), [usd('P2130', '0'), usd('P2769', '10000000')], UNCHECKED);
    check(film(10_000_000, 1), [unitless('P2130', '10000000'), usd('P2769', '10000000')], UNCHECKED);
    check(film(10_000_000, 1), [usd('P2130', 'abc'), usd('P2769', '10000000')], UNCHECKED);
    check(film(10_000_000, 1), [eur('P2130', '5000000'), usd('P2769', '10000000')], verdict(null, null, 'unchecked', null, true), null);
  });

  test('a P2769 is never box office, a P2142 never budget', () => {
    check(film(10_000_000, 30_000_000), [usd('P2769', '30000000')], verdict(30_000_000, null, 'disputed', 3));
    check(film(10_000_000, 30_000_000), [usd('P2142', '10000000')], verdict(null, 10_000_000, 'disputed', 3));
  });
});

describe('money oracle: rule 2, box office places', () => {
  const f = film(10_000_000, 100_000_000);
  test('worldwide (P3005 = Q13780930) counts', () => {
    check(f, [usd('P2142', '100000000', { places: [WORLDWIDE] })], verdict(null, 100_000_000, 'confirmed'));
  });

  test('no P3005 counts', () => {
    check(f, [usd('P2142', '100000000')], verdict(null, 100_000_000, 'confirmed'));
  });

  test('US only (P3005 = Q30) does not count, nor two countries', () => {
    check(f, [usd('P2142', '100000000', { places: [USA] })], UNCHECKED);
    check(f, [usd('P2142', '100000000', { places: [USA, UK] })], UNCHECKED);
  });

  test('worldwide and a country on one statement: it counts', () => {
    check(f, [usd('P2142', '100000000', { places: [USA, WORLDWIDE] })], verdict(null, 100_000_000, 'confirmed'));
  });

  test('a nearer US figure loses to the worldwide one', () => {
    check(
      film(10_000_000, 40_000_000),
      [usd('P2142', '100000000', { places: [WORLDWIDE] }), usd('P2142', '40000000', { places: [USA] })],
      verdict(null, 100_000_000, 'disputed', 2.5),
    );
  });

  test('P3005 on a budget statement does not matter (rule 2 is the box office only)', () => {
    check(film(10_000_000, 1), [usd('P2130', '10000000', { places: [USA] })], verdict(10_000_000, null, 'confirmed'));
  });
});

describe('money oracle: rule 3, currencies and amounts', () => {
  test('another currency with a rate for the film year is converted: USD = amount / rate', () => {
    check(film(10_000_000, 1), [eur('P2130', '5000000')], verdict(10_000_000, null, 'confirmed'));
    check(film(10_000_000, 1), [gbp('P2130', '6250000')], verdict(10_000_000, null, 'confirmed'));
    check(film(10_000_000, 1), [jpy('P2130', '1000000000')], verdict(10_000_000, null, 'confirmed'));
    check(film(10_000_000, 100_000_000), [eur('P2142', '50000000', { places: [WORLDWIDE] })], verdict(null, 100_000_000, 'confirmed'));
  });

  test('a converted amount competes with the dollar ones', () => {
    check(film(10_000_000, 1), [usd('P2130', '30000000'), eur('P2130', '5000000')], verdict(10_000_000, null, 'confirmed'));
  });

  test('no table: left out, otherCurrency', () => {
    check(film(10_000_000, 1), [eur('P2130', '5000000')], verdict(null, null, 'unchecked', null, true), null);
  });

  test('no rate for that currency, or for that year: left out, otherCurrency', () => {
    check(film(10_000_000, 1), [usd('P2130', '5000000', { unit: 'Q25344', currency: 'CHF' })], verdict(null, null, 'unchecked', null, true));
    check(film(10_000_000, 1, { year: 2001 }), [eur('P2130', '5000000')], verdict(null, null, 'unchecked', null, true));
  });

  test('a unit with no ISO 4217 code: left out, otherCurrency', () => {
    check(film(10_000_000, 1), [usd('P2130', '5000000', { unit: 'Q123', currency: null })], verdict(null, null, 'unchecked', null, true));
  });

  test('a rate of 0 is no rate', () => {
    check(film(10_000_000, 1), [usd('P2130', '5000000', { unit: 'Q1', currency: 'XXX' })], verdict(null, null, 'unchecked', null, true));
  });

  test('a film with no year: other currencies are left out, dollars still count', () => {
    check(
      film(10_000_000, 1, { year: null }),
      [eur('P2130', '5000000'), usd('P2130', '30000000')],
      verdict(30_000_000, null, 'disputed', 3, true),
    );
  });

  test('an unconverted amount of the other kind makes otherCurrency true, beside a confirmed kind', () => {
    check(film(10_000_000, 100_000_000), [usd('P2130', '10000000'), eur('P2142', '50000000')], verdict(10_000_000, null, 'confirmed', null, true), null);
  });

  test('unitless amounts never count and never make otherCurrency true', () => {
    check(film(10_000_000, 30_000_000), [unitless('P2130', '10000000'), unitless('P2142', '30000000')], UNCHECKED);
  });

  test('zero and negative amounts never count and never make otherCurrency true', () => {
    check(
      film(10_000_000, 30_000_000),
      [usd('P2130', '0'), usd('P2130', '-5'), usd('P2142', '-30000000'), eur('P2130', '-5'), eur('P2142', '0'), usd('P2130', '-0'), usd('P2130', '+0.0')],
      UNCHECKED,
      null,
    );
  });

  test('statements dropped before rule 3 never make otherCurrency true', () => {
    const f = film(10_000_000, 100_000_000);
    // deprecated
    check(f, [eur('P2130', '5000000', { rank: 'deprecated' })], UNCHECKED, null);
    // box office for one country
    check(f, [eur('P2142', '50000000', { places: [USA] })], UNCHECKED, null);
    // P2769 beside a P2130
    check(f, [usd('P2130', '10000000'), eur('P2769', '5000000')], verdict(10_000_000, null, 'confirmed'), null);
  });
});

describe('money oracle: rule 4, preferred rank', () => {
  test('a preferred amount beats a nearer normal one', () => {
    check(
      film(10_000_000, 1),
      [usd('P2130', '10000000'), usd('P2130', '40000000', { rank: 'preferred' })],
      verdict(40_000_000, null, 'disputed', 4),
    );
  });

  test('among several preferred, the nearest', () => {
    check(
      film(10_000_000, 1),
      [usd('P2130', '10000000'), usd('P2130', '40000000', { rank: 'preferred' }), usd('P2130', '12000000', { rank: 'preferred' })],
      verdict(12_000_000, null, 'confirmed'),
    );
  });

  test('rule 4 comes after rule 3: a preferred amount that is not converted leaves the normal ones', () => {
    check(
      film(10_000_000, 1),
      [eur('P2130', '20000000', { rank: 'preferred' }), usd('P2130', '9000000')],
      verdict(9_000_000, null, 'confirmed', null, true),
      null,
    );
    check(film(10_000_000, 1), [unitless('P2130', '40000000', { rank: 'preferred' }), usd('P2130', '9000000')], verdict(9_000_000, null, 'confirmed'));
    check(film(10_000_000, 1), [usd('P2130', '0', { rank: 'preferred' }), usd('P2130', '9000000')], verdict(9_000_000, null, 'confirmed'));
  });

  test('an unconverted normal amount makes otherCurrency true though a preferred one counts', () => {
    check(
      film(10_000_000, 1),
      [usd('P2130', '10000000', { rank: 'preferred' }), eur('P2130', '5000000')],
      verdict(10_000_000, null, 'confirmed', null, true),
      null,
    );
  });
});

describe('money oracle: rule 5, the nearest amount', () => {
  test('the nearest by |ln(kaggle / wikidata)| counts, not by the difference', () => {
    check(film(10_000_000, 1), [usd('P2130', '30000000'), usd('P2130', '9000000'), usd('P2130', '12000000')], verdict(9_000_000, null, 'confirmed'));
    // 5M is 5M away and 16M is 6M away, but ln 2 > ln 1.6: 16M is nearer
    check(film(10_000_000, 1), [usd('P2130', '5000000'), usd('P2130', '16000000')], verdict(16_000_000, null, 'confirmed'));
  });

  test('a disputed film: every figure is far', () => {
    check(film(10_000_000, 1), [usd('P2130', '40000000'), usd('P2130', '1000000')], verdict(40_000_000, null, 'disputed', 4));
  });

  test('an exact tie (5M and 20M for 10M, both ln 2) is won by the smaller amount, in either order', () => {
    const expected = verdict(5_000_000, null, 'confirmed');
    check(film(10_000_000, 1), [usd('P2130', '20000000'), usd('P2130', '5000000')], expected);
    check(film(10_000_000, 1), [usd('P2130', '5000000'), usd('P2130', '20000000')], expected);
  });

  test('distances within 1e-9 of each other tie: the smaller amount wins, in either order', () => {
    // for 1e9: 999,999,999 is 1.0e-9 away, 1,000,000,000.5 is 5.0e-10 away; they differ by 5e-10
    const expected = verdict(999_999_999, null, 'confirmed');
    check(film(1_000_000_000, 1), [usd('P2130', '1000000000.5'), usd('P2130', '999999999')], expected);
    check(film(1_000_000_000, 1), [usd('P2130', '999999999'), usd('P2130', '1000000000.5')], expected);
  });

  test('distances further apart than 1e-9 do not tie', () => {
    // for 1e6: 999,990 is 1.0e-5 away, 1,000,001 is 1.0e-6 away
    check(film(1_000_000, 1), [usd('P2130', '999990'), usd('P2130', '1000001')], verdict(1_000_001, null, 'confirmed'));
  });
});

describe('money oracle: lexical forms', () => {
  const read = (amount: string, kaggle: number, expected: number): void =>
    check(film(kaggle, 1), [usd('P2130', amount)], verdict(expected, null, 'confirmed'));

  test('xsd:decimal and xsd:double forms are read', () => {
    read('60000', 60_000, 60_000);
    read('+60000', 60_000, 60_000);
    read('8000000.00', 8_000_000, 8_000_000);
    read('1.5E7', 15_000_000, 15_000_000);
    read('1.7E+7', 17_000_000, 17_000_000);
    read('1e7', 10_000_000, 10_000_000);
    read('25E-1', 3, 3);
    // decided: '.5' and '5.' are valid xsd:decimal forms; 0.5 is stored as 1 (half away from zero)
    read('.5', 1, 1);
    read('5.', 5, 5);
  });

  test('forms that do not parse never count, and never make otherCurrency true', () => {
    for (const amount of ['', ' 60000', '60000 ', '60,000', '1_000', '6e', 'e6', '1E', '.', '+', '--5', '1.2.3', '0x10', 'INF', '-INF', 'NaN', '1E400']) {
      check(film(60_000, 1), [usd('P2130', amount)], UNCHECKED);
      check(film(60_000, 1), [eur('P2130', amount)], UNCHECKED, null);
    }
  });
});
