/**
 * The schema of SPEC section 5. Tables are created in a staging schema and
 * filled there; the swap then replaces the rows of the target's tables in one
 * transaction (MVCC: readers see the previous load until the commit and the
 * new one after, and never wait). Only when the tables' shape changed (the
 * first load, or a release that changed this file) are the old tables dropped
 * and the staging ones moved in their place.
 */
import { createHash } from 'node:crypto';

export const STAGING_SCHEMA = 'truefilm_staging';

/** Tables in load order (parents first); dropped in the reverse order. */
export const TABLES = ['films', 'genres', 'production_companies', 'film_genres', 'film_production_companies'] as const;
export type TableName = (typeof TABLES)[number];

/** History of loads: when, with which options, and the run report. */
export const LOADS_TABLE = 'truefilm_loads';

const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;

export function createTablesSql(schema: string): string {
  const s = q(schema);
  return `
CREATE TABLE ${s}.films (
  id integer PRIMARY KEY,
  imdb_id text,
  title text NOT NULL,
  original_title text,
  release_date date,
  year integer,
  budget bigint NOT NULL,
  revenue bigint NOT NULL,
  ratio double precision NOT NULL,
  rank integer NOT NULL UNIQUE,
  rating real,
  vote_count integer,
  wikipedia_url text,
  wikipedia_title text,
  wikipedia_abstract text,
  wikipedia_match text NOT NULL CHECK (wikipedia_match IN ('wikidata', 'cirrus', 'title', 'none')),
  abstract_source text CHECK (abstract_source IN ('dump', 'api', 'cirrus')),
  wikidata_budget bigint,
  wikidata_revenue bigint,
  money_check text NOT NULL CHECK (money_check IN ('confirmed', 'disputed', 'unchecked'))
);
CREATE TABLE ${s}.genres (
  id integer PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE ${s}.production_companies (
  id integer PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE ${s}.film_genres (
  film_id integer REFERENCES ${s}.films,
  genre_id integer REFERENCES ${s}.genres,
  PRIMARY KEY (film_id, genre_id)
);
CREATE TABLE ${s}.film_production_companies (
  film_id integer REFERENCES ${s}.films,
  company_id integer REFERENCES ${s}.production_companies,
  PRIMARY KEY (film_id, company_id)
);
-- the swap deletes genres and companies: their foreign-key checks look up the links by these
CREATE INDEX ON ${s}.film_genres (genre_id);
CREATE INDEX ON ${s}.film_production_companies (company_id);`;
}

/** The two aggregates of SPEC section 5: by genre and by production company. */
export type PerformanceKind = 'genre' | 'company';

const PERFORMANCE: Record<PerformanceKind, { view: string; label: string; names: string; links: string; key: string }> = {
  genre: { view: 'genre_performance', label: 'genre', names: 'genres', links: 'film_genres', key: 'genre_id' },
  company: { view: 'production_company_performance', label: 'company', names: 'production_companies', links: 'film_production_companies', key: 'company_id' },
};

/** The view of one aggregate, in `schema`. */
export function performanceView(schema: string, kind: PerformanceKind): string {
  return `${q(schema)}.${PERFORMANCE[kind].view}`;
}

export interface PerformanceOptions {
  /** leave out the films whose money check is 'disputed' (SPEC section 7) */
  excludeDisputed?: boolean;
}

/**
 * The query behind a performance view, and behind the dashboard's aggregates
 * without the disputed films: one rule for both. Performance by name: TMDB has
 * several ids for one name ("Canal+" is 5358 and 47532), and an investor asks
 * about the company, not the id. A film counts once per name.
 */
export function performanceSql(schema: string, kind: PerformanceKind, options: PerformanceOptions = {}): string {
  const s = q(schema);
  const { label, names, links, key } = PERFORMANCE[kind];
  const where = options.excludeDisputed ? `\n  WHERE f.money_check <> 'disputed'` : '';
  return `SELECT t.name AS ${label},
       count(*)::integer AS films,
       avg(t.ratio) AS mean_ratio,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ratio) AS median_ratio,
       sum(t.budget)::bigint AS total_budget,
       sum(t.revenue)::bigint AS total_revenue,
       (count(*) FILTER (WHERE t.money_check = 'disputed'))::integer AS disputed
FROM (
  SELECT DISTINCT n.name, f.id, f.ratio, f.budget, f.revenue, f.money_check
  FROM ${s}.${names} n
  JOIN ${s}.${links} l ON l.${key} = n.id
  JOIN ${s}.films f ON f.id = l.film_id${where}
) t
GROUP BY t.name
ORDER BY median_ratio DESC, ${label}`;
}

export function createViewsSql(schema: string): string {
  return (['genre', 'company'] as const)
    .map((kind) => `\nCREATE VIEW ${performanceView(schema, kind)} AS\n${performanceSql(schema, kind)};`)
    .join('');
}

export function dropLoadSql(schema: string): string {
  const s = q(schema);
  return [
    ...Object.values(PERFORMANCE).map(({ view }) => `DROP VIEW IF EXISTS ${s}.${view};`),
    ...[...TABLES].reverse().map((t) => `DROP TABLE IF EXISTS ${s}.${t};`),
  ].join('\n');
}

export function moveTablesSql(from: string, to: string): string {
  return TABLES.map((t) => `ALTER TABLE ${q(from)}.${t} SET SCHEMA ${q(to)};`).join('\n');
}

export function loadsTableSql(schema: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${q(schema)}.${LOADS_TABLE} (
  id bigserial PRIMARY KEY,
  loaded_at timestamptz NOT NULL DEFAULT now(),
  films integer NOT NULL,
  report jsonb NOT NULL
);`;
}

/**
 * A fingerprint of the tables' and views' definitions, kept as the comment of
 * the target's `films`: while it matches, a load swaps rows, not tables.
 */
export function loadShape(): string {
  const sql = createTablesSql('target') + createViewsSql('target');
  return `truefilm load shape ${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
}

/** Replaces the rows of `to`'s tables by those of `from`'s: children first out, parents first in. */
export function replaceRowsSql(from: string, to: string): string {
  return [
    ...[...TABLES].reverse().map((t) => `DELETE FROM ${q(to)}.${t};`),
    ...TABLES.map((t) => `INSERT INTO ${q(to)}.${t} SELECT * FROM ${q(from)}.${t};`),
  ].join('\n');
}

export { q as quoteIdent };
