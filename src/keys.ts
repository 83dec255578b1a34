/**
 * Page keys (SPEC section 4): a Wikipedia page is known by its title.
 *
 * - from a URL `https://en.wikipedia.org/wiki/X`: X percent-decoded, `_` read as a space;
 * - from the abstract dump's `<title>`: the text after the prefix `Wikipedia: `.
 *
 * Every stage that names a page goes through these functions, so that the keys
 * the matcher asks for and the keys the scanner finds are spelled alike.
 */

export const WIKI_URL_PREFIX = 'https://en.wikipedia.org/wiki/';
export const DUMP_TITLE_PREFIX = 'Wikipedia: ';

/** `%41%zz` → `A%zz`: decodes what decodes, keeps what does not (never throws). */
export function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    // Decode maximal runs of valid %XX UTF-8 sequences one run at a time.
    return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8');
      }
    });
  }
}

/** The key of a page from its URL; null when the URL is not an article URL. */
export function keyFromUrl(url: string): string | null {
  const at = url.indexOf('/wiki/');
  if (at < 0) return null;
  let path = url.slice(at + '/wiki/'.length);
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  if (path.length === 0) return null;
  return percentDecode(path).replace(/_/g, ' ');
}

/** The key of a page from the dump's `<title>` text. */
export function keyFromDumpTitle(title: string): string {
  return title.startsWith(DUMP_TITLE_PREFIX) ? title.slice(DUMP_TITLE_PREFIX.length) : title;
}

/** The canonical URL of a page key, as the dump and Wikidata spell it. */
export function urlFromKey(key: string): string {
  const path = key
    .replace(/ /g, '_')
    .replace(/[^A-Za-z0-9\-._~!$()*,;:@/]/gu, (ch) =>
      Buffer.from(ch, 'utf8')
        .toString('hex')
        .toUpperCase()
        .replace(/../g, '%$&'),
    );
  return WIKI_URL_PREFIX + path;
}

/**
 * MediaWiki stores every title with its first letter upper-cased, so the page
 * of the film "xXx" is "XXX"-cased only in its first letter: "XXx".
 */
export function wikiTitleCase(title: string): string {
  const first = title.codePointAt(0);
  if (first === undefined) return title;
  const ch = String.fromCodePoint(first);
  return ch.toUpperCase().length === ch.length ? ch.toUpperCase() + title.slice(ch.length) : title;
}

/**
 * Characters MediaWiki never allows in a title: besides `#<>[]{}|`, every
 * control character (tab and line breaks included: they are not spaces to
 * it) and U+FFFD, which stands for bytes that were not UTF-8. `#` starts a
 * section link, so it never names a page either.
 */
const INVALID_TITLE_CHARS = /[#<>[\]{}|\u0000-\u001f\u007f\ufffd]|%[0-9A-Fa-f]{2}/u;
/** Bidirectional marks MediaWiki strips from titles. */
const BIDI_MARKS = /[\u200e\u200f\u202a-\u202e]/gu;
/** Underscores and the spaces MediaWiki reads as one space (MediaWikiTitleCodec's list, not JavaScript's `\s`). */
const TITLE_SPACES = /[ _\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/gu;
/** A space left at either end once the spaces are one: trimmed (not JavaScript's trim(), which also takes tabs and line breaks). */
const EDGE_SPACE = /^ | $/g;
/** Longest title, in UTF-8 bytes. */
const MAX_TITLE_BYTES = 255;

/**
 * A title as MediaWiki normalises it for the main namespace of English
 * Wikipedia: Unicode NFC, bidirectional marks dropped, underscores and runs of
 * spaces as one space, trimmed, the first letter upper case. Null when
 * MediaWiki would refuse it as invalid (empty, a character it never allows,
 * percent-encoding, over 255 bytes). The API's own `normalized` list is what
 * counts for an answer; this makes the question and the cache key.
 */
export function normalizeTitle(text: string): string | null {
  let title = normalized.get(text);
  if (title !== undefined) return title;
  title = wikiTitleCase(text.normalize('NFC').replace(BIDI_MARKS, '').replace(TITLE_SPACES, ' ').replace(EDGE_SPACE, ''));
  if (title === '' || INVALID_TITLE_CHARS.test(title) || Buffer.byteLength(title) > MAX_TITLE_BYTES) title = null;
  if (normalized.size >= MAX_REMEMBERED) normalized.clear();
  normalized.set(text, title);
  return title;
}

/**
 * Whether MediaWiki would take `key` for a title. A title it would refuse is
 * no page, whichever source names it (Wikidata's article URLs, the Action
 * API's answers, a dump): such a page is never a film's.
 */
export function isValidTitle(key: string): boolean {
  return normalizeTitle(key) !== null;
}

/**
 * Titles already normalised: the live wiki's matching asks about the same
 * few thousand titles after every answer, and normalising was the most of
 * its time. Bounded, so that a run over many titles keeps flat memory.
 */
const normalized = new Map<string, string | null>();
const MAX_REMEMBERED = 50_000;
