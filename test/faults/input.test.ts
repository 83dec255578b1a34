/**
 * What a hostile tester feeds `--metadata`, through the command line into a
 * real PostgreSQL: numbers that fit no column, a file in another encoding,
 * rows that are not UTF-8, stdin, a FIFO, a shell's `<(...)`, /dev/zero. Each
 * ends in counted rows with their lines, or one clear error (exit 1); none in
 * a failed COPY, a hang, or a load lock held for an input that never comes.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { constants, openSync, closeSync, writeSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { cleanEnv, MAIN, SAMPLE, runCli } from '../helpers/cli.js';
import { loadedFilms } from '../helpers/oracle.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from '../helpers/pg.js';
import { csvWith, HEADER, rowWith } from '../helpers/selection.js';

const SAMPLE_CSV = path.join(SAMPLE, 'movies_metadata.csv');
let tmp: string;
let db: TestDatabase;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-input-'));
  await chmod(tmp, 0o755);
  const servers = await testServers();
  assert.ok(servers.length > 0, 'a PostgreSQL server answers');
  db = await freshDatabase(servers[0]!);
});
after(async () => {
  await db?.drop();
  await closeTestServers();
  await rm(tmp, { recursive: true, force: true });
});

const args = (metadata: string, extra: string[] = []) => ['run', '--metadata', metadata, '--offline', '--no-progress', '--database-url', db.url, '--data-dir', tmp, ...extra];

async function file(name: string, content: string | Buffer): Promise<string> {
  const p = path.join(tmp, name);
  await writeFile(p, content);
  return p;
}

/** Text in Windows-1252, as a spreadsheet saves it: what the code page lacks becomes "?". */
function windows1252(text: string): Buffer {
  const decoder = new TextDecoder('windows-1252');
  const byChar = new Map<string, number>();
  for (let b = 0; b < 256; b++) byChar.set(decoder.decode(Uint8Array.of(b)), b);
  return Buffer.from(Array.from(text, (ch) => byChar.get(ch) ?? 0x3f));
}

/** Waits until the run has an idle connection to the test database (it fails if the run exits first). */
async function untilRunIsConnected(child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the run exited (${child.exitCode}) before it connected`);
    const rows = await db.query<{ state: string }>(
      `SELECT state FROM pg_stat_activity WHERE application_name = 'truefilm run' AND datname = current_database()`,
    );
    if (rows.some((r) => r.state === 'idle')) return;
    await sleep(50);
  }
}

const advisoryLocks = async () =>
  (await db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).length;

describe('--metadata, what it is given', () => {
  test('one number per column that fits no column (revenue 1e400, 1e19, 1e21; vote_count 1e10; vote_average 1e39; budget too): counted malformed with its line, the rest loads', async () => {
    const bad: [string, string][] = [
      ['budget', '1e400'],
      ['budget', '1e19'],
      ['budget', '1e21'],
      ['revenue', '1e400'],
      ['revenue', '1e19'],
      ['revenue', '1e21'],
      ['vote_count', '1e10'],
      ['vote_average', '1e39'],
    ];
    const csv = await file('numbers.csv', csvWith([{}, ...bad.map(([column, value]) => ({ [column]: value })), {}]));
    const reportPath = path.join(tmp, 'numbers.json');
    const r = await runCli(args(csv, ['--report', reportPath]));
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(await readFile(reportPath, 'utf8'));
    assert.deepEqual(
      report.metadata.samples.malformed.map((s: { line: number; reason: string }) => [s.line, s.reason]),
      [
        [3, 'budget "1e400" does not fit a bigint'],
        [4, 'budget "1e19" does not fit a bigint'],
        [5, 'budget "1e21" does not fit a bigint'],
        [6, 'revenue "1e400" does not fit a bigint'],
        [7, 'revenue "1e19" does not fit a bigint'],
      ],
    );
    assert.deepEqual([report.metadata.rows, report.metadata.malformed, report.load.films], [10, 8, 2]);
    assert.deepEqual(
      (await loadedFilms(db)).map((f) => f.id),
      [1, 10],
    );
  });

  test('one row that is not UTF-8 among 150: malformed with its line, the rest loads', async () => {
    const rows = Array.from({ length: 150 }, (_, i) => rowWith({ id: String(i + 1) }));
    rows[99] = rowWith({ id: '100', title: 'Caf\u00e9 Society' });
    const content = Buffer.concat([Buffer.from(`${HEADER}\n`), ...rows.map((row, i) => (i === 99 ? windows1252(`${row}\n`) : Buffer.from(`${row}\n`)))]);
    const reportPath = path.join(tmp, 'one-latin.json');
    const r = await runCli(args(await file('one-latin.csv', content), ['--report', reportPath]));
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(await readFile(reportPath, 'utf8'));
    assert.deepEqual(report.metadata.samples.malformed, [{ line: 101, reason: 'title holds bytes that are not UTF-8' }]);
    assert.deepEqual([report.metadata.malformed, report.load.films], [1, 149]);
  });

  test('a Windows-1252 file: exit 1 with the line and the iconv command, nothing loaded; converted, it loads what the UTF-8 file does', async () => {
    const first = await runCli(args(SAMPLE_CSV));
    assert.equal(first.status, 0, first.stderr);
    const before = await loadedFilms(db);

    const cp1252 = await file('cp1252.csv', windows1252(await readFile(SAMPLE_CSV, 'utf8')));
    const r = await runCli(args(cp1252));
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /cp1252\.csv, line \d+: \d+ of 76 rows hold bytes that are not UTF-8 \(the first on line \d+\): the file is in another encoding/);
    assert.match(r.stderr, /iconv -f WINDOWS-1252 -t UTF-8 \S*cp1252\.csv > movies_metadata\.utf8\.csv/);
    assert.deepEqual(await loadedFilms(db), before, 'the previous load is untouched');

    const converted = path.join(tmp, 'converted.csv');
    await writeFile(converted, Buffer.from(new TextDecoder('windows-1252').decode(await readFile(cp1252)), 'utf8'));
    assert.equal((await runCli(args(converted))).status, 0);
    assert.deepEqual(
      (await loadedFilms(db)).map((f) => [f.id, f.rank]),
      before.map((f) => [f.id, f.rank]),
    );
  });

  test('stdin (--metadata -) reads as the file does', async () => {
    const fromFile = await runCli(args(SAMPLE_CSV));
    assert.equal(fromFile.status, 0, fromFile.stderr);
    const expected = await loadedFilms(db);
    const csv = await readFile(SAMPLE_CSV);
    const r = await runCli(args('-'), { onSpawn: (child) => child.stdin!.end(csv) });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /CSV: 76 rows, 6 malformed, 1 duplicate, 49 eligible, 49 selected/);
    assert.deepEqual(await loadedFilms(db), expected);
  });

  test("a shell's <(cat file): a pipe, read without seeking", async (t) => {
    if (spawnStatus('bash', ['-c', 'true']) !== 0) return t.skip('bash is not installed');
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', 'exec "$0" "$1" run --metadata <(cat "$2") "${@:3}"', process.execPath, MAIN, SAMPLE_CSV, ...args('x').slice(3)], {
        env: cleanEnv(),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /CSV: 76 rows, 6 malformed, 1 duplicate, 49 eligible, 49 selected/);
  });

  test('a FIFO: no load lock while it waits for its writer (another run loads meanwhile); then what the writer sends loads', async () => {
    const fifo = path.join(tmp, 'movies.fifo');
    execFileSync('mkfifo', [fifo]);
    let child!: ChildProcess;
    const waiting = runCli(args(fifo, ['--top', '7']), { onSpawn: (c) => (child = c) });
    await untilRunIsConnected(child);
    assert.equal(await advisoryLocks(), 0, 'the waiting run holds no lock');
    const other = await runCli(args(SAMPLE_CSV, ['--top', '3']));
    assert.equal(other.status, 0, `a second run loads while the first waits:\n${other.stderr}`);

    // the writer comes: non-blocking, as the reader is there
    const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const csv = await readFile(SAMPLE_CSV);
    for (let at = 0; at < csv.length; ) {
      try {
        at += writeSync(fd, csv, at);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        await sleep(10);
      }
    }
    closeSync(fd);
    const r = await waiting;
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await loadedFilms(db)).length, 7);
  });

  test('/dev/zero: no header within the first MiB, exit 1 at once, before any database', async () => {
    const r = await runCli(['run', '--metadata', '/dev/zero', '--offline', '--no-progress', '--database-url', 'postgres://postgres@127.0.0.1:1/none', '--data-dir', tmp]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /\/dev\/zero: no CSV header within the first 1 MiB: this is not the movies CSV/);
    // it reads on only until its first MiB is past: the read that crossed it, no more
    const done = /metadata: done, ([\d.]+) MB/.exec(r.stderr);
    assert.ok(done && Number(done[1]) <= 2.1, `read ${done?.[1]} MB of /dev/zero`);
  });
});

function spawnStatus(command: string, argv: string[]): number | null {
  try {
    execFileSync(command, argv, { stdio: 'ignore' });
    return 0;
  } catch {
    return 1;
  }
}
