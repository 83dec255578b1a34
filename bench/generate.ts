/**
 * A deterministic generator of realistic abstract dumps (SPEC section 8) of any
 * size: the same seed and size give the same bytes on every machine.
 *
 * Docs are about 1 KB, in the dump's own layout (one sublink a line): ASCII,
 * accented, CJK and emoji titles; `&amp;`, `&lt;`, `&gt;` and raw quotes;
 * empty, serialization-error and not-applicable abstracts; infobox residue
 * (`| producer =`); 0 to 15 sublinks.
 *
 * `--format cirrus` writes the CirrusSearch content dump instead (Elasticsearch
 * bulk NDJSON: an action line, then the document line), with the same titles:
 * documents of 2-30 KB (their `text` and `source_text` are most of it, as in
 * the real dump), fields in a fixed but not alphabetical order, redirects
 * (nested `"title"`s, some before the page's own), external links with IMDb
 * title links for a sixth of the pages (`imdbOf`), other namespaces now and
 * then, and one document in ten written as PHP's json_encode writes it
 * (`\/` and `\uXXXX`).
 *
 *   node --import tsx bench/generate.ts OUT SIZE [--seed N] [--gzip] [--format xml|cirrus]
 */
import { createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { urlFromKey } from '../src/keys.js';
import { seeded as rng } from '../test/helpers/random.js';

/** mulberry32 (test/helpers/random.ts): small, fast, and the same everywhere */
export { rng };

const WORDS = (
  'the of and a in to was is for on as by with from at his an were which are this be had it has its not but or ' +
  'film novel city river house war love night king queen man woman story time world life death black white red ' +
  'blue green dark light last first new old great little big lost secret golden silver iron stone fire water ' +
  'music album song band station school church bridge island mountain valley road street park garden castle ' +
  'american british french german japanese chinese indian italian spanish russian canadian australian ' +
  'directed produced written starring released based television series season episode character actor'
).split(' ');
const FANCY = [
  'Café', 'Zürich', 'Ærøskøbing', 'Łódź', 'São Paulo', 'Český Krumlov', 'Smörgåsbord', 'Ñandú', 'Straße',
  'Dvořák', 'Øresund', 'İstanbul', 'Ελλάδα', 'Москва', 'Київ', 'עברית', 'العربية', 'हिन्दी',
  '東京物語', '千と千尋の神隠し', '七人の侍', '霸王别姬', '花样年华', '기생충', '올드보이', 'Ánh Sáng', '🎬 Action',
];
const SECTIONS = [
  'History', 'Plot', 'Cast', 'Production', 'Release', 'Reception', 'Box office', 'Critical response', 'Legacy',
  'See also', 'References', 'External links', 'Further reading', 'Early life', 'Career', 'Personal life',
  'Awards & nominations', 'Soundtrack', 'Home media', 'Sequel', 'Notes', 'Bibliography', 'Geography', 'Economy',
];
const INFOBOX = ['producer', 'starring', 'music', 'birth_place', 'based_on', 'story', 'locmapin', 'english_pub_date', 'cinematography', 'editing'];

const SYLLABLES = 'ka lo mi ne ra to su vi de ba cor lin mar ten dor gal hes qui zan wen bri fal mon ter pel rus ord ax ing'.split(' ');

/** A made-up word (names, places, rare words): real abstracts are full of them, and they compress as badly. */
function coined(r: () => number): string {
  let w = '';
  const n = 2 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)]!;
  return w;
}

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** The title (the page key) of doc `index` of a dump made with `seed`. */
export function titleOf(seed: number, index: number): string {
  const r = rng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const n = 1 + Math.floor(r() * 4);
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.06) words.push(FANCY[Math.floor(r() * FANCY.length)]!);
    else if (x < 0.08) words.push('&');
    else if (x < 0.09) words.push('"Quoted"');
    else if (x < 0.1) words.push("O'Brien's");
    else if (x < 0.45) words.push(capitalise(coined(r)));
    else words.push(capitalise(WORDS[Math.floor(r() * WORDS.length)]!));
  }
  const y = r();
  // the index makes every title unique, as page titles are
  let title = `${words.join(' ')} ${index.toString(36)}`;
  if (y < 0.1) title += ` (${1920 + Math.floor(r() * 100)} film)`;
  else if (y < 0.14) title += ' (film)';
  else if (y < 0.16) title += ' (a < b > c)';
  return title;
}

function sentence(r: () => number): string {
  const n = 6 + Math.floor(r() * 18);
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.02) words.push(FANCY[Math.floor(r() * FANCY.length)]!);
    else if (x < 0.03) words.push('&');
    else if (x < 0.035) words.push('"quoted"');
    else if (x < 0.04) words.push("it's");
    else if (x < 0.042) words.push('x < y > z');
    else if (x < 0.45) words.push(r() < 0.5 ? capitalise(coined(r)) : coined(r));
    else if (x < 0.48) words.push(String(Math.floor(r() * 3000)));
    else words.push(WORDS[Math.floor(r() * WORDS.length)]!);
  }
  return capitalise(words.join(' ')) + '.';
}

/** The whole `<doc>` element of doc `index`, with its trailing newline. */
export function docOf(seed: number, index: number): string {
  const title = titleOf(seed, index);
  const r = rng((seed * 31 + index * 7919 + 17) >>> 0);
  const url = urlFromKey(title);
  const kind = r();
  let abstract: string;
  if (kind < 0.08) abstract = '<abstract />';
  else if (kind < 0.11) abstract = '<abstract serialization-error="" />';
  else if (kind < 0.13) abstract = '<abstract not-applicable="" />';
  else if (kind < 0.25) abstract = `<abstract>| ${INFOBOX[Math.floor(r() * INFOBOX.length)]} =${r() < 0.5 ? '' : ' ' + escapeXml(sentence(r))}</abstract>`;
  else if (kind < 0.3) abstract = `<abstract>${escapeXml(title)} may refer to:</abstract>`;
  else {
    const n = 1 + Math.floor(r() * 3);
    const text: string[] = [];
    for (let i = 0; i < n; i++) text.push(sentence(r));
    abstract = `<abstract>${escapeXml(text.join(' '))}</abstract>`;
  }
  const links = Math.floor(r() ** 2 * 16);
  let body = '';
  for (let i = 0; i < links; i++) {
    const section = SECTIONS[Math.floor(r() * SECTIONS.length)]!;
    body += `<sublink linktype="nav"><anchor>${escapeXml(section)}</anchor><link>${url}#${encodeURIComponent(section.replace(/ /g, '_'))}</link></sublink>\n`;
  }
  return `<doc>\n<title>Wikipedia: ${escapeXml(title)}</title>\n<url>${url}</url>\n${abstract}\n<links>\n${body}</links>\n</doc>\n`;
}

export const HEADER = '<feed>\n';
export const TRAILER = '</feed>\n';

/** The IMDb id that doc `index` of a CirrusSearch dump made with `seed` links, or null (five pages in six). */
export function imdbOf(seed: number, index: number): string | null {
  const r = rng((seed * 131 + index * 104729 + 7) >>> 0);
  if (r() >= 1 / 6) return null;
  return `tt${String(100000 + ((index * 7919 + seed * 13) % 9_000_000)).padStart(7, '0')}`;
}

/** JSON as PHP's json_encode writes it by default: `/` and every non-ASCII character escaped. */
export function phpJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u0080-\uffff]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** The two lines (bulk action, document) of doc `index` of a CirrusSearch dump, with their newlines. */
export function cirrusDocOf(seed: number, index: number): string {
  const title = titleOf(seed, index);
  const r = rng((seed * 37 + index * 6151 + 29) >>> 0);
  const lead: string[] = [];
  const leadSentences = 1 + Math.floor(r() * 4);
  for (let i = 0; i < leadSentences; i++) lead.push(sentence(r));
  const body: string[] = [...lead];
  const bodySentences = Math.floor(r() ** 2 * 120);
  for (let i = 0; i < bodySentences; i++) body.push(sentence(r));
  const headings = Array.from({ length: Math.floor(r() * 8) }, () => SECTIONS[Math.floor(r() * SECTIONS.length)]!);
  const redirects = Array.from({ length: Math.floor(r() ** 3 * 6) }, (_, i) => ({ namespace: 0, title: `${title} redirect ${i}` }));
  const imdb = imdbOf(seed, index);
  const links: string[] = [];
  for (let i = Math.floor(r() * 6); i > 0; i--) links.push(`https://www.${coined(r)}.com/${coined(r)}/${Math.floor(r() * 1e6)}`);
  if (imdb) links.splice(Math.floor(r() * (links.length + 1)), 0, `https://www.imdb.com/title/${imdb}/`);
  if (r() < 0.1) links.push(`https://www.imdb.com/name/nm${String(Math.floor(r() * 1e7)).padStart(7, '0')}/`);
  const kind = r();
  const namespace = kind < 0.03 ? 1 : kind < 0.04 ? 4 : 0;
  const doc: Record<string, unknown> = {
    template: ['Template:Short description', r() < 0.3 ? 'Template:Infobox film' : 'Template:Reflist'],
    content_model: 'wikitext',
    opening_text: r() < 0.05 ? null : lead.join(' '),
    wiki: 'enwiki',
    auxiliary_text: r() < 0.5 ? [sentence(r)] : [],
    language: 'en',
    // a document's own title is not always its first "title": redirects may come first
    ...(r() < 0.3 ? { redirect: redirects } : {}),
    title: namespace === 1 ? `Talk:${title}` : title,
    text: body.join(' '),
    defaultsort: false,
    timestamp: '2025-08-01T12:00:00Z',
    redirect: redirects,
    wikibase_item: `Q${1000 + index}`,
    version_type: 'external',
    heading: headings,
    source_text: `{{Short description|${coined(r)}}}\n'''${title}''' ${body.join('\n\n')}\n== See also ==\n* [[${titleOf(seed, index + 1)}]]`,
    version: 1_200_000_000 + index,
    external_link: links,
    namespace_text: namespace === 1 ? 'Talk' : namespace === 4 ? 'Wikipedia' : '',
    namespace,
    text_bytes: body.join(' ').length,
    incoming_links: Math.floor(r() * 500),
    category: [`${capitalise(coined(r))} films`, 'Articles with short description'],
    outgoing_link: Array.from({ length: Math.floor(r() * 20) }, () => capitalise(coined(r)).replace(/ /g, '_')),
    popularity_score: r() / 1000,
    page_id: 1000 + index,
  };
  const action = `{"index":{"_type":"_doc","_id":"${1000 + index}"}}`;
  return `${action}\n${r() < 0.1 ? phpJson(doc) : JSON.stringify(doc)}\n`;
}

export type DumpFormat = 'xml' | 'cirrus';

/** Yields the dump's text in pieces of about 1 MB; stops at the first doc that reaches `bytes`. */
export function* dumpPieces(seed: number, bytes: number, format: DumpFormat = 'xml'): Generator<Buffer> {
  const [header, trailer, docAt] = format === 'xml' ? [HEADER, TRAILER, docOf] : ['', '', cirrusDocOf];
  let written = 0;
  let index = 0;
  let piece: string[] = [header];
  let pieceBytes = header.length;
  while (written + pieceBytes < bytes) {
    const doc = docAt(seed, index++);
    piece.push(doc);
    pieceBytes += Buffer.byteLength(doc);
    if (pieceBytes >= 1 << 20) {
      const buf = Buffer.from(piece.join(''));
      written += buf.length;
      yield buf;
      piece = [];
      pieceBytes = 0;
    }
  }
  piece.push(trailer);
  yield Buffer.from(piece.join(''));
}

/** The wanted keys of the abstract-dump scan: 3,000 pages of the dump (a few thousand matter) and 2,000 that it does not hold. */
export function keysFile(dir: string, seed: number, docs: number): string {
  const file = path.join(dir, `keys-seed${seed}-${docs}.json`);
  if (!existsSync(file)) {
    const keys: string[] = [];
    const step = Math.max(1, Math.floor(docs / 3000));
    for (let i = 0; i < docs && keys.length < 3000; i += step) keys.push(titleOf(seed, i));
    for (let i = 0; i < 2000; i++) keys.push(`Absent Film ${i} (${1950 + (i % 70)} film)`);
    writeFileSync(file, JSON.stringify(keys));
  }
  return file;
}

/**
 * The wanted keys of the CirrusSearch scan, in the proportions of a real run
 * (a few thousand keys, most not in the dump; a few thousand docs wanted of
 * millions): 0.3% of the documents by title, 0.1% by IMDb link, and 2,700
 * titles and 900 IMDb ids that the dump does not hold.
 */
export function cirrusKeysFile(dir: string, seed: number, docs: number): string {
  const file = path.join(dir, `cirrus-keys-seed${seed}-${docs}.json`);
  if (!existsSync(file)) {
    const keys: string[] = [];
    const imdb: string[] = [];
    const titles = Math.max(1, Math.round(docs * 0.003));
    for (let i = 0, step = Math.max(1, Math.floor(docs / titles)); i < docs && keys.length < titles; i += step) keys.push(titleOf(seed, i));
    for (let i = 0; i < 2700; i++) keys.push(`Absent Film ${i} (${1950 + (i % 70)} film)`);
    const links = Math.max(1, Math.round(docs * 0.001));
    for (let i = 1; i < docs && imdb.length < links; i += 7) {
      const id = imdbOf(seed, i);
      if (id && !imdb.includes(id)) imdb.push(id);
    }
    for (let i = 0; i < 900; i++) imdb.push(`tt9${String(i).padStart(7, '0')}`);
    writeFileSync(file, JSON.stringify({ keys, imdb }));
  }
  return file;
}

export interface GenerateOptions {
  seed?: number;
  gzip?: boolean;
  format?: DumpFormat;
}

/** Writes a dump of about `bytes` bytes (uncompressed) to `file` (through `file`.tmp, renamed when complete). */
async function generateDump(file: string, bytes: number, options: GenerateOptions = {}): Promise<void> {
  const seed = options.seed ?? 1;
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const source = Readable.from(dumpPieces(seed, bytes, options.format));
  if (options.gzip) await pipeline(source, createGzip({ level: 6, chunkSize: 1 << 20 }), createWriteStream(tmp));
  else await pipeline(source, createWriteStream(tmp));
  await rename(tmp, file);
}

/** Generates `file` unless it exists already (files are named after their seed and size). */
export async function ensureDump(file: string, bytes: number, options: GenerateOptions = {}): Promise<void> {
  try {
    await stat(file);
  } catch {
    await generateDump(file, bytes, options);
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]));
if (isMain) {
  const [out, sizeText] = process.argv.slice(2);
  if (!out || !sizeText) {
    console.error('usage: node --import tsx bench/generate.ts OUT SIZE[K|M|G] [--seed N] [--gzip] [--format xml|cirrus]');
    process.exit(2);
  }
  const m = /^(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(sizeText);
  if (!m) {
    console.error(`bad size ${sizeText}`);
    process.exit(2);
  }
  const scale = { '': 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  const seedAt = process.argv.indexOf('--seed');
  const seed = seedAt > 0 ? Number(process.argv[seedAt + 1]) : 1;
  const formatAt = process.argv.indexOf('--format');
  const format = formatAt > 0 ? process.argv[formatAt + 1] : 'xml';
  if (format !== 'xml' && format !== 'cirrus') {
    console.error(`--format must be xml or cirrus, got ${JSON.stringify(format)}`);
    process.exit(2);
  }
  const started = Date.now();
  await generateDump(out, Math.round(Number(m[1]) * scale), { seed, gzip: process.argv.includes('--gzip'), format });
  console.error(`${out}: ${(await stat(out)).size} bytes in ${Date.now() - started} ms`);
}
