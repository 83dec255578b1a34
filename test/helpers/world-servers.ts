/**
 * A made-up wiki world (wiki-world.ts) served: the SPARQL test server holding
 * its Wikidata, and the Action API test server holding its pages, each with
 * its own faults and delay.
 */
import { startActionApiServer, type ActionApiServer, type FaultFn as ApiFaultFn } from './action-api-server.js';
import { startSparqlServer, type FaultFn as SparqlFaultFn, type SparqlServer } from './sparql-server.js';
import type { World } from './wiki-world.js';

export interface WorldServers {
  sparql: SparqlServer;
  wiki: ActionApiServer;
  close(): Promise<void>;
}

export interface ServeOptions {
  faults?: { sparql?: SparqlFaultFn; wiki?: ApiFaultFn };
  /** delay before every answer of both servers */
  delayMs?: number;
}

export async function serveWorld(world: World, options: ServeOptions = {}): Promise<WorldServers> {
  const sparql = await startSparqlServer({ table: world.sparql, faults: options.faults?.sparql, delayMs: options.delayMs });
  const wiki = await startActionApiServer({ pages: world.pages, redirects: world.redirects, faults: options.faults?.wiki, delayMs: options.delayMs });
  return { sparql, wiki, close: () => Promise.all([sparql.close(), wiki.close()]).then(() => undefined) };
}
