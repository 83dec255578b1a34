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
 *      abstract, or the wiki's short description or intro extract;
 *    - the "(film)" candidate and the bare title (not "({year} film)") only
 *      when the page is not another film's: its text's first sentence does
 *      not say "is a YYYY" (is an, was a, was an) with YYYY more than 2 years
 *      from the film's year, nor does its short description begin with such
 *      a year (`anotherFilmsPage`). A film without a year skips the check.
 * 3. none.
 *
 * The same rule for the dump and the wiki: a title the live wiki has not
 * answered (offline and not cached, the API down) counts as absent from it.
 * Pure: the same inputs give the same matches, whatever order the answers
 * came in. Besides the matches, it says what it would like to ask the live
 * wiki to decide further (`questions`); the pipeline asks and calls again.
 */
import { judgeAbstract } from '../abstract-quality.js';
import { isValidTitle, normalizeTitle, urlFromKey, wikiTitleCase } from '../keys.js';
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

/** A title candidate: its key; `bare`, the title alone; `dated`, "{title} ({year} film)", which names the year itself. */
export interface TitleCandidate {
  key: string;
  bare: boolean;
  dated: boolean;
}

/** The page keys title matching may look for, in priority order; never one MediaWiki would refuse. */
export function titleCandidates(film: Pick<Film, 'title' | 'originalTitle' | 'year'>): TitleCandidate[] {
  const out: TitleCandidate[] = [];
  const titles = [film.title, film.originalTitle].filter((t): t is string => t !== null && t.trim() !== '');
  for (const title of titles) {
    const t = wikiTitleCase(title.trim());
    if (film.year !== null) out.push({ key: `${t} (${film.year} film)`, bare: false, dated: true });
    out.push({ key: `${t} (film)`, bare: false, dated: false });
    out.push({ key: t, bare: true, dated: false });
  }
  // a title MediaWiki would refuse (a control character, `[`...) is no page, in the dump or on the wiki
  const seen = new Set<string>();
  return out.filter((c) => (seen.has(c.key) || !isValidTitle(c.key) ? false : (seen.add(c.key), true)));
}

/** Every key that matching could look up for these films by title. */
export function titleKeys(films: Film[]): string[] {
  return films.flatMap((f) => titleCandidates(f).map((c) => c.key));
}

// ---- the year check: is a "(film)" or bare page another film's? ----

/** How far the year a page gives may be from the CSV's and still be the film's: release dates differ by country and festival. */
const YEAR_TOLERANCE = 2;
/** Words whose full stop does not end a sentence: "Mr. Smith Goes to Washington is a 1939 ...", "Dr. Dolittle", "Kramer vs. Kramer". */
const ABBREVIATIONS = new Set(['Mr', 'Mrs', 'Ms', 'Dr', 'St', 'Jr', 'Sr', 'Mt', 'Ft', 'Sgt', 'Lt', 'Col', 'Gen', 'Capt', 'Prof', 'Rev', 'Hon', 'No', 'Vol', 'vs', 'Bros', 'Inc', 'Co', 'Ltd', 'Pop']);
/** The letters, digits and dots that end right before a full stop: "Mr", "U.S", "T", "1995". */
const WORD_BEFORE = /[\p{L}\p{N}.]*$/u;
/** What may start a sentence: anything but a lower-case letter or a digit ("Monsters, Inc. is", "Pop. 81"). */
const NOT_A_START = /[\p{Ll}\p{N}]/u;
/** "is a 1995", "is an 1899", "was a 1967", "was an 1899": four digits, not more, not a decade ("1990s"). */
const YEAR_PHRASE = /(?<![\p{L}\p{N}])(?:is|was) an? (\d{4})(?![\p{L}\p{N}])/u;
/** A short description that begins with a year: "1967 film by Richard Fleischer". */
const DESCRIPTION_YEAR = /^(\d{4})(?![\p{L}\p{N}])/u;

/** The first non-space character at or after `from`, or '' at the end of the text. */
function nextVisible(text: string, from: number): string {
  const m = /\S/u.exec(text.slice(from));
  return m ? m[0] : '';
}

/** Whether the full stop at `at` (outside parentheses) ends a sentence. */
function fullStopEnds(text: string, at: number): boolean {
  // an ellipsis belongs to a title: "When Harry Met Sally...", "The Concorde ... Airport '79"
  if (text[at - 1] === '.' || text[at + 1] === '.') return false;
  if (at + 1 < text.length && !/\s/u.test(text[at + 1]!)) return false;
  const word = WORD_BEFORE.exec(text.slice(0, at))![0];
  // an initial ("John Q.", "T. Rex"), an abbreviation with dots in it ("U.S.", "L.A."), or a listed one
  if (/^\p{L}$/u.test(word) || word.includes('.') || ABBREVIATIONS.has(word)) return false;
  return !NOT_A_START.test(nextVisible(text, at + 1));
}

/**
 * The first sentence of a page's text: up to the first full stop that ends a
 * sentence, or the first line break before a new sentence, or the whole text.
 * A full stop ends a sentence when it stands outside parentheses and
 * brackets, is followed by a space and then neither a lower-case letter nor a
 * digit, is not part of an ellipsis, and does not end an abbreviation (one
 * letter, letters with dots, or ABBREVIATIONS). "!" and "?" never end it:
 * in a lead they belong to titles ("Airplane!", "What's Up, Doc?").
 */
export function firstSentence(text: string): string {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(' || ch === '[') depth++;
    else if ((ch === ')' || ch === ']') && depth > 0) depth--;
    else if (ch === '\n' && !NOT_A_START.test(nextVisible(text, i + 1))) return text.slice(0, i).trimEnd();
    else if (ch === '.' && depth === 0 && fullStopEnds(text, i)) return text.slice(0, i + 1);
  }
  return text.trimEnd();
}

/** The year a page's text gives its subject: "is a YYYY" (is an, was a, was an) in its first sentence; null when it says none. */
export function leadYear(text: string | null | undefined): number | null {
  if (text === null || text === undefined) return null;
  const m = YEAR_PHRASE.exec(firstSentence(text.trim()));
  return m ? Number(m[1]) : null;
}

/** The year a short description begins with ("1967 film by Richard Fleischer"); null when it begins otherwise. */
export function descriptionYear(description: string | null | undefined): number | null {
  const m = DESCRIPTION_YEAR.exec(description?.trim() ?? '');
  return m ? Number(m[1]) : null;
}

/**
 * Whether a page that a "(film)" or bare candidate reached is another film's:
 * its text or its short description gives a year more than YEAR_TOLERANCE
 * from the film's. A film without a year, or a page that gives none, passes.
 */
function anotherFilmsPage(year: number | null, text: string | null | undefined, description: string | null | undefined): boolean {
  if (year === null) return false;
  const far = (y: number | null) => y !== null && Math.abs(y - year) > YEAR_TOLERANCE;
  return far(leadYear(text)) || far(descriptionYear(description));
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
   * the question is noted, and the caller waits for the answer. Without a
   * live wiki (dump only), every title is `unknown`.
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
    return this.byTitle(film);
  }

  /** The title rule: the first candidate that is the film's page, in the dump or else on the wiki. */
  private byTitle(film: Film): FilmMatch {
    const candidates = titleCandidates(film);
    for (const [i, candidate] of candidates.entries()) {
      const page = this.input.pages.get(candidate.key);
      if (page) {
        // the dump decides what it holds
        if (!this.dumpPageIsFilms(film, candidate, page)) continue;
        return this.matched(film, 'title', candidate.key, page.url, page);
      }
      const live = this.livePageOfFilm(film, candidate);
      if (live === 'waiting') {
        // Whether each later candidate exists is asked now too, not one request after another:
        // lookups ride free beside the extracts a request carries, and the film decides sooner.
        for (const later of candidates.slice(i + 1)) if (!this.input.pages.has(later.key)) this.live(later.key, 'lookup');
        return none(film);
      }
      if (live === 'next') continue;
      this.online.add(film.id);
      return this.matched(film, 'title', live.title, urlFromKey(live.title), this.input.pages.get(live.title));
    }
    return none(film);
  }

  private dumpPageIsFilms(film: Film, candidate: TitleCandidate, page: WikiPage): boolean {
    if (page.abstract !== null && judgeAbstract(page.abstract) === 'disambiguation') return false;
    if (candidate.bare && !(page.abstract !== null && FILM_WORD.test(page.abstract))) return false;
    return !(checksYear(film, candidate) && anotherFilmsPage(film.year, page.abstract, null));
  }

  /**
   * The live page a candidate reaches when it is the film's; `next` when it
   * is not (no page, a disambiguation page, not a film, another film's);
   * `waiting` for the wiki's answer (the question is noted).
   */
  private livePageOfFilm(film: Film, candidate: TitleCandidate): Extract<LivePage, { kind: 'page' }> | 'next' | 'waiting' {
    const checkYear = checksYear(film, candidate);
    const lookedUp = this.live(candidate.key, 'lookup');
    if (lookedUp === undefined) return 'waiting';
    if (lookedUp.kind !== 'page' || lookedUp.disambiguation) return 'next';
    if (checkYear && anotherFilmsPage(film.year, null, lookedUp.description)) return 'next';
    const filmSaid = FILM_WORD.test(lookedUp.description ?? '');
    if (!checkYear && (!candidate.bare || filmSaid)) return lookedUp;
    // The intro decides: its first sentence's year, and a bare title's "film" when the short
    // description does not say it. Asked once the page is known to exist, as a missing title
    // would hold one of a request's 20 extract places for nothing; a page that passes needs it
    // anyway, as its abstract.
    const withIntro = this.live(candidate.key, 'decide');
    if (withIntro === undefined) return 'waiting';
    if (withIntro.kind !== 'page') return 'next';
    if (candidate.bare && !filmSaid && !FILM_WORD.test(withIntro.extract ?? '')) return 'next';
    if (checkYear && anotherFilmsPage(film.year, withIntro.extract, withIntro.description)) return 'next';
    return withIntro;
  }
}

/** "({year} film)" names the year itself; the other candidates may reach another film's page. A film without a year is not checked. */
function checksYear(film: Film, candidate: TitleCandidate): boolean {
  return !candidate.dated && film.year !== null;
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
