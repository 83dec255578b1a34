/**
 * Is a dump's `<abstract>` prose about the page, or residue of how the dump was
 * made? The real dumps are full of residue for films: of 811 film pages of a
 * 2021 dump, 431 abstracts are infobox lines (`| producer =`), 40 hold template
 * braces (`Magnificent Seven}}`), others are image captions (`thumb|...`),
 * magic words (`__NOTOC__`) or lone fragments (`(paperback edition)`).
 * Disambiguation pages ("Hard Rain may refer to:") are prose but not an
 * abstract of any one film.
 */

export type AbstractVerdict = 'prose' | 'infobox' | 'markup' | 'disambiguation' | 'fragment';

const KEY_EQUALS = /^[\p{L}\p{N}_ ]{1,40}=/u;
const MARKUP = /\{\{|\}\}|\[\[|\]\]|postopcaption|^thumb\||^__[A-Z]+__|^==|^<|\|\s*\w+\s*=/;
const DISAMBIGUATION = /\b(?:may|can|most commonly|commonly|also)\s+refers?\s+to\b|may have the following meanings/i;
const MIN_WORDS = 4;
const CONTINUATION = /^(?:and|or|but|in|on|of|at|to|with|for|by|from|as|which|who|that|the|a|an)\s/;
const MIN_CHARS = 20;

export function judgeAbstract(text: string): AbstractVerdict {
  const t = text.trim();
  if (t.startsWith('|') || KEY_EQUALS.test(t)) return 'infobox';
  if (MARKUP.test(t)) return 'markup';
  // "Hard Rain may refer to:", "W Radio is the branding of several radio stations, including:"
  if (DISAMBIGUATION.test(t.split(/[.!?](?:\s|$)/)[0]!) || /:\s*$/.test(t)) return 'disambiguation';
  // the tail of a sentence cut off ("and the magazine Télérama..."), a lone parenthesis ("(paperback edition)");
  // titles may start in lower case or with a parenthesis: "eXistenZ is...", "(500) Days of Summer is..."
  if (t.length < MIN_CHARS || t.split(/\s+/).length < MIN_WORDS || CONTINUATION.test(t) || /^\([^)]*\)\.?$/.test(t)) return 'fragment';
  return 'prose';
}

/** The abstract when it is prose, else null. */
export function proseOrNull(text: string | null): string | null {
  return text !== null && judgeAbstract(text) === 'prose' ? text : null;
}
