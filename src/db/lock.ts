/**
 * One load at a time per database: a session-level advisory lock, taken when a
 * run connects (so a second run fails at once, not after a long scan) and held
 * until the run's client disconnects.
 */
import type pg from 'pg';
import { TrueFilmError } from '../errors.js';
import { maskUrl } from '../format.js';

/** 'truefilm' in ASCII, as a bigint: the key of the load lock. */
export const LOAD_LOCK_KEY = '8390898134114987117';

export async function acquireLoadLock(client: pg.Client, url: string): Promise<void> {
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [LOAD_LOCK_KEY]);
  if (rows[0]?.locked) return;
  const holder = await client
    .query<{ pid: number; application_name: string; backend_start: Date; client_addr: string | null }>(
      `SELECT a.pid, a.application_name, a.backend_start, a.client_addr::text AS client_addr
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted
          AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint
        LIMIT 1`,
      [LOAD_LOCK_KEY],
    )
    .then((r) => r.rows[0])
    .catch(() => undefined);
  const who = holder
    ? ` (server process ${holder.pid}, ${holder.application_name || 'unknown client'}${holder.client_addr ? ` from ${holder.client_addr}` : ''}, connected ${holder.backend_start.toISOString()})`
    : '';
  throw new TrueFilmError('DB_LOCKED', `another TrueFilm run is loading into this database${who}`, {
    input: maskUrl(url),
    hint: 'Wait for it to finish, or stop it; two runs must not load at once. If no run is active, the lock goes with its connection.',
  });
}
