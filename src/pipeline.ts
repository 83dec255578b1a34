/**
 * `truefilm run`: the stages in order, with what can overlap overlapping.
 *
 *   database (start/connect, lock) ─┐
 *   metadata (CSV → top N films) ───┴─> Wikidata ∥ (dump scan ─> live wiki: titles, intros) ─> match ─> load (COPY, swap)
 */
import { access } from 'node:fs/promises';
import type pg from 'pg';
import { VERSION, type RunConfig } from './config.js';
import { answered } from './db/connect.js';
import { openDatabase, type Database } from './db/database.js';
import { Changes } from './concurrency.js';
import { acquireLoadLock } from './db/lock.js';
import { prepareDataDir } from './data-dir.js';
import { TrueFilmError, describeError } from './errors.js';
import { userAgent } from './http/client.js';
import { WantedKeys } from './scan/wanted.js';
import { runAbstracts } from './stages/abstracts.js';
import { runLoad } from './stages/load.js';
import { liveQuestions, runMatch, titleKeys, type MatchInput, type MatchResult } from './stages/match.js';
import { checkMetadataFile, runMetadata } from './stages/metadata.js';
import { runMoney } from './stages/money.js';
import { runWikidata } from './stages/wikidata.js';
import { runWikipedia } from './stages/wikipedia.js';
import type { AbstractsReport, ArticleRef, Film, MoneyCheck, MoneyStatement, FilmRecord, RunReport, WikidataReport, WikipediaReport } from './types.js';
import type { Ui } from './ui.js';

export interface TopFilmRow {
  rank: number;
  title: string;
  year: number | null;
  budget: string;
  revenue: string;
  ratio: number;
  wikipedia_match: string;
  money_check: MoneyCheck;
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
      ui.info(
        config.offline
          ? `no abstract dump at ${file}, and --offline: title matching from the caches only (./data_download.sh --source abstracts fetches a dump)`
          : `no abstract dump at ${file}: the live Wikipedia gives the pages and abstracts (a dump is the offline option)`,
      );
    }
  }
  return present;
}

type Timed = <T>(stage: string, work: () => Promise<T>) => Promise<T>;

interface FoundPages {
  matches: MatchResult;
  /** IMDb id -> its items' money statements, for the ids Wikidata answered */
  statements: Map<string, MoneyStatement[]>;
  wikidata: WikidataReport;
  abstracts: AbstractsReport;
  wikipedia: WikipediaReport;
}

/**
 * Wikidata, the dump scan and the live wiki, overlapping. The scan starts
 * with the title candidates of every film plus the Wikidata answers already
 * cached, and every answer that arrives during the scan adds its page to the
 * wanted keys (the scanner looks for late keys in the ranges it had already
 * passed). The live wiki starts once the dump is read (a title is looked up
 * in the dump first) and asks as Wikidata's answers arrive: the intros of the
 * pages Wikidata names at once, while the films without an answer wait for
 * theirs. The result equals the sequential order's: all answers first, then
 * the scan, then the live wiki.
 */
async function findPages(config: RunConfig, films: Film[], files: string[], ui: Ui, signal: AbortSignal, timed: Timed): Promise<FoundPages> {
  const userAgent = userAgentFor(config, ui);
  // the user's stop, or the first of the three failing, stops them all
  const stop = new AbortController();
  const all = AbortSignal.any([signal, stop.signal]);
  const wanted = new WantedKeys(titleKeys(films));
  const ids = [...new Set(films.map((f) => f.imdbId).filter((id): id is string => id !== null))];
  const articlesSoFar = new Map<string, ArticleRef[]>();
  const arriving = new Changes();
  const asking = timed('wikidata', () =>
    runWikidata(ids, {
      endpoint: config.sparqlEndpoint,
      dataDir: config.dataDir,
      offline: config.offline,
      require: config.requireWikidata,
      userAgent,
      ui,
      signal: all,
      onArticles: (answers) => {
        wanted.add([...answers.values()].flatMap((articles) => articles.map((a) => a.key)));
        for (const [id, articles] of answers) articlesSoFar.set(id, articles);
        arriving.notify();
      },
    }).finally(() => {
      wanted.close();
      arriving.settle();
    }),
  );
  const scanning =
    files.length === 0
      ? Promise.resolve(null)
      : timed('abstracts', () => runAbstracts(files, wanted, { threads: config.threads, ui, signal: all, imdbIds: ids }));
  // What the dump and Wikidata leave open, the live wiki answers: title candidates the
  // dump lacks, and the intros of matched pages without a prose dump abstract.
  const live = scanning.then((scan) =>
    timed('wikipedia', () =>
      runWikipedia(
        (known) => liveQuestions({ films, wikidata: articlesSoFar, wikidataPending: !arriving.settled, pages: scan?.pages ?? new Map(), cirrus: scan?.imdb, live: known }),
        { endpoint: config.wikipediaEndpoint, dataDir: config.dataDir, offline: config.offline, userAgent, ui, signal: all, more: arriving },
      ),
    ),
  );
  for (const step of [asking, scanning, live]) step.catch(() => stop.abort());
  const [wikidata, scan, wiki] = await Promise.all([asking, scanning, live]);
  const input: MatchInput = { films, wikidata: wikidata.articles, pages: scan?.pages ?? new Map(), cirrus: scan?.imdb, live: wiki.answers };
  return {
    matches: runMatch(input),
    statements: wikidata.money,
    wikipedia: wiki.report,
    wikidata: wikidata.report,
    abstracts: scan?.report ?? { files: 0, bytes: 0, docs: 0, threads: config.threads, malformed_docs: 0, samples: [] },
  };
}

/** The User-Agent of every request, with the user's contact; an online run without one says how to set it, once. */
function userAgentFor(config: RunConfig, ui: Ui): string {
  if (config.contact === null && !config.offline) {
    ui.info(
      'note: Wikimedia asks every client to name a contact in its User-Agent (https://meta.wikimedia.org/wiki/User-Agent_policy); ' +
        'set yours with --contact you@example.org (or a URL), or TRUEFILM_CONTACT.',
    );
  }
  return userAgent(config.contact);
}

/** Times the stages of a run: `timed` records one stage, `timings` holds them all (with `total` at the end). */
function stageClock(): { timed: Timed; timings: Record<string, number>; started: number } {
  const timings: Record<string, number> = {};
  const timed = async <T>(stage: string, work: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await work();
    } finally {
      timings[stage] = Date.now() - t;
    }
  };
  return { timed, timings, started: Date.now() };
}

/** A promise settled from outside: the CSV's header proving the input to be the CSV, or its reading failing. */
function proof(): { proved: Promise<void>; yes: () => void; no: () => void } {
  let yes!: () => void;
  let no!: () => void;
  const proved = new Promise<void>((resolve, reject) => ((yes = resolve), (no = () => reject(new Error('not the CSV')))));
  proved.catch(() => {}); // the reading's own failure is what the run reports
  return { proved, yes, no };
}

interface OpenDatabase {
  database: Database;
  /** the connection that holds the load lock and loads */
  client: pg.Client;
}

/**
 * The database started or reached, and its load lock taken once `proved`:
 * an input that never comes (a FIFO with no writer) or is no CSV holds no
 * lock. A failure on the way closes what was opened.
 */
async function openLocked(config: RunConfig, ui: Ui, proved: Promise<void>): Promise<OpenDatabase> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, ui });
  try {
    const client = await database.connect('truefilm run');
    await proved;
    await answered(client, database.url, 'taking the load lock', () => acquireLoadLock(client, database.url));
    return { database, client };
  } catch (err) {
    await database.close();
    throw err;
  }
}

/** The films the CSV gave, or why there are none to load. */
function selectedFilms(read: PromiseSettledResult<Awaited<ReturnType<typeof runMetadata>>>, config: RunConfig) {
  if (read.status === 'rejected') throw read.reason;
  const { films, report } = read.value;
  if (films.length === 0) {
    throw new TrueFilmError(
      'NO_FILMS',
      `no film qualified: ${report.rows} rows, ${report.malformed} malformed, ${report.duplicates} duplicates, ` +
        `${report.eligible} with budget >= ${config.minBudget} (and above 0) and revenue > 0. Nothing was loaded; the previous load is untouched.`,
      { input: config.metadata, hint: 'Check that this is the movies CSV, and --min-budget.' },
    );
  }
  return read.value;
}

/** With a database of its own, the data directory only keeps the caches: a run goes on without them. */
async function prepareCacheDir(config: RunConfig, ui: Ui): Promise<void> {
  await prepareDataDir(config.dataDir, 'the caches of Wikidata and Wikipedia answers').catch((err: unknown) => {
    ui.warn(`${describeError(err)}\n  This run goes on without keeping its answers: the next one asks the services again.`);
  });
}

export async function runPipeline(config: RunConfig, ui: Ui, signal: AbortSignal, hooks: PipelineHooks = {}): Promise<PipelineResult> {
  const { timed, timings, started } = stageClock();
  // fail fast on a missing input, before a database is started for nothing
  await checkMetadataFile(config.metadata);
  const abstractFiles = await abstractInputs(config, ui);
  if (config.databaseUrl) await prepareCacheDir(config, ui);

  // The database starts (or is reached) while the CSV is read.
  const csv = proof();
  const reading = timed('metadata', () => runMetadata(config.metadata, { top: config.top, minBudget: config.minBudget, ui, signal, onHeader: csv.yes }));
  reading.catch(() => csv.no());
  const [opened, read] = await Promise.allSettled([timed('database', () => openLocked(config, ui, csv.proved)), reading]);
  const db = opened.status === 'fulfilled' ? opened.value : null;
  try {
    const { films, report: metadata } = selectedFilms(read, config);
    if (db === null) throw (opened as PromiseRejectedResult).reason;
    const { client, database } = db;
    checkAborted(signal);

    const found = await findPages(config, films, abstractFiles, ui, signal, timed);
    const money = await timed('money', () => runMoney(films, found.statements, { status: found.wikidata.status }));
    const records: FilmRecord[] = films.map((film, i) => ({ ...film, match: found.matches.matches[i]!, money: money.verdicts[i]! }));
    const report: RunReport = {
      version: VERSION,
      started_at: new Date(started).toISOString(),
      metadata,
      wikidata: found.wikidata,
      abstracts: found.abstracts,
      wikipedia: found.wikipedia,
      matches: found.matches.report,
      rejected_abstracts: found.matches.rejectedAbstracts,
      money: money.report,
      load: { films: 0, genres: 0, film_genres: 0, production_companies: 0, film_production_companies: 0 },
      timings_ms: timings,
    };
    checkAborted(signal);
    report.load = await timed('load', () => runLoad(records, { client, url: database.url, ui, report, signal, beforeSwap: hooks.beforeSwap }));
    const top = await answered(client, database.url, 'reading the top films back', () =>
      client.query<TopFilmRow>('SELECT rank, title, year, budget, revenue, ratio, wikipedia_match, money_check FROM films ORDER BY rank LIMIT 10'),
    ).then((r) => r.rows);
    timings.total = Date.now() - started;
    return { report, films: records, url: database.url, embedded: database.embedded !== null, top };
  } finally {
    await db?.database.close();
  }
}
