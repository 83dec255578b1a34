/**
 * The load stage (SPEC section 5): builds the new tables in a staging schema
 * with COPY, then swaps them for the previous load, all in one transaction on
 * one client. A failure anywhere rolls everything back: the previous load stays
 * readable and untouched. The swap replaces rows, not tables (see schema.ts),
 * so readers neither wait for it nor deadlock with it.
 */
import type pg from 'pg';
import { copyRows, type CopyValue } from '../db/copy.js';
import { databaseError, dropConnection, stallTimeoutMs, stalledError, watchProgress, withClient, withTransaction } from '../db/connect.js';
import {
  STAGING_SCHEMA,
  LOADS_TABLE,
  createTablesSql,
  createViewsSql,
  dropLoadSql,
  loadShape,
  loadsTableSql,
  moveTablesSql,
  quoteIdent,
  replaceRowsSql,
} from '../db/schema.js';
import { TrueFilmError } from '../errors.js';
import { maskUrl } from '../format.js';
import type { FilmRecord, LoadReport, NamedRef } from '../types.js';
import type { Ui } from '../ui.js';

/** How long the swap waits for a session that locks the previous load's tables against writing. */
const SWAP_LOCK_TIMEOUT_S = 30;
/** How long an interrupted load waits for the server to cancel its statement before it drops the connection. */
const CANCEL_GRACE_MS = 2000;

export interface LoadOptions {
  client: pg.Client;
  /** the connection string, for error messages (masked there) */
  url: string;
  /** target schema; SPEC says `public` */
  schema?: string;
  /** stored beside the load in truefilm_loads */
  report?: object;
  ui: Ui;
  /** Ctrl-C: the COPY stops and the transaction rolls back */
  signal?: AbortSignal;
  /**
   * Called after every COPY and before the swap, inside the transaction. Tests
   * use it to fail a load on purpose; a thrown error rolls the load back.
   */
  beforeSwap?: (client: pg.Client) => Promise<void>;
}

/** Distinct refs by id; the first name seen (in rank order) wins. */
function distinctRefs(films: FilmRecord[], pick: (f: FilmRecord) => NamedRef[]): NamedRef[] {
  const byId = new Map<number, NamedRef>();
  for (const film of films) for (const ref of pick(film)) if (!byId.has(ref.id)) byId.set(ref.id, ref);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

function* links(films: FilmRecord[], pick: (f: FilmRecord) => NamedRef[]): Generator<[number, number]> {
  for (const film of films) {
    const ids = new Set(pick(film).map((r) => r.id));
    for (const id of ids) yield [film.id, id];
  }
}

/**
 * Puts the staged tables' rows in `schema`, in the caller's transaction. Tables
 * of the same shape keep their identity: their rows are replaced (readers keep
 * reading the old rows until the commit). Otherwise (no load yet, or tables of
 * an older release) the old tables are dropped and the staged ones moved in:
 * that takes the tables from their readers for the moment of the swap.
 */
async function swap(client: pg.Client, schema: string): Promise<void> {
  const target = quoteIdent(schema);
  const shape = loadShape();
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${target}`);
  const { rows } = await client.query<{ shape: string | null }>(`SELECT obj_description(to_regclass($1), 'pg_class') AS shape`, [
    `${target}.films`,
  ]);
  if (rows[0]?.shape === shape) {
    await client.query(replaceRowsSql(STAGING_SCHEMA, schema));
    await client.query(`DROP SCHEMA ${quoteIdent(STAGING_SCHEMA)} CASCADE`);
    return;
  }
  await client.query(dropLoadSql(schema));
  await client.query(moveTablesSql(STAGING_SCHEMA, schema));
  await client.query(createViewsSql(schema));
  await client.query(`COMMENT ON TABLE ${target}.films IS '${shape}'`);
  await client.query(`DROP SCHEMA ${quoteIdent(STAGING_SCHEMA)}`);
}

/** The films table's columns, each with its value: one list, so that a column and its value never drift apart. */
const FILM_COLUMNS: [string, (f: FilmRecord) => CopyValue][] = [
  ['id', (f) => f.id],
  ['imdb_id', (f) => f.imdbId],
  ['title', (f) => f.title],
  ['original_title', (f) => f.originalTitle],
  ['release_date', (f) => f.releaseDate],
  ['year', (f) => f.year],
  ['budget', (f) => Math.round(f.budget)],
  ['revenue', (f) => Math.round(f.revenue)],
  ['ratio', (f) => f.ratio],
  ['rank', (f) => f.rank],
  ['rating', (f) => f.rating],
  ['vote_count', (f) => f.voteCount],
  ['wikipedia_url', (f) => f.match.url],
  ['wikipedia_title', (f) => f.match.title],
  ['wikipedia_abstract', (f) => f.match.abstract],
  ['wikipedia_match', (f) => f.match.method],
  ['abstract_source', (f) => f.match.abstractSource],
  ['wikidata_budget', (f) => f.money.wikidataBudget],
  ['wikidata_revenue', (f) => f.money.wikidataRevenue],
  ['money_check', (f) => f.money.check],
];

/** COPYs every table of the load into the staging schema; `step` says what is being done, for the progress and the errors. */
async function copyAll(client: pg.Client, films: FilmRecord[], signal: AbortSignal | undefined, step: (doing: string) => void): Promise<LoadReport> {
  const staging = quoteIdent(STAGING_SCHEMA);
  const copy = (table: string, columns: string[], rows: Iterable<CopyValue[]>) => copyRows(client, `${staging}.${table}`, columns, rows, signal);
  step('copying films');
  const filmCount = await copy('films', FILM_COLUMNS.map(([c]) => c), films.map((f) => FILM_COLUMNS.map(([, value]) => value(f))));
  step('copying genres');
  const genres = distinctRefs(films, (f) => f.genres);
  const companies = distinctRefs(films, (f) => f.companies);
  const genreCount = await copy('genres', ['id', 'name'], genres.map((g) => [g.id, g.name]));
  const companyCount = await copy('production_companies', ['id', 'name'], companies.map((c) => [c.id, c.name]));
  step('copying film links');
  return {
    films: filmCount,
    genres: genreCount,
    production_companies: companyCount,
    film_genres: await copy('film_genres', ['film_id', 'genre_id'], links(films, (f) => f.genres)),
    film_production_companies: await copy('film_production_companies', ['film_id', 'company_id'], links(films, (f) => f.companies)),
  };
}

/**
 * Ctrl-C while a statement runs or waits for a lock: the statement is
 * cancelled from a second connection, and the transaction rolls back (no
 * COMMIT is ever sent). A server that does not answer the cancel in time
 * loses the connection, and rolls back when it notices. Returns the undo.
 */
function cancelOnAbort(client: pg.Client, url: string, signal: AbortSignal | undefined, pid: () => number | null): () => void {
  let dropping: NodeJS.Timeout | undefined;
  const cancel = (): void => {
    const backend = pid();
    if (backend !== null) void withClient(url, (c) => c.query('SELECT pg_cancel_backend($1)', [backend])).catch(() => {});
    dropping = setTimeout(() => dropConnection(client), CANCEL_GRACE_MS);
  };
  signal?.addEventListener('abort', cancel, { once: true });
  return () => {
    clearTimeout(dropping);
    signal?.removeEventListener('abort', cancel);
  };
}

/** A load's failure, said for what it was: a stop, a server that stopped answering, a lock held, or the database's error. */
function loadFailure(err: unknown, options: LoadOptions, doing: string, stalled: boolean, stallMs: number, lockTimeoutS: number): unknown {
  if (options.signal?.aborted) {
    return new TrueFilmError('INTERRUPTED', `stopped while ${doing}: rolled back, the previous load is untouched`, { cause: err });
  }
  if (stalled) return stalledError(options.url, doing, stallMs);
  if ((err as { code?: string }).code === '55P03') {
    return new TrueFilmError('DB_LOCKED', `the previous load's tables stayed locked for ${lockTimeoutS} s while ${doing}; the new load was rolled back`, {
      input: maskUrl(options.url),
      hint: 'Another session holds a lock on them (LOCK TABLE, a schema change, or an open transaction that wrote to them; see pg_locks and pg_stat_activity): end it and run again.',
      cause: err,
    });
  }
  return databaseError(err, options.url, doing);
}

export async function runLoad(films: FilmRecord[], options: LoadOptions): Promise<LoadReport> {
  const { client, ui } = options;
  const schema = options.schema ?? 'public';
  const task = ui.task('load', 5, 'items');
  let doing = 'preparing the load';
  const step = (what: string): void => {
    if (doing.startsWith('copying')) task.increment(1);
    doing = what;
  };
  let pid: number | null = null;
  const undoCancel = cancelOnAbort(client, options.url, options.signal, () => pid);
  // A server that stops answering (frozen, cut off) fails the load instead of holding it for ever.
  const stallMs = stallTimeoutMs();
  const watch = watchProgress(client, stallMs);
  // a lock wait must end (with the server's own error) well before the server counts as stalled
  const lockTimeoutS = Math.max(1, Math.min(SWAP_LOCK_TIMEOUT_S, Math.floor(stallMs / 2000)));
  try {
    pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    return await withTransaction(client, async () => {
      // A run that died before COMMIT left nothing behind, but an older
      // release might have: start from a clean staging schema.
      const staging = quoteIdent(STAGING_SCHEMA);
      await client.query(`DROP SCHEMA IF EXISTS ${staging} CASCADE`);
      await client.query(`CREATE SCHEMA ${staging}`);
      await client.query(createTablesSql(STAGING_SCHEMA));
      const report = await copyAll(client, films, options.signal, step);

      await options.beforeSwap?.(client);
      options.signal?.throwIfAborted();
      step(`replacing the previous load in schema ${schema}`);
      await client.query(`SET LOCAL lock_timeout = '${lockTimeoutS}s'`);
      await swap(client, schema);
      await client.query(loadsTableSql(schema));
      await client.query(`INSERT INTO ${quoteIdent(schema)}.${LOADS_TABLE} (films, report) VALUES ($1, $2)`, [
        report.films,
        JSON.stringify({ ...(options.report ?? {}), load: report }),
      ]);
      task.increment(1);
      doing = 'committing the load';
      return report;
    });
  } catch (err) {
    throw loadFailure(err, options, doing, watch.stalled, stallMs, lockTimeoutS);
  } finally {
    watch.stop();
    undoCancel();
    task.increment(1);
    task.stop();
  }
}
