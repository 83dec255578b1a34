/**
 * The load stage (SPEC section 5): builds the new tables in a staging schema
 * with COPY, then swaps them for the previous load, all in one transaction on
 * one client. A failure anywhere rolls everything back: the previous load stays
 * readable and untouched. The swap replaces rows, not tables (see schema.ts),
 * so readers neither wait for it nor deadlock with it.
 */
import type pg from 'pg';
import { copyRows } from '../db/copy.js';
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
  /** how long the server may go without answering (default: stallTimeoutMs()) */
  stallMs?: number;
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

export async function runLoad(films: FilmRecord[], options: LoadOptions): Promise<LoadReport> {
  const { client, ui } = options;
  const schema = options.schema ?? 'public';
  const staging = quoteIdent(STAGING_SCHEMA);
  const task = ui.task('load', 5, 'items');
  let doing = 'preparing the load';
  // Ctrl-C while a statement runs or waits for a lock: cancel it from a second
  // connection; the transaction then rolls back (no COMMIT is ever sent). A
  // server that does not answer the cancel in time loses the connection, and
  // rolls back when it notices.
  let pid: number | null = null;
  let dropping: NodeJS.Timeout | undefined;
  const cancel = (): void => {
    if (pid !== null) void withClient(options.url, (c) => c.query('SELECT pg_cancel_backend($1)', [pid])).catch(() => {});
    dropping = setTimeout(() => dropConnection(client), CANCEL_GRACE_MS);
  };
  options.signal?.addEventListener('abort', cancel, { once: true });
  // A server that stops answering (frozen, cut off) fails the load instead of holding it for ever.
  const stallMs = options.stallMs ?? stallTimeoutMs();
  const watch = watchProgress(client, stallMs);
  // a lock wait must end (with the server's own error) well before the server counts as stalled
  const swapLockTimeoutS = Math.max(1, Math.min(SWAP_LOCK_TIMEOUT_S, Math.floor(stallMs / 2000)));
  try {
    pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    return await withTransaction(client, async () => {
      // A run that died before COMMIT left nothing behind, but an older
      // release might have: start from a clean staging schema.
      await client.query(`DROP SCHEMA IF EXISTS ${staging} CASCADE`);
      await client.query(`CREATE SCHEMA ${staging}`);
      await client.query(createTablesSql(STAGING_SCHEMA));

      doing = 'copying films';
      const genres = distinctRefs(films, (f) => f.genres);
      const companies = distinctRefs(films, (f) => f.companies);
      const report: LoadReport = {
        films: await copyRows(
          client,
          `${staging}.films`,
          [
            'id',
            'imdb_id',
            'title',
            'original_title',
            'release_date',
            'year',
            'budget',
            'revenue',
            'ratio',
            'rank',
            'rating',
            'vote_count',
            'wikipedia_url',
            'wikipedia_title',
            'wikipedia_abstract',
            'wikipedia_match',
            'abstract_source',
            'wikidata_budget',
            'wikidata_revenue',
            'money_check',
          ],
          films.map((f) => [
            f.id,
            f.imdbId,
            f.title,
            f.originalTitle,
            f.releaseDate,
            f.year,
            Math.round(f.budget),
            Math.round(f.revenue),
            f.ratio,
            f.rank,
            f.rating,
            f.voteCount,
            f.match.url,
            f.match.title,
            f.match.abstract,
            f.match.method,
            f.match.abstractSource,
            f.money.wikidataBudget,
            f.money.wikidataRevenue,
            f.money.check,
          ]),
          options.signal,
        ),
        genres: 0,
        film_genres: 0,
        production_companies: 0,
        film_production_companies: 0,
      };
      task.increment(1);
      doing = 'copying genres';
      report.genres = await copyRows(client, `${staging}.genres`, ['id', 'name'], genres.map((g) => [g.id, g.name]), options.signal);
      report.production_companies = await copyRows(
        client,
        `${staging}.production_companies`,
        ['id', 'name'],
        companies.map((c) => [c.id, c.name]),
        options.signal,
      );
      task.increment(1);
      doing = 'copying film links';
      report.film_genres = await copyRows(
        client,
        `${staging}.film_genres`,
        ['film_id', 'genre_id'],
        links(films, (f) => f.genres),
        options.signal,
      );
      report.film_production_companies = await copyRows(
        client,
        `${staging}.film_production_companies`,
        ['film_id', 'company_id'],
        links(films, (f) => f.companies),
        options.signal,
      );
      task.increment(1);

      await options.beforeSwap?.(client);
      options.signal?.throwIfAborted();

      doing = `replacing the previous load in schema ${schema}`;
      await client.query(`SET LOCAL lock_timeout = '${swapLockTimeoutS}s'`);
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
    if (options.signal?.aborted) {
      throw new TrueFilmError('INTERRUPTED', `stopped while ${doing}: rolled back, the previous load is untouched`, { cause: err });
    }
    if (watch.stalled) throw stalledError(options.url, doing, stallMs);
    if ((err as { code?: string }).code === '55P03') {
      throw new TrueFilmError(
        'DB_LOCKED',
        `the previous load's tables stayed locked for ${swapLockTimeoutS} s while ${doing}; the new load was rolled back`,
        {
          input: maskUrl(options.url),
          hint: 'Another session holds a lock on them (LOCK TABLE, a schema change, or an open transaction that wrote to them; see pg_locks and pg_stat_activity): end it and run again.',
          cause: err,
        },
      );
    }
    throw databaseError(err, options.url, doing);
  } finally {
    watch.stop();
    clearTimeout(dropping);
    options.signal?.removeEventListener('abort', cancel);
    task.increment(1);
    task.stop();
  }
}
