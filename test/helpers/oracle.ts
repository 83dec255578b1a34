/** Runs test/helpers/oracle.py: SPEC section 3 and docs/selection.md read independently (Python csv, float, ast). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FilmMatch } from '../../src/types.js';
import type { TestDatabase } from './pg.js';

export interface OracleFilm {
  id: number;
  rank: number;
  ratio: number;
  budget: number;
  revenue: number;
  title: string;
  original_title: string | null;
  release_date: string | null;
  year: number | null;
  imdb_id: string | null;
  rating: number | null;
  vote_count: number | null;
  genres: { id: number; name: string }[];
  companies: { id: number; name: string }[];
}

/** SPEC section 3 read in Python, from SPEC and docs/selection.md alone */
export const ORACLE_PY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'oracle.py');

export interface Oracle {
  report: { rows: number; malformed: number; duplicates: number; eligible: number; selected: number; bad_literals: number; malformed_lines: number[] };
  films: OracleFilm[];
}

/**
 * The oracle's reading of the CSV, or null when python3 is not installed: the
 * test is then marked skipped, with the reason (call it after the checks that
 * need no oracle, as those still run).
 */
export function oracle(t: { skip(message: string): void }, csvPath: string, top: number, minBudget = 1000): Oracle | null {
  if (spawnSync('python3', ['--version']).status !== 0) {
    t.skip('python3 is not installed: the cross-check with the Python reading of SPEC section 3 needs it');
    return null;
  }
  const run = spawnSync('python3', [ORACLE_PY, csvPath, String(top), String(minBudget)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.error || run.status !== 0) throw new Error(`the oracle failed: ${run.error?.message ?? run.stderr}`);
  return JSON.parse(run.stdout) as Oracle;
}

/** The films as the database holds them, in the oracle's shape. */
export async function loadedFilms(db: TestDatabase): Promise<OracleFilm[]> {
  const films = await db.query<Record<string, unknown>>(
    `SELECT id, rank, ratio, budget::float8 AS budget, revenue::float8 AS revenue, title, original_title,
            to_char(release_date, 'YYYY-MM-DD') AS release_date, year, imdb_id, rating, vote_count
       FROM films ORDER BY rank`,
  );
  const genres = await db.query<{ film_id: number; id: number; name: string }>(
    'SELECT fg.film_id, g.id, g.name FROM film_genres fg JOIN genres g ON g.id = fg.genre_id ORDER BY fg.film_id, g.id',
  );
  const companies = await db.query<{ film_id: number; id: number; name: string }>(
    `SELECT fc.film_id, c.id, c.name FROM film_production_companies fc
       JOIN production_companies c ON c.id = fc.company_id ORDER BY fc.film_id, c.id`,
  );
  const group = (rows: { film_id: number; id: number; name: string }[], id: number) =>
    rows.filter((r) => r.film_id === id).map((r) => ({ id: r.id, name: r.name }));
  return films.map((f) => ({
    ...(f as unknown as OracleFilm),
    genres: group(genres, f.id as number),
    companies: group(companies, f.id as number),
  }));
}

/** A film's match as the database holds it. */
export type MatchRow = Pick<FilmMatch, 'filmId' | 'method' | 'url' | 'title' | 'abstract' | 'abstractSource'>;

/** The films' matches as the database holds them, in rank order. */
export async function loadedMatches(db: TestDatabase): Promise<MatchRow[]> {
  const rows = await db.query<Record<string, string | number | null>>(
    'SELECT id, wikipedia_match, wikipedia_url, wikipedia_title, wikipedia_abstract, abstract_source FROM films ORDER BY rank',
  );
  return rows.map((r) => ({
    filmId: r.id as number,
    method: r.wikipedia_match as FilmMatch['method'],
    url: r.wikipedia_url as string | null,
    title: r.wikipedia_title as string | null,
    abstract: r.wikipedia_abstract as string | null,
    abstractSource: r.abstract_source as FilmMatch['abstractSource'],
  }));
}

/** The oracle's films ordered as the database query gives them (refs sorted by id). PostgreSQL prints a
 * real (float4) in its shortest exact form, so 7.7 comes back as 7.7. */
export function asStored(films: OracleFilm[]): OracleFilm[] {
  const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
  return films.map((f) => ({
    ...f,
    genres: [...f.genres].sort(byId),
    companies: [...f.companies].sort(byId),
  }));
}
