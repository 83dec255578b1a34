/**
 * The dashboard under load: `wrk -t2 -c50 -d15s` on each API endpoint and on
 * the static page, one after the other in the same run, at 1,000 and at
 * 88,128 films. The goal: each endpoint at least a tenth of the static page's
 * requests per second, p99 at most 100 ms, no error.
 *
 * The films are generated from a seed (genres, companies with several ids for
 * one name, money verdicts: about 8% disputed) and loaded by the load stage
 * with COPY, as a run loads them. The dashboard is the built program
 * (`truefilm dashboard`), as users run it. Before wrk, one request per
 * endpoint: its time is the answer computed from the database (what every
 * request cost before answers were kept per load); wrk then measures the
 * answers kept.
 *
 * Debian's wrk is installed (apt-get) when missing. The database:
 * --database-url (a database made for it: the load replaces its tables), else
 * the embedded PostgreSQL in a temporary directory.
 *
 *   node --import tsx bench/dashboard.ts [--films 1000,88128] [--duration 15s] [--database-url URL]
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { runLoad } from '../src/stages/load.js';
import type { FilmRecord, MoneyCheck, NamedRef } from '../src/types.js';
import { createUi } from '../src/ui.js';
import { rng as random } from './generate.js';
import { startCliDashboard } from '../test/helpers/dashboard.js';
import { ensureWrk } from './swap.js';
import { scratch } from './scratch.js';

/** The static page first: the yardstick of each endpoint's figures. */
export const DASHBOARD_ROUTES = [
  '/',
  '/api/films?limit=50',
  '/api/films?limit=50&exclude_disputed=1',
  '/api/summary',
  '/api/summary?exclude_disputed=1',
  '/api/genres',
  '/api/genres?exclude_disputed=1',
  '/api/production-companies',
  '/api/production-companies?exclude_disputed=1',
] as const;

export interface RouteFigures {
  route: string;
  /** the first request's time: the answer computed from the database (null for the static page) */
  coldMs: number | null;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** socket errors (connect, read, write, timeout) and non-2xx answers, as wrk counts them */
  errors: number;
  /** transactions per second that the database committed meanwhile: the load checks, and any answer computed */
  databaseTps: number;
  /** at least a tenth of the static page's req/s, p99 <= 100 ms, no error */
  goalMet: boolean;
}

export interface DashboardFigures {
  films: number;
  connections: number;
  duration: string;
  routes: RouteFigures[];
}

const LUA = `
function done(summary, latency, requests)
  local s = summary.errors
  io.write(string.format("DASH-BENCH %d %d %d %.3f %.3f %.3f %.1f\\n", summary.requests,
    s.connect + s.read + s.write + s.timeout, s.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests / (summary.duration / 1e6)))
end
`;

const GENRES = ['Drama', 'Comedy', 'Thriller', 'Action', 'Romance', 'Horror', 'Adventure', 'Crime', 'Science Fiction', 'Family',
  'Fantasy', 'Mystery', 'Animation', 'Documentary', 'Music', 'History', 'War', 'Western', 'Foreign', 'TV Movie'];

/**
 * `n` films ranked as the metadata stage ranks them, with 1-3 genres, 1-3 of
 * about n/8 companies (every tenth name has a second id), and a verdict.
 */
export function generateFilms(n: number, seed = 1): FilmRecord[] {
  const next = random(seed);
  const pick = (k: number): number => Math.floor(next() * k);
  const companies = Math.max(20, Math.round(n / 8));
  const company = (i: number): NamedRef => ({ id: 1000 + i, name: `Company ${i % Math.round(companies * 0.9)}` });
  const films = Array.from({ length: n }, (_, i) => {
    const budget = Math.round(10 ** (4 + next() * 4.5));
    const revenue = Math.round(budget * 10 ** (next() * 3.5 - 1.5));
    const roll = next();
    const check: MoneyCheck = roll < 0.08 ? 'disputed' : roll < 0.7 ? 'confirmed' : 'unchecked';
    const genres = [...new Set(Array.from({ length: 1 + pick(3) }, () => pick(GENRES.length)))].map((g) => ({ id: g + 1, name: GENRES[g]! }));
    const links = [...new Set(Array.from({ length: 1 + pick(3) }, () => pick(companies)))].map(company);
    const id = i + 1;
    return {
      id,
      imdbId: `tt${String(id).padStart(7, '0')}`,
      title: `Film ${id}`,
      originalTitle: `Film ${id}`,
      releaseDate: `${1950 + pick(70)}-06-01`,
      year: null as number | null,
      budget,
      revenue,
      ratio: revenue / budget,
      rank: 0,
      rating: Math.round(next() * 100) / 10,
      voteCount: pick(5000),
      genres,
      companies: links,
      match: { filmId: id, method: 'wikidata' as const, url: `https://en.wikipedia.org/wiki/Film_${id}`, title: `Film ${id}`, abstract: null, abstractSource: null },
      money: {
        wikidataBudget: check === 'unchecked' ? null : check === 'disputed' ? budget * 20 : budget,
        wikidataRevenue: check === 'unchecked' ? null : revenue,
        budget: check === 'unchecked' ? ('none' as const) : check === 'disputed' ? ('differs' as const) : ('agrees' as const),
        revenue: check === 'unchecked' ? ('none' as const) : ('agrees' as const),
        check,
        factor: check === 'disputed' ? 20 : null,
        otherCurrency: false,
      },
    } satisfies FilmRecord;
  });
  for (const f of films) f.year = Number(f.releaseDate.slice(0, 4));
  films.sort((a, b) => b.ratio - a.ratio || a.id - b.id);
  films.forEach((f, i) => (f.rank = i + 1));
  return films;
}

async function load(url: string, films: FilmRecord[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const disputed = films.filter((f) => f.money.check === 'disputed').length;
    const confirmed = films.filter((f) => f.money.check === 'confirmed').length;
    const money = { status: 'ok', confirmed, disputed, unchecked: films.length - confirmed - disputed, other_currency: 0, conversion: 'none' };
    await runLoad(films, { client, url, ui: createUi({ progress: false, quiet: true }), report: { metadata: { rows: films.length }, money } });
  } finally {
    await client.end();
  }
}

/** Transactions committed and rolled back in the database so far (pg_stat_database, as its statistics say). */
async function transactions(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ n: string }>('SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = current_database()');
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

function wrk(url: string, script: string, connections: number, duration: string): Promise<Omit<RouteFigures, 'route' | 'coldMs' | 'goalMet' | 'databaseTps'>> {
  return new Promise((resolve, reject) => {
    let out = '';
    // as a browser asks: it takes gzip (the static page goes as it is; large API answers go gzipped)
    const child = spawn('wrk', ['-t2', `-c${connections}`, `-d${duration}`, '--timeout', '10s', '-H', 'Accept-Encoding: gzip, deflate, br', '-s', script, url]);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', () => {
      const line = /DASH-BENCH (.*)/.exec(out);
      if (!line) return reject(new Error(`wrk printed no figures for ${url}:\n${out}`));
      const [requests, socket, status, p50, p99, max, rps] = line[1]!.split(' ').map(Number) as number[];
      resolve({ requests: requests!, requestsPerSecond: rps!, latencyMs: { p50: p50!, p99: p99!, max: max! }, errors: socket! + status! });
    });
  });
}

export async function benchDashboard(
  options: { films?: number[]; duration?: string; connections?: number; databaseUrl?: string } = {},
): Promise<DashboardFigures[]> {
  const sizes = options.films ?? [1000, 88_128];
  const duration = options.duration ?? '15s';
  const connections = options.connections ?? 50;
  ensureWrk();
  const place = await scratch('dashboard', options.databaseUrl);
  const { tmp, url } = place;
  const script = path.join(tmp, 'figures.lua');
  writeFileSync(script, LUA);
  const all: DashboardFigures[] = [];
  try {
    for (const n of sizes) {
      console.error(`dashboard bench: loading ${n.toLocaleString('en-US')} generated films...`);
      await load(url, generateFilms(n));
      const dashboard = await startCliDashboard(['--port', '0', '--database-url', url]);
      try {
        const routes: RouteFigures[] = [];
        for (const route of DASHBOARD_ROUTES) {
          const target = new URL(route, dashboard.url).toString();
          const started = performance.now();
          const first = await fetch(target);
          await first.arrayBuffer();
          const coldMs = route === '/' ? null : performance.now() - started;
          if (first.status !== 200) throw new Error(`${route} answered ${first.status}`);
          console.error(`  wrk -t2 -c${connections} -d${duration} ${route}`);
          const before = await transactions(url);
          const windowStart = performance.now();
          const figures = await wrk(target, script, connections, duration);
          // the statistics reach pg_stat_database within about half a second (PGSTAT_MIN_INTERVAL)
          await new Promise((resolve) => setTimeout(resolve, 1200));
          const databaseTps = (await transactions(url)) - before;
          routes.push({ route, coldMs, ...figures, databaseTps: databaseTps / ((performance.now() - windowStart - 1200) / 1000), goalMet: false });
        }
        const page = routes[0]!.requestsPerSecond;
        for (const r of routes) r.goalMet = r.requestsPerSecond >= page / 10 && r.latencyMs.p99 <= 100 && r.errors === 0;
        all.push({ films: n, connections, duration, routes });
      } finally {
        await dashboard.stop();
      }
    }
  } finally {
    await place.close();
  }
  return all;
}

export function printDashboard(all: DashboardFigures[]): void {
  for (const f of all) {
    console.log(`dashboard under load: ${f.films.toLocaleString('en-US')} films, wrk -t2 -c${f.connections} -d${f.duration} on each route in turn`);
    const page = f.routes[0]!.requestsPerSecond;
    const rows = f.routes.map((r) => [
      r.route.padEnd(46),
      r.coldMs === null ? '—'.padStart(9) : `${r.coldMs.toFixed(1)} ms`.padStart(9),
      r.requestsPerSecond.toFixed(0).padStart(7),
      `${((100 * r.requestsPerSecond) / page).toFixed(0)}%`.padStart(6),
      r.latencyMs.p50.toFixed(1).padStart(6),
      r.latencyMs.p99.toFixed(1).padStart(6),
      String(r.errors).padStart(6),
      r.databaseTps.toFixed(0).padStart(6),
      r.goalMet ? 'met' : 'MISSED',
    ]);
    console.log(`  ${'route'.padEnd(46)} ${'first'.padStart(9)} ${'req/s'.padStart(7)} ${'/page'.padStart(6)} ${'p50ms'.padStart(6)} ${'p99ms'.padStart(6)} ${'errors'.padStart(6)} ${'db tx/s'.padStart(6)} goal`);
    for (const row of rows) console.log(`  ${row.join(' ')}`);
  }
}

export const dashboardGoalMet = (all: DashboardFigures[]): boolean => all.every((f) => f.routes.every((r) => r.goalMet));

if (import.meta.url === `file://${process.argv[1]}`) {
  const flag = (name: string, fallback: string): string => {
    const at = process.argv.indexOf(`--${name}`);
    return at > 0 && process.argv[at + 1] ? process.argv[at + 1]! : fallback;
  };
  const figures = await benchDashboard({
    films: flag('films', '1000,88128').split(',').map(Number),
    duration: flag('duration', '15s'),
    databaseUrl: flag('database-url', '') || undefined,
  });
  printDashboard(figures);
  process.exit(dashboardGoalMet(figures) ? 0 : 1);
}
