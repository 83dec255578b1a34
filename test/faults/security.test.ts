/**
 * Security, on the load side: hostile values in the data are loaded
 * as data, and a password never appears in output, errors, the run report or
 * --help. (The dashboard's side, injection through its parameters and XSS on
 * the page, is in test/dashboard.test.ts and test/browser.test.ts.)
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { SAMPLE, runCli } from '../helpers/cli.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from '../helpers/pg.js';

let tmp: string;
let db: TestDatabase;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-security-'));
  await chmod(tmp, 0o755);
  db = await freshDatabase((await testServers())[0]!);
});
after(async () => {
  await db?.drop();
  await closeTestServers();
  await rm(tmp, { recursive: true, force: true });
});

const csvLine = (fields: string[]) => fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');

test('hostile titles, names and literals are loaded as data, verbatim', async () => {
  const sample = await readFile(path.join(SAMPLE, 'movies_metadata.csv'), 'utf8');
  const records = parse(sample, { relax_column_count: true }) as string[][];
  const columns = records[0]!;
  const base = records.find((r) => r[columns.indexOf('id')] === '2667')!;
  const hostile = {
    title: `'); DROP TABLE films; --`,
    original_title: `<script>alert("x")</script>`,
    production_companies: `[{'name': "Robert'); DELETE FROM genres; --", 'id': 1}, {'name': '\\x3cimg src=x onerror=alert(1)\\x3e', 'id': 2}]`,
    genres: `[{'id': 27, 'name': 'Horror\\tTab\\\\Backslash\\nNewline'}]`,
    imdb_id: `tt0185937\\N`,
  };
  const row = base.map((f, i) => (hostile as Record<string, string>)[columns[i]!] ?? f);
  const file = path.join(tmp, 'hostile.csv');
  await writeFile(file, `${csvLine(columns)}\n${csvLine(row)}\n`);
  const result = await runCli(['run', '--metadata', file, '--offline', '--no-progress', '--database-url', db.url, '--data-dir', tmp]);
  assert.equal(result.status, 0, result.stderr);
  const [film] = await db.query<{ title: string; original_title: string; imdb_id: string }>('SELECT title, original_title, imdb_id FROM films');
  assert.deepEqual(film, { title: hostile.title, original_title: hostile.original_title, imdb_id: hostile.imdb_id });
  assert.deepEqual(
    (await db.query<{ name: string }>('SELECT name FROM production_companies ORDER BY id')).map((r) => r.name),
    [`Robert'); DELETE FROM genres; --`, '<img src=x onerror=alert(1)>'],
  );
  assert.deepEqual(
    (await db.query<{ name: string }>('SELECT name FROM genres')).map((r) => r.name),
    ['Horror\tTab\\Backslash\nNewline'],
    'COPY escapes tabs, backslashes and line breaks',
  );
});

test('a password is never printed: not on success, on failure, in the run report, or by --help', async () => {
  const server = (await testServers())[0]!;
  const password = new URL(server.adminUrl).password;
  assert.ok(password.length >= 8, 'the embedded test server has a password');
  const url = new URL(db.url);
  const reportFile = path.join(tmp, 'report.json');
  const ok = await runCli(['run', '--metadata', path.join(SAMPLE, 'movies_metadata.csv'), '--offline', '--no-progress', '--data-dir', tmp, '--report', reportFile], {
    env: { DATABASE_URL: url.toString() },
  });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /The data is in postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\//);

  url.pathname = '/no_such_database';
  const failed = await runCli(['run', '--metadata', path.join(SAMPLE, 'movies_metadata.csv'), '--offline', '--no-progress', '--data-dir', tmp], {
    env: { DATABASE_URL: url.toString() },
  });
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /database "no_such_database" does not exist/);

  const help = await runCli(['--help'], { env: { DATABASE_URL: url.toString() } });
  const wrongPassword = new URL(db.url);
  wrongPassword.password = 'Wrong-Pa55word';
  const refused = await runCli(['run', '--metadata', path.join(SAMPLE, 'movies_metadata.csv'), '--offline', '--no-progress', '--database-url', wrongPassword.toString(), '--data-dir', tmp]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /refused user "postgres"/);

  const everything = [ok.stdout, ok.stderr, await readFile(reportFile, 'utf8'), failed.stdout, failed.stderr, help.stdout, help.stderr, refused.stdout, refused.stderr].join('\n');
  assert.ok(!everything.includes(password), 'the password appears nowhere');
  assert.ok(!everything.includes(encodeURIComponent(password)));
  assert.ok(!everything.includes('Wrong-Pa55word'));
});
