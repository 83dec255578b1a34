/**
 * A made-up but lifelike Wikipedia and Wikidata for a list of films, for the
 * live-wiki tests and the benchmark: what the SPARQL test server answers,
 * what the Action API test server holds, and the matches SPEC section 4's
 * rule gives on it, written out here on its own (the oracle), from the
 * world's own data and not through the client.
 *
 * Every rule has films: Wikidata pages found directly, through a redirect,
 * among two articles of which one is gone, with no text, gone altogether;
 * title matches by "(year film)", through a redirect to "(film)", past a
 * disambiguation page to a bare title whose short description says film, past
 * a novel to the original title whose intro says film, past another year's
 * "(film)" page to the bare title, to a "(film)" page whose year is within two
 * of the film's; and films with nothing, or only pages of another year's film
 * (said by the intro, or by the short description alone).
 */
import type { Film, FilmMatch } from '../../src/types.js';
import type { WikiPage } from './action-api-server.js';
import type { MatchRow } from './oracle.js';
import { articleUrl } from './wikidata-rdf.js';

/** An English article's URL as Wikidata and the dumps spell it (wikidata-rdf.ts writes it the same way). */
const urlFromKey = (title: string): string => articleUrl(title);

export interface World {
  /** imdb id -> English Wikipedia article URLs (the SPARQL test server's table) */
  sparql: Record<string, string[]>;
  /** title -> page (the Action API test server's pages) */
  pages: Record<string, WikiPage>;
  /** title -> the title it redirects to */
  redirects: Record<string, string>;
  /** the role of each film, by id (for the tests' own checks) */
  roles: Map<number, string>;
}

export interface WorldOptions {
  /** the share of films Wikidata cannot answer (0..1): they go through the title rule */
  fallbackShare: number;
}

const cap = (t: string) => {
  const first = String.fromCodePoint(t.codePointAt(0)!);
  return first.toUpperCase().length === first.length ? first.toUpperCase() + t.slice(first.length) : t;
};

/** Wikidata's answers: mostly the film's page, each odd case one film in 28 */
const WIKIDATA_ROLES = [
  ...['w-year', 'w-year', 'w-film', 'w-year', 'w-bare', 'w-year', 'w-year', 'w-film', 'w-year', 'w-year', 'w-bare', 'w-year', 'w-film', 'w-year'],
  ...['w-year', 'w-film', 'w-year', 'w-year', 'w-bare', 'w-year', 'w-year'],
  ...['w-redirect', 'w-two', 'w-no-text', 'w-gone', 'w-empty-answer', 'w-redirect', 'w-two'],
] as const;
const TITLE_ROLES = [
  ...['t-year', 't-redirect', 't-disambiguation', 't-nothing', 't-person', 't-no-text'],
  ...['t-film-other-year', 't-bare-other-year', 't-description-other-year', 't-year-within'],
] as const;
/** roles for films whose original title differs: matched by it */
const ORIGINAL_ROLES = ['t-novel', 't-year-original'] as const;
export const ROLES = [...new Set([...WIKIDATA_ROLES, ...TITLE_ROLES, ...ORIGINAL_ROLES])];

export function buildWorld(films: readonly Film[], options: WorldOptions): World {
  const world: World = { sparql: {}, pages: {}, redirects: {}, roles: new Map() };
  const page = (title: string, p: WikiPage) => void (world.pages[cap(title)] = p);
  let w = 0;
  let t = 0;
  let o = 0;
  films.forEach((f, i) => {
    const T = f.title.trim();
    const Y = f.year ?? 2000;
    const original = f.originalTitle !== null && f.originalTitle.trim() !== T;
    const fallback = (i * 37) % 100 < options.fallbackShare * 100 || (original && o % 3 === 0);
    // the films with an original title of their own take the roles that need one, by turns
    const role = !fallback
      ? WIKIDATA_ROLES[w++ % WIKIDATA_ROLES.length]!
      : original
        ? ORIGINAL_ROLES[o++ % ORIGINAL_ROLES.length]!
        : TITLE_ROLES[t++ % TITLE_ROLES.length]!;
    if (original && !fallback) o++;
    world.roles.set(f.id, role);
    const prose = (title: string) => `${title} is a ${Y} film directed by Somebody ${f.id}, rank ${f.rank} here.`;
    const id = f.imdbId;
    const sparql = (...titles: string[]) => {
      if (id) world.sparql[id] = titles.map((x) => urlFromKey(cap(x)));
    };
    switch (role) {
      case 'w-year':
        sparql(`${T} (${Y} film)`);
        page(`${T} (${Y} film)`, { extract: prose(T), description: `${Y} film by Somebody`, item: `Q${f.id}` });
        break;
      case 'w-film':
        sparql(`${T} (film)`);
        page(`${T} (film)`, { extract: prose(T), description: `${Y} American film` });
        break;
      case 'w-bare':
        sparql(T);
        page(T, { extract: prose(T), description: `${Y} film` });
        break;
      case 'w-redirect':
        // Wikidata's sitelink is a redirect now: the text is the target's
        sparql(`${T} (${Y} movie)`);
        world.redirects[cap(`${T} (${Y} movie)`)] = cap(`${T} (${Y} film)`);
        page(`${T} (${Y} film)`, { extract: prose(T), description: `${Y} film` });
        break;
      case 'w-two':
        // two articles: the smaller key is gone from the wiki, the other is held
        sparql(`${T} (${Y} movie)`, `${T} (${Y} picture)`);
        page(`${T} (${Y} picture)`, { extract: prose(T), description: `${Y} film` });
        break;
      case 'w-no-text':
        sparql(`${T} (${Y} film)`);
        page(`${T} (${Y} film)`, { extract: '', description: `${Y} film` });
        break;
      case 'w-gone':
        sparql(`${T} (${Y} lost film)`);
        break;
      case 'w-empty-answer':
        // Wikidata knows the id but has no English article: the title rule, which finds "(film)"
        if (id) world.sparql[id] = [];
        page(`${T} (film)`, { extract: prose(T), description: `${Y} film` });
        break;
      case 't-year':
        page(`${T} (${Y} film)`, { extract: prose(T), description: `${Y} film by Somebody` });
        break;
      case 't-redirect':
        world.redirects[cap(`${T} (${Y} film)`)] = cap(`${T} (film)`);
        page(`${T} (film)`, { extract: prose(T), description: `${Y} film` });
        break;
      case 't-disambiguation':
        page(`${T} (film)`, { extract: `${T} may refer to:`, description: 'Topics referred to by the same term', disambiguation: true });
        page(T, { extract: `${T} is a motion picture of ${Y}.`, description: `${Y} film by Somebody` });
        break;
      case 't-novel':
        // the bare title is the novel (no "film" anywhere); the original title's bare page is the film,
        // which only its intro says
        page(T, { extract: `${T} is a ${Y - 3} novel by Somebody.`, description: 'novel by Somebody' });
        if (f.originalTitle && f.originalTitle.trim() !== T) page(f.originalTitle.trim(), { extract: prose(f.originalTitle.trim()), description: 'work by Somebody' });
        break;
      case 't-nothing':
        break;
      case 't-person':
        page(T, { extract: `${T} is an American actor born in ${Y - 30}.`, description: 'American actor' });
        break;
      case 't-no-text':
        page(`${T} (film)`, { extract: '', description: `${Y} film` });
        break;
      case 't-film-other-year':
        // "(film)" is an older film of the same title (its intro says so, its description does not):
        // the bare title, the film's own page, wins
        page(`${T} (film)`, { extract: `${T} is a ${Y - 31} American musical film directed by Somebody Else.`, description: 'film by Somebody Else' });
        page(T, { extract: prose(T), description: 'film by Somebody' });
        break;
      case 't-bare-other-year':
        // the bare title is a later film of the same title, reached through a redirect
        world.redirects[cap(T)] = cap(`${T} (remake)`);
        page(`${T} (remake)`, { extract: `${T} was a ${Y + 12} remake film of an older film.`, description: 'remake film' });
        break;
      case 't-description-other-year':
        // only the short description gives the year; the intro's first sentence gives none
        page(`${T} (film)`, { extract: `${T} is an American film by Somebody Else.`, description: `${Y - 40} film by Somebody Else` });
        break;
      case 't-year-within':
        // a year two off (a festival premiere, a later release) is still the film's; a year past the
        // first sentence is not read
        page(`${T} (film)`, { extract: `${T} is a ${Y - 2} film directed by Somebody ${f.id}. Its remake was a ${Y + 20} film.`, description: `${Y + 1} film` });
        break;
      case 't-year-original':
        if (f.originalTitle && f.originalTitle.trim() !== T) page(`${f.originalTitle.trim()} (${Y} film)`, { extract: prose(f.originalTitle.trim()), description: `${Y} film` });
        break;
    }
  });
  return world;
}

export interface OracleOptions {
  /** Wikidata answers (false: unavailable or offline) */
  wikidata: boolean;
  /** the live wiki answers (false: unavailable or offline) */
  wiki: boolean;
}

/**
 * A title as MediaWiki spells the page it names, for the titles these worlds
 * hold (the oracle's own, not the test server's): Unicode NFC, `_` and runs of
 * spaces as one space, the first letter upper case; null for a title MediaWiki
 * refuses (brackets, braces, `|`, `<`, `>`, `#`, control characters, U+FFFD)
 * and for another wiki's (`q:` is Wikiquote's).
 */
function spelled(title: string): string | null {
  const nfc = title.normalize('NFC');
  // a control character (a tab, a line break too) or U+FFFD refuses the title; it is not a space
  if (/[[\]{}|<>#\u0000-\u001f\u007f-\u009f\ufffd]/u.test(nfc)) return null;
  const t = nfc.replace(/[_ \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/gu, ' ').trim();
  if (t === '' || /^q *:/iu.test(t)) return null;
  return cap(t);
}

/** What the live wiki has at a title: its article (a redirect followed), or nothing. */
function resolve(world: World, title: string): { title: string; page: WikiPage } | null {
  const spelling = spelled(title);
  if (spelling === null) return null;
  let at = spelling;
  const seen = new Set([at]);
  for (let to = world.redirects[at]; to !== undefined; to = world.redirects[at]) {
    if (seen.has(to)) return null;
    seen.add(to);
    at = to;
  }
  const page = refused(at) ? undefined : world.pages[at];
  return page === undefined || (page.ns ?? 0) !== 0 ? null : { title: at, page };
}

const FILM = /\bfilm\b/i;

/** Whether `title` names no page (a title MediaWiki refuses, another wiki's): in the dump or on the wiki. */
const refused = (title: string): boolean => spelled(title) === null;

// The year check, read from docs/wikipedia.md on its own: the phrase first, then whether a
// sentence ended before it (src/stages/match.ts cuts the first sentence first).
const YEAR_SAID = /(?<![\p{L}\p{N}])(?:is|was) an? (\d{4})(?![\p{L}\p{N}])/u;
const NO_END_AFTER = ['Mr', 'Mrs', 'Ms', 'Dr', 'St', 'Jr', 'Sr', 'Mt', 'Ft', 'Sgt', 'Lt', 'Col', 'Gen', 'Capt', 'Prof', 'Rev', 'Hon', 'No', 'Vol', 'vs', 'Bros', 'Inc', 'Co', 'Ltd', 'Pop'];

/** Whether a sentence ends in `text` (a lead up to its first "is a YYYY"). */
function sentenceEndsIn(text: string): boolean {
  // a line break before a new sentence ends one, in brackets or not
  if (/\n\s*(?![\p{Ll}\p{N}])\S/u.test(text)) return true;
  let flat = text;
  for (let was = ''; was !== flat; ) [was, flat] = [flat, flat.replace(/\([^()]*\)|\[[^[\]]*\]/g, '')];
  // an unclosed bracket holds the rest
  flat = flat.replace(/[([].*$/s, '');
  const words = flat.split(/\s+/).filter((w) => w !== '');
  return words.some((w, i) => {
    if (!w.endsWith('.') || w.endsWith('..')) return false;
    const stem = w.slice(0, -1).replace(/^[^\p{L}\p{N}]+/u, '');
    if (/^\p{L}$/u.test(stem) || stem.includes('.') || NO_END_AFTER.includes(stem)) return false;
    const next = words[i + 1];
    return next === undefined || !/^[\p{Ll}\p{N}]/u.test(next);
  });
}

/** Whether a "(film)" or bare page is another film's: its lead or short description gives a year more than 2 from the film's. */
function anotherYear(year: number | null, text: string | null | undefined, description: string | null | undefined): boolean {
  if (year === null) return false;
  const lead = (text ?? '').trim();
  const said = YEAR_SAID.exec(lead);
  const leadYear = said && !sentenceEndsIn(lead.slice(0, said.index)) ? Number(said[1]) : null;
  const described = /^(\d{4})(?![\p{L}\p{N}])/u.exec((description ?? '').trim());
  return [leadYear, described ? Number(described[1]) : null].some((y) => y !== null && Math.abs(y - year) > 2);
}

/**
 * The abstract of a live page: its intro. These worlds hold prose, empty intros
 * and disambiguation lists ("X may refer to:"), no dump residue, so an intro is
 * an abstract when it has text and is not such a list.
 */
const prose = (text: string | null | undefined): string | null => {
  const t = text?.trim();
  return t && !/:$/.test(t) ? t : null;
};

/** SPEC section 4 on the world, film by film, in the most direct way. */
export function expectedMatches(films: readonly Film[], world: World, options: OracleOptions): MatchRow[] {
  const live = (title: string) => (options.wiki ? resolve(world, title) : null);
  const abstractOf = (key: string): Pick<FilmMatch, 'abstract' | 'abstractSource'> => {
    const r = live(key);
    const fromWiki = r && !r.page.disambiguation ? prose(r.page.extract) : null;
    return fromWiki ? { abstract: fromWiki, abstractSource: 'api' } : { abstract: null, abstractSource: null };
  };
  return films.map((f): MatchRow => {
    const urls = options.wikidata && f.imdbId ? (world.sparql[f.imdbId] ?? []) : [];
    // a title MediaWiki would refuse is no page: Wikidata naming one names nothing
    const keys = urls
      .map((u) => decodeURIComponent(u.slice('https://en.wikipedia.org/wiki/'.length)).replace(/_/g, ' '))
      .filter((k) => !refused(k))
      .sort();
    if (keys.length > 0) {
      const held = keys.filter((k) => live(k) !== null);
      const key = (held.length > 0 ? held : keys)[0]!;
      return { filmId: f.id, method: 'wikidata', title: key, url: urlFromKey(key), ...abstractOf(key) };
    }
    const titles = [f.title, f.originalTitle].filter((x): x is string => x !== null && x.trim() !== '').map((x) => cap(x.trim()));
    for (const T of new Set(titles)) {
      const candidates = [...(f.year !== null ? [`${T} (${f.year} film)`] : []), `${T} (film)`, T];
      for (const c of candidates) {
        if (refused(c)) continue;
        const bare = c === T;
        const dated = c === `${T} (${f.year} film)`;
        const r = live(c);
        if (r === null || r.page.disambiguation) continue;
        if (!dated && anotherYear(f.year, r.page.extract, r.page.description)) continue;
        if (bare && !FILM.test(r.page.description ?? '') && !FILM.test(r.page.extract ?? '')) continue;
        return { filmId: f.id, method: 'title', title: r.title, url: urlFromKey(r.title), ...abstractOf(r.title) };
      }
    }
    return { filmId: f.id, method: 'none', title: null, url: null, abstract: null, abstractSource: null };
  });
}
