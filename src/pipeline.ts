/**
 * `truefilm run`: the stages in order, with what can overlap overlapping.
 *
 *   database (start/connect, lock) ─┐
 *   metadata (CSV → top N films) ───┴─> matching (Wikidata ∥ dump scan) ─> load (COPY, swap)
 */
import { access } from 'node:fs/promises';
import type { RunConfig } from './config.js';
import { VERSION } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { acquireLoadLock } from './db/lock.js';
import { TrueFilmError } from './errors.js';
import { runLoad } from './stages/load.js';
import { checkMetadataFile, runMetadata } from './stages/metadata.js';
import type { FilmRecord, MatchesReport, RunReport } from './types.js';
import type { Ui } from './ui.js';
import type pg from 'pg';

export interface TopFilmRow {
  rank: number;
  title: string;
  year: number | null;
  budget: string;
  revenue: string;
  ratio: number;
  wikipedia_match: string;
}

export interface PipelineResult {
  report: RunReport;
  films: FilmRecord[];
  /** the database loaded into (with password: mask before printing) */
  url: string;
  embedded: boolean;
  /** the first rows of `films` as the database now holds them */
  top: TopFilmRow[];
}

export interface PipelineHooks {
  /** see LoadOptions.beforeSwap */
  beforeSwap?: (client: pg.Client) => Promise<void>;
}

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new TrueFilmError('INTERRUPTED', 'stopped before the load: nothing was written', { cause: signal.reason });
}

async function abstractInputs(config: RunConfig, ui: Ui): Promise<string[]> {
  const present: string[] = [];
  for (const file of config.abstracts) {
    try {
      await access(file);
      present.push(file);
    } catch {
      if (config.abstractsNamed) {
        throw new TrueFilmError('INPUT_NOT_FOUND', 'no such abstract dump file', {
          input: file,
          hint: 'Check --abstracts / TRUEFILM_ABSTRACTS, or run ./data_download.sh.',
        });
      }
      ui.info(`no abstract dump at ${file}: going on without abstracts (./data_download.sh fetches one)`);
    }
  }
  return present;
}

export async function runPipeline(config: RunConfig, ui: Ui, signal: AbortSignal, hooks: PipelineHooks = {}): Promise<PipelineResult> {
  const started = Date.now();
  const timings: Record<string, number> = {};
  const timed = async <T>(stage: string, work: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await work();
    } finally {
      timings[stage] = Date.now() - t;
    }
  };

  // fail fast on a missing input, before a database is started for nothing
  await checkMetadataFile(config.metadata);
  await abstractInputs(config, ui);

  // The database starts (or is reached and locked) while the CSV is read.
  let database: Database | null = null;
  const opening = timed('database', async () => {
    database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, ui });
    const client = await database.connect('truefilm run');
    await acquireLoadLock(client, database.url);
    return client;
  });
  const reading = timed('metadata', () => runMetadata(config.metadata, { top: config.top, minBudget: config.minBudget, ui }));
  const [opened, read] = await Promise.allSettled([opening, reading]);
  try {
    if (read.status === 'rejected') throw read.reason;
    const { films, report: metadata } = read.value;
    if (films.length === 0) {
      throw new TrueFilmError(
        'NO_FILMS',
        `no film qualified: ${metadata.rows} rows, ${metadata.malformed} malformed, ${metadata.duplicates} duplicates, ` +
          `${metadata.eligible} with budget >= ${config.minBudget} and revenue > 0. Nothing was loaded; the previous load is untouched.`,
        { input: config.metadata, hint: 'Check that this is the movies CSV, and --min-budget.' },
      );
    }
    if (opened.status === 'rejected') throw opened.reason;
    const client = opened.value;
    const db = database! as Database;
    checkAborted(signal);

    // Matching seams: the Wikidata and dump-scan stages plug in here.
    const records: FilmRecord[] = films.map((film) => ({
      ...film,
      match: { filmId: film.id, method: 'none', url: null, title: null, abstract: null, abstractSource: null },
    }));
    const matches: MatchesReport = { wikidata: 0, cirrus: 0, title: 0, none: 0, with_abstract: 0 };
    for (const r of records) {
      matches[r.match.method]++;
      if (r.match.abstract !== null) matches.with_abstract++;
    }

    const report: RunReport = {
      version: VERSION,
      started_at: new Date(started).toISOString(),
      metadata,
      wikidata: { status: config.offline ? 'offline' : 'skipped', ids: 0, resolved: 0, requests: 0, retries: 0, cache_hits: 0 },
      abstracts: { files: 0, bytes: 0, docs: 0, threads: config.threads, malformed_docs: 0 },
      matches,
      load: { films: 0, genres: 0, film_genres: 0, production_companies: 0, film_production_companies: 0 },
      timings_ms: timings,
    };
    checkAborted(signal);
    report.load = await timed('load', () => runLoad(records, { client, url: db.url, ui, report, signal, beforeSwap: hooks.beforeSwap }));
    const top = await client
      .query<TopFilmRow>('SELECT rank, title, year, budget, revenue, ratio, wikipedia_match FROM films ORDER BY rank LIMIT 10')
      .then((r) => r.rows);
    timings.total = Date.now() - started;
    return { report, films: records, url: db.url, embedded: db.embedded !== null, top };
  } finally {
    await (database as Database | null)?.close();
  }
}
