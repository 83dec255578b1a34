/**
 * The run report of SPEC section 6, through the command line: every section
 * with the keys the contract names, the total time, and a run whose default abstract dump is absent (it says so and
 * goes on, SPEC section 2).
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli, SAMPLE } from './helpers/cli.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from './helpers/pg.js';

let tmp: string;
let db: TestDatabase;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-report-'));
  await chmod(tmp, 0o755);
  db = await freshDatabase((await testServers())[0]!);
});

after(async () => {
  await db?.drop();
  await closeTestServers();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** SPEC section 6, key by key. */
const SECTIONS: Record<string, string[]> = {
  metadata: ['rows', 'malformed', 'duplicates', 'eligible', 'selected', 'bad_literals'],
  wikidata: ['status', 'ids', 'resolved', 'requests', 'retries', 'cache_hits'],
  abstracts: ['files', 'bytes', 'docs', 'threads', 'malformed_docs'],
  wikipedia: ['status', 'titles', 'requests', 'retries', 'cache_hits', 'redirects', 'disambiguation', 'missing'],
  matches: ['wikidata', 'cirrus', 'title', 'title_online', 'none', 'with_abstract', 'abstract_online'],
  money: ['status', 'confirmed', 'disputed', 'unchecked', 'other_currency', 'conversion'],
  load: ['films', 'genres', 'film_genres', 'production_companies', 'film_production_companies'],
};

test('every section and key of SPEC section 6; the default dump absent: said once, and the run goes on', async () => {
  const dataDir = path.join(tmp, 'data');
  const reportFile = path.join(tmp, 'report.json');
  const r = await runCli(['run', '--metadata', path.join(SAMPLE, 'movies_metadata.csv'), '--data-dir', dataDir, '--database-url', db.url, '--offline', '--no-progress', '--report', reportFile]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.split(path.join(dataDir, 'enwiki-latest-abstract.xml')).length - 1, 1, `the absent default dump named once:\n${r.stderr}`);
  const report = JSON.parse(await readFile(reportFile, 'utf8'));
  for (const [section, keys] of Object.entries(SECTIONS)) {
    for (const key of keys) assert.ok(key in (report[section] ?? {}), `report.${section}.${key}`);
  }
  assert.equal(report.abstracts.files, 0, 'no dump was read');
  const m = report.metadata;
  assert.equal(m.selected, 49);
  const stages = Object.entries(report.timings_ms as Record<string, number>).filter(([k]) => k !== 'total');
  assert.ok(stages.length >= 4, `stages timed: ${stages.map(([k]) => k).join(', ')}`);
  for (const [stage, ms] of stages) assert.ok(Number.isFinite(ms) && ms >= 0 && ms <= report.timings_ms.total, `${stage} ${ms} ms within total ${report.timings_ms.total} ms`);
  assert.equal(report.load.films, 49);
  assert.deepEqual(
    (await db.query<{ films: number }>('SELECT count(*)::integer AS films FROM films'))[0],
    { films: report.load.films },
  );
});
