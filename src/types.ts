/** The records that pass between stages. Stages share these and never import each other. */
import type { AbstractVerdict } from './abstract-quality.js';

/** Abstracts refused as not prose, by reason (src/abstract-quality.ts). */
export type RejectedAbstracts = Record<Exclude<AbstractVerdict, 'prose'>, number>;

/** An English Wikipedia article as Wikidata names it. */
export interface ArticleRef {
  /** the page key (src/keys.ts keyFromUrl): percent-decoded, '_' read as a space */
  key: string;
  url: string;
}

export interface NamedRef {
  id: number;
  name: string;
}

/** A film kept by the metadata stage (SPEC section 3). */
export interface Film {
  id: number;
  imdbId: string | null;
  title: string;
  originalTitle: string | null;
  /** `YYYY-MM-DD`, or null when absent or invalid */
  releaseDate: string | null;
  year: number | null;
  budget: number;
  revenue: number;
  ratio: number;
  rank: number;
  rating: number | null;
  voteCount: number | null;
  genres: NamedRef[];
  companies: NamedRef[];
}

/** A rejected input record, kept as a sample in the run report. */
export interface Rejection {
  /** 1-based line in the input where the record starts */
  line: number;
  reason: string;
}

export type MatchMethod = 'wikidata' | 'cirrus' | 'title' | 'none';
export type AbstractSource = 'dump' | 'api' | 'cirrus';

/** A Wikipedia page as a dump holds it. */
export interface WikiPage {
  /** the page key (SPEC section 4): its title */
  key: string;
  url: string;
  /** decoded and trimmed; null when empty, missing or not prose */
  abstract: string | null;
  /** the dump it came from: 'dump' (abstract dump, when absent) or 'cirrus' (CirrusSearch) */
  source?: 'dump' | 'cirrus';
}

/**
 * What the live wiki says of a title (MediaWiki Action API). `page`: an
 * article of the main namespace (a redirect already followed to it);
 * `missing`: no such article (or an invalid title, another wiki's, another
 * namespace's); `unknown`: not answered (offline and not cached, or the API
 * unavailable), which the matching reads as "the wiki lacks it".
 */
export type LivePage =
  | {
      kind: 'page';
      /** the article's title (the redirect's target when the title asked redirects) */
      title: string;
      redirected: boolean;
      disambiguation: boolean;
      /** the short description ("1999 film by Michael Mann"); null when it has none */
      description: string | null;
      /** the plain-text intro; null when it has none; absent when not asked for yet */
      extract?: string | null;
    }
  | { kind: 'missing' }
  | { kind: 'unknown' };

/** Titles to ask the live wiki about (normalised: src/keys.ts normalizeTitle). */
export interface LiveQuestions {
  /** does it exist, where does it redirect, is it a disambiguation page, its short description */
  lookup: Set<string>;
  /** the same and its intro extract, needed to decide a match (a bare title's "film") */
  decide: Set<string>;
  /** the intro extract of a page already matched: its abstract (may wait to fill a batch) */
  abstract: Set<string>;
}

/** How one film was matched to its English Wikipedia page. */
export interface FilmMatch {
  filmId: number;
  method: MatchMethod;
  url: string | null;
  title: string | null;
  abstract: string | null;
  abstractSource: AbstractSource | null;
}

/**
 * A statement of a film's money on Wikidata (SPEC section 4a), from any of the
 * items with the film's IMDb id: cost (P2130), budget (P2769), box office (P2142).
 */
export interface MoneyStatement {
  property: 'P2130' | 'P2769' | 'P2142';
  rank: 'preferred' | 'normal' | 'deprecated';
  /** the amount's lexical form as the service gave it (`60000`, `+60000`, `8000000.00`, `1.5E7`) */
  amount: string;
  /** the unit's Q-id: Q4917 the US dollar, Q199 the unit "1" (no unit) */
  unit: string;
  /** the unit's ISO 4217 code (its P498), or null when it has none */
  currency: string | null;
  /** the statement's "valid in place" (P3005) qualifiers, Q-ids */
  places: string[];
}

export type MoneyCheck = 'confirmed' | 'disputed' | 'unchecked';

/** How one kind of figure compares: within a factor of 2 of Kaggle's, beyond it, or no Wikidata amount counts. */
export type MoneyComparison = 'agrees' | 'differs' | 'none';

/** Wikidata's figures for a film beside Kaggle's, and the verdict (SPEC section 4a). */
export interface MoneyVerdict {
  /** the counting amounts, in US dollars, rounded half away from zero; null when none counts */
  wikidataBudget: number | null;
  wikidataRevenue: number | null;
  budget: MoneyComparison;
  revenue: MoneyComparison;
  check: MoneyCheck;
  /** a disputed film's largest max(kaggle/wikidata, wikidata/kaggle) among the kinds that differ; else null */
  factor: number | null;
  /** an amount was left out for its currency (no rate for it in the film's year) */
  otherCurrency: boolean;
}

/** A film with everything the load stage writes. */
export interface FilmRecord extends Film {
  match: FilmMatch;
  money: MoneyVerdict;
}

// ---- run report (SPEC section 6); keys are the report's own, in snake_case ----

export interface MetadataReport {
  rows: number;
  malformed: number;
  duplicates: number;
  eligible: number;
  selected: number;
  bad_literals: number;
  samples: {
    malformed: Rejection[];
    duplicates: Rejection[];
    bad_literals: Rejection[];
  };
}

export interface WikidataReport {
  status: 'ok' | 'offline' | 'unavailable';
  ids: number;
  resolved: number;
  requests: number;
  retries: number;
  cache_hits: number;
}

/** A malformed doc of the dump, where it is. */
export interface DumpSample {
  file: string;
  offset: number;
  reason: string;
}

export interface AbstractsReport {
  files: number;
  bytes: number;
  docs: number;
  threads: number;
  malformed_docs: number;
  /** a few of the malformed docs, in input order (absent when no dump was read) */
  samples: DumpSample[];
}

export interface MatchesReport {
  wikidata: number;
  cirrus: number;
  title: number;
  /** of `title`: the page was found on the live wiki, not in the dump */
  title_online: number;
  none: number;
  with_abstract: number;
  /** of `with_abstract`: the abstract is the live page's intro (abstract_source 'api') */
  abstract_online: number;
}

/** The live wiki's Action API stage (src/stages/wikipedia.ts). */
export interface WikipediaReport {
  status: 'ok' | 'offline' | 'unavailable';
  /** distinct titles asked about (normalised), from the cache or the API */
  titles: number;
  /** HTTP requests sent: retries and continuations included */
  requests: number;
  retries: number;
  /** titles answered by the cache */
  cache_hits: number;
  /** titles that redirect: their page is the redirect's target */
  redirects: number;
  /** titles whose page is a disambiguation page (never a film's page) */
  disambiguation: number;
  /** titles with no article: missing, invalid, another wiki or namespace */
  missing: number;
}

/** The second opinion on the money (SPEC sections 4a and 6). */
export interface MoneyReport {
  /** Wikidata's: where the figures came from */
  status: 'ok' | 'offline' | 'unavailable';
  confirmed: number;
  disputed: number;
  unchecked: number;
  /** films with an amount left out for its currency */
  other_currency: number;
  /** the rate table and its version, or "none" */
  conversion: string;
}

export interface LoadReport {
  films: number;
  genres: number;
  film_genres: number;
  production_companies: number;
  film_production_companies: number;
}

export interface RunReport {
  version: string;
  started_at: string;
  metadata: MetadataReport;
  wikidata: WikidataReport;
  abstracts: AbstractsReport;
  /** the live wiki: title lookups and intro extracts */
  wikipedia: WikipediaReport;
  matches: MatchesReport;
  /** abstracts of matched pages that were refused as not prose, by reason */
  rejected_abstracts: RejectedAbstracts;
  money: MoneyReport;
  load: LoadReport;
  timings_ms: Record<string, number>;
}
