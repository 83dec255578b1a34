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

/** How one film was matched to its English Wikipedia page. */
export interface FilmMatch {
  filmId: number;
  method: MatchMethod;
  url: string | null;
  title: string | null;
  abstract: string | null;
  abstractSource: AbstractSource | null;
}

/** A film with everything the load stage writes. */
export interface FilmRecord extends Film {
  match: FilmMatch;
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

export interface AbstractsReport {
  files: number;
  bytes: number;
  docs: number;
  threads: number;
  malformed_docs: number;
}

export interface MatchesReport {
  wikidata: number;
  cirrus: number;
  title: number;
  none: number;
  with_abstract: number;
}

export interface SummaryReport {
  status: 'ok' | 'offline' | 'unavailable';
  /** distinct page keys asked */
  asked: number;
  /** keys answered by the API in this run */
  fetched: number;
  /** keys answered by the cache */
  cache_hits: number;
  /** HTTP requests sent: retries and redirect hops included */
  requests: number;
  retries: number;
  /** of the keys answered (cache or API): disambiguation pages */
  disambiguation: number;
  /** ... pages that do not exist (404), or whose redirects loop */
  missing: number;
  /** ... every other answer without a prose extract: infobox residue, 'no-extract', 'mainpage', a fragment */
  not_prose: number;
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
  /** the Wikipedia REST page summaries that filled in missing abstracts */
  summaries: SummaryReport;
  matches: MatchesReport;
  /** abstracts of matched pages that were refused as not prose, by reason */
  rejected_abstracts: RejectedAbstracts;
  load: LoadReport;
  timings_ms: Record<string, number>;
}
