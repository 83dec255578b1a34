/**
 * A small Wikidata world for the tests, and its writer into RDF (N-Triples)
 * in the model that Wikidata's dumps and the Wikidata Query Service use
 * (mediawiki.org, "Wikibase/Indexing/RDF Dump Format"), so that a real SPARQL
 * engine can answer the queries TrueFilm sends, and a wrong query fails:
 *
 * - every statement in full: `wd:Q p:P wds:S`, `wds:S a wikibase:Statement`,
 *   its `wikibase:rank`, `a wikibase:BestRank` when of the best rank, `ps:P`
 *   with the simple value, `psv:P` with the full value node for quantities,
 *   and its qualifiers `pq:P`;
 * - the truthy triple `wd:Q wdt:P value` for best-rank statements only: the
 *   preferred ones when there are any, else the normal ones, never deprecated;
 * - quantity value nodes `wdv:H a wikibase:QuantityValue` with
 *   `wikibase:quantityAmount` (typed `xsd:decimal`, written as given) and
 *   `wikibase:quantityUnit`;
 * - sitelinks: `<article> a schema:Article; schema:about wd:Q;
 *   schema:inLanguage "en"; schema:isPartOf <https://en.wikipedia.org/>;
 *   schema:name "Title"@en`.
 */
import { createHash } from 'node:crypto';

export type Rank = 'preferred' | 'normal' | 'deprecated';

/** A quantity statement: cost (P2130), budget (P2769), box office (P2142)... */
export interface Statement {
  property: string;
  /** default 'normal' */
  rank?: Rank;
  /** the amount's lexical form as the RDF writes it: '+60000', '1.5E7', '+8000000.00', '-5' */
  amount: string;
  /** the unit's Q-id: default US dollar (Q4917); Q199 is the unit "1" (no unit) */
  unit?: string;
  /** property -> values: Q-ids (items) or plain strings, e.g. { P3005: ['Q13780930'] } */
  qualifiers?: Record<string, string[]>;
}

export interface Item {
  id: string;
  /** IMDb ids (P345), each a normal-rank statement */
  imdb?: string[];
  /** sitelinks: article URLs on any wiki (see articleUrl) */
  articles?: string[];
  statements?: Statement[];
}

export interface WikidataWorld {
  items: readonly Item[];
  /** currency Q-id -> ISO 4217 code (P498), added to CURRENCIES */
  currencies?: Record<string, string>;
}

export const USD = 'Q4917';
/** the unit "1": a quantity with no unit */
export const UNIT_ONE = 'Q199';
/** "worldwide", the box office's valid-in-place (P3005) for the whole world */
export const WORLDWIDE = 'Q13780930';

/** Currencies every world has: Q-id -> ISO 4217 code. */
export const CURRENCIES: Readonly<Record<string, string>> = {
  Q4917: 'USD',
  Q4916: 'EUR',
  Q25224: 'GBP',
  Q8146: 'JPY',
};

const WD = 'http://www.wikidata.org/entity/';
const WIKIBASE = 'http://wikiba.se/ontology#';
const SCHEMA = 'http://schema.org/';
const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
const XSD_DECIMAL = 'http://www.w3.org/2001/XMLSchema#decimal';
const NS = {
  wdt: 'http://www.wikidata.org/prop/direct/',
  p: 'http://www.wikidata.org/prop/',
  ps: 'http://www.wikidata.org/prop/statement/',
  psv: 'http://www.wikidata.org/prop/statement/value/',
  pq: 'http://www.wikidata.org/prop/qualifier/',
  wds: 'http://www.wikidata.org/entity/statement/',
  wdv: 'http://www.wikidata.org/value/',
};

const ENTITY_ID = /^[QPL]\d+$/;
/** a decimal or double lexical form: what Wikidata's amounts (and the tests' odd ones) look like */
const AMOUNT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
/** characters an IRI cannot hold in N-Triples */
const BAD_IRI = /[\u0000-\u0020<>"{}|^`\\]/u;

/**
 * An article's URL as Wikidata writes it: the title with `_` for spaces,
 * percent-encoded (UTF-8) except letters, digits and `-._~;@$!*(),/:`.
 */
export function articleUrl(title: string, wiki = 'en'): string {
  const path = title.replace(/ /g, '_').replace(/[^A-Za-z0-9\-._~!$()*,;:@/]/gu, (ch) => [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
  return `https://${wiki}.wikipedia.org/wiki/${path}`;
}

/** One item per IMDb id, with the given sitelinks: the old `table` form of a world. */
export function itemsFromTable(table: Record<string, readonly string[]>, firstId = 900_000_000): Item[] {
  return Object.entries(table).map(([imdb, articles], i) => ({ id: `Q${firstId + i}`, imdb: [imdb], articles: [...articles] }));
}

const iri = (value: string): string => {
  if (BAD_IRI.test(value)) throw new Error(`not an IRI that N-Triples can hold: ${JSON.stringify(value)}`);
  return `<${value}>`;
};
const escape = (text: string): string => text.replace(/[\\"\n\r]/g, (ch) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r' })[ch]!);
const plain = (text: string): string => `"${escape(text)}"`;
const entity = (id: string): string => {
  if (!ENTITY_ID.test(id)) throw new Error(`not a Wikidata entity id: ${JSON.stringify(id)}`);
  return iri(WD + id);
};
const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

/** A statement id as Wikidata spells it: `Q42-` and a UUID (made from `seed`, so a world always writes alike). */
function statementId(item: string, seed: string): string {
  const h = md5(seed).toUpperCase();
  return `${item}-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A value of a claim, in RDF: an entity, or the simple value given. */
interface Claim {
  property: string;
  rank: Rank;
  /** the simple value (ps:, wdt:), as an N-Triples term */
  value: string;
  /** the full value node's triples, and its IRI (psv:) */
  full?: { node: string; triples: string[] };
  qualifiers: Record<string, string[]>;
}

function quantityClaim(s: Statement): Claim {
  if (!AMOUNT.test(s.amount)) throw new Error(`not an amount: ${JSON.stringify(s.amount)}`);
  const unit = s.unit ?? USD;
  const amount = `${plain(s.amount)}^^${iri(XSD_DECIMAL)}`;
  // Wikidata names a value node by a hash of the value: equal values share a node
  const node = iri(NS.wdv + md5(`quantity|${s.amount}|${unit}`));
  const triples = [
    `${node} ${iri(RDF_TYPE)} ${iri(WIKIBASE + 'QuantityValue')} .`,
    `${node} ${iri(WIKIBASE + 'quantityAmount')} ${amount} .`,
    `${node} ${iri(WIKIBASE + 'quantityUnit')} ${entity(unit)} .`,
  ];
  return { property: s.property, rank: s.rank ?? 'normal', value: amount, full: { node, triples }, qualifiers: s.qualifiers ?? {} };
}

const stringClaim = (property: string, value: string): Claim => ({ property, rank: 'normal', value: plain(value), qualifiers: {} });

/** The rank that reaches `wdt:` for one property: preferred when there is one, else normal. */
function bestRank(claims: readonly Claim[]): Rank {
  return claims.some((c) => c.rank === 'preferred') ? 'preferred' : 'normal';
}

const RANK_IRI: Record<Rank, string> = { preferred: 'PreferredRank', normal: 'NormalRank', deprecated: 'DeprecatedRank' };

/** The triples of an item's claims: full statements, and the truthy `wdt:` ones. */
function claimTriples(item: string, claims: readonly Claim[], out: string[]): void {
  const subject = entity(item);
  const byProperty = new Map<string, Claim[]>();
  for (const c of claims) byProperty.set(c.property, [...(byProperty.get(c.property) ?? []), c]);
  for (const [property, group] of byProperty) {
    const best = bestRank(group);
    group.forEach((c, i) => {
      const s = iri(NS.wds + statementId(item, `${item}|${property}|${i}|${c.value}`));
      const isBest = c.rank === best;
      out.push(`${subject} ${iri(NS.p + property)} ${s} .`);
      out.push(`${s} ${iri(RDF_TYPE)} ${iri(WIKIBASE + 'Statement')} .`);
      out.push(`${s} ${iri(WIKIBASE + 'rank')} ${iri(WIKIBASE + RANK_IRI[c.rank])} .`);
      if (isBest) out.push(`${s} ${iri(RDF_TYPE)} ${iri(WIKIBASE + 'BestRank')} .`);
      out.push(`${s} ${iri(NS.ps + property)} ${c.value} .`);
      if (c.full) {
        out.push(`${s} ${iri(NS.psv + property)} ${c.full.node} .`);
        out.push(...c.full.triples);
      }
      for (const [q, values] of Object.entries(c.qualifiers)) {
        for (const v of values) out.push(`${s} ${iri(NS.pq + q)} ${ENTITY_ID.test(v) ? entity(v) : plain(v)} .`);
      }
      if (isBest) out.push(`${subject} ${iri(NS.wdt + property)} ${c.value} .`);
    });
  }
}

/** A sitelink's triples; the wiki is the URL's host, its language the host's first label. */
function sitelinkTriples(item: string, url: string, out: string[]): void {
  const m = /^(https?:\/\/(([^./]+)\.[^/]+)\/)wiki\/([^#?]+)$/.exec(url);
  if (!m) throw new Error(`not an article URL: ${url}`);
  const [, site, , lang, path] = m as unknown as [string, string, string, string, string];
  const article = iri(url);
  let title: string;
  try {
    title = decodeURIComponent(path).replace(/_/g, ' ');
  } catch {
    title = path.replace(/_/g, ' ');
  }
  out.push(`${article} ${iri(RDF_TYPE)} ${iri(SCHEMA + 'Article')} .`);
  out.push(`${article} ${iri(SCHEMA + 'about')} ${entity(item)} .`);
  out.push(`${article} ${iri(SCHEMA + 'inLanguage')} ${plain(lang)} .`);
  out.push(`${article} ${iri(SCHEMA + 'isPartOf')} ${iri(site)} .`);
  out.push(`${article} ${iri(SCHEMA + 'name')} ${plain(title)}@${lang} .`);
  out.push(`${iri(site)} ${iri(WIKIBASE + 'wikiGroup')} ${plain('wikipedia')} .`);
}

/** The world's items, one per id (an id given twice is one item with both parts), currencies included. */
function mergedItems(world: WikidataWorld): Map<string, Required<Item>> {
  const items = new Map<string, Required<Item>>();
  const currencies = { ...CURRENCIES, ...world.currencies };
  const all: Item[] = [...Object.keys(currencies).map((id) => ({ id })), ...world.items];
  for (const item of all) {
    const into = items.get(item.id) ?? { id: item.id, imdb: [], articles: [], statements: [] };
    into.imdb.push(...(item.imdb ?? []));
    into.articles.push(...(item.articles ?? []));
    into.statements.push(...(item.statements ?? []));
    items.set(item.id, into);
  }
  return items;
}

/** The world as N-Triples, one triple a line. */
export function toNTriples(world: WikidataWorld): string {
  const out: string[] = [];
  const currencies: Record<string, string> = { ...CURRENCIES, ...world.currencies };
  for (const item of mergedItems(world).values()) {
    out.push(`${entity(item.id)} ${iri(RDF_TYPE)} ${iri(WIKIBASE + 'Item')} .`);
    const code = currencies[item.id];
    const claims = [
      ...item.imdb.map((id) => stringClaim('P345', id)),
      ...(code === undefined ? [] : [stringClaim('P498', code)]),
      ...item.statements.map(quantityClaim),
    ];
    claimTriples(item.id, claims, out);
    for (const url of item.articles) sitelinkTriples(item.id, url, out);
  }
  return out.join('\n') + '\n';
}
