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
export async function databaseWith(server: TestServer, films: FilmRecord[]): Promise<TestDatabase> {
  const db = await freshDatabase(server, 'tf_dash');
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await runLoad(films, { client, url: db.url, ui: quiet, report: { metadata: { rows: films.length + 3 } } });
  } finally {
    await client.end();
  }
  return db;
}

interface FilmSpec {
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
function films(specs: FilmSpec[]): FilmRecord[] {
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
