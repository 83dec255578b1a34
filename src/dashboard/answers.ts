/**
 * The dashboard's answers, kept for as long as the load they show is the
 * latest. What a load has loaded does not change until the next load commits,
 * so an answer computed once (the aggregates over 88,000 films take a second)
 * serves every later request for the same thing on the same load.
 *
 * Freshness: before it is answered, every request learns the latest load's id
 * from a check that started after the request arrived; requests that arrive
 * together share one check (one indexed max() on a connection of its own).
 * So no answer shows a load older than the latest one committed before the
 * request came in: the bound is zero, with no notification to lose and no
 * poll interval to wait out. And since every request asks PostgreSQL, a
 * server that is down or frozen still gets a 503, as it did without the cache.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type pg from 'pg';
import { answered, connectClient, databaseError, dropConnection } from '../db/connect.js';
import { LOADS_TABLE, quoteIdent } from '../db/schema.js';
import { DASHBOARD_SESSION } from './queries.js';

/** An answer as it goes out: the status and the JSON body. */
export interface Answer {
  status: number;
  body: Buffer;
  /** the body gzipped, made once for a kept answer (see gzipped) */
  gzip?: Promise<Buffer>;
}

/** Smaller bodies go as they are: compressing them saves less than it costs. */
const GZIP_FROM_BYTES = 1400;

/**
 * The body gzipped, or null when it is too small to be worth it. A kept
 * answer is compressed once, for every later request that accepts gzip: the
 * companies of 88,000 films are 1.5 MB of JSON and 10 times less gzipped.
 */
export function gzipped(answer: Answer): Promise<Buffer> | null {
  if (answer.body.length < GZIP_FROM_BYTES) return null;
  return (answer.gzip ??= promisify(gzip)(answer.body, { level: 6 }));
}

/** What computing an answer gives: the load its snapshot read (null: the database keeps no history), and the value. */
export interface Computed {
  load: string | null;
  status: number;
  value: unknown;
}

export interface AnswersOptions {
  /** the stall bound of the check (see readStallMs) */
  stallMs: number;
}

export interface Answers {
  /**
   * The answer for `key`: kept from an earlier request on the latest load, or
   * computed once by `compute` (requests for the same key wait on the same
   * computation). A failure is not kept.
   */
  get(key: string, compute: () => Promise<Computed>): Promise<Answer>;
  /** The latest load's id, from a check that starts after this call. */
  latestLoad(): Promise<string | null>;
  close(): Promise<void>;
}

/** At most this many bytes of JSON are kept (the least recently used go first). */
const MAX_BYTES = 64 << 20;

export function serialize(status: number, value: unknown): Answer {
  return { status, body: Buffer.from(JSON.stringify(value)) };
}

/**
 * A function whose every call gets the result of a run that started after the
 * call: a run in flight when a call comes is not enough (it may have read the
 * database before the call), so the call waits for the next run, which every
 * call that comes meanwhile shares.
 */
function freshRuns<T>(run: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  let next: Promise<T> | null = null;
  const start = (): Promise<T> => {
    const p: Promise<T> = run().finally(() => {
      if (inFlight === p) inFlight = null;
    });
    inFlight = p;
    return p;
  };
  return () => {
    if (inFlight === null) return start();
    next ??= inFlight
      .then(
        () => {},
        () => {},
      )
      .then(() => {
        next = null;
        return start();
      });
    return next;
  };
}

/** The latest load's id, read on a connection of its own so that it never waits behind a slow answer. */
function loadChecker(url: string, stallMs: number): { check(): Promise<string | null>; close(): void } {
  let client: pg.Client | null = null;
  // whether the loads table exists; looked up again when it was missing or disappears
  let table = false;
  const loads = `${quoteIdent('public')}.${LOADS_TABLE}`;
  const connection = async (): Promise<pg.Client> => {
    if (client) return client;
    const c = await connectClient(url, DASHBOARD_SESSION);
    c.on('end', () => {
      if (client === c) client = null;
    });
    client = c;
    return c;
  };
  const read = async (c: pg.Client): Promise<string | null> => {
    if (!table) {
      const { rows } = await c.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [`public.${LOADS_TABLE}`]);
      if (!rows[0]!.present) return null;
      table = true;
    }
    try {
      return (await c.query<{ id: string | null }>(`SELECT max(id)::text AS id FROM ${loads}`)).rows[0]!.id;
    } catch (err) {
      if ((err as { code?: string }).code !== '42P01') throw err;
      table = false;
      return null;
    }
  };
  return {
    async check() {
      const c = await connection();
      try {
        return await answered(c, url, 'checking for a new load', () => read(c), stallMs);
      } catch (err) {
        // a connection that failed is not used again
        if (client === c) client = null;
        dropConnection(c);
        throw databaseError(err, url, 'checking for a new load');
      }
    },
    close() {
      if (client) void client.end().catch(() => {});
      client = null;
    },
  };
}

interface Entry {
  answer: Promise<Answer>;
  bytes: number;
}

export function createAnswers(url: string, options: AnswersOptions): Answers {
  const checker = loadChecker(url, options.stallMs);
  const latestLoad = freshRuns(() => checker.check());
  // the answers of one load; replaced as a whole when a newer load is seen
  let kept: { load: string; entries: Map<string, Entry>; bytes: number } | null = null;

  const keep = (load: string, key: string, compute: () => Promise<Computed>): Promise<Answer> => {
    if (kept?.load !== load) kept = { load, entries: new Map(), bytes: 0 };
    const generation = kept;
    const entry = { bytes: 0 } as Entry;
    entry.answer = compute().then(
      (computed) => {
        const answer = serialize(computed.status, computed.value);
        if (generation.entries.get(key) !== entry) return answer;
        // an answer that read another load than the check did is given, not kept
        if (computed.load !== load) {
          generation.entries.delete(key);
          return answer;
        }
        entry.bytes = answer.body.length;
        generation.bytes += entry.bytes;
        for (const [oldKey, old] of generation.entries) {
          if (generation.bytes <= MAX_BYTES) break;
          if (old.bytes === 0) continue; // still being computed
          generation.entries.delete(oldKey);
          generation.bytes -= old.bytes;
        }
        return answer;
      },
      (err: unknown) => {
        if (generation.entries.get(key) === entry) generation.entries.delete(key);
        throw err;
      },
    );
    generation.entries.set(key, entry);
    return entry.answer;
  };

  return {
    async get(key, compute) {
      const load = await latestLoad();
      if (load === null) {
        const computed = await compute();
        return serialize(computed.status, computed.value);
      }
      const entry = kept?.load === load ? kept.entries.get(key) : undefined;
      if (entry) {
        // the most recently used last: eviction takes the first
        kept!.entries.delete(key);
        kept!.entries.set(key, entry);
        return entry.answer;
      }
      return keep(load, key, compute);
    },
    latestLoad,
    async close() {
      checker.close();
      kept = null;
    },
  };
}
