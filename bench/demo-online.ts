/**
 * What `npm run demo` shows with a network, obtained on a machine without one:
 * the demo pointed by the environment (TRUEFILM_SPARQL_ENDPOINT,
 * TRUEFILM_WIKIPEDIA_ENDPOINT) at local stand-ins that hold real data, read
 * at run time from the product's real data (never copied in):
 *
 * - the live wiki (test/helpers/action-api-server.ts): the 34,375 real English
 *   Wikipedia film articles of wikipedia-movie-data, their titles from the
 *   lists' links and their real leads (recorded in April 2023) as intros;
 * - Wikidata (test/helpers/sparql-server.ts, a real SPARQL engine): the
 *   sample films' IMDb ids linked to their real articles (film-leads.jsonl).
 *   No money statement is recorded there, so every film's money check reads
 *   "unchecked" in this capture; a run against the real Wikidata has them.
 *
 * Prints what the demo prints, into a fresh embedded PostgreSQL.
 *
 *   node --import tsx bench/demo-online.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { keyFromUrl } from '../src/keys.js';
import { startActionApiServer, type WikiPage } from '../test/helpers/action-api-server.js';
import { REAL_DATA, WITHOUT_REAL_DATA } from '../test/helpers/cli.js';
import { startSparqlServer } from '../test/helpers/sparql-server.js';
import type { Item } from '../test/helpers/wikidata-rdf.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (WITHOUT_REAL_DATA) throw new Error(`bench/demo-online.ts needs the real data: ${WITHOUT_REAL_DATA}`);

/** The real articles and their leads: title -> page. */
function realWiki(): Record<string, WikiPage> {
  const pages: Record<string, WikiPage> = {};
  const dir = path.join(REAL_DATA, 'wikipedia-movie-data');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    for (const film of JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { href?: string; extract?: string }[]) {
      if (!film.href || !film.extract) continue;
      const title = keyFromUrl(`https://en.wikipedia.org/wiki/${film.href}`);
      if (title !== null) pages[title] ??= { extract: film.extract };
    }
  }
  return pages;
}

/** The films' items: IMDb id -> the real article film-leads.jsonl joins it to. */
function realItems(): Item[] {
  const lines = readFileSync(path.join(REAL_DATA, 'film-leads.jsonl'), 'utf8').split('\n').filter((l) => l.trim() !== '');
  return lines.map((line, i) => {
    const lead = JSON.parse(line) as { imdb_id: string; wikipedia_url: string };
    return { id: `Q${600_000_000 + i}`, imdb: [lead.imdb_id], articles: [lead.wikipedia_url] };
  });
}

const wiki = await startActionApiServer({ pages: realWiki() });
const sparql = await startSparqlServer({ items: realItems() });
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'truefilm-demo-online-'));
try {
  const env: NodeJS.ProcessEnv = { ...process.env, TRUEFILM_SPARQL_ENDPOINT: sparql.url, TRUEFILM_WIKIPEDIA_ENDPOINT: wiki.endpoint };
  delete env.TRUEFILM_CONTACT;
  delete env.DATABASE_URL;
  const status = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/main.js', 'demo', '--data-dir', dataDir, '--no-progress'], { cwd: ROOT, stdio: 'inherit', env });
    child.on('error', reject);
    child.on('exit', resolve);
  });
  process.stderr.write(`\n(exit ${status}; ${sparql.requests.length} SPARQL and ${wiki.requests.length} Action API requests)\n`);
} finally {
  await Promise.all([sparql.close(), wiki.close()]);
  rmSync(dataDir, { recursive: true, force: true });
}
