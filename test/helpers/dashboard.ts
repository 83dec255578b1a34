/**
 * What the dashboard tests share: databases with loaded data (the sample CSV
 * through the built CLI, or hand-made films through the load stage), the
 * dashboard started on port 0 against them, and a JSON client.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { startDashboard, type RunningDashboard } from '../../src/dashboard/command.js';
import { runLoad } from '../../src/stages/load.js';
import type { FilmMatch, FilmRecord, MoneyVerdict, NamedRef } from '../../src/types.js';
import { MAIN, ROOT, SAMPLE, cleanEnv, runCli } from './cli.js';
import { freshDatabase, type TestDatabase, type TestServer } from './pg.js';
import { quiet } from './recorder.js';

/** A database holding the sample CSV, loaded by the built CLI as a user would. */
export async function sampleDatabase(server: TestServer): Promise<TestDatabase> {
  const db = await freshDatabase(server, 'tf_dash');
  const result = await runCli([
    'run',
    '--metadata',
    path.join(SAMPLE, 'movies_metadata.csv'),
    '--offline',
    '--database-url',
    db.url,
    '--no-progress',
  ]);
  assert.equal(result.status, 0, `loading the sample failed:\n${result.stderr}`);
  return db;
}

/** A database holding `films`, written by the load stage. */
export async function databaseWith(server: TestServer, films: FilmRecord[], report: object = {}): Promise<TestDatabase> {
  const db = await freshDatabase(server, 'tf_dash');
  await loadFilms(db, films, report);
  return db;
}

/** Loads `films` into `db` as a run does: the previous load is replaced in one transaction. */
export async function loadFilms(db: TestDatabase, films: FilmRecord[], report: object = {}): Promise<void> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await runLoad(films, { client, url: db.url, ui: quiet, report: { metadata: { rows: films.length + 3 }, ...report } });
  } finally {
    await client.end();
  }
}

export interface FilmSpec {
  id: number;
  title: string;
  budget: number;
  revenue: number;
  year?: number | null;
  rating?: number | null;
  originalTitle?: string | null;
  genres?: NamedRef[];
  companies?: NamedRef[];
  match?: Partial<FilmMatch>;
  money?: Partial<MoneyVerdict>;
}

/** FilmRecords ranked as the metadata stage ranks them: ratio descending, then id. */
export function films(specs: FilmSpec[]): FilmRecord[] {
  const ranked = specs
    .map((s) => ({ ...s, ratio: s.revenue / s.budget }))
    .sort((a, b) => b.ratio - a.ratio || a.id - b.id);
  return ranked.map((s, i) => ({
    id: s.id,
    imdbId: `tt${String(s.id).padStart(7, '0')}`,
    title: s.title,
    originalTitle: s.originalTitle ?? s.title,
    releaseDate: s.year ? `${s.year}-06-01` : null,
    year: s.year ?? null,
    budget: s.budget,
    revenue: s.revenue,
    ratio: s.ratio,
    rank: i + 1,
    rating: s.rating === undefined ? 7 : s.rating,
    voteCount: s.rating === null ? 0 : 100,
    genres: s.genres ?? [],
    companies: s.companies ?? [],
    match: {
      filmId: s.id,
      method: 'none',
      url: null,
      title: null,
      abstract: null,
      abstractSource: null,
      ...s.match,
    },
    money: { wikidataBudget: null, wikidataRevenue: null, budget: 'none', revenue: 'none', check: 'unchecked', factor: null, otherCurrency: false, ...s.money },
  }));
}

export const XSS_TITLE = '<script>alert(1)</script>';
export const SQL_TITLE = "'); drop table films; --";
export const XSS_COMPANY = `<img src=x onerror="alert('company')">`;
export const XSS_GENRE = '<b onmouseover=alert(4)>Bold</b>';
export const XSS_ABSTRACT = 'An abstract with <i>markup</i> & "quotes" </td></tr><script>alert(2)</script> and a line.';
const DRAMA: NamedRef = { id: 18, name: 'Drama' };
const COMEDY: NamedRef = { id: 35, name: 'Comedy' };
const HORROR: NamedRef = { id: 27, name: 'Horror' };

/** Films whose titles, names, abstracts and URLs try to break out of the page or the SQL. */
export function hostileFilms(): FilmRecord[] {
  return films([
    {
      id: 101,
      title: XSS_TITLE,
      budget: 1000,
      revenue: 5_000_000,
      year: 2001,
      genres: [DRAMA, { id: 9001, name: XSS_GENRE }],
      companies: [{ id: 501, name: XSS_COMPANY }],
      match: {
        method: 'title',
        url: 'https://en.wikipedia.org/wiki/Script_(film)',
        title: 'Script (film)',
        abstract: XSS_ABSTRACT,
        abstractSource: 'dump',
      },
    },
    {
      id: 102,
      title: SQL_TITLE,
      budget: 10_000,
      revenue: 20_000_000,
      year: 2002,
      genres: [DRAMA],
      companies: [{ id: 502, name: "'; DELETE FROM genres; --" }],
      // a hostile URL in the data must never become a link
      match: { method: 'wikidata', url: 'javascript:alert(3)', title: 'Evil', abstract: null },
    },
    {
      id: 103,
      title: '100% _Wild_ Card',
      originalTitle: 'Cent pour cent',
      budget: 2_000_000,
      revenue: 30_000_000,
      year: 1999,
      genres: [COMEDY],
      companies: [{ id: 503, name: 'Acme Pictures' }],
    },
    { id: 104, title: 'Alpha', budget: 1_500_000, revenue: 12_000_000, year: 1985, genres: [COMEDY, HORROR], companies: [{ id: 503, name: 'Acme Pictures' }] },
    { id: 105, title: 'Gamma', budget: 800_000, revenue: 1_000_000, year: null, rating: null, genres: [HORROR] },
  ]);
}

// ---- the dashboard ------------------------------------------------------------

export async function dashboardOn(db: TestDatabase): Promise<RunningDashboard> {
  return startDashboard({ databaseUrl: db.url, port: 0, host: '127.0.0.1' });
}

interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function getJson<T = any>(base: string, pathAndQuery: string, init?: RequestInit): Promise<JsonResponse<T>> {
  const response = await fetch(new URL(pathAndQuery, base), init);
  const text = await response.text();
  let body: T;
  try {
    body = JSON.parse(text) as T;
  } catch {
    assert.fail(`${pathAndQuery} answered ${response.status} with no JSON: ${text.slice(0, 200)}`);
  }
  return { status: response.status, headers: response.headers, body };
}

// ---- the CLI, kept running --------------------------------------------------------

interface RunningCli {
  child: ChildProcess;
  /** stdout so far */
  stdout(): string;
  /** sends SIGINT and waits for the exit */
  stop(): Promise<{ status: number | null; stdout: string; stderr: string }>;
}

/** Starts `truefilm dashboard ...args` (dist/main.js) and waits until it prints the address to open. */
export async function startCliDashboard(args: string[], env: Record<string, string> = {}): Promise<RunningCli & { url: string }> {
  const child = spawn(process.execPath, [MAIN, 'dashboard', ...args], { cwd: ROOT, env: cleanEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
  const url = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const m = /open (http:\/\/\S+)/.exec(stdout);
      if (m) {
        child.stdout.off('data', check);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then((status) => reject(new Error(`the dashboard exited (${status}) before serving:\n${stdout}\n${stderr}`)));
  });
  return {
    child,
    url,
    stdout: () => stdout,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      const status = await exited;
      return { status, stdout, stderr };
    },
  };
}

// ---- films with a money check (SPEC section 4a) --------------------------------------

const disputed = (wikidataBudget: number | null, wikidataRevenue: number | null): Partial<MoneyVerdict> => ({
  check: 'disputed',
  wikidataBudget,
  wikidataRevenue,
});
const confirmed = (wikidataBudget: number | null, wikidataRevenue: number | null): Partial<MoneyVerdict> => ({
  check: 'confirmed',
  wikidataBudget,
  wikidataRevenue,
});
const THRILLER: NamedRef = { id: 53, name: 'Thriller' };
// two TMDB ids for one name: a film linked to both counts once for "Drama"
const DRAMA_AGAIN: NamedRef = { id: 9018, name: 'Drama' };
const NORTH: NamedRef = { id: 601, name: 'North Star Pictures' };
const NORTH_AGAIN: NamedRef = { id: 602, name: 'North Star Pictures' };
const HARBOR: NamedRef = { id: 603, name: 'Harbor Films' };
const LANTERN: NamedRef = { id: 604, name: 'Lantern House' };

/**
 * Hand-made films, each with a verdict: disputed ones whose budget, revenue or
 * both are far from Wikidata's (one of them the best ratio), confirmed and
 * unchecked ones; genres and companies whose names have two ids. The tests
 * compute what to expect from these specs, not from SQL.
 */
export const MONEY_SPECS: FilmSpec[] = [
  // the best ratio: Kaggle's budget is $5K where Wikidata says $13M
  { id: 201, title: 'Paper Lanterns', budget: 5_000, revenue: 26_000_000, year: 1994, genres: [DRAMA, DRAMA_AGAIN], companies: [NORTH, NORTH_AGAIN], money: disputed(13_000_000, 25_000_000) },
  { id: 202, title: 'The Quiet Harbor', budget: 400_000, revenue: 30_000_000, year: 2003, genres: [DRAMA, THRILLER], companies: [HARBOR], money: confirmed(450_000, 31_000_000) },
  // the revenue differs; Wikidata has no budget that counts
  { id: 203, title: 'Cold Meridian', budget: 2_000_000, revenue: 90_000_000, year: 2011, genres: [THRILLER], companies: [NORTH, HARBOR], money: disputed(null, 9_000_000) },
  { id: 204, title: 'Saltwater Road', budget: 1_000_000, revenue: 20_000_000, year: 1999, genres: [DRAMA_AGAIN, COMEDY], companies: [NORTH], match: { method: 'wikidata', url: 'https://en.wikipedia.org/wiki/Saltwater_Road', title: 'Saltwater Road', abstract: 'A film.', abstractSource: 'dump' }, money: confirmed(1_100_000, null) },
  { id: 205, title: 'Glass Orchard', budget: 3_000_000, revenue: 24_000_000, year: 2008, genres: [COMEDY], companies: [LANTERN], rating: null },
  // both kinds differ
  { id: 206, title: 'Iron Veil', budget: 900_000, revenue: 5_400_000, year: 1987, genres: [THRILLER, HORROR], companies: [LANTERN, HARBOR], money: disputed(30_000_000, 80_000_000) },
  { id: 207, title: 'Low Tide', budget: 6_000_000, revenue: 21_000_000, year: 2015, genres: [HORROR], companies: [HARBOR], money: confirmed(6_000_000, 20_000_000) },
  { id: 208, title: 'Minor Key', budget: 10_000_000, revenue: 15_000_000, year: null, genres: [DRAMA], companies: [] },
  // a genre and a company whose only film is disputed: gone when the disputed films are left out
  { id: 209, title: 'Blue Static', budget: 50_000, revenue: 700_000, year: 2001, genres: [{ id: 878, name: 'Science Fiction' }], companies: [{ id: 605, name: 'Static Works' }], money: disputed(60_000, 9_000_000) },
];

export function moneyFilms(specs: FilmSpec[] = MONEY_SPECS): FilmRecord[] {
  return films(specs);
}

/** The run report's money section that goes with MONEY_SPECS. */
export const MONEY_REPORT = { money: { status: 'ok', confirmed: 3, disputed: 4, unchecked: 2, other_currency: 1, conversion: 'none' } };

// ---- what the aggregates should be, computed here from the specs (not by SQL) ----------

export interface ExpectedGroup {
  name: string;
  films: number;
  mean_ratio: number;
  median_ratio: number;
  total_budget: number;
  total_revenue: number;
  disputed: number;
}

const isDisputed = (f: FilmSpec): boolean => f.money?.check === 'disputed';
const ratioOf = (f: FilmSpec): number => f.revenue / f.budget;

function median(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** SPEC 5's views by hand: a film counts once per name; best median first (companies: then more films), then the name. */
export function expectedGroups(specs: FilmSpec[], kind: 'genre' | 'company', excludeDisputed: boolean): ExpectedGroup[] {
  const byName = new Map<string, Map<number, FilmSpec>>();
  for (const film of specs) {
    if (excludeDisputed && isDisputed(film)) continue;
    for (const ref of (kind === 'genre' ? film.genres : film.companies) ?? []) {
      if (!byName.has(ref.name)) byName.set(ref.name, new Map());
      byName.get(ref.name)!.set(film.id, film);
    }
  }
  const groups = [...byName].map(([name, films]): ExpectedGroup => {
    const list = [...films.values()];
    const ratios = list.map(ratioOf).sort((a, b) => a - b);
    return {
      name,
      films: list.length,
      mean_ratio: ratios.reduce((a, b) => a + b, 0) / ratios.length,
      median_ratio: median(ratios),
      total_budget: list.reduce((a, f) => a + f.budget, 0),
      total_revenue: list.reduce((a, f) => a + f.revenue, 0),
      disputed: list.filter(isDisputed).length,
    };
  });
  return groups.sort(
    (a, b) => b.median_ratio - a.median_ratio || (kind === 'company' ? b.films - a.films : 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
}

export interface ExpectedSummary {
  films: number;
  left_out: number;
  matched: number;
  median_ratio: number;
  total_budget: number;
  total_revenue: number;
  genres: number;
  companies: number;
  best: { id: number; title: string; money_check: string };
  money: { confirmed: number; disputed: number; unchecked: number };
}

export function expectedSummary(specs: FilmSpec[], excludeDisputed: boolean): ExpectedSummary {
  const counted = specs.filter((f) => !(excludeDisputed && isDisputed(f)));
  const best = [...counted].sort((a, b) => ratioOf(b) - ratioOf(a) || a.id - b.id)[0]!;
  const checks = (check: string): number => specs.filter((f) => (f.money?.check ?? 'unchecked') === check).length;
  return {
    films: counted.length,
    left_out: specs.length - counted.length,
    matched: counted.filter((f) => (f.match?.method ?? 'none') !== 'none').length,
    median_ratio: median(counted.map(ratioOf).sort((a, b) => a - b)),
    total_budget: counted.reduce((a, f) => a + f.budget, 0),
    total_revenue: counted.reduce((a, f) => a + f.revenue, 0),
    genres: expectedGroups(specs, 'genre', excludeDisputed).length,
    companies: expectedGroups(specs, 'company', excludeDisputed).length,
    best: { id: best.id, title: best.title, money_check: best.money?.check ?? 'unchecked' },
    money: { confirmed: checks('confirmed'), disputed: checks('disputed'), unchecked: checks('unchecked') },
  };
}

/** The films of `specs` in rank order, without the disputed ones when asked. */
export function expectedIds(specs: FilmSpec[], excludeDisputed: boolean): number[] {
  return films(specs)
    .filter((f) => !(excludeDisputed && f.money.check === 'disputed'))
    .map((f) => f.id);
}
