/**
 * One `<doc>` parsed in full with sax (strict): only the docs that are wanted,
 * or that the fast path cannot read, come here. Entities are decoded,
 * attributes read (`<abstract serialization-error="" />` is an empty abstract),
 * and anything that is not well-formed XML is reported, never thrown.
 */
import { createRequire } from 'node:module';
import type Sax from 'sax';

/** sax, loaded with the first doc parsed: a thread that parses none (the main thread, most workers' first seconds) never loads it */
const require = createRequire(import.meta.url);
let sax: typeof Sax | null = null;

export interface ParsedDoc {
  /** the `<title>` text, entities decoded, not trimmed; null when absent */
  title: string | null;
  /** the `<url>` text, trimmed; null when absent or empty */
  url: string | null;
  /** the `<abstract>` text, decoded and trimmed; null when empty or absent */
  abstract: string | null;
}

export type DocParse = { ok: true; doc: ParsedDoc } | { ok: false; reason: string };

const FIELDS = new Set(['title', 'url', 'abstract']);

export function parseDoc(xml: string): DocParse {
  sax ??= require('sax') as typeof Sax;
  const parser = sax.parser(true, { trim: false, normalize: false, position: false });
  const found: Record<string, string> = {};
  let depth = 0;
  let field: string | null = null;
  let text = '';
  let error: string | null = null;
  let rootClosed = false;

  parser.onerror = (err) => {
    error ??= err.message.split('\n')[0]!;
  };
  parser.onopentag = (tag) => {
    if (depth === 0 && (tag.name !== 'doc' || rootClosed)) error ??= `expected <doc>, found <${tag.name}>`;
    if (depth === 1 && FIELDS.has(tag.name) && !(tag.name in found)) {
      field = tag.name;
      text = '';
    }
    depth++;
  };
  parser.ontext = (t) => {
    if (field !== null && depth === 2) text += t;
    else if (depth === 0 && t.trim() !== '') error ??= 'text outside <doc>';
  };
  parser.oncdata = (t) => {
    if (field !== null && depth === 2) text += t;
  };
  parser.onclosetag = () => {
    depth--;
    if (depth === 1 && field !== null) {
      found[field] = text;
      field = null;
    }
    if (depth === 0) rootClosed = true;
  };
  try {
    parser.write(xml).close();
  } catch (err) {
    error ??= (err as Error).message.split('\n')[0]!;
  }
  if (error === null && !rootClosed) error = 'unclosed <doc>';
  if (error !== null) return { ok: false, reason: `not well-formed XML: ${error}` };
  const url = found.url?.trim() ?? '';
  const abstract = found.abstract?.trim() ?? '';
  return {
    ok: true,
    doc: { title: found.title ?? null, url: url === '' ? null : url, abstract: abstract === '' ? null : abstract },
  };
}
