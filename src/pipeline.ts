/**
 * `truefilm run`: the stages in order, with what can overlap overlapping.
 *
 *   database (start/connect, lock) ─┐
 *   metadata (CSV → top N films) ───┴─> Wikidata ∥ dump scan ─> match ─> REST fill-in ─> load (COPY, swap)
 */
import { access } from 'node:fs/promises';
import type pg from 'pg';
import { VERSION, type RunConfig } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { acquireLoadLock } from './db/lock.js';
import { TrueFilmError } from './errors.js';
import { WantedKeys } from './scan/wanted.js';
import { runAbstracts } from './stages/abstracts.js';
import { runLoad } from './stages/load.js';
import { countMatches, fillAbstracts, pagesWithoutAbstract, runMatch, titleKeys, type MatchResult } from './stages/match.js';
import { checkMetadataFile, runMetadata } from './stages/metadata.js';
import { runSummaries } from './stages/summaries.js';
import { runWikidata } from './stages/wikidata.js';
import type { AbstractsReport, Film, FilmRecord, RunReport, SummaryReport, WikidataReport } from './types.js';
import type { Ui } from './ui.js';

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

type Timed = <T>(stage: string, work: () => Promise<T>) => Promise<T>;

interface FoundPages {
  matches: MatchResult;
  wikidata: WikidataReport;
  abstracts: AbstractsReport;
  summaries: SummaryReport;
}

/**
 * Wikidata and the dump scan, at the same time: the scan starts with the title
 * candidates of every film plus the Wikidata answers already cached, and every
 * answer that arrives during the scan adds its page to the wanted keys (the
 * scanner looks for late keys in the ranges it had already passed). The
 * result equals the sequential order's: all answers first, then the scan.
 */
async function findPages(config: RunConfig, films: Film[], files: string[], ui: Ui, signal: AbortSignal, timed: Timed): Promise<FoundPages> {
  // the user's stop, or the first of the two failing, stops both
  const stop = new AbortController();
  const both = AbortSignal.any([signal, stop.signal]);
  const wanted = new WantedKeys(titleKeys(films));
  const ids = [...new Set(films.map((f) => f.imdbId).filter((id): id is string => id !== null))];
  const asking = timed('wikidata', () =>
    runWikidata(ids, {
      endpoint: config.sparqlEndpoint,
      dataDir: config.dataDir,
      offline: config.offline,
      require: config.requireWikidata,
      ui,
      signal: both,
      onArticles: (answers) => wanted.add([...answers.values()].flatMap((articles) => articles.map((a) => a.key))),
    }).finally(() => wanted.close()),
  );
  const scanning =
    files.length === 0
      ? Promise.resolve(null)
      : timed('abstracts', () => runAbstracts(files, wanted, { threads: config.threads, ui, signal: both, imdbIds: ids }));
  asking.catch(() => stop.abort());
  scanning.catch(() => stop.abort());
  const [wikidata, scan] = await Promise.all([asking, scanning]);
  const matched = runMatch({ films, wikidata: wikidata.articles, pages: scan?.pages ?? new Map(), cirrus: scan?.imdb });

  // Pages whose dump abstract is missing or not prose: the REST page summary fills in.
  const { extracts, report: summaries } = await timed('summaries', () =>
    runSummaries(pagesWithoutAbstract(matched.matches), {
      endpoint: config.summaryEndpoint,
      dataDir: config.dataDir,
      offline: config.offline,
      ui,
      signal,
    }),
  );
  const filled = fillAbstracts(matched.matches, extracts);
  const matches: MatchResult = { ...matched, matches: filled, report: countMatches(filled) };
  return {
    matches,
    summaries,
    wikidata: wikidata.report,
    abstracts: scan?.report ?? { files: 0, bytes: 0, docs: 0, threads: config.threads, malformed_docs: 0 },
  };
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
  const abstractFiles = await abstractInputs(config, ui);

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

    const found = await findPages(config, films, abstractFiles, ui, signal, timed);
    const records: FilmRecord[] = films.map((film, i) => ({ ...film, match: found.matches.matches[i]! }));

    const report: RunReport = {
      version: VERSION,
      started_at: new Date(started).toISOString(),
      metadata,
      wikidata: found.wikidata,
      abstracts: found.abstracts,
      summaries: found.summaries,
      matches: found.matches.report,
      rejected_abstracts: found.matches.rejectedAbstracts,
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
