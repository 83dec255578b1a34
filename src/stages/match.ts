/**
 * Matching (SPEC section 4): every film gets its English Wikipedia page and,
 * when the dump holds that page with a prose abstract, the abstract.
 *
 * 1. wikidata: the articles Wikidata gives for the film's IMDb id; with
 *    several, the one the dump holds, then the smallest key.
 *    cirrus (no Wikidata article for the id): the CirrusSearch document that
 *    links the film's IMDb id (its `external_link`s).
 * 2. title (no Wikidata answer, or offline): the first of "{title} ({year}
 *    film)", "{title} (film)", "{title}" that the dump holds, the bare title
 *    only when its abstract has the word "film"; then the same with the
 *    original title.
 * 3. none.
 *
 * Pure: the same films, answers and pages give the same matches, whatever
 * order the answers and pages arrived in.
 */
import { judgeAbstract } from '../abstract-quality.js';
import { wikiTitleCase } from '../keys.js';
import type { ArticleRef, Film, FilmMatch, MatchesReport, RejectedAbstracts, WikiPage } from '../types.js';

export type { ArticleRef };

export interface MatchInput {
  films: Film[];
  /** IMDb id → the English articles Wikidata names (an empty list: none) */
  wikidata: ReadonlyMap<string, readonly ArticleRef[]>;
  /** page key → the page as the dump holds it */
  pages: ReadonlyMap<string, WikiPage>;
  /** IMDb id → page key, from CirrusSearch documents' IMDb links (their pages are in `pages`) */
  cirrus?: ReadonlyMap<string, string>;
}

export interface MatchResult {
  matches: FilmMatch[];
  report: MatchesReport;
  /** abstracts refused as not prose, by reason */
  rejectedAbstracts: RejectedAbstracts;
}

const FILM_WORD = /\bfilm\b/i;

/** The page keys title matching may look for, in priority order. */
export function titleCandidates(film: Pick<Film, 'title' | 'originalTitle' | 'year'>): { key: string; bare: boolean }[] {
  const out: { key: string; bare: boolean }[] = [];
  const titles = [film.title, film.originalTitle].filter((t): t is string => t !== null && t.trim() !== '');
  for (const title of titles) {
    const t = wikiTitleCase(title.trim());
    if (film.year !== null) out.push({ key: `${t} (${film.year} film)`, bare: false });
    out.push({ key: `${t} (film)`, bare: false });
    out.push({ key: t, bare: true });
  }
  const seen = new Set<string>();
  return out.filter((c) => (seen.has(c.key) ? false : (seen.add(c.key), true)));
}

/** Every key that matching could look up for these films by title. */
export function titleKeys(films: Film[]): string[] {
  return films.flatMap((f) => titleCandidates(f).map((c) => c.key));
}

function chooseArticle(articles: readonly ArticleRef[], pages: ReadonlyMap<string, WikiPage>): ArticleRef {
  const smallest = (list: readonly ArticleRef[]): ArticleRef => list.reduce((a, b) => (b.key < a.key ? b : a));
  const held = articles.filter((a) => pages.has(a.key));
  return smallest(held.length > 0 ? held : articles);
}

/** Counts matches by method and those with an abstract. */
export function countMatches(matches: readonly FilmMatch[]): MatchesReport {
  const report: MatchesReport = { wikidata: 0, cirrus: 0, title: 0, none: 0, with_abstract: 0 };
  for (const m of matches) {
    report[m.method]++;
    if (m.abstract !== null) report.with_abstract++;
  }
  return report;
}

/** The pages matched to a film that still lack an abstract. */
export function pagesWithoutAbstract(matches: readonly FilmMatch[]): string[] {
  return [...new Set(matches.filter((m) => m.title !== null && m.abstract === null).map((m) => m.title!))];
}

/** Gives the matches without an abstract the extract fetched for their page (REST API). */
export function fillAbstracts(matches: readonly FilmMatch[], extracts: ReadonlyMap<string, string | null>): FilmMatch[] {
  return matches.map((m) => {
    const extract = m.title !== null && m.abstract === null ? extracts.get(m.title) : undefined;
    return extract ? { ...m, abstract: extract, abstractSource: 'api' } : m;
  });
}

export function runMatch(input: MatchInput): MatchResult {
  const { pages } = input;
  const rejectedAbstracts = { infobox: 0, markup: 0, disambiguation: 0, fragment: 0 };

  const abstractOf = (page: WikiPage | undefined): string | null => {
    if (!page || page.abstract === null) return null;
    const verdict = judgeAbstract(page.abstract);
    if (verdict === 'prose') return page.abstract;
    rejectedAbstracts[verdict]++;
    return null;
  };
  const matched = (film: Film, method: FilmMatch['method'], key: string, url: string, page: WikiPage | undefined): FilmMatch => {
    const abstract = abstractOf(page);
    return { filmId: film.id, method, url, title: key, abstract, abstractSource: abstract === null ? null : (page?.source ?? 'dump') };
  };

  const matches = input.films.map((film): FilmMatch => {
    const articles = film.imdbId ? input.wikidata.get(film.imdbId) : undefined;
    if (articles && articles.length > 0) {
      const article = chooseArticle(articles, pages);
      return matched(film, 'wikidata', article.key, article.url, pages.get(article.key));
    }
    const cirrusKey = film.imdbId ? input.cirrus?.get(film.imdbId) : undefined;
    if (cirrusKey !== undefined) {
      const page = pages.get(cirrusKey);
      if (page) return matched(film, 'cirrus', cirrusKey, page.url, page);
    }
    for (const candidate of titleCandidates(film)) {
      const page = pages.get(candidate.key);
      if (!page) continue;
      if (candidate.bare && !(page.abstract !== null && FILM_WORD.test(page.abstract))) continue;
      return matched(film, 'title', candidate.key, page.url, page);
    }
    return { filmId: film.id, method: 'none', url: null, title: null, abstract: null, abstractSource: null };
  });
  return { matches, report: countMatches(matches), rejectedAbstracts };
}
