/**
 * How long the Wikidata Query Service stand-in (test/helpers/sparql-server.ts)
 * takes to answer, next to the 150 ms the online bench adds to every answer:
 * a world of 1,000 items (IMDb id, an English and a German article, a cost,
 * a budget and two box-office figures each), queried in 5 batches of 200 ids
 * (what the online bench asks) with the production query (buildQuery: the ids
 * at the head of every UNION branch) and with the same query with the ids
 * once, outside the UNION. Times each request from the client (POST to answer
 * read), after one warm-up request. (Measured here: on this world, 56 ms a
 * batch against 82 ms; on the online bench's world, whose items have no money
 * statements, 13 ms against 180-500 ms.)
 *
 *   node --import tsx bench/sparql-standin.ts [--items 1000] [--batch 200] [--rounds 5]
 */
import { buildQuery } from '../src/stages/wikidata.js';
import { startSparqlServer } from '../test/helpers/sparql-server.js';
import { articleUrl, WORLDWIDE, type Item } from '../test/helpers/wikidata-rdf.js';
import { flag, median } from './args.js';


/** The same answer with the ids once, outside the UNION: oxigraph matches every branch over the whole graph before the join. */
function idsOutsideTheUnion(ids: string[]): string {
  const branch = (p: string) => `{
    BIND("${p}" AS ?property)
    ?item p:${p} ?statement .
    ?statement psv:${p} ?node ; wikibase:rank ?rank .
    ?node wikibase:quantityAmount ?amount ; wikibase:quantityUnit ?unit .
    OPTIONAL { ?unit wdt:P498 ?currency }
    OPTIONAL { ?statement pq:P3005 ?place }
  }`;
  return `SELECT ?imdb ?article ?property ?rank ?amount ?unit ?currency ?place WHERE {
  VALUES ?imdb { ${ids.map((id) => `"${id}"`).join(' ')} }
  ?item wdt:P345 ?imdb .
  { ?article schema:about ?item ; schema:isPartOf <https://en.wikipedia.org/> . }
  UNION ${['P2130', 'P2769', 'P2142'].map(branch).join(' UNION ')}
}`;
}

function worldOf(n: number): Item[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `Q${100_000 + i}`,
    imdb: [`tt${String(1_000_000 + i).padStart(7, '0')}`],
    articles: [articleUrl(`Film number ${i} (${1950 + (i % 70)} film)`), articleUrl(`Film Nummer ${i}`, 'de')],
    statements: [
      { property: 'P2130', amount: `+${(i + 1) * 1000}` },
      { property: 'P2769', amount: `+${(i + 1) * 1100}`, unit: i % 7 === 0 ? 'Q4916' : 'Q4917' },
      { property: 'P2142', rank: 'preferred' as const, amount: `+${(i + 1) * 5000}`, qualifiers: { P3005: [WORLDWIDE] } },
      { property: 'P2142', amount: `+${(i + 1) * 2000}`, qualifiers: { P3005: ['Q30'] } },
    ],
  }));
}


async function main(): Promise<void> {
  const n = Number(flag('items', '1000'));
  const batch = Number(flag('batch', '200'));
  const rounds = Number(flag('rounds', '5'));
  const items = worldOf(n);
  const t0 = performance.now();
  const server = await startSparqlServer({ items });
  const startMs = performance.now() - t0;
  const ids = items.map((it) => it.imdb![0]!);
  const ask = async (query: string): Promise<{ ms: number; bindings: number }> => {
    const t = performance.now();
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'user-agent': 'TrueFilm-bench', accept: 'application/sparql-results+json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query }).toString(),
    });
    const body = (await res.json()) as { results: { bindings: unknown[] } };
    return { ms: performance.now() - t, bindings: body.results.bindings.length };
  };
  try {
    console.log(`world: ${n} items; server started (graph built and loaded) in ${startMs.toFixed(0)} ms`);
    for (const [name, build] of [['buildQuery', buildQuery], ['the ids outside the UNION', idsOutsideTheUnion]] as const) {
      await ask(build(ids.slice(0, batch))); // warm-up
      const times: number[] = [];
      let bindings = 0;
      for (let r = 0; r < rounds; r++) {
        const at = (r * batch) % n;
        const answer = await ask(build(ids.slice(at, at + batch)));
        times.push(answer.ms);
        bindings = answer.bindings;
      }
      console.log(`${name}: ${rounds} queries of ${batch} ids, ${bindings} bindings each: median ${median(times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms, total ${times.reduce((a, b) => a + b, 0).toFixed(0)} ms`);
    }
  } finally {
    await server.close();
  }
}

await main();
