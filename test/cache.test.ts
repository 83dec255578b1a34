/**
 * The answer caches (src/cache.ts) through the stages that keep them,
 * runWikidata and runWikipedia, against real servers on 127.0.0.1: a cache
 * file is read only after a size check (one over 8 MiB, or not a regular
 * file, is not read: one warning, the run asks again and writes a new one),
 * and what is written stays within that size, the entries fetched longest
 * ago left out first.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { MAX_CACHE_BYTES } from '../src/cache.js';
import { CACHE_FILE, runWikidata, type WikidataOptions } from '../src/stages/wikidata.js';
import { runWikipedia, WIKIPEDIA_CACHE_FILE } from '../src/stages/wikipedia.js';
import type { LiveQuestions } from '../src/types.js';
import { startActionApiServer } from './helpers/action-api-server.js';
import { recordingUi, scratch } from './helpers/recorder.js';
import { startSparqlServer } from './helpers/sparql-server.js';

const { tempDir, keep } = scratch('cache');
const W = 'https://en.wikipedia.org/wiki/';
const TABLE: Record<string, string[]> = {
  tt0024216: [`${W}King_Kong_(1933_film)`],
  tt0074751: [`${W}King_Kong_(1976_film)`],
  tt0211915: [`${W}Am%C3%A9lie`],
};
const IDS = Object.keys(TABLE);

function wikidataOptions(endpoint: string, dataDir: string, extra: Partial<WikidataOptions> = {}): WikidataOptions {
  return { endpoint, dataDir, offline: false, require: false, ui: recordingUi().ui, backoffMs: 5, maxBackoffMs: 20, timeoutMs: 5_000, maxTries: 2, maxTotalMs: 20_000, ...extra };
}

/** A file of `bytes` bytes that takes no room on disk (sparse): what a run would read whole if it did not look first. */
async function sparseFile(file: string, bytes: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'w');
  await handle.truncate(bytes);
  await handle.close();
}

describe('a cache is read only after a size check', () => {
  test('a Wikidata cache of 500 MB is not read: one warning naming its size and the limit, the run asks again and writes one that is read', async () => {
    const server = keep(await startSparqlServer({ table: TABLE }));
    const dir = await tempDir();
    const file = path.join(dir, CACHE_FILE);
    await sparseFile(file, 500_000_000);
    const rec = recordingUi();
    const { articles, report } = await runWikidata(IDS, wikidataOptions(server.url, dir, { ui: rec.ui }));
    assert.equal(articles.get('tt0211915')![0]!.key, 'Amélie');
    assert.equal(report.cache_hits, 0);
    assert.equal(server.requests.length, 1, 'asked again');
    assert.equal(rec.warnings.length, 1, rec.warnings.join('\n'));
    assert.match(rec.warnings[0]!, /^cannot read the Wikidata cache .*wikidata\.json \(476\.8 MiB, over the 8 MiB a cache may have\): asking Wikidata again$/);
    assert.ok((await stat(file)).size < 10_000, 'replaced by this run’s answers');
    const again = await runWikidata(IDS, wikidataOptions(server.url, dir, { offline: true }));
    assert.equal(again.report.cache_hits, IDS.length);
  });

  test('a Wikipedia cache of 500 MB is not read either', async () => {
    const server = keep(await startActionApiServer({ pages: { 'Heat (1995 film)': 'Heat is a 1995 American crime film.' } }));
    const dir = await tempDir();
    await sparseFile(path.join(dir, WIKIPEDIA_CACHE_FILE), 500_000_000);
    const rec = recordingUi();
    const ask = (known: ReadonlyMap<string, unknown>): LiveQuestions => ({ lookup: new Set(known.has('Heat (1995 film)') ? [] : ['Heat (1995 film)']), decide: new Set(), abstract: new Set() });
    const { answers, report } = await runWikipedia(ask, { endpoint: server.endpoint, dataDir: dir, offline: false, ui: rec.ui, backoffMs: 5, timeoutMs: 5_000 });
    assert.equal(answers.get('Heat (1995 film)')?.kind, 'page');
    assert.equal(report.cache_hits, 0);
    assert.equal(rec.warnings.length, 1, rec.warnings.join('\n'));
    assert.match(rec.warnings[0]!, /^cannot read the Wikipedia cache .*wikipedia\.json \(476\.8 MiB, over the 8 MiB a cache may have\): asking Wikipedia again$/);
  });

  test('a FIFO in the cache’s place is not opened (it would block the run): one warning, the run asks again', async () => {
    const server = keep(await startSparqlServer({ table: TABLE }));
    const dir = await tempDir();
    const file = path.join(dir, CACHE_FILE);
    await mkdir(path.dirname(file), { recursive: true });
    const made = spawnSync('mkfifo', [file]);
    assert.equal(made.status, 0, `mkfifo: ${made.stderr}`);
    const rec = recordingUi();
    const { report } = await runWikidata(IDS, wikidataOptions(server.url, dir, { ui: rec.ui }));
    assert.equal(report.resolved, IDS.length);
    assert.equal(rec.warnings.length, 1, rec.warnings.join('\n'));
    assert.match(rec.warnings[0]!, /\(not a regular file\): asking Wikidata again$/);
  });
});

describe('what is written stays within 8 MiB', () => {
  test('past the limit, the entries fetched longest ago are left out; this run’s answers are kept', async () => {
    const server = keep(await startSparqlServer({ table: TABLE }));
    const dir = await tempDir();
    // old entries of about 64 KB each, fetched on days 1, 2, 3... of 2020, whose lines as the cache writes them
    // (indented, one a line) come to the limit exactly; the file written here is compact JSON, a little smaller
    // (the bulk is a budget statement's amount: any text is kept as Wikidata gave it)
    const entryOf = (i: number, n: number) => ({
      articles: [`${W}Old_page_${i}`],
      money: [{ property: 'P2130', rank: 'normal', amount: '1'.repeat(n), unit: 'Q4917', currency: 'USD', places: [] }],
      fetched: new Date(Date.UTC(2020, 0, 1 + i)).toISOString(),
    });
    const line = (id: string, entry: object) => Buffer.byteLength(`  ${JSON.stringify(id)}: ${JSON.stringify(entry)},\n`);
    const entries: Record<string, object> = {};
    let total = 0;
    for (let i = 0; ; i++) {
      const id = `tt${String(9_000_000 + i)}`;
      const entry = entryOf(i, 64_000);
      const room = MAX_CACHE_BYTES - total;
      if (line(id, entry) > room) {
        const last = entryOf(i, 64_000 - (line(id, entry) - room));
        entries[id] = last;
        total += line(id, last);
        break;
      }
      entries[id] = entry;
      total += line(id, entry);
    }
    const old = Object.keys(entries);
    await mkdir(path.join(dir, 'cache'), { recursive: true });
    await writeFile(path.join(dir, CACHE_FILE), JSON.stringify({ version: 1, entries }));
    assert.ok((await stat(path.join(dir, CACHE_FILE))).size <= MAX_CACHE_BYTES, 'the old file is read');

    const rec = recordingUi();
    const first = await runWikidata([old.at(-1)!], wikidataOptions(server.url, dir, { ui: rec.ui, offline: true }));
    assert.equal(first.report.cache_hits, 1, 'the old file was read');
    await runWikidata(IDS, wikidataOptions(server.url, dir, { ui: rec.ui }));
    assert.deepEqual(rec.warnings, []);

    const written = await readFile(path.join(dir, CACHE_FILE), 'utf8');
    assert.ok(Buffer.byteLength(written) <= MAX_CACHE_BYTES, `${Buffer.byteLength(written)} bytes`);
    const kept = Object.keys(JSON.parse(written).entries as object);
    for (const id of IDS) assert.ok(kept.includes(id), `this run's ${id} is kept`);
    assert.ok(!kept.includes(old[0]!), 'the entry fetched longest ago is left out');
    assert.deepEqual(kept.filter((id) => !IDS.includes(id)), old.slice(1), 'only it');
    const again = await runWikidata([...IDS, old.at(-1)!], wikidataOptions(server.url, dir, { offline: true }));
    assert.equal(again.report.cache_hits, IDS.length + 1, 'and the new file is read');
  });
});
