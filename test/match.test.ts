/**
 * Matching rules of SPEC section 4 on a labelled set built from real pages of
 * real dumps (the real data: helpers/cli.ts REAL_DATA): the exact priority of the title
 * candidates, the bare-title "film" rule, the year check (a "(film)" or bare
 * page of another year is another film's: real leads of English Wikipedia,
 * read at run time), Wikidata's choice among several articles, and the
 * abstract quality judge.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { judgeAbstract } from '../src/abstract-quality.js';
import { keyFromDumpTitle } from '../src/keys.js';
import { descriptionYear, firstSentence, leadYear, liveQuestions, runMatch, titleCandidates, type ArticleRef } from '../src/stages/match.js';
import type { Film, LivePage, WikiPage } from '../src/types.js';
import { REAL_DATA, WITHOUT_REAL_DATA } from './helpers/cli.js';

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

const pages = WITHOUT_REAL_DATA ? new Map<string, WikiPage>() : realPages();
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

describe('title matching on real pages', { skip: WITHOUT_REAL_DATA }, () => {
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
    assert.deepEqual(
      titleCandidates({ title: 'Heat', originalTitle: null, year: 1995 }).map((c) => [c.key, c.bare, c.dated]),
      [['Heat (1995 film)', false, true], ['Heat (film)', false, false], ['Heat', true, false]],
      'only "({year} film)" names the year itself',
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

describe('one rule for the dump and the live wiki', () => {
  const article = (title: string, extra: Partial<Extract<LivePage, { kind: 'page' }>> = {}): LivePage => ({ kind: 'page', title, redirected: false, disambiguation: false, description: null, ...extra });
  const heat = film('Heat', 1995);

  test('a disambiguation page is never the film’s page, in the dump as on the wiki: the next candidate is tried', () => {
    const p = new Map<string, WikiPage>([
      ['Heat (film)', { key: 'Heat (film)', url: 'u1', abstract: 'Heat may refer to:' }],
      ['Heat', { key: 'Heat', url: 'u0', abstract: 'Heat is a 1995 American crime film.' }],
    ]);
    assert.equal(matchOne(heat, new Map(), p).url, 'u0');
    const live = new Map<string, LivePage>([
      ['Heat (1995 film)', { kind: 'missing' }],
      ['Heat (film)', article('Heat (film)', { disambiguation: true })],
    ]);
    const m = runMatch({ films: [heat], wikidata: new Map(), pages: new Map([['Heat', p.get('Heat')!]]), live }).matches[0]!;
    assert.deepEqual([m.method, m.title, m.abstractSource], ['title', 'Heat', 'dump']);
  });

  test('a title MediaWiki would refuse is never a candidate: a dump page of that title is no match, and the wiki is not asked', () => {
    const evil = film('Evil\u001b[31m\u0007', 2001);
    const tabbed = film('Tab\tFilm', 1990, { originalTitle: 'Tab Film' });
    assert.deepEqual(titleCandidates(evil), []);
    assert.deepEqual(titleCandidates(tabbed).map((c) => c.key), ['Tab Film (1990 film)', 'Tab Film (film)', 'Tab Film']);
    const p = new Map<string, WikiPage>(
      ['Evil\u001b[31m\u0007 (2001 film)', 'Tab\tFilm (1990 film)'].map((key) => [key, { key, url: `u:${key}`, abstract: 'A 2001 horror film.' }]),
    );
    const live = new Map<string, LivePage>();
    const { matches } = runMatch({ films: [evil, tabbed], wikidata: new Map(), pages: p, live });
    assert.deepEqual(matches.map((m) => m.method), ['none', 'none']);
    const asked = liveQuestions({ films: [evil, tabbed], wikidata: new Map(), pages: p, live });
    assert.deepEqual([...asked.lookup], ['Tab Film (1990 film)', 'Tab Film (film)', 'Tab Film'], 'only the original title is asked about');
  });

  test('the dump is asked first; what it lacks is asked of the wiki: whether each candidate exists at once, the decisions in order', () => {
    const p = new Map<string, WikiPage>([['Heat (1995 film)', { key: 'Heat (1995 film)', url: 'u2', abstract: '| producer =' }]]);
    // the dump holds the first candidate: no lookup, only its intro for the abstract (its dump abstract is residue)
    const q1 = liveQuestions({ films: [heat], wikidata: new Map(), pages: p, live: new Map() });
    assert.deepEqual([[...q1.lookup], [...q1.decide], [...q1.abstract]], [[], [], ['Heat (1995 film)']]);
    // the dump holds nothing: every candidate's lookup at once, and the ones still open once the first is answered
    const q2 = liveQuestions({ films: [heat], wikidata: new Map(), pages: new Map(), live: new Map() });
    assert.deepEqual([...q2.lookup], ['Heat (1995 film)', 'Heat (film)', 'Heat']);
    const q3 = liveQuestions({ films: [heat], wikidata: new Map(), pages: new Map(), live: new Map([['Heat (1995 film)', { kind: 'missing' }]]) });
    assert.deepEqual([...q3.lookup], ['Heat (film)', 'Heat']);
    // a candidate the dump holds is never asked of the wiki
    const inDump = new Map<string, WikiPage>([['Heat', { key: 'Heat', url: 'u0', abstract: 'Heat is a 1995 American crime film.' }]]);
    assert.deepEqual([...liveQuestions({ films: [heat], wikidata: new Map(), pages: inDump, live: new Map() }).lookup], ['Heat (1995 film)', 'Heat (film)']);
    // a bare title whose short description does not say film: its intro decides
    const live = new Map<string, LivePage>([
      ['Heat (1995 film)', { kind: 'missing' }],
      ['Heat (film)', { kind: 'unknown' }],
      ['Heat', article('Heat', { description: 'crime drama' })],
    ]);
    assert.deepEqual([...liveQuestions({ films: [heat], wikidata: new Map(), pages: new Map(), live }).decide], ['Heat']);
    live.set('Heat', article('Heat', { description: 'crime drama', extract: 'Heat is a 1995 crime film.' }));
    const m = runMatch({ films: [heat], wikidata: new Map(), pages: new Map(), live });
    assert.deepEqual([m.matches[0]!.title, m.matches[0]!.abstract, m.report.title_online], ['Heat', 'Heat is a 1995 crime film.', 1]);
    assert.equal([...m.questions.lookup, ...m.questions.decide, ...m.questions.abstract].length, 0, 'nothing left to ask');
  });

  test('a redirect is followed: the film’s page is its target; without a live wiki nothing is asked', () => {
    const live = new Map<string, LivePage>([['Heat (1995 film)', article('Heat (Michael Mann film)', { redirected: true })]]);
    // the abstract is asked of the target itself
    assert.deepEqual([...liveQuestions({ films: [heat], wikidata: new Map(), pages: new Map(), live }).abstract], ['Heat (Michael Mann film)']);
    live.set('Heat (Michael Mann film)', article('Heat (Michael Mann film)', { extract: 'Heat is a 1995 American crime film.' }));
    const m = runMatch({ films: [heat], wikidata: new Map(), pages: new Map(), live }).matches[0]!;
    assert.deepEqual([m.title, m.url, m.abstractSource], ['Heat (Michael Mann film)', 'https://en.wikipedia.org/wiki/Heat_(Michael_Mann_film)', 'api']);
    const dumpOnly = runMatch({ films: [heat], wikidata: new Map(), pages: new Map() });
    assert.equal(dumpOnly.matches[0]!.method, 'none');
    assert.equal(dumpOnly.questions.lookup.size, 0);
  });

  test('Wikidata’s articles: one the wiki holds beats a smaller key it lacks', () => {
    const f = film('X', 2000, { imdbId: 'tt1' });
    const articles = [{ key: 'A gone', url: 'ua' }, { key: 'B live', url: 'ub' }];
    const live = new Map<string, LivePage>([['A gone', { kind: 'missing' }], ['B live', article('B live', { extract: 'B live is a 2000 film.' })]]);
    assert.deepEqual([...liveQuestions({ films: [f], wikidata: new Map([['tt1', articles]]), pages: new Map(), live: new Map() }).lookup], ['A gone', 'B live']);
    const m = runMatch({ films: [f], wikidata: new Map([['tt1', articles]]), pages: new Map(), live }).matches[0]!;
    assert.deepEqual([m.method, m.url, m.abstract], ['wikidata', 'ub', 'B live is a 2000 film.']);
  });
});

describe('the first sentence of a lead, and the year it gives', () => {
  test('"is a YYYY", "is an YYYY", "was a YYYY", "was an YYYY" in the first sentence', () => {
    const cases: [string, number | null][] = [
      ['Heat is a 1995 American crime film written and directed by Michael Mann.', 1995],
      ['Cinderella is an 1899 French silent fantasy film directed by Georges Méliès.', 1899],
      ['The Kid was a 1921 American silent comedy-drama film.', 1921],
      ['The Great Train Robbery was an 1903 film.', 1903],
      // abbreviations and initials do not end the sentence
      ['Mr. Smith Goes to Washington is a 1939 American political comedy-drama film directed by Frank Capra.', 1939],
      ['Dr. Dolittle is a 1998 American fantasy comedy film directed by Betty Thomas.', 1998],
      ['U.S. Marshals is a 1998 American action thriller film.', 1998],
      ['Kramer vs. Kramer is a 1979 American legal drama film.', 1979],
      ['Theodore Rex, also known as T. Rex, is a 1995 American science fiction comedy film.', 1995],
      ['Mr. Death: The Rise and Fall of Fred A. Leuchter, Jr. is a 1999 documentary film.', 1999],
      ['Dancer, Texas Pop. 81 is a 1998 American comedy-drama film.', 1998],
      // titles that hold a year, or "!", "?" and ellipses
      ['2001: A Space Odyssey is a 1968 epic science fiction film produced and directed by Stanley Kubrick.', 1968],
      ['No Escape, released in some countries as Escape from Absolom and Absolom 2022, is a 1994 American science fiction action film.', 1994],
      ['Absolom 2022 is a 1994 American science fiction action film.', 1994],
      ['Airplane! is a 1980 American parody film.', 1980],
      ["What's Up, Doc? is a 1972 American screwball comedy film.", 1972],
      ["The Concorde ... Airport '79 is a 1979 American disaster film.", 1979],
      ['When Harry Met Sally... is a 1989 American romantic comedy film.', 1989],
      // full stops inside brackets, a line break inside the sentence
      ['Amélie (French: Le Fabuleux Destin d’Amélie Poulain; lit. The Fabulous Destiny of Amélie Poulain) is a 2001 romantic comedy film.', 2001],
      ['Breaking Away \nis a 1979 American coming of age comedy-drama film.', 1979],
      // no such phrase in the first sentence: no year
      ['Persuasion is a BBC Screen Two 1995 period drama film. It is a 1995 adaptation of the novel.', null],
      ['The Perez Family is an American comedy film released in 1995.', null],
      ['The Kid Stays in the Picture\nThe Kid Stays in the Picture is a 2002 documentary film.', null],
      ['Tarzan is a 1990s American film.', null],
      ['| producer =', null],
      ['', null],
    ];
    for (const [text, year] of cases) assert.equal(leadYear(text), year, JSON.stringify(text));
    assert.equal(leadYear(null), null);
    assert.equal(firstSentence('Mr. Smith Goes to Washington is a film. It stars James Stewart.'), 'Mr. Smith Goes to Washington is a film.');
    assert.equal(firstSentence('Monsters, Inc. is a 2001 film'), 'Monsters, Inc. is a 2001 film');
  });

  test('a short description that begins with a year', () => {
    assert.equal(descriptionYear('1967 film by Richard Fleischer'), 1967);
    assert.equal(descriptionYear(' 2001 film by Ridley Scott'), 2001);
    assert.equal(descriptionYear('1990s American film'), null);
    assert.equal(descriptionYear('American film by Richard Fleischer, 1967'), null);
    assert.equal(descriptionYear(null), null);
  });
});

/** Real leads of English Wikipedia's film articles (REST API, April 2023), by article title. */
function realLeads(): Map<string, { year: number; extract: string }> {
  const dir = path.join(REAL_DATA, 'wikipedia-movie-data');
  const leads = new Map<string, { year: number; extract: string }>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    for (const r of JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { href?: string; year: number; extract?: string }[]) {
      if (r.href && r.extract) leads.set(decodeURIComponent(r.href).replace(/_/g, ' '), { year: r.year, extract: r.extract });
    }
  }
  return leads;
}

describe('the year check: a "(film)" or bare page that gives another year is another film’s', { skip: WITHOUT_REAL_DATA }, () => {
  const leads = WITHOUT_REAL_DATA ? new Map<string, { year: number; extract: string }>() : realLeads();
  const dumpOf = (...keys: string[]) => new Map<string, WikiPage>(keys.map((k) => [k, { key: k, url: `u:${k}`, abstract: leads.get(k)!.extract }]));
  const article = (title: string, extra: Partial<Extract<LivePage, { kind: 'page' }>> = {}): LivePage => ({ kind: 'page', title, redirected: false, disambiguation: false, description: null, ...extra });

  test('in the dump: Doctor Dolittle (1998) does not take the 1967 film’s "(film)" page; a year within 2 does', () => {
    const p = dumpOf('Doctor Dolittle (film)');
    assert.match(p.get('Doctor Dolittle (film)')!.abstract!, /^Doctor Dolittle is a 1967 American musical/);
    assert.equal(matchOne(film('Doctor Dolittle', 1998), new Map(), p).method, 'none');
    assert.equal(matchOne(film('Doctor Dolittle', 1967), new Map(), p).title, 'Doctor Dolittle (film)');
    assert.equal(matchOne(film('Doctor Dolittle', 1969), new Map(), p).title, 'Doctor Dolittle (film)', '2 years off: still the film');
    assert.equal(matchOne(film('Doctor Dolittle', 1970), new Map(), p).method, 'none', '3 years off: another film');
    assert.equal(matchOne(film('Doctor Dolittle', null), new Map(), p).title, 'Doctor Dolittle (film)', 'a film without a year is not checked');
    // the next candidate is tried: the original title's "(film)" page is the 1998 film's
    const both = dumpOf('Doctor Dolittle (film)', 'Dr. Dolittle (film)');
    const m = matchOne(film('Doctor Dolittle', 1998, { originalTitle: 'Dr. Dolittle' }), new Map(), both);
    assert.deepEqual([m.title, m.url], ['Dr. Dolittle (film)', 'u:Dr. Dolittle (film)']);
  });

  test('in the dump: the bare title of another year (the 1994 Miracle on 34th Street is not the 1947 one); "({year} film)" is not checked', () => {
    const p = dumpOf('Miracle on 34th Street');
    assert.equal(matchOne(film('Miracle on 34th Street', 1994), new Map(), p).method, 'none');
    assert.equal(matchOne(film('Miracle on 34th Street', 1947), new Map(), p).title, 'Miracle on 34th Street');
    const dated = new Map<string, WikiPage>([['Heat (1995 film)', { key: 'Heat (1995 film)', url: 'u2', abstract: 'Heat is a 1986 film by somebody else.' }]]);
    assert.equal(matchOne(film('Heat', 1995), new Map(), dated).url, 'u2', 'the candidate names the year itself');
    const residue = new Map<string, WikiPage>([['Heat (film)', { key: 'Heat (film)', url: 'u1', abstract: '| producer =' }]]);
    assert.equal(matchOne(film('Heat', 1995), new Map(), residue).url, 'u1', 'a text that gives no year passes');
  });

  test('titles that hold a year: the year the lead gives is read, not the title’s', () => {
    const odyssey = dumpOf('2001: A Space Odyssey (film)');
    assert.equal(matchOne(film('2001: A Space Odyssey', 1968), new Map(), odyssey).title, '2001: A Space Odyssey (film)');
    assert.equal(matchOne(film('2001: A Space Odyssey', 2001), new Map(), odyssey).method, 'none', 'the page is a 1968 film’s');
    const absolom = new Map<string, WikiPage>([['Absolom 2022', { key: 'Absolom 2022', url: 'ua', abstract: leads.get('No Escape (1994 film)')!.extract }]]);
    assert.equal(matchOne(film('Absolom 2022', 1994), new Map(), absolom).url, 'ua');
    assert.equal(matchOne(film('Absolom 2022', 2022), new Map(), absolom).method, 'none');
  });

  test('on the wiki: a "(film)" page that exists is decided by its intro, asked once it is known to exist', () => {
    const dolittle = film('Doctor Dolittle', 1998);
    const ask = (live: Map<string, LivePage>) => liveQuestions({ films: [dolittle], wikidata: new Map(), pages: new Map(), live });
    const live = new Map<string, LivePage>([['Doctor Dolittle (1998 film)', { kind: 'missing' }]]);
    assert.deepEqual([[...ask(live).lookup], [...ask(live).decide]], [['Doctor Dolittle (film)', 'Doctor Dolittle'], []], 'lookups first: a missing title takes no extract');
    live.set('Doctor Dolittle (film)', article('Doctor Dolittle (film)', { description: 'film by Richard Fleischer' }));
    assert.deepEqual([[...ask(live).lookup], [...ask(live).decide]], [['Doctor Dolittle'], ['Doctor Dolittle (film)']], 'it exists: its intro');
    live.set('Doctor Dolittle (film)', article('Doctor Dolittle (film)', { description: 'film by Richard Fleischer', extract: leads.get('Doctor Dolittle (film)')!.extract }));
    assert.deepEqual([...ask(live).lookup], ['Doctor Dolittle'], 'a 1967 film: the next candidate');
    live.set('Doctor Dolittle', { kind: 'missing' });
    const m = runMatch({ films: [dolittle], wikidata: new Map(), pages: new Map(), live });
    assert.equal(m.matches[0]!.method, 'none');
    assert.equal([...m.questions.lookup, ...m.questions.decide, ...m.questions.abstract].length, 0, 'nothing left to ask');
    // the 1967 film takes it, with that intro as its abstract and nothing more asked
    const m1967 = runMatch({ films: [film('Doctor Dolittle', 1967)], wikidata: new Map(), pages: new Map(), live: new Map([...live, ['Doctor Dolittle (1967 film)', { kind: 'missing' }]]) });
    assert.deepEqual([m1967.matches[0]!.title, m1967.matches[0]!.abstractSource, m1967.report.title_online], ['Doctor Dolittle (film)', 'api', 1]);
    assert.match(m1967.matches[0]!.abstract!, /^Doctor Dolittle is a 1967/);
    assert.equal([...m1967.questions.lookup, ...m1967.questions.decide, ...m1967.questions.abstract].length, 0, 'the intro asked to decide is the abstract');
  });

  test('on the wiki: a short description that begins with another year rejects without the intro; a bare title of another year, through a redirect', () => {
    const dolittle = film('Doctor Dolittle', 1998);
    const live = new Map<string, LivePage>([
      ['Doctor Dolittle (1998 film)', { kind: 'missing' }],
      ['Doctor Dolittle (film)', article('Doctor Dolittle (film)', { description: '1967 film by Richard Fleischer' })],
    ]);
    const q = liveQuestions({ films: [dolittle], wikidata: new Map(), pages: new Map(), live });
    assert.deepEqual([[...q.lookup], [...q.decide]], [['Doctor Dolittle'], []], 'no intro asked for a page the description already rejects');
    const miracle = film('Miracle on 34th Street', 1994);
    const live2 = new Map<string, LivePage>([
      ['Miracle on 34th Street (1994 film)', { kind: 'missing' }],
      ['Miracle on 34th Street (film)', { kind: 'missing' }],
      ['Miracle on 34th Street', article('Miracle on 34th Street (Seaton film)', { redirected: true, description: 'American film', extract: leads.get('Miracle on 34th Street')!.extract })],
    ]);
    assert.equal(runMatch({ films: [miracle], wikidata: new Map(), pages: new Map(), live: live2 }).matches[0]!.method, 'none');
    live2.set('Miracle on 34th Street (1947 film)', { kind: 'missing' });
    const m1947 = runMatch({ films: [film('Miracle on 34th Street', 1947)], wikidata: new Map(), pages: new Map(), live: live2 }).matches[0]!;
    assert.equal(m1947.title, 'Miracle on 34th Street (Seaton film)', 'the redirect’s target');
  });

  test('the real leads of the CSV’s films: almost all give their year in the first sentence, none more than 2 from the CSV’s', () => {
    const lines = readFileSync(path.join(REAL_DATA, 'film-leads.jsonl'), 'utf8').trim().split('\n');
    let named = 0;
    const far: string[] = [];
    for (const line of lines) {
      const lead = JSON.parse(line) as { csv_title: string; csv_release_date: string; intro: string };
      const year = leadYear(lead.intro);
      if (year === null) continue;
      named++;
      if (Math.abs(year - Number(lead.csv_release_date.slice(0, 4))) > 2) far.push(lead.csv_title);
    }
    assert.equal(lines.length, 3619);
    assert.ok(named >= 3580, `${named} of ${lines.length} leads give their year in the first sentence`);
    assert.deepEqual(far, [], 'the check would reject these right pages');
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

  test('an empty answer falls back to title matching', { skip: WITHOUT_REAL_DATA }, () => {
    const m = matchOne(film('King Kong', 1933, { imdbId: 'tt0024216' }), new Map([['tt0024216', []]]));
    assert.equal(m.method, 'title');
  });
});

describe('the abstract quality judge on the 2021 dump film pages', { skip: WITHOUT_REAL_DATA }, () => {
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
