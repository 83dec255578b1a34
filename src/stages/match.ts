/**
 * Matching (SPEC section 4): every film gets its English Wikipedia page and
 * its abstract, from the dump when it holds a prose one, else from the live
 * page's intro.
 *
 * 1. wikidata: the articles Wikidata gives for the film's IMDb id; with
 *    several, one the dump or the live wiki holds, then the smallest key.
 *    cirrus (no Wikidata article for the id): the CirrusSearch document that
 *    links the film's IMDb id (its `external_link`s).
 * 2. title (no Wikidata answer, or offline): the candidates "{title} ({year}
 *    film)", "{title} (film)", "{title}", then the same with the original
 *    title, in that order. Each is looked up in the dump first and, when the
 *    dump lacks it, on the live wiki (normalised as MediaWiki does, a redirect
 *    followed to its target). The first that is the film's page wins:
 *    - never a disambiguation page (the wiki's `pageprops.disambiguation`;
 *      in the dump, an abstract that reads as one);
 *    - the bare title only when its text says "film" as a word: the dump's
 *      abstract, or the wiki's short description or intro extract.
 * 3. none.
 *
 * The same rule for the dump and the wiki: a title the live wiki has not
 * answered (offline and not cached, the API down) counts as absent from it.
 * Pure: the same inputs give the same matches, whatever order the answers
 * came in. Besides the matches, it says what it would like to ask the live
 * wiki to decide further (`questions`); the pipeline asks and calls again.
 */
import { judgeAbstract } from '../abstract-quality.js';
import { normalizeTitle, urlFromKey, wikiTitleCase } from '../keys.js';
import type { AbstractSource, ArticleRef, Film, FilmMatch, LivePage, LiveQuestions, MatchesReport, RejectedAbstracts, WikiPage } from '../types.js';

export type { ArticleRef };

export interface MatchInput {
  films: Film[];
  /** IMDb id → the English articles Wikidata names (an empty list: none) */
  wikidata: ReadonlyMap<string, readonly ArticleRef[]>;
  /**
   * Wikidata's answers are still arriving: a film whose IMDb id has none yet
   * waits for it (it asks nothing, and matches none for now).
   */
  wikidataPending?: boolean;
  /** page key → the page as the dump holds it */
  pages: ReadonlyMap<string, WikiPage>;
  /** IMDb id → page key, from CirrusSearch documents' IMDb links (their pages are in `pages`) */
  cirrus?: ReadonlyMap<string, string>;
  /**
   * normalised title → what the live wiki says of it. Without it, the live
   * wiki is not consulted and nothing is asked (dump only).
   */
  live?: ReadonlyMap<string, LivePage>;
}

export interface MatchResult {
  matches: FilmMatch[];
  report: MatchesReport;
  /** abstracts refused as not prose, by reason (the dump's and the wiki's) */
  rejectedAbstracts: RejectedAbstracts;
  /** what the live wiki has not answered yet and would change or complete a match (empty without `live`) */
  questions: LiveQuestions;
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

function countMatches(matches: readonly FilmMatch[], online: ReadonlySet<number>): MatchesReport {
  const report: MatchesReport = { wikidata: 0, cirrus: 0, title: 0, title_online: 0, none: 0, with_abstract: 0, abstract_online: 0 };
  for (const m of matches) {
    report[m.method]++;
    if (m.method === 'title' && online.has(m.filmId)) report.title_online++;
    if (m.abstract !== null) report.with_abstract++;
    if (m.abstractSource === 'api') report.abstract_online++;
  }
  return report;
}

/** One film's decision, with what it still needs from the live wiki. */
class Decider {
  readonly rejected: RejectedAbstracts = { infobox: 0, markup: 0, disambiguation: 0, fragment: 0 };
  readonly questions: LiveQuestions = { lookup: new Set(), decide: new Set(), abstract: new Set() };
  /** films whose title match is a page of the live wiki */
  readonly online = new Set<number>();

  /** `questionsOnly`: only what to ask the live wiki counts, not the abstracts' text (the pipeline asks this after every answer) */
  constructor(
    private readonly input: MatchInput,
    private readonly questionsOnly = false,
  ) {}

  /**
   * What the wiki says of a key. Undefined when it has not been asked yet:
   * the question is noted, and the caller waits for the answer (one question
   * at a time per film, so that a film asks for no title past its match).
   * Without a live wiki (dump only), every title is `unknown`.
   */
  private live(key: string, want: keyof LiveQuestions): LivePage | undefined {
    const title = normalizeTitle(key);
    if (title === null) return { kind: 'missing' };
    if (this.input.live === undefined) return { kind: 'unknown' };
    const page = this.input.live.get(title);
    if (page !== undefined && (want === 'lookup' || page.kind !== 'page' || page.extract !== undefined)) return page;
    this.questions[want].add(title);
    return undefined;
  }

  /** The prose abstract of `text`, or null (counted when refused). */
  private prose(text: string | null | undefined): string | null {
    if (text === null || text === undefined || text.trim() === '') return null;
    const t = text.trim();
    const verdict = judgeAbstract(t);
    if (verdict === 'prose') return t;
    this.rejected[verdict]++;
    return null;
  }

  /** The dump's abstract when it is prose, else the live page's intro. */
  private abstract(key: string, page: WikiPage | undefined): { abstract: string | null; abstractSource: AbstractSource | null } {
    const fromDump = this.prose(page?.abstract);
    if (fromDump !== null) return { abstract: fromDump, abstractSource: page?.source ?? 'dump' };
    const live = this.live(key, 'abstract');
    if (this.questionsOnly) return { abstract: null, abstractSource: null };
    const fromWiki = live?.kind === 'page' && !live.disambiguation ? this.prose(live.extract) : null;
    return fromWiki === null ? { abstract: null, abstractSource: null } : { abstract: fromWiki, abstractSource: 'api' };
  }

  /** Whether the live wiki holds an article of that key (asking when it has not said). */
  private held(key: string): boolean {
    return this.input.pages.has(key) || this.live(key, 'lookup')?.kind === 'page';
  }

  private matched(film: Film, method: FilmMatch['method'], key: string, url: string, page: WikiPage | undefined): FilmMatch {
    return { filmId: film.id, method, url, title: key, ...this.abstract(key, page) };
  }

  decide(film: Film): FilmMatch {
    const { pages } = this.input;
    const articles = film.imdbId ? this.input.wikidata.get(film.imdbId) : undefined;
    if (articles === undefined && film.imdbId && this.input.wikidataPending) return none(film);
    if (articles && articles.length > 0) {
      // one the dump or the wiki holds, then the smallest key (a lone article needs no lookup)
      const held = articles.length > 1 ? articles.filter((a) => this.held(a.key)) : [];
      const article = (held.length > 0 ? held : articles).reduce((a, b) => (b.key < a.key ? b : a));
      return this.matched(film, 'wikidata', article.key, article.url, pages.get(article.key));
    }
    const cirrusKey = film.imdbId ? this.input.cirrus?.get(film.imdbId) : undefined;
    const cirrusPage = cirrusKey === undefined ? undefined : pages.get(cirrusKey);
    if (cirrusPage) return this.matched(film, 'cirrus', cirrusKey!, cirrusPage.url, cirrusPage);

    const candidates = titleCandidates(film);
    // Whether each candidate exists is asked at once, not one request after another: lookups
    // ride free beside the extracts a request carries, and the film's turn comes sooner.
    if (this.input.live !== undefined) for (const c of candidates) if (!pages.has(c.key)) this.live(c.key, 'lookup');
    for (const candidate of candidates) {
      const page = pages.get(candidate.key);
      if (page) {
        // the dump decides what it holds
        if (page.abstract !== null && judgeAbstract(page.abstract) === 'disambiguation') continue;
        if (candidate.bare && !(page.abstract !== null && FILM_WORD.test(page.abstract))) continue;
        return this.matched(film, 'title', candidate.key, page.url, page);
      }
      const lookedUp = this.live(candidate.key, 'lookup');
      if (lookedUp === undefined) return none(film);
      if (lookedUp.kind !== 'page' || lookedUp.disambiguation) continue;
      let live = lookedUp;
      if (candidate.bare && !FILM_WORD.test(live.description ?? '')) {
        // the short description does not say: the intro decides
        const withIntro = this.live(candidate.key, 'decide');
        if (withIntro === undefined) return none(film);
        if (withIntro.kind !== 'page' || !FILM_WORD.test(withIntro.extract ?? '')) continue;
        live = withIntro;
      }
      this.online.add(film.id);
      return this.matched(film, 'title', live.title, urlFromKey(live.title), pages.get(live.title));
    }
    return none(film);
  }
}

function none(film: Film): FilmMatch {
  return { filmId: film.id, method: 'none', url: null, title: null, abstract: null, abstractSource: null };
}

export function runMatch(input: MatchInput): MatchResult {
  const decider = new Decider(input);
  const matches = input.films.map((film) => decider.decide(film));
  return { matches, report: countMatches(matches, decider.online), rejectedAbstracts: decider.rejected, questions: decider.questions };
}

/** What `runMatch` would ask the live wiki, given what it has answered so far. */
export function liveQuestions(input: MatchInput & { live: ReadonlyMap<string, LivePage> }): LiveQuestions {
  const decider = new Decider(input, true);
  for (const film of input.films) decider.decide(film);
  return decider.questions;
}
