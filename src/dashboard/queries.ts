/**
 * What the dashboard reads, and how: every query runs in a read-only
 * transaction on a connection whose sessions default to read-only too, with
 * bind parameters only (sort columns come from a fixed whitelist).
 */
import pg from 'pg';
import { Slots } from '../concurrency.js';
import {
  answered,
  clientConfig,
  databaseError,
  describeServer,
  dropConnection,
  stallTimeoutMs,
  withTransaction,
  type SessionOptions,
} from '../db/connect.js';
import { TrueFilmError } from '../errors.js';
import { maskUrl } from '../format.js';
import { LOADS_TABLE, performanceSql, performanceView, quoteIdent, type PerformanceKind } from '../db/schema.js';
import type { AggregateQuery, CompanyQuery, FilmQuery, FilmSort } from './params.js';

/** SPEC section 5: the load goes into `public`. */
const S = quoteIdent('public');

/** A query taking longer than this is cancelled by the server. */
const STATEMENT_TIMEOUT_MS = 15_000;

/** How long a request waits for a pooled connection while every one is busy, before it is told so. */
const QUEUE_WAIT_MS = 10_000;

export interface ReaderOptions {
  /** connections to PostgreSQL (default 4) */
  poolSize?: number;
  /** how long a read waits for a connection while all are busy (default QUEUE_WAIT_MS) */
  queueWaitMs?: number;
}

export interface Reader {
  /** Runs `fn` in a read-only transaction on a pooled connection. */
  read<T>(fn: (client: pg.ClientBase) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The name and settings of every dashboard session: the readers' pool and the load check alike. */
export const DASHBOARD_SESSION: SessionOptions = {
  applicationName: 'truefilm-dashboard',
  // Belt and braces: a statement outside our transactions is read-only too.
  settings: `-c default_transaction_read_only=on -c statement_timeout=${STATEMENT_TIMEOUT_MS}`,
};

/** The stall bound of a dashboard's reads: the server cancels a slow statement itself; one that sends nothing for longer is not answering at all. */
export function readStallMs(): number {
  return Math.min(stallTimeoutMs(), STATEMENT_TIMEOUT_MS + 5000);
}

function busyError(url: string, size: number, waitMs: number): TrueFilmError {
  const server = describeServer(url);
  return new TrueFilmError(
    'DB_BUSY',
    `all ${size} connections to PostgreSQL at ${server.host}:${server.port} stayed busy for ${waitMs / 1000} s`,
    { input: maskUrl(url), hint: 'The server answers, but slowly: the request was not sent. Try again shortly.' },
  );
}

/**
 * A connection to read on: at most `slots` reads hold one; the others wait
 * their turn (first come, first served) for at most `waitMs`, then are told
 * the dashboard is busy. The pool then never queues a request itself, so a
 * failure to connect means the server, not a busy pool.
 */
async function turn(slots: Slots, waitMs: number, busy: () => TrueFilmError): Promise<() => void> {
  return slots.tryAcquire() ?? slots.acquire(AbortSignal.timeout(waitMs)).catch(() => Promise.reject(busy()));
}

export function createReader(url: string, options: ReaderOptions = {}): Reader {
  const poolSize = options.poolSize ?? 4;
  const queueWaitMs = options.queueWaitMs ?? QUEUE_WAIT_MS;
  const pool = new pg.Pool({ ...clientConfig(url, DASHBOARD_SESSION), max: poolSize, idleTimeoutMillis: 30_000 });
  // An idle client whose server goes away emits 'error' on the pool; the next read reports it.
  pool.on('error', () => {});
  const clients = new Set<pg.Client>();
  pool.on('connect', (c) => {
    clients.add(c as pg.Client);
    // a connection dropped during a request errors that request; without a listener it would end the process
    c.on('error', () => {});
  });
  pool.on('remove', (c) => clients.delete(c as pg.Client));
  const stallMs = readStallMs();
  const slots = new Slots(poolSize);
  let closed: Promise<void> | null = null;
  return {
    async read<T>(fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
      const release = await turn(slots, queueWaitMs, () => busyError(url, poolSize, queueWaitMs));
      try {
        let client: pg.PoolClient;
        try {
          client = await pool.connect();
        } catch (err) {
          throw databaseError(err, url, 'connecting');
        }
        let failed = false;
        try {
          // One snapshot for the whole answer: its statements all see the same load.
          const read = (): Promise<T> => withTransaction(client, () => fn(client), 'BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
          // A load that changes the tables' shape takes them from their readers; a reader caught in that gets one more try.
          const retried = (): Promise<T> => read().catch((err: unknown) => ((err as { code?: string }).code === '40P01' ? read() : Promise.reject(err)));
          return await answered(client as unknown as pg.Client, url, 'reading the data', retried, stallMs);
        } catch (err) {
          failed = true;
          throw databaseError(err, url, 'reading the data');
        } finally {
          // a connection that failed is not handed to the next request
          client.release(failed);
        }
      } finally {
        release();
      }
    },
    close: () =>
      (closed ??= (async () => {
        // idle connections say goodbye; a server that does not answer it loses them
        await Promise.race([pool.end(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
        for (const c of clients) dropConnection(c);
      })()),
  };
}

// ---- the data -------------------------------------------------------------

const EMPTY_MESSAGE = 'No data has been loaded into this database yet.';
const EMPTY_HINT =
  'Run `npm run demo` (the bundled sample, no network needed) or `truefilm run` (the full data set) against the same database, then reload this page.';

export interface EmptyState {
  empty: true;
  message: string;
  hint: string;
}

export const EMPTY_STATE: EmptyState = { empty: true, message: EMPTY_MESSAGE, hint: EMPTY_HINT };

/** Asks pg_class under the answer's snapshot (to_regclass would see a load committed after it, whose rows the snapshot hides). */
async function tableExists(client: pg.ClientBase, name: string): Promise<boolean> {
  const [schema, table] = name.split('.');
  const { rows } = await client.query<{ present: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = $1 AND c.relname = $2) AS present`,
    [schema, table],
  );
  return rows[0]!.present;
}

/** True when a load has happened: the films table exists. */
export function hasData(client: pg.ClientBase): Promise<boolean> {
  return tableExists(client, 'public.films');
}

/** How many films the last load holds. */
export async function countFilms(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ films: number }>(`SELECT count(*)::integer AS films FROM ${S}.films`);
  return rows[0]!.films;
}

export interface FilmRow {
  rank: number;
  id: number;
  title: string;
  original_title: string | null;
  year: number | null;
  release_date: string | null;
  budget: number;
  revenue: number;
  ratio: number;
  rating: number | null;
  vote_count: number | null;
  imdb_id: string | null;
  wikipedia_url: string | null;
  wikipedia_title: string | null;
  wikipedia_match: string;
  has_abstract: boolean;
  genres: string[];
  companies: string[];
  /** SPEC section 4a: the verdict, and Wikidata's figures (null when none counts) */
  money_check: 'confirmed' | 'disputed' | 'unchecked';
  wikidata_budget: number | null;
  wikidata_revenue: number | null;
}

export interface FilmDetail extends FilmRow {
  wikipedia_abstract: string | null;
  abstract_source: string | null;
}

export interface FilmPage {
  films: FilmRow[];
  /** films matching the filters, over every page */
  total: number;
  limit: number;
  offset: number;
  sort: FilmSort;
  order: 'asc' | 'desc';
  filters: { genre: string | null; company: string | null; q: string | null; exclude_disputed: boolean };
}

const FILM_COLUMNS = `
  f.rank, f.id, f.title, f.original_title, f.year, f.release_date::text AS release_date,
  f.budget::float8 AS budget, f.revenue::float8 AS revenue, f.ratio, f.rating, f.vote_count,
  f.imdb_id, f.wikipedia_url, f.wikipedia_title, f.wikipedia_match,
  f.wikipedia_abstract IS NOT NULL AS has_abstract,
  f.money_check, f.wikidata_budget::float8 AS wikidata_budget, f.wikidata_revenue::float8 AS wikidata_revenue,
  coalesce((SELECT array_agg(DISTINCT g.name ORDER BY g.name)
            FROM ${S}.film_genres fg JOIN ${S}.genres g ON g.id = fg.genre_id
            WHERE fg.film_id = f.id), '{}') AS genres,
  coalesce((SELECT array_agg(DISTINCT c.name ORDER BY c.name)
            FROM ${S}.film_production_companies fc JOIN ${S}.production_companies c ON c.id = fc.company_id
            WHERE fc.film_id = f.id), '{}') AS companies`;

/** $1 genre, $2 company, $3 title search, each null for "any"; $4 true to leave out the disputed films. */
const FILM_FILTER = `
  ($1::text IS NULL OR EXISTS (
     SELECT 1 FROM ${S}.film_genres fg JOIN ${S}.genres g ON g.id = fg.genre_id
     WHERE fg.film_id = f.id AND g.name = $1::text))
  AND ($2::text IS NULL OR EXISTS (
     SELECT 1 FROM ${S}.film_production_companies fc JOIN ${S}.production_companies c ON c.id = fc.company_id
     WHERE fc.film_id = f.id AND c.name = $2::text))
  AND ($3::text IS NULL
       OR strpos(lower(f.title), lower($3::text)) > 0
       OR strpos(lower(coalesce(f.original_title, '')), lower($3::text)) > 0)
  AND (NOT $4::boolean OR f.money_check <> 'disputed')`;

/** The only SQL that a request's `sort` can select. */
const SORT_SQL: Record<FilmSort, string> = {
  rank: 'f.rank',
  title: 'lower(f.title)',
  year: 'f.year',
  budget: 'f.budget',
  revenue: 'f.revenue',
  ratio: 'f.ratio',
  rating: 'f.rating',
};

export async function queryFilms(client: pg.ClientBase, query: FilmQuery): Promise<FilmPage> {
  const filter = [query.genre, query.company, query.q, query.excludeDisputed];
  const count = await client.query<{ total: number }>(`SELECT count(*)::integer AS total FROM ${S}.films f WHERE ${FILM_FILTER}`, filter);
  const orderBy = `${SORT_SQL[query.sort]} ${query.order === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, f.rank ASC`;
  // The page's ids first, then their genres and companies: PostgreSQL would
  // otherwise build the lists for every film before sorting on a column
  // without an index.
  const { rows } = await client.query<FilmRow>(
    `SELECT ${FILM_COLUMNS}
     FROM (SELECT f.id FROM ${S}.films f WHERE ${FILM_FILTER} ORDER BY ${orderBy} LIMIT $5 OFFSET $6) page
     JOIN ${S}.films f ON f.id = page.id
     ORDER BY ${orderBy}`,
    [...filter, query.limit, query.offset],
  );
  return {
    films: rows,
    total: count.rows[0]!.total,
    limit: query.limit,
    offset: query.offset,
    sort: query.sort,
    order: query.order,
    filters: { genre: query.genre, company: query.company, q: query.q, exclude_disputed: query.excludeDisputed },
  };
}

export async function queryFilm(client: pg.ClientBase, id: number): Promise<FilmDetail | null> {
  const { rows } = await client.query<FilmDetail>(
    `SELECT ${FILM_COLUMNS}, f.wikipedia_abstract, f.abstract_source FROM ${S}.films f WHERE f.id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export interface PerformanceRow {
  films: number;
  mean_ratio: number;
  median_ratio: number;
  total_budget: number;
  total_revenue: number;
  /** how many of the group's films are disputed (0 when they are left out) */
  disputed: number;
}

export type GenreRow = PerformanceRow & { genre: string };
export type CompanyRow = PerformanceRow & { company: string };

const PERFORMANCE_COLUMNS =
  'films, mean_ratio, median_ratio, total_budget::float8 AS total_budget, total_revenue::float8 AS total_revenue, disputed';

/** The view itself, or the same rule over the films that are not disputed (schema.ts builds both). */
function performanceSource(kind: PerformanceKind, excludeDisputed: boolean): string {
  return excludeDisputed ? `(${performanceSql('public', kind, { excludeDisputed })}) p` : performanceView('public', kind);
}

export async function queryGenres(client: pg.ClientBase, query: AggregateQuery): Promise<{ genres: GenreRow[]; exclude_disputed: boolean }> {
  const { rows } = await client.query<GenreRow>(
    `SELECT genre, ${PERFORMANCE_COLUMNS} FROM ${performanceSource('genre', query.excludeDisputed)} ORDER BY median_ratio DESC, genre`,
  );
  return { genres: rows, exclude_disputed: query.excludeDisputed };
}

export async function queryCompanies(
  client: pg.ClientBase,
  query: CompanyQuery,
): Promise<{ companies: CompanyRow[]; total: number; min_films: number; exclude_disputed: boolean }> {
  const { rows } = await client.query<CompanyRow & { total: number }>(
    `SELECT company, ${PERFORMANCE_COLUMNS}, count(*) OVER ()::integer AS total
     FROM ${performanceSource('company', query.excludeDisputed)}
     WHERE films >= $1
     ORDER BY median_ratio DESC, films DESC, company
     LIMIT $2`,
    [query.minFilms, query.limit],
  );
  const total = rows[0]?.total ?? 0;
  return {
    companies: rows.map(({ total: _total, ...row }) => row),
    total,
    min_films: query.minFilms,
    exclude_disputed: query.excludeDisputed,
  };
}

export interface MoneySummary {
  /** the load's films by verdict (SPEC section 4a), whatever is left out */
  confirmed: number;
  disputed: number;
  unchecked: number;
  /** from the run report's money section; null when the load has none */
  status: string | null;
  other_currency: number | null;
  conversion: string | null;
}

export interface Summary {
  empty: false;
  /** the films counted below: every film, or those that are not disputed */
  films: number;
  exclude_disputed: boolean;
  /** films left out of every figure here (the disputed ones, when they are left out) */
  left_out: number;
  /** films matched to a Wikipedia page by any method */
  matched: number;
  with_abstract: number;
  matches: { wikidata: number; cirrus: number; title: number; none: number };
  genres: number;
  companies: number;
  median_ratio: number | null;
  total_budget: number;
  total_revenue: number;
  best: { id: number; title: string; year: number | null; ratio: number; money_check: string } | null;
  money: MoneySummary;
  /** the latest load (truefilm_loads), or null when the table is missing */
  load: { loaded_at: string; loads: number; csv_rows: number | null; wikidata_status: string | null; version: string | null } | null;
}

const number = (path: string): string =>
  `CASE WHEN jsonb_typeof(report #> '{${path}}') = 'number' THEN (report #>> '{${path}}')::float8 END`;

async function latestLoad(client: pg.ClientBase): Promise<{ load: Summary['load']; money: Omit<MoneySummary, 'confirmed' | 'disputed' | 'unchecked'> }> {
  const none = { load: null, money: { status: null, other_currency: null, conversion: null } };
  if (!(await tableExists(client, `public.${LOADS_TABLE}`))) return none;
  const latest = await client.query(
    `SELECT loaded_at, (SELECT count(*)::integer FROM ${S}.${LOADS_TABLE}) AS loads,
            ${number('metadata,rows')} AS csv_rows,
            report #>> '{wikidata,status}' AS wikidata_status,
            report ->> 'version' AS version,
            report #>> '{money,status}' AS money_status,
            ${number('money,other_currency')} AS other_currency,
            report #>> '{money,conversion}' AS conversion
     FROM ${S}.${LOADS_TABLE} ORDER BY loaded_at DESC, id DESC LIMIT 1`,
  );
  const row = latest.rows[0];
  if (!row) return none;
  return {
    load: {
      loaded_at: (row.loaded_at as Date).toISOString(),
      loads: row.loads,
      csv_rows: row.csv_rows,
      wikidata_status: row.wikidata_status,
      version: row.version,
    },
    money: { status: row.money_status, other_currency: row.other_currency, conversion: row.conversion },
  };
}

export async function querySummary(client: pg.ClientBase, query: AggregateQuery): Promise<Summary> {
  const exclude = query.excludeDisputed;
  const counted = `(NOT $1::boolean OR money_check <> 'disputed')`;
  const totals = await client.query(
    `SELECT count(*) FILTER (WHERE ${counted})::integer AS films,
            count(*) FILTER (WHERE NOT ${counted})::integer AS left_out,
            count(*) FILTER (WHERE ${counted} AND wikipedia_match <> 'none')::integer AS matched,
            count(*) FILTER (WHERE ${counted} AND wikipedia_abstract IS NOT NULL)::integer AS with_abstract,
            count(*) FILTER (WHERE ${counted} AND wikipedia_match = 'wikidata')::integer AS wikidata,
            count(*) FILTER (WHERE ${counted} AND wikipedia_match = 'cirrus')::integer AS cirrus,
            count(*) FILTER (WHERE ${counted} AND wikipedia_match = 'title')::integer AS title,
            count(*) FILTER (WHERE ${counted} AND wikipedia_match = 'none')::integer AS none,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ratio) FILTER (WHERE ${counted}) AS median_ratio,
            coalesce(sum(budget) FILTER (WHERE ${counted}), 0)::float8 AS total_budget,
            coalesce(sum(revenue) FILTER (WHERE ${counted}), 0)::float8 AS total_revenue,
            count(*) FILTER (WHERE money_check = 'confirmed')::integer AS confirmed,
            count(*) FILTER (WHERE money_check = 'disputed')::integer AS disputed,
            count(*) FILTER (WHERE money_check = 'unchecked')::integer AS unchecked,
            (SELECT count(*)::integer FROM ${performanceSource('genre', exclude)}) AS genres,
            (SELECT count(*)::integer FROM ${performanceSource('company', exclude)}) AS companies
     FROM ${S}.films`,
    [exclude],
  );
  const t = totals.rows[0];
  const best = await client.query(
    `SELECT id, title, year, ratio, money_check FROM ${S}.films WHERE ${counted} ORDER BY rank LIMIT 1`,
    [exclude],
  );
  const { load, money } = await latestLoad(client);
  return {
    empty: false,
    films: t.films,
    exclude_disputed: exclude,
    left_out: t.left_out,
    matched: t.matched,
    with_abstract: t.with_abstract,
    matches: { wikidata: t.wikidata, cirrus: t.cirrus, title: t.title, none: t.none },
    genres: t.genres,
    companies: t.companies,
    median_ratio: t.median_ratio,
    total_budget: t.total_budget,
    total_revenue: t.total_revenue,
    best: best.rows[0] ?? null,
    money: { confirmed: t.confirmed, disputed: t.disputed, unchecked: t.unchecked, ...money },
    load,
  };
}

/**
 * The id of the latest load in the answer's snapshot, or null when the
 * database keeps no history of loads (then nothing is kept between answers).
 */
export async function loadIdIn(client: pg.ClientBase): Promise<string | null> {
  if (!(await tableExists(client, `public.${LOADS_TABLE}`))) return null;
  const { rows } = await client.query<{ id: string | null }>(`SELECT max(id)::text AS id FROM ${S}.${LOADS_TABLE}`);
  return rows[0]!.id;
}
