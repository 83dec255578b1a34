/**
 * Matching rules of SPEC section 4 on a labelled set built from real pages of
 * real dumps (test/fixtures/real): the exact priority of the title
 * candidates, the bare-title "film" rule, Wikidata's choice among several
 * articles, and the abstract quality judge.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { judgeAbstract } from '../src/abstract-quality.js';
import { keyFromDumpTitle } from '../src/keys.js';
import { runMatch, titleCandidates, type ArticleRef } from '../src/stages/match.js';
import type { Film, WikiPage } from '../src/types.js';
import { REAL_DATA } from './helpers/cli.js';

const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The real pages, read with a regular expression (the scanner has its own tests). */
function realPages(): Map<string, WikiPage> {
  const pages = new Map<string, WikiPage>();
  for (const file of ['enwiki_2021_film_pages.xml', 'enwiki_abstract_excerpt_reindented.xml', 'enwiki_abstract_first_doc.xml']) {
    const text = readFileSync(path.join(REAL_DATA, file), 'utf8');
    for (const m of text.matchAll(/<title>(.*?)<\/title>\s*<url>(.*?)<\/url>\s*<abstract>(.*?)<\/abstract>/gs)) {
      const key = keyFromDumpTitle(decode(m[1]!));
      const abstract = decode(m[3]!).trim();
      if (!pages.has(key)) pages.set(key, { key, url: m[2]!, abstract: abstract === '' ? null : abstract });
    }
  }
  return pages;
}

const pages = realPages();
let nextId = 1;
function film(title: string, year: number | null, extra: Partial<Film> = {}): Film {
  return {
    id: nextId++,
    imdbId: null,
    title,
    originalTitle: null,
    releaseDate: null,
    year,
    budget: 1,
    revenue: 1,
    ratio: 1,
    rank: nextId,
    rating: null,
    voteCount: null,
    genres: [],
    companies: [],
    ...extra,
  };
}
const matchOne = (f: Film, wikidata = new Map<string, ArticleRef[]>(), p: ReadonlyMap<string, WikiPage> = pages) =>
  runMatch({ films: [f], wikidata, pages: p }).matches[0]!;

describe('title matching on real pages', () => {
  test('the candidates, in SPEC order, then the same with the original title', () => {
    assert.deepEqual(
      titleCandidates({ title: 'King Kong', originalTitle: 'King Kong', year: 1933 }).map((c) => c.key),
      ['King Kong (1933 film)', 'King Kong (film)', 'King Kong'],
    );
    assert.deepEqual(
      titleCandidates({ title: 'Spirited Away', originalTitle: '千と千尋の神隠し', year: 2001 }).map((c) => c.key),
      ['Spirited Away (2001 film)', 'Spirited Away (film)', 'Spirited Away', '千と千尋の神隠し (2001 film)', '千と千尋の神隠し (film)', '千と千尋の神隠し'],
    );
    assert.deepEqual(
      titleCandidates({ title: 'xXx', originalTitle: null, year: null }).map((c) => c.key),
      ['XXx (film)', 'XXx'],
      'MediaWiki titles start with a capital; no year, no year candidate',
    );
  });

  test('King Kong (1933) and King Kong (1976) each find their own page', () => {
    const m1933 = matchOne(film('King Kong', 1933));
    const m1976 = matchOne(film('King Kong', 1976));
    assert.deepEqual([m1933.method, m1933.title, m1933.url], ['title', 'King Kong (1933 film)', 'https://en.wikipedia.org/wiki/King_Kong_(1933_film)']);
    assert.deepEqual([m1976.method, m1976.title], ['title', 'King Kong (1976 film)']);
    assert.equal(m1933.abstract, null, 'its dump abstract is "| producer =": infobox residue, not an abstract');
    assert.equal(matchOne(film('King Kong', 2005)).method, 'none', 'no 2005 page, no "(film)" page, and the bare title is not held');
  });

  test('a bare title counts only when its abstract says "film": a novel, a person, a disambiguation page do not', () => {
    assert.match(pages.get('The Postman')!.abstract!, /novel by David Brin/);
    assert.equal(matchOne(film('The Postman', 1997)).method, 'none');
    assert.equal(matchOne(film('Antwone Fisher', 2002)).method, 'title');
    assert.equal(matchOne(film('Antwone Fisher', 2002)).title, 'Antwone Fisher (film)', '"(film)" wins over the person');
    assert.equal(matchOne(film('Psycho', 1960)).method, 'none', '"Psycho may refer to:"');
  });

  test('"(year film)" beats "(film)" beats the bare title', () => {
    const p = new Map<string, WikiPage>([
      ['Heat', { key: 'Heat', url: 'u0', abstract: 'Heat is a 1995 American crime film.' }],
      ['Heat (film)', { key: 'Heat (film)', url: 'u1', abstract: null }],
      ['Heat (1995 film)', { key: 'Heat (1995 film)', url: 'u2', abstract: 'Heat is a 1995 American crime film written and directed by Michael Mann.' }],
    ]);
    assert.equal(matchOne(film('Heat', 1995), new Map(), p).url, 'u2');
    p.delete('Heat (1995 film)');
    assert.equal(matchOne(film('Heat', 1995), new Map(), p).url, 'u1');
    p.delete('Heat (film)');
    const bare = matchOne(film('Heat', 1995), new Map(), p);
    assert.deepEqual([bare.url, bare.abstract, bare.abstractSource], ['u0', 'Heat is a 1995 American crime film.', 'dump']);
    assert.equal(matchOne(film('Chaleur', 1995, { originalTitle: 'Heat' }), new Map(), p).url, 'u0', 'then the original title');
    p.set('Heat', { key: 'Heat', url: 'u0', abstract: 'Heat is energy in transfer; cinematic films aside.' });
    assert.equal(matchOne(film('Heat', 1995), new Map(), p).method, 'none', '"films" is not the word "film"');
  });
});

describe('Wikidata matching', () => {
  const kong: ArticleRef = { key: 'King Kong (1933 film)', url: 'https://en.wikipedia.org/wiki/King_Kong_(1933_film)' };
  test('the Wikidata page is the film page whether or not the dump holds it, and beats titles', () => {
    const f = film('King Kong', 1976, { imdbId: 'tt0024216' });
    const m = matchOne(f, new Map([['tt0024216', [kong]]]));
    assert.deepEqual([m.method, m.title], ['wikidata', 'King Kong (1933 film)']);
    const absent: ArticleRef = { key: 'Not In The Dump', url: 'https://en.wikipedia.org/wiki/Not_In_The_Dump' };
    const m2 = matchOne(f, new Map([['tt0024216', [absent]]]));
    assert.deepEqual([m2.method, m2.url, m2.abstract], ['wikidata', absent.url, null]);
  });

  test('several articles: the one the dump holds, then the smallest key', () => {
    const f = film('X', 2000, { imdbId: 'tt1' });
    const a = { key: 'B held', url: 'ub' };
    const b = { key: 'A not held', url: 'ua' };
    const c = { key: 'C held', url: 'uc' };
    const p = new Map<string, WikiPage>([
      ['B held', { key: 'B held', url: 'ub', abstract: null }],
      ['C held', { key: 'C held', url: 'uc', abstract: null }],
    ]);
    assert.equal(matchOne(f, new Map([['tt1', [c, b, a]]]), p).url, 'ub');
    assert.equal(matchOne(f, new Map([['tt1', [c, b, a]]]), new Map()).url, 'ua');
  });

  test('an empty answer falls back to title matching', () => {
    const m = matchOne(film('King Kong', 1933, { imdbId: 'tt0024216' }), new Map([['tt0024216', []]]));
    assert.equal(m.method, 'title');
  });
});

describe('the abstract quality judge on the 2021 dump film pages', () => {
  test('infobox residue, template braces, captions, disambiguation and fragments are not abstracts', () => {
    assert.equal(judgeAbstract('| producer ='), 'infobox');
    assert.equal(judgeAbstract('| starring       = Michael CaineIan Hendry'), 'infobox');
    assert.equal(judgeAbstract('Magnificent Seven}}'), 'markup');
    assert.equal(judgeAbstract('thumb|200px|right|Paradise by [[Jan Bruegel]]'), 'markup');
    assert.equal(judgeAbstract('__NOTOC__'), 'markup');
    assert.equal(judgeAbstract('Hard Rain may refer to:'), 'disambiguation');
    assert.equal(judgeAbstract('(paperback edition)'), 'fragment');
    assert.equal(judgeAbstract('Miramax Films'), 'fragment');
    assert.equal(judgeAbstract('and the magazine Télérama #2998–3006..'), 'fragment');
    assert.equal(judgeAbstract('(as The Manchester Guardian, renamed The Guardian in 1959)'), 'fragment');
    assert.equal(judgeAbstract('King Kong (1959) was a landmark musical that ran in Johannesburg.'), 'prose');
    // titles that start in lower case or with a parenthesis are still prose
    assert.equal(judgeAbstract('(500) Days of Summer is a 2009 American romantic comedy-drama film.'), 'prose');
    assert.equal(judgeAbstract('eXistenZ is a 1999 science fiction body horror film.'), 'prose');
    assert.equal(judgeAbstract('xXx is a 2002 American action film.'), 'prose');
  });

  test('counts over the real 811 pages: 431 infobox lines are refused, real prose is kept', () => {
    const text = readFileSync(path.join(REAL_DATA, 'enwiki_2021_film_pages.xml'), 'utf8');
    const verdicts = { prose: 0, infobox: 0, markup: 0, disambiguation: 0, fragment: 0 };
    for (const m of text.matchAll(/<abstract>(.*?)<\/abstract>/gs)) verdicts[judgeAbstract(decode(m[1]!))]++;
    assert.equal(verdicts.infobox, 431);
    assert.ok(verdicts.disambiguation >= 180, `disambiguation ${verdicts.disambiguation}`);
    assert.ok(verdicts.prose >= 100 && verdicts.prose <= 140, `prose ${verdicts.prose}`);
    assert.equal(Object.values(verdicts).reduce((a, b) => a + b, 0), 811);
  });
});
