/**
 * A deterministic generator of realistic abstract dumps (SPEC section 8) of any
 * size: the same seed and size give the same bytes on every machine.
 *
 * Docs are about 1 KB, in the dump's own layout (one sublink a line): ASCII,
 * accented, CJK and emoji titles; `&amp;`, `&lt;`, `&gt;` and raw quotes;
 * empty, serialization-error and not-applicable abstracts; infobox residue
 * (`| producer =`); 0 to 15 sublinks.
 *
 *   node --import tsx bench/generate.ts OUT.xml SIZE [--seed N] [--gzip]
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { urlFromKey } from '../src/keys.js';

/** mulberry32: small, fast, and the same everywhere */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

/** Yields the dump's text in pieces of about 1 MB; stops at the first doc that reaches `bytes`. */
export function* dumpPieces(seed: number, bytes: number): Generator<Buffer> {
  let written = 0;
  let index = 0;
  let piece: string[] = [HEADER];
  let pieceBytes = HEADER.length;
  while (written + pieceBytes < bytes) {
    const doc = docOf(seed, index++);
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
  piece.push(TRAILER);
  yield Buffer.from(piece.join(''));
}

export interface GenerateOptions {
  seed?: number;
  gzip?: boolean;
}

/** Writes a dump of about `bytes` bytes (uncompressed) to `file`; returns the number of docs. */
export async function generateDump(file: string, bytes: number, options: GenerateOptions = {}): Promise<void> {
  const seed = options.seed ?? 1;
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const source = Readable.from(dumpPieces(seed, bytes));
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
    console.error('usage: node --import tsx bench/generate.ts OUT.xml SIZE[K|M|G] [--seed N] [--gzip]');
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
  const started = Date.now();
  await generateDump(out, Math.round(Number(m[1]) * scale), { seed, gzip: process.argv.includes('--gzip') });
  console.error(`${out}: ${(await stat(out)).size} bytes in ${Date.now() - started} ms`);
}
