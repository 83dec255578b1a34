/**
 * The Wikidata Query Service stand-in (test/helpers/sparql-server.ts) evaluates
 * SPARQL for real, over a graph in Wikidata's RDF model
 * (test/helpers/wikidata-rdf.ts): the production query gets the right
 * bindings, and a wrong query gets a wrong answer.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { urlFromKey } from '../src/keys.js';
import { buildQuery } from '../src/stages/wikidata.js';
import { REAL_DATA } from './helpers/cli.js';
import { scratch } from './helpers/recorder.js';
import { startSparqlServer, type SparqlServer } from './helpers/sparql-server.js';
import { articleUrl, UNIT_ONE, WORLDWIDE, type Item } from './helpers/wikidata-rdf.js';

const { keep } = scratch('sparql-server');

const EN = 'https://en.wikipedia.org/wiki/';
const WD = 'http://www.wikidata.org/entity/';
const XSD_DECIMAL = 'http://www.w3.org/2001/XMLSchema#decimal';
const CAD = 'Q1104069';
const US = 'Q30';

/**
 * A small world with the cases the queries must tell apart: sitelinks on two
 * wikis, the three ranks, units that are currencies or not, box office
 * worldwide or for one country, an item with no English article.
 */
const ITEMS: Item[] = [
  {
    id: 'Q1001',
    imdb: ['tt0024216'],
    articles: [articleUrl('King Kong (1933 film)'), articleUrl('King Kong (1933)', 'de')],
    statements: [
      { property: 'P2130', amount: '+672000' },
      { property: 'P2142', rank: 'preferred', amount: '+10000000', qualifiers: { P3005: [WORLDWIDE] } },
      { property: 'P2142', amount: '+5000000', qualifiers: { P3005: [US] } },
    ],
  },
  {
    id: 'Q1002',
    imdb: ['tt0211915'],
    articles: [articleUrl('Amélie')],
    statements: [
      { property: 'P2130', amount: '+77000000', unit: 'Q4916' },
      { property: 'P2142', amount: '1.5E7', unit: CAD },
    ],
  },
  {
    id: 'Q1003',
    imdb: ['tt0138304'],
    articles: [articleUrl("The Astronaut's Wife")],
    statements: [
      { property: 'P2130', rank: 'deprecated', amount: '+8000000.00' },
      { property: 'P2130', rank: 'preferred', amount: '+75000000' },
      { property: 'P2130', amount: '+70000000' },
    ],
  },
  // only a German article; a budget and a unitless cost
  { id: 'Q1004', imdb: ['tt0000002'], articles: [articleUrl('Ein Film', 'de')], statements: [{ property: 'P2769', amount: '+60000' }, { property: 'P2130', amount: '-5', unit: UNIT_ONE }] },
  // on Wikidata, with no article and no money at all
  { id: 'Q1005', imdb: ['tt0000003'] },
];
const CURRENCIES = { [CAD]: 'CAD' };

interface Term {
  type: string;
  value: string;
  datatype?: string;
  'xml:lang'?: string;
}
interface Results {
  head: { vars: string[] };
  results: { bindings: Array<Record<string, Term>> };
}

let server: SparqlServer;
async function world(): Promise<SparqlServer> {
  server ??= keep(await startSparqlServer({ items: ITEMS, currencies: CURRENCIES }));
  return server;
}

/** A form POST as the stage sends it. */
async function ask(query: string, accept = 'application/sparql-results+json'): Promise<{ status: number; type: string; body: string }> {
  const s = await world();
  const res = await fetch(s.url, {
    method: 'POST',
    headers: { 'user-agent': 'TrueFilm-tests/1 (tests@example.org)', accept, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query }).toString(),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

async function select(query: string): Promise<Results> {
  const { status, type, body } = await ask(query);
  assert.equal(status, 200, body);
  assert.match(type, /^application\/sparql-results\+json/);
  return JSON.parse(body) as Results;
}

/** Each binding as `var=value` pairs, entities and ontology terms shortened; sorted. */
function rows(results: Results): string[] {
  const short = (v: string) => v.replace(WD, 'wd:').replace('http://wikiba.se/ontology#', 'wikibase:');
  return results.results.bindings
    .map((b) => Object.keys(b).sort().map((k) => `${k}=${short(b[k]!.value)}`).join(' '))
    .sort();
}

const IDS = ['tt0024216', 'tt0211915', 'tt0138304', 'tt0000002', 'tt0000003', 'tt9999999'];

describe('the production query', () => {
  test('buildQuery gets one binding per English article: the IMDb id a literal, the article a URI', async () => {
    const results = await select(buildQuery(IDS));
    assert.deepEqual(results.head.vars.slice(0, 2), ['imdb', 'article']);
    const articles = results.results.bindings.filter((b) => b.article !== undefined);
    const byId = articles.map((b) => [b.imdb, b.article]).sort((x, y) => (x[0]!.value < y[0]!.value ? -1 : 1));
    assert.deepEqual(byId, [
      [{ type: 'literal', value: 'tt0024216' }, { type: 'uri', value: `${EN}King_Kong_(1933_film)` }],
      [{ type: 'literal', value: 'tt0138304' }, { type: 'uri', value: `${EN}The_Astronaut%27s_Wife` }],
      [{ type: 'literal', value: 'tt0211915' }, { type: 'uri', value: `${EN}Am%C3%A9lie` }],
    ]);
  });

  test('the ids asked are recorded in order, as the tests that count them read them', async () => {
    const s = await world();
    const before = s.requests.length;
    await select(buildQuery(['tt0211915', 'tt0024216']));
    assert.deepEqual(s.requests.slice(before).map((r) => r.ids), [['tt0211915', 'tt0024216']]);
  });

  test('the table option still works: one item per IMDb id with those articles', async () => {
    const s = keep(await startSparqlServer({ table: { tt0000010: [`${EN}A`, `${EN}B`], tt0000011: [] }, items: [{ id: 'Q7', imdb: ['tt0000012'], articles: [`${EN}C`] }] }));
    const res = await fetch(s.url, {
      method: 'POST',
      headers: { 'user-agent': 'tests', accept: 'application/sparql-results+json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: buildQuery(['tt0000010', 'tt0000011', 'tt0000012']) }).toString(),
    });
    const results = (await res.json()) as Results;
    assert.deepEqual(rows(results), [`article=${EN}A imdb=tt0000010`, `article=${EN}B imdb=tt0000010`, `article=${EN}C imdb=tt0000012`]);
  });
});

describe('wrong queries get wrong answers', () => {
  test('without schema:isPartOf <https://en.wikipedia.org/>, the German articles come back too', async () => {
    const query = buildQuery(IDS).replace(/ ;\s*schema:isPartOf <https:\/\/en\.wikipedia\.org\/> \./, ' .');
    assert.notEqual(query, buildQuery(IDS), 'the pattern was taken out');
    const articles = rows(await select(query)).filter((r) => r.includes('de.wikipedia.org'));
    assert.deepEqual(articles, ['article=https://de.wikipedia.org/wiki/Ein_Film imdb=tt0000002', 'article=https://de.wikipedia.org/wiki/King_Kong_(1933) imdb=tt0024216']);
  });

  test('wdt: sees only the best rank (preferred, else normal, never deprecated); p:/ps: sees every statement', async () => {
    const truthy = await select('SELECT ?cost WHERE { wd:Q1003 wdt:P2130 ?cost }');
    assert.deepEqual(rows(truthy), ['cost=75000000'], 'the preferred one alone');
    const normal = await select('SELECT ?office WHERE { wd:Q1001 wdt:P2142 ?office }');
    assert.deepEqual(rows(normal), ['office=10000000'], 'the normal one is hidden by the preferred one');
    const full = await select('SELECT ?cost ?rank WHERE { wd:Q1003 p:P2130 ?s . ?s ps:P2130 ?cost ; wikibase:rank ?rank }');
    assert.deepEqual(rows(full), ['cost=70000000 rank=wikibase:NormalRank', 'cost=75000000 rank=wikibase:PreferredRank', 'cost=8000000 rank=wikibase:DeprecatedRank']);
    const best = await select('SELECT ?cost WHERE { wd:Q1003 p:P2130 ?s . ?s a wikibase:BestRank ; ps:P2130 ?cost }');
    assert.deepEqual(rows(best), ['cost=75000000'], 'BestRank marks what wdt: holds');
  });

  test('a misspelt predicate finds nothing', async () => {
    const articles = async (query: string) => (await select(query)).results.bindings.filter((b) => b.article !== undefined);
    assert.ok((await articles(buildQuery(IDS))).length > 0, 'the right query finds articles');
    assert.deepEqual((await select(buildQuery(IDS).replaceAll('wdt:P345', 'wdt:P354'))).results.bindings, [], 'no item at all');
    for (const wrong of [buildQuery(IDS).replace('schema:about', 'schema:About'), buildQuery(IDS).replace('<https://en.wikipedia.org/>', '<https://en.wikipedia.org>')]) {
      assert.deepEqual(await articles(wrong), [], wrong);
    }
  });
});

/** The shape of the money lookup (SPEC 4a): predicates bound by VALUES, a UNION, OPTIONALs. */
function moneyQuery(ids: string[]): string {
  return `SELECT ?imdb ?article ?property ?rank ?amount ?unit ?currency ?place WHERE {
  VALUES ?imdb { ${ids.map((id) => `"${id}"`).join(' ')} }
  ?item wdt:P345 ?imdb .
  { ?article schema:about ?item ; schema:isPartOf <https://en.wikipedia.org/> . }
  UNION
  {
    VALUES (?property ?claim ?value) { ("P2130" p:P2130 psv:P2130) ("P2769" p:P2769 psv:P2769) ("P2142" p:P2142 psv:P2142) }
    ?item ?claim ?statement .
    ?statement ?value ?node ; wikibase:rank ?rank .
    ?node wikibase:quantityAmount ?amount ; wikibase:quantityUnit ?unit .
    OPTIONAL { ?unit wdt:P498 ?currency }
    OPTIONAL { ?statement pq:P3005 ?place }
  }
}`;
}

describe('the money lookup', () => {
  test('articles and every statement with rank, amount, unit, currency code and place; unbound variables absent', async () => {
    const results = await select(moneyQuery(IDS));
    assert.deepEqual(results.head.vars, ['imdb', 'article', 'property', 'rank', 'amount', 'unit', 'currency', 'place']);
    assert.deepEqual(rows(results), [
      'amount=-5 imdb=tt0000002 property=P2130 rank=wikibase:NormalRank unit=wd:Q199',
      'amount=1.5E7 currency=CAD imdb=tt0211915 property=P2142 rank=wikibase:NormalRank unit=wd:Q1104069',
      'amount=10000000 currency=USD imdb=tt0024216 place=wd:Q13780930 property=P2142 rank=wikibase:PreferredRank unit=wd:Q4917',
      'amount=5000000 currency=USD imdb=tt0024216 place=wd:Q30 property=P2142 rank=wikibase:NormalRank unit=wd:Q4917',
      'amount=60000 currency=USD imdb=tt0000002 property=P2769 rank=wikibase:NormalRank unit=wd:Q4917',
      'amount=672000 currency=USD imdb=tt0024216 property=P2130 rank=wikibase:NormalRank unit=wd:Q4917',
      'amount=70000000 currency=USD imdb=tt0138304 property=P2130 rank=wikibase:NormalRank unit=wd:Q4917',
      'amount=75000000 currency=USD imdb=tt0138304 property=P2130 rank=wikibase:PreferredRank unit=wd:Q4917',
      'amount=77000000 currency=EUR imdb=tt0211915 property=P2130 rank=wikibase:NormalRank unit=wd:Q4916',
      'amount=8000000 currency=USD imdb=tt0138304 property=P2130 rank=wikibase:DeprecatedRank unit=wd:Q4917',
      `article=${EN}Am%C3%A9lie imdb=tt0211915`,
      `article=${EN}King_Kong_(1933_film) imdb=tt0024216`,
      `article=${EN}The_Astronaut%27s_Wife imdb=tt0138304`,
    ]);
  });

  test('amounts come back as oxigraph writes xsd:decimal: canonical, an exponent verbatim', async () => {
    // the real service (Blazegraph) prints 8000000.00 for +8000000.00; oxigraph drops the sign and the zeros
    const results = await select(moneyQuery(IDS));
    const amounts = new Map(results.results.bindings.filter((b) => b.amount).map((b) => [b.amount!.value, b.amount]));
    assert.deepEqual(amounts.get('60000'), { type: 'literal', value: '60000', datatype: XSD_DECIMAL }, "'+60000'");
    assert.deepEqual(amounts.get('1.5E7'), { type: 'literal', value: '1.5E7', datatype: XSD_DECIMAL }, "'1.5E7'");
    assert.deepEqual(amounts.get('8000000'), { type: 'literal', value: '8000000', datatype: XSD_DECIMAL }, "'+8000000.00'");
    assert.deepEqual(amounts.get('-5'), { type: 'literal', value: '-5', datatype: XSD_DECIMAL }, "'-5'");
    assert.equal(amounts.has('+60000') || amounts.has('8000000.00'), false, 'no lexical form comes back as written');
  });

  test('an exponent is no xsd:decimal: it drops out of comparisons', async () => {
    const results = await select('SELECT ?amount WHERE { ?node wikibase:quantityAmount ?amount FILTER(?amount > 1000000) }');
    const amounts = rows(results);
    assert.ok(amounts.includes('amount=10000000'), `a canonical decimal compares: ${amounts.join(', ')}`);
    assert.ok(!amounts.includes('amount=1.5E7'), `1.5E7 does not: ${amounts.join(', ')}`);
  });
});

describe('the protocol', () => {
  test('prefixes are predeclared as WDQS does, and a query may declare them again', async () => {
    const bare = await select('SELECT ?code WHERE { wd:Q4916 wdt:P498 ?code }');
    const declared = await select('PREFIX wd: <http://www.wikidata.org/entity/>\nPREFIX wdt: <http://www.wikidata.org/prop/direct/>\nSELECT ?code WHERE { wd:Q4916 wdt:P498 ?code }');
    assert.deepEqual(rows(bare), ['code=EUR']);
    assert.deepEqual(rows(declared), ['code=EUR']);
  });

  test('a query that does not parse gets 400 with the parser\'s message, at its own line', async () => {
    const { status, type, body } = await ask('SELECT ?x WHERE {\n  ?x wdt:P345\n}');
    assert.equal(status, 400);
    assert.match(type, /^text\/plain/);
    assert.match(body, /^MalformedQueryException: error at 3:1: expected/);
    const unknownPrefix = await ask('SELECT ?x WHERE { ?x nope:P345 ?y }');
    assert.equal(unknownPrefix.status, 400, unknownPrefix.body);
  });

  test('SPARQL XML when JSON is not asked for, as WDQS answers', async () => {
    const { status, type, body } = await ask('SELECT ?code WHERE { wd:Q8146 wdt:P498 ?code }', '*/*');
    assert.equal(status, 200);
    assert.match(type, /^application\/sparql-results\+xml/);
    assert.match(body, /<binding name="code"><literal>JPY<\/literal><\/binding>/);
  });

  test('GET ?query= is evaluated as a POST is', async () => {
    const s = await world();
    const res = await fetch(`${s.url}?${new URLSearchParams({ query: 'SELECT ?code WHERE { wd:Q25224 wdt:P498 ?code }' })}`, { headers: { 'user-agent': 'tests', accept: 'application/sparql-results+json' } });
    assert.deepEqual(rows((await res.json()) as Results), ['code=GBP']);
  });

  const SAMPLE = path.join(REAL_DATA, 'api/wdqs-results-with-optional-values.json');
  test('bindings have the real service\'s shapes: each term\'s keys as in a recorded WDQS answer', { skip: existsSync(SAMPLE) ? false : `the recorded WDQS answer is absent (${SAMPLE})` }, async () => {
    const shapes = (r: Results) => new Set(r.results.bindings.flatMap((b) => Object.values(b).map((t) => Object.keys(t).sort().join(','))));
    const real = shapes(JSON.parse(readFileSync(SAMPLE, 'utf8')) as Results);
    const ours = shapes(await select(moneyQuery(IDS)));
    assert.deepEqual([...ours].filter((s) => !real.has(s)), [], `ours: ${[...ours].join(' | ')}; real: ${[...real].join(' | ')}`);
    // and as there, a variable of head.vars may be absent from a binding
    const recorded = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Results;
    assert.ok(recorded.results.bindings.some((b) => recorded.head.vars.some((v) => !(v in b))), 'the recorded answer leaves unbound variables out');
  });
});

describe('the RDF writer', () => {
  test('article IRIs are spelt as Wikidata and the dump spell them', () => {
    for (const title of ['Amélie', "The Astronaut's Wife", 'Cowboys & Aliens', 'Did You Hear About the Morgans?', 'Æon Flux', 'Se7en (1995 film)', 'M*A*S*H', 'Tora! Tora! Tora!', '50/50 (2011 film)']) {
      assert.equal(articleUrl(title), urlFromKey(title), title);
    }
    assert.equal(articleUrl('Die fabelhafte Welt der Amélie', 'de'), 'https://de.wikipedia.org/wiki/Die_fabelhafte_Welt_der_Am%C3%A9lie');
  });

  test('sitelinks carry their language, wiki and name', async () => {
    const results = await select(`SELECT ?lang ?wiki ?name WHERE { <${articleUrl("The Astronaut's Wife")}> a schema:Article ; schema:inLanguage ?lang ; schema:isPartOf ?wiki ; schema:name ?name }`);
    assert.deepEqual(results.results.bindings, [
      { lang: { type: 'literal', value: 'en' }, wiki: { type: 'uri', value: 'https://en.wikipedia.org/' }, name: { type: 'literal', value: "The Astronaut's Wife", 'xml:lang': 'en' } },
    ]);
  });
});
