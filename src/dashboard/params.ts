/**
 * The query parameters of the dashboard's JSON API, validated once. Every
 * problem is a 400 whose message names the parameter and says what it takes;
 * values only ever reach SQL as bind parameters or through a fixed whitelist.
 */
import { TrueFilmError } from '../errors.js';

const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
const MAX_TEXT = 200;

const FILM_SORTS = ['rank', 'title', 'year', 'budget', 'revenue', 'ratio', 'rating'] as const;
export type FilmSort = (typeof FILM_SORTS)[number];
export type SortOrder = 'asc' | 'desc';

/** The order a column sorts in when `order` is not given: best or first on top. */
const NATURAL_ORDER: Record<FilmSort, SortOrder> = {
  rank: 'asc',
  title: 'asc',
  year: 'asc',
  budget: 'desc',
  revenue: 'desc',
  ratio: 'desc',
  rating: 'desc',
};

export interface FilmQuery {
  limit: number;
  offset: number;
  /** exact genre name, or null for every genre */
  genre: string | null;
  /** exact production company name, or null for every company */
  company: string | null;
  /** case-insensitive substring of the title or original title, or null */
  q: string | null;
  sort: FilmSort;
  order: SortOrder;
  /** leave out the films whose money check is 'disputed' */
  excludeDisputed: boolean;
}

/** What /api/summary and /api/genres take. */
export interface AggregateQuery {
  /** leave out the films whose money check is 'disputed' */
  excludeDisputed: boolean;
}

export interface CompanyQuery {
  /** only companies with at least this many films */
  minFilms: number;
  /** at most this many companies (best median ratio first), or null for all */
  limit: number | null;
  excludeDisputed: boolean;
}

function badRequest(parameter: string, message: string): TrueFilmError {
  return new TrueFilmError('DASHBOARD_BAD_REQUEST', message, { input: parameter });
}

/** Rejects parameters the endpoint does not take, and parameters given twice. */
function checkNames(params: URLSearchParams, endpoint: string, known: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (!known.includes(name)) {
      const takes = known.length === 0 ? 'takes no parameters' : `takes ${known.join(', ')}`;
      throw badRequest(name, `unknown parameter ${JSON.stringify(name)}: ${endpoint} ${takes}`);
    }
    if (seen.has(name)) throw badRequest(name, `${name} is given more than once; give it once`);
    seen.add(name);
  }
}

function wholeNumber(params: URLSearchParams, name: string, min: number, max: number, fallback: number): number;
function wholeNumber(params: URLSearchParams, name: string, min: number, max: number, fallback: null): number | null;
function wholeNumber(params: URLSearchParams, name: string, min: number, max: number, fallback: number | null): number | null {
  const text = params.get(name);
  if (text === null || text === '') return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw badRequest(
      name,
      `${name} must be a whole number from ${min} to ${max.toLocaleString('en-US')}, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  return Number(text);
}

// C0 and C1 controls: PostgreSQL text cannot hold NUL, and no name or title holds the others.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function text(params: URLSearchParams, name: string, trim: boolean): string | null {
  const raw = params.get(name);
  if (raw === null) return null;
  const value = trim ? raw.trim() : raw;
  if (value === '') return null;
  if ([...value].length > MAX_TEXT) throw badRequest(name, `${name} must be at most ${MAX_TEXT} characters, got ${[...value].length}`);
  if (CONTROL.test(value)) throw badRequest(name, `${name} must not contain control characters`);
  return value;
}

function oneOf<T extends string>(params: URLSearchParams, name: string, allowed: readonly T[]): T | null {
  const value = params.get(name);
  if (value === null || value === '') return null;
  if (!(allowed as readonly string[]).includes(value)) {
    throw badRequest(name, `${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return value as T;
}

/** `exclude_disputed=1` leaves the disputed films out; `0` or absent keeps them. */
function excludeDisputed(params: URLSearchParams): boolean {
  return oneOf(params, 'exclude_disputed', ['0', '1'] as const) === '1';
}

export function parseFilmQuery(params: URLSearchParams): FilmQuery {
  checkNames(params, '/api/films', ['limit', 'offset', 'genre', 'company', 'q', 'sort', 'order', 'exclude_disputed']);
  const sort = oneOf(params, 'sort', FILM_SORTS) ?? 'rank';
  return {
    limit: wholeNumber(params, 'limit', 1, MAX_LIMIT, DEFAULT_LIMIT),
    offset: wholeNumber(params, 'offset', 0, 100_000_000, 0),
    genre: text(params, 'genre', false),
    company: text(params, 'company', false),
    q: text(params, 'q', true),
    sort,
    order: oneOf(params, 'order', ['asc', 'desc'] as const) ?? NATURAL_ORDER[sort],
    excludeDisputed: excludeDisputed(params),
  };
}

export function parseCompanyQuery(params: URLSearchParams): CompanyQuery {
  checkNames(params, '/api/production-companies', ['min_films', 'limit', 'exclude_disputed']);
  return {
    minFilms: wholeNumber(params, 'min_films', 1, 1_000_000, 1),
    limit: wholeNumber(params, 'limit', 1, 100_000, null),
    excludeDisputed: excludeDisputed(params),
  };
}

/** /api/summary and /api/genres: only `exclude_disputed`. */
export function parseAggregateQuery(params: URLSearchParams, endpoint: string): AggregateQuery {
  checkNames(params, endpoint, ['exclude_disputed']);
  return { excludeDisputed: excludeDisputed(params) };
}

/** For endpoints that take no parameters. */
export function parseNoParams(params: URLSearchParams, endpoint: string): void {
  checkNames(params, endpoint, []);
}

/** The id in /api/films/:id. */
export function parseFilmId(text: string): number {
  const decoded = safeDecode(text);
  if (!/^\d{1,9}$/.test(decoded) || Number(decoded) < 1 || Number(decoded) > 2_147_483_647) {
    throw badRequest('id', `a film id is a positive whole number (the TMDB id), got ${JSON.stringify(decoded.slice(0, 40))}`);
  }
  return Number(decoded);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
