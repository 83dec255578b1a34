/**
 * The command line as users meet it: help, usage errors (exit 2), input and
 * database failures (exit 1, one clear line, no stack trace, no password), the
 * embedded server (`truefilm db`, a run with no DATABASE_URL) as root and as an
 * ordinary user.
 */
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { MAIN, ROOT, SAMPLE, runCli } from './helpers/cli.js';

const SAMPLE_CSV = path.join(SAMPLE, 'movies_metadata.csv');
let tmp: string;
before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-cli-'));
  await chmod(tmp, 0o755);
});
after(async () => rm(tmp, { recursive: true, force: true }));

const noStack = (stderr: string) => assert.doesNotMatch(stderr, /\n\s+at .+:\d+:\d+/, `a stack trace was printed:\n${stderr}`);

describe('help and usage', () => {
  test('--help names every option of SPEC section 2 and the exit statuses', async () => {
    const r = await runCli(['run', '--help']);
    assert.equal(r.status, 0);
    for (const flag of [
      '--metadata',
      '--abstracts',
      '--top',
      '--min-budget',
      '--threads',
      '--database-url',
      '--data-dir',
      '--sparql-endpoint',
      '--wikipedia-endpoint',
      '--contact',
      '--offline',
      '--report',
      '--no-progress',
      'DATABASE_URL',
      'TRUEFILM_METADATA',
      'TRUEFILM_ABSTRACTS',
      'TRUEFILM_DATA_DIR',
      'TRUEFILM_SPARQL_ENDPOINT',
      'TRUEFILM_WIKIPEDIA_ENDPOINT',
      'TRUEFILM_CONTACT',
    ]) {
      assert.ok(r.stdout.includes(flag), `--help lacks ${flag}`);
    }
    assert.match(r.stdout, /Exit status: 0 success, 1 the run failed.*2 bad usage/s);
    const top = await runCli(['--help']);
    assert.match(top.stdout, /truefilm dashboard/);
    assert.match(top.stdout, /truefilm db/);
    assert.match((await runCli(['db', '--help'])).stdout, /--show-password/);
  });

  test('--version', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^truefilm \d+\.\d+\.\d+\n$/);
  });

  test('--version, --help and a usage error load none of pg, undici, piscina, cli-progress, the dashboard, the download', async () => {
    const hook = path.join(ROOT, 'test/helpers/record-loads.mjs');
    const loads = async (args: string[]) => {
      const log = path.join(tmp, `loads-${args.join('_').replace(/\W/g, '')}.txt`);
      const r = await runCli(args, { nodeArgs: ['--import', hook], env: { RECORD_LOADS: log } });
      return { status: r.status, urls: (await readFile(log, 'utf8')).split('\n').filter(Boolean) };
    };
    // dist/download/options.js is the download's help and options: the rest of dist/download/ is its work
    const heavy = /\/node_modules\/(pg|undici|piscina|cli-progress)\/|\/dist\/dashboard\/|\/dist\/download\/(?!options\.js$)/;
    for (const args of [['--version'], ['--help'], ['run', '--help'], ['db', '--help'], ['dashboard', '--help'], ['download', '--help'], ['download', '--source', 'x'], ['run', '--top', 'abc']]) {
      const { status, urls } = await loads(args);
      assert.equal(status, args.includes('abc') || args.includes('x') ? 2 : 0, args.join(' '));
      assert.ok(urls.some((u) => u.endsWith('/dist/main.js')), `the hook recorded ${args.join(' ')}`);
      assert.deepEqual(urls.filter((u) => heavy.test(u)), [], `${args.join(' ')} loaded them`);
    }
    // the hook sees both kinds of module: a run loads its stages (ES modules) and pg (CommonJS)
    const run = await loads(['run', '--metadata', path.join(tmp, 'absent.csv')]);
    assert.equal(run.status, 1);
    assert.ok(run.urls.some((u) => u.endsWith('/dist/pipeline.js')));
    assert.ok(run.urls.some((u) => u.includes('/node_modules/pg/lib/')));
  });

  test('bad values: exit 2, every problem named with its flag, in one go', async () => {
    const r = await runCli(['--top', 'abc', '--threads', '0', '--min-budget=-5', '--sparql-endpoint', 'ftp://x', '--wikipedia-endpoint', 'api.php', '--contact', 'me (at) home']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--wikipedia-endpoint must be an http:\/\/ or https:\/\/ URL, got "api\.php"/);
    assert.match(r.stderr, /--contact must be an e-mail address \(you@example\.org\) or an http\(s\) URL where you can be reached, got "me \(at\) home"/);
    assert.match(r.stderr, /--top must be a whole number from 1 to 10,000,000, got "abc"/);
    assert.match(r.stderr, /--threads must be a whole number from 1 to 256, got "0"/);
    assert.match(r.stderr, /--min-budget must be a number of dollars, 0 or more, got "-5"/);
    assert.match(r.stderr, /--sparql-endpoint must be an http:\/\/ or https:\/\/ URL/);
    assert.match(r.stderr, /See: truefilm --help/);
    noStack(r.stderr);
  });

  test('a bad TRUEFILM_CONTACT is named as such: exit 2', async () => {
    const env = await runCli(['--metadata', SAMPLE_CSV], { env: { TRUEFILM_CONTACT: 'nobody' } });
    assert.equal(env.status, 2);
    assert.match(env.stderr, /TRUEFILM_CONTACT must be an e-mail address/);
  });

  test('unknown flag, unknown command, a flag without its value: exit 2', async () => {
    const unknown = await runCli(['--tpo', '5']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /Unknown option '--tpo'/);
    const command = await runCli(['launch']);
    assert.equal(command.status, 2);
    assert.match(command.stderr, /unknown command "launch"/);
    const missing = await runCli(['--metadata']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--metadata/);
  });

  test('a DATABASE_URL that is not a postgres URL: exit 2 naming DATABASE_URL, never its password', async () => {
    const r = await runCli(['--metadata', SAMPLE_CSV], { env: { DATABASE_URL: 'mysql://root:hunter2@db/x' } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    assert.ok(!r.stderr.includes('hunter2'));
  });
});

describe('bad inputs: exit 1, one clear message naming the input', () => {
  const db = 'postgres://postgres@127.0.0.1:1/none'; // never reached: the input fails first

  test('a metadata file that does not exist', async () => {
    const r = await runCli(['--metadata', path.join(tmp, 'nope.csv'), '--database-url', db, '--offline']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /nope\.csv: no such file\n\s+Download movies_metadata\.csv/);
    noStack(r.stderr);
  });

  test('a CSV without the required columns names them', async () => {
    const file = path.join(tmp, 'columns.csv');
    await writeFile(file, 'id,title,budget\n1,A,100\n');
    const r = await runCli(['--metadata', file, '--database-url', db, '--offline']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /columns\.csv, line 1: the header lacks the columns imdb_id, original_title, revenue, release_date, genres, production_companies, vote_average, vote_count/);
  });

  test('an empty file, a header only, binary garbage', async () => {
    const empty = path.join(tmp, 'empty.csv');
    await writeFile(empty, '');
    const r1 = await runCli(['--metadata', empty, '--database-url', db, '--offline']);
    assert.equal(r1.status, 1);
    assert.match(r1.stderr, /empty\.csv: the file is empty/);

    const headerOnly = path.join(tmp, 'header.csv');
    await writeFile(headerOnly, (await readFile(SAMPLE_CSV, 'utf8')).split('\n')[0] + '\n');
    const r2 = await runCli(['--metadata', headerOnly, '--database-url', db, '--offline']);
    assert.equal(r2.status, 1);
    assert.match(r2.stderr, /no film qualified: 0 rows.*the previous load is untouched/s);

    const garbage = path.join(tmp, 'garbage.csv');
    await writeFile(garbage, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    const r3 = await runCli(['--metadata', garbage, '--database-url', db, '--offline']);
    assert.equal(r3.status, 1);
    assert.match(r3.stderr, /garbage\.csv(, line \d+)?: (the header lacks|cannot read the CSV)/);
    noStack(r3.stderr);
  });

  test('an abstract dump named on the command line that does not exist', async () => {
    const r = await runCli(['--metadata', SAMPLE_CSV, '--abstracts', path.join(tmp, 'dump.xml'), '--database-url', db, '--offline']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /dump\.xml: no such abstract dump file/);
  });

  test('an unreachable database: exit 1 naming host and port, password masked', async () => {
    const r = await runCli(['--metadata', SAMPLE_CSV, '--offline', '--no-progress'], {
      env: { DATABASE_URL: 'postgres://analyst:s3cret-pw@127.0.0.1:1/films' },
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot reach PostgreSQL at 127\.0\.0\.1:1 while connecting \(ECONNREFUSED\)/);
    assert.match(r.stderr, /analyst:\*\*\*\*@127\.0\.0\.1:1/);
    assert.ok(!(r.stdout + r.stderr).includes('s3cret-pw'));
  });
});

/** Waits until `child` has printed a line matching `pattern` on stdout. */
function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) {
        child.stdout!.off('data', onData);
        resolve(seen);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code} before printing ${pattern}; printed:\n${seen}`)));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the embedded PostgreSQL', () => {
  test('`truefilm db` prints a masked URL, serves until Ctrl-C, then stops the server; a run meanwhile uses it', async () => {
    const dataDir = path.join(tmp, 'db-command');
    let child!: ChildProcess;
    const exited = runCli(['db', '--data-dir', dataDir, '--port', '0'], { onSpawn: (c) => (child = c) });
    const out = await waitForOutput(child, /Press Ctrl-C to stop it/);
    const shown = /URL:\s+(\S+)/.exec(out)![1]!;
    assert.match(shown, /^postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/truefilm$/);
    const password = (await readFile(path.join(dataDir, '.pg-password'), 'utf8')).trim();
    assert.ok(!out.includes(password));
    const url = shown.replace('****', encodeURIComponent(password));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    assert.equal((await client.query('SELECT current_database() AS db')).rows[0].db, 'truefilm');
    await client.end();

    // a run with the same data directory loads into the running server and leaves it running
    const run = await runCli(['run', '--data-dir', dataDir, '--metadata', SAMPLE_CSV, '--offline', '--no-progress']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /The data is in postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1/);
    const pid = Number((await readFile(path.join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    assert.ok(pidAlive(pid), 'the server started by `truefilm db` is still running');

    // a second `truefilm db` joins the running server; its Ctrl-C leaves it to the first
    let second!: ChildProcess;
    const secondExited = runCli(['db', '--data-dir', dataDir, '--show-password'], { onSpawn: (c) => (second = c) });
    const shownAgain = await waitForOutput(second, /Press Ctrl-C/);
    assert.match(shownAgain, /already running \(another TrueFilm process uses it\); this command keeps it running too/);
    assert.ok(shownAgain.includes(encodeURIComponent(password)), '--show-password prints it');
    second.kill('SIGINT');
    const secondResult = await secondExited;
    assert.equal(secondResult.status, 130, secondResult.stderr);
    assert.match(secondResult.stderr, /the embedded PostgreSQL keeps running: 1 other TrueFilm process uses it/);
    assert.ok(pidAlive(pid), 'the first `truefilm db` still keeps it');

    child.kill('SIGINT');
    const result = await exited;
    assert.equal(result.status, 130, result.stderr);
    assert.match(result.stderr, /the embedded PostgreSQL is stopped/);
    while (pidAlive(pid)) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!pidAlive(pid), 'the server has stopped');
  });

  test('a run with no DATABASE_URL starts, loads into and stops the embedded server in --data-dir', async () => {
    const dataDir = path.join(tmp, 'embedded-run');
    const r = await runCli(['run', '--data-dir', dataDir, '--metadata', SAMPLE_CSV, '--offline', '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /creating the embedded PostgreSQL cluster in .*embedded-run\/pgdata \(first run only\)/);
    assert.match(r.stdout, /Loaded \d+ films/);
    assert.match(r.stdout, /Open it: npm run db .* npm run dashboard/);
    const again = await runCli(['run', '--data-dir', dataDir, '--metadata', SAMPLE_CSV, '--offline', '--no-progress']);
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /creating the embedded/);
  });

  test('as an ordinary user too (CI runs as root; PostgreSQL then runs as the postgres user)', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('already an ordinary user: the other tests cover it');
      return;
    }
    const uid = Number(execFileSync('id', ['-u', 'nobody']).toString());
    const gid = Number(execFileSync('id', ['-g', 'nobody']).toString());
    const canRead = (() => {
      try {
        execFileSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(MAIN)})`], { uid, gid });
        return true;
      } catch {
        return false;
      }
    })();
    if (!canRead) {
      t.skip(`user nobody cannot read ${MAIN} (the checkout is in a private directory)`);
      return;
    }
    const dataDir = path.join(tmp, 'as-nobody');
    await (await import('node:fs/promises')).mkdir(dataDir);
    await chown(dataDir, uid, gid);
    const r = await runCli(['run', '--data-dir', dataDir, '--metadata', SAMPLE_CSV, '--offline', '--no-progress'], { uid, gid, cwd: tmp });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Loaded \d+ films/);
  });
});
