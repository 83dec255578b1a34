/**
 * data_download.sh, run for real against a real HTTP server on 127.0.0.1:
 * download, resume, checksums, 404, disk space, work already done, the movies
 * CSV. Every run writes into a temporary directory, never the repo's data/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FileServer, SCRIPT, hashOf, makeAbstractDump, runScript } from './helpers/download.js';
import { SAMPLE } from './helpers/cli.js';

const DUMP_PATH = '/enwiki/20250201/enwiki-20250201-abstract.xml.gz';
const XML = makeAbstractDump(6000);
const GZ = gzipSync(XML, { level: 6 });
const XML_NAME = 'enwiki-latest-abstract.xml';

let tmp: string;
let server: FileServer;
let dataDir: string;
let home: string;
let tmpDir: string;
let n = 0;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-download-'));
  assert.ok(GZ.length > 400_000, `the generated dump should be big enough to cut (${GZ.length} bytes)`);
});

after(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

beforeEach(async () => {
  await server?.close();
  server = new FileServer();
  await server.start();
  n++;
  dataDir = path.join(tmp, `data-${n}`);
  home = path.join(tmp, `home-${n}`);
  tmpDir = path.join(tmp, `tmp-${n}`);
  await mkdir(home, { recursive: true });
  await mkdir(tmpDir, { recursive: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { HOME: home, TMPDIR: tmpDir, TRUEFILM_DATA_DIR: dataDir, ABSTRACTS_URL: server.url(DUMP_PATH), ...extra };
}

/** The data directory's files, less the lock file the script keeps there. */
async function files(): Promise<string[]> {
  if (!existsSync(dataDir)) return [];
  return (await readdir(dataDir)).filter((f) => f !== '.data_download.lock').sort();
}

async function assertNoTempLeft(): Promise<void> {
  assert.deepEqual(await readdir(tmpDir), [], 'the script removes its temporary files');
}

function serveDump(options: { cuts?: number; cutAt?: number; ranges?: boolean; body?: Buffer } = {}): void {
  server.files.set(DUMP_PATH, { body: options.body ?? GZ, ...options });
}

describe('data_download.sh abstracts', () => {
  test('downloads, verifies the .sha256 published beside the file, decompresses, and deletes the .gz', async () => {
    serveDump();
    server.files.set(`${DUMP_PATH}.sha256`, { body: Buffer.from(`${hashOf('sha256', GZ)}  enwiki-20250201-abstract.xml.gz\n`) });
    const r = await runScript(['--source', 'abstracts'], env());
    assert.equal(r.status, 0, r.stderr);
    assert.ok((await readFile(path.join(dataDir, XML_NAME))).equals(XML), 'the .xml is the decompressed dump');
    assert.deepEqual(await files(), [`.${XML_NAME}.source`, XML_NAME]);
    assert.match(r.stdout, /verifying enwiki-20250201-abstract\.xml\.gz \(sha256 from http:\/\/127\.0\.0\.1:\d+\/enwiki\/20250201\/enwiki-20250201-abstract\.xml\.gz\.sha256\)/);
    assert.match(r.stdout, /checksum ok/);
    const gets = server.seen(DUMP_PATH, 'GET');
    assert.equal(gets.length, 1);
    assert.equal(gets[0]!.range, undefined, 'a fresh download asks for the whole file');
    assert.match(gets[0]!.userAgent ?? '', /^truefilm-data-download\/\S+ \(https?:\/\/\S+/, 'a descriptive User-Agent');
    await assertNoTempLeft();
  });

  test('a second run does nothing: no request, the .xml untouched', async () => {
    serveDump();
    const first = await runScript(['--source', 'abstracts'], env());
    assert.equal(first.status, 0, first.stderr);
    const before = await stat(path.join(dataDir, XML_NAME));
    const count = server.requests.length;

    const second = await runScript(['--source', 'abstracts'], env());
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /already there .*nothing to do/);
    assert.equal(server.requests.length, count, 'no request at all');
    const afterStat = await stat(path.join(dataDir, XML_NAME));
    assert.equal(afterStat.mtimeMs, before.mtimeMs);
    assert.equal(afterStat.ino, before.ino);
  });

  test('verifies against the dump run\'s md5sums.txt, and --keep-gz keeps the verified .gz', async () => {
    serveDump();
    const sums = [
      `${hashOf('md5', Buffer.from('other'))}  enwiki-20250201-abstract1.xml.gz`,
      `${hashOf('md5', GZ)}  enwiki-20250201-abstract.xml.gz`,
      `${hashOf('md5', Buffer.from('more'))}  enwiki-20250201-pages-articles.xml.bz2`,
    ].join('\n');
    server.files.set('/enwiki/20250201/enwiki-20250201-md5sums.txt', { body: Buffer.from(sums + '\n') });
    const r = await runScript(['--source', 'abstracts', '--keep-gz'], env());
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\(md5 from http:\S+\/enwiki-20250201-md5sums\.txt\)/);
    assert.ok((await readFile(path.join(dataDir, 'enwiki-20250201-abstract.xml.gz'))).equals(GZ));
    assert.ok((await readFile(path.join(dataDir, XML_NAME))).equals(XML));
    assert.deepEqual(server.seen(`${DUMP_PATH}.sha256`).length, 1, 'looked for a .sha256 first');
  });

  test('resumes a transfer cut off half-way with a Range request, within one run', async () => {
    const cutAt = 200_000;
    serveDump({ cuts: 1, cutAt });
    const r = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_CHECKSUM: hashOf('sha1', GZ) }));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /cut off/);
    const gets = server.seen(DUMP_PATH, 'GET');
    assert.equal(gets.length, 2);
    const from = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? '')?.[1]);
    assert.ok(from > 0 && from <= cutAt, `resumed from byte ${from} (the cut was at ${cutAt}), not from 0`);
    assert.equal(gets[1]!.status, 206);
    assert.equal(gets[1]!.bytes, GZ.length - from, 'only the missing bytes were sent again');
    assert.match(r.stdout, /resuming enwiki-20250201-abstract\.xml\.gz at/);
    assert.ok((await readFile(path.join(dataDir, XML_NAME))).equals(XML));
  });

  test('an interrupted run keeps the .part and says so; the next run resumes it', async () => {
    const cutAt = 300_000;
    serveDump({ cuts: 1, cutAt });
    const first = await runScript(['--source', 'abstracts'], env({ DOWNLOAD_TRIES: '1' }));
    assert.equal(first.status, 1);
    assert.match(first.stderr, /error: could not download http:\S+ in 1 attempt\(s\); the .* received are kept in \S+\.part: run again to resume/);
    const partSize = (await stat(path.join(dataDir, 'enwiki-20250201-abstract.xml.gz.part'))).size;
    assert.ok(partSize > 0 && partSize <= cutAt);
    assert.deepEqual(await files(), ['enwiki-20250201-abstract.xml.gz.part'], 'nothing looks complete');

    const second = await runScript(['--source', 'abstracts'], env());
    assert.equal(second.status, 0, second.stderr);
    const gets = server.seen(DUMP_PATH, 'GET');
    assert.equal(gets.length, 2);
    assert.equal(gets[1]!.range, `bytes=${partSize}-`);
    assert.ok((await readFile(path.join(dataDir, XML_NAME))).equals(XML));
    await assertNoTempLeft();
  });

  test('starts over when the server cannot resume', async () => {
    serveDump({ cuts: 1, cutAt: 100_000, ranges: false });
    const first = await runScript(['--source', 'abstracts'], env({ DOWNLOAD_TRIES: '1' }));
    assert.equal(first.status, 1);
    const second = await runScript(['--source', 'abstracts'], env());
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /does not support resuming/);
    assert.ok((await readFile(path.join(dataDir, XML_NAME))).equals(XML));
  });

  test('a wrong checksum given in ABSTRACTS_CHECKSUM fails and leaves nothing that looks complete', async () => {
    serveDump();
    const wrong = hashOf('sha256', Buffer.from('not the dump'));
    const r = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_CHECKSUM: `sha256:${wrong}` }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`checksum mismatch for enwiki-20250201-abstract\\.xml\\.gz: expected sha256 ${wrong} \\(from ABSTRACTS_CHECKSUM\\), got ${hashOf('sha256', GZ)}`));
    assert.deepEqual(await files(), []);
    await assertNoTempLeft();
  });

  test('a wrong checksum published beside the file fails the same way', async () => {
    serveDump();
    server.files.set(`${DUMP_PATH}.sha1`, { body: Buffer.from(hashOf('sha1', Buffer.from('other')) + '\n') });
    const r = await runScript(['--source', 'abstracts'], env());
    assert.equal(r.status, 1);
    assert.match(r.stderr, /checksum mismatch .*expected sha1 \S+ \(from http:\S+\.sha1\)/);
    assert.deepEqual(await files(), []);
  });

  test('a malformed ABSTRACTS_CHECKSUM is refused before anything is fetched', async () => {
    serveDump();
    const r = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_CHECKSUM: 'sha256:1234' }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ABSTRACTS_CHECKSUM must be an md5, sha1, sha256 or sha512 digest in hex \(or none\), got "sha256:1234"/);
    assert.equal(server.requests.length, 0);
  });

  test('404: a clear message with the URL and where else to look, and no file', async () => {
    const r = await runScript(['--source', 'abstracts'], env());
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`error: not found \\(HTTP 404\\): ${server.url(DUMP_PATH).replace(/[.]/g, '\\.')}`));
    assert.match(r.stderr, /mirror/);
    assert.match(r.stderr, /T382069/);
    assert.deepEqual(await files(), []);
  });

  test('a server that does not answer: a clear message naming the URL, and no file', async () => {
    const closed = new FileServer();
    await closed.start();
    const url = closed.url(DUMP_PATH);
    await closed.close();
    const r = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_URL: url }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`error: cannot reach ${url.replace(/[.]/g, '\\.')}: .*Check the address and the network, then run again`));
    assert.deepEqual(await files(), []);
  });

  test('a file that is not gzip fails, is deleted, and the message says so', async () => {
    serveDump({ body: Buffer.from('<html>this is not a dump</html>\n'.repeat(100)) });
    const r = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_CHECKSUM: 'none' }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /enwiki-20250201-abstract\.xml\.gz is not a valid gzip file .*deleted it; run again/);
    assert.deepEqual(await files(), []);
  });

  test('checks free disk space before decompressing; the verified .gz is kept and a later run only decompresses', async () => {
    serveDump();
    const first = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_CHECKSUM: hashOf('md5', GZ), DECOMPRESS_RATIO: '100000000000' }));
    assert.equal(first.status, 1);
    assert.match(first.stderr, /not enough free disk space in \S+ to decompress enwiki-20250201-abstract\.xml\.gz: about .* needed, .* free/);
    assert.deepEqual(await files(), ['enwiki-20250201-abstract.xml.gz']);

    const count = server.seen(DUMP_PATH, 'GET').length;
    const second = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_CHECKSUM: hashOf('md5', GZ) }));
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /already downloaded and checked/);
    assert.equal(server.seen(DUMP_PATH, 'GET').length, count, 'not downloaded again');
    assert.ok((await readFile(path.join(dataDir, XML_NAME))).equals(XML));
  });

  test('refuses to replace an .xml downloaded from another URL unless --force', async () => {
    serveDump();
    const other = '/mirror/enwiki-20250201-abstract.xml.gz';
    server.files.set(other, { body: GZ });
    assert.equal((await runScript(['--source', 'abstracts'], env())).status, 0);
    const r = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_URL: server.url(other) }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /was downloaded from http:\S+\/enwiki\/20250201\/\S+, not from ABSTRACTS_URL=http:\S+\/mirror\/\S+: run with --force/);
    const forced = await runScript(['--source', 'abstracts', '--force'], env({ ABSTRACTS_URL: server.url(other) }));
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(server.seen(other, 'GET').length, 1);
  });
});

describe('data_download.sh metadata', () => {
  const CSV_PATH = '/files/movies_metadata.csv';

  test('fetches METADATA_URL and verifies METADATA_CHECKSUM', async () => {
    const csv = await readFile(path.join(SAMPLE, 'movies_metadata.csv'));
    server.files.set(CSV_PATH, { body: csv, contentType: 'text/csv' });
    // --data-dir wins over TRUEFILM_DATA_DIR
    const r = await runScript(
      ['--source', 'metadata', '--data-dir', dataDir],
      env({ TRUEFILM_DATA_DIR: path.join(tmp, 'not-this-one'), METADATA_URL: server.url(CSV_PATH), METADATA_CHECKSUM: hashOf('sha256', csv) }),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(existsSync(path.join(tmp, 'not-this-one')), false);
    assert.ok((await readFile(path.join(dataDir, 'movies_metadata.csv'))).equals(csv));
    assert.deepEqual(await files(), ['movies_metadata.csv']);
    const again = await runScript(['--source', 'metadata'], env({ METADATA_URL: server.url(CSV_PATH) }));
    assert.equal(again.status, 0);
    assert.match(again.stdout, /already there: nothing to do/);
    assert.equal(server.seen(CSV_PATH, 'GET').length, 1);
  });

  test('fetches a .csv.gz and a .zip and unpacks them', async (t) => {
    const csv = await readFile(path.join(SAMPLE, 'movies_metadata.csv'));
    server.files.set('/files/movies_metadata.csv.gz', { body: gzipSync(csv) });
    const r = await runScript(['--source', 'metadata'], env({ METADATA_URL: server.url('/files/movies_metadata.csv.gz') }));
    assert.equal(r.status, 0, r.stderr);
    assert.ok((await readFile(path.join(dataDir, 'movies_metadata.csv'))).equals(csv));

    const python = spawnSync('python3', ['--version']);
    if (python.status !== 0) {
      t.skip('python3 is not installed: it builds the test zip');
      return;
    }
    const zip = path.join(tmp, `movies-${n}.zip`);
    const made = spawnSync('python3', ['-c', 'import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z: z.write(sys.argv[2], "movies_metadata.csv")', zip, path.join(SAMPLE, 'movies_metadata.csv')]);
    assert.equal(made.status, 0, String(made.stderr));
    server.files.set('/files/the-movies-dataset.zip', { body: await readFile(zip) });
    const z = await runScript(['--source', 'metadata', '--force'], env({ METADATA_URL: server.url('/files/the-movies-dataset.zip') }));
    assert.equal(z.status, 0, z.stderr);
    assert.ok((await readFile(path.join(dataDir, 'movies_metadata.csv'))).equals(csv));
    assert.deepEqual(await files(), ['movies_metadata.csv']);
  });

  test('refuses a METADATA_URL that does not give the movies CSV', async () => {
    server.files.set(CSV_PATH, { body: Buffer.from('<!doctype html><title>Sign in</title>\n') });
    const r = await runScript(['--source', 'metadata'], env({ METADATA_URL: server.url(CSV_PATH) }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /does not look like movies_metadata\.csv \(its first line: "<!doctype html>/);
    assert.deepEqual(await files(), []);
  });

  test('a METADATA_URL that answers 404 fails with its URL', async () => {
    const r = await runScript(['--source', 'metadata'], env({ METADATA_URL: server.url(CSV_PATH) }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not found \(HTTP 404\): http:\S+\/files\/movies_metadata\.csv\. check METADATA_URL/);
    assert.deepEqual(await files(), []);
  });

  test('without METADATA_URL or Kaggle credentials: says how to get the file and that the sample runs meanwhile', async () => {
    const r = await runScript(['--source', 'metadata'], env());
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /movies_metadata\.csv is not in \S+/);
    assert.match(r.stdout, /https:\/\/www\.kaggle\.com\/datasets\/rounakbanik\/the-movies-dataset/);
    assert.match(r.stdout, /pip install kaggle/);
    assert.match(r.stdout, /~\/\.kaggle\/kaggle\.json .*KAGGLE_USERNAME and KAGGLE_KEY/s);
    assert.match(r.stdout, /docker cp movies_metadata\.csv backend:\/app\/data\//);
    assert.match(r.stdout, /bundled sample .*npm run demo/s);
    assert.deepEqual(await files(), []);
  });

  test('Kaggle credentials without the kaggle command: a failure that says to install it', async (t) => {
    if (spawnSync('sh', ['-c', 'command -v kaggle']).status === 0) {
      t.skip('the kaggle command is installed here');
      return;
    }
    await mkdir(path.join(home, '.kaggle'));
    await writeFile(path.join(home, '.kaggle', 'kaggle.json'), '{"username":"u","key":"k"}\n', { mode: 0o600 });
    const r = await runScript(['--source', 'metadata'], env());
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Kaggle credentials are set but the kaggle command is not installed: pip install kaggle/);
  });
});

describe('data_download.sh usage', () => {
  test('--help tells the options, the default dump and why it is the last one, and the alternatives', async () => {
    const r = await runScript(['--help'], { HOME: home, TMPDIR: tmpDir });
    assert.equal(r.status, 0);
    for (const option of ['--source NAME', '--data-dir DIR', '--keep-gz', '--force', '-h, --help']) {
      assert.ok(r.stdout.includes(option), `--help lists ${option}`);
    }
    for (const env of ['ABSTRACTS_URL', 'ABSTRACTS_CHECKSUM', 'METADATA_URL', 'METADATA_CHECKSUM', 'KAGGLE_USERNAME', 'DOWNLOAD_TRIES', 'DECOMPRESS_RATIO', 'TRUEFILM_DATA_DIR']) {
      assert.ok(r.stdout.includes(env), `--help names ${env}`);
    }
    assert.ok(r.stdout.includes('https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-abstract.xml.gz'));
    assert.match(r.stdout, /stopped producing the abstract dumps in February 2025 \(Phabricator\s+T382069\)/);
    assert.match(r.stdout, /2025-02-01/);
    assert.match(r.stdout, /<wiki>-<YYYYMMDD>-abstract\.xml\.gz/);
    assert.match(r.stdout, /REST page summary API/);
    assert.match(r.stdout, /CirrusSearch/);
    assert.match(r.stdout, /enwiki_content/);
    assert.equal(server.requests.length, 0);
  });

  test('bad usage exits 2 and names the problem', async () => {
    const bad = await runScript(['--frobnicate'], env());
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown option "--frobnicate"/);
    const source = await runScript(['--source', 'torrent'], env());
    assert.equal(source.status, 2);
    assert.match(source.stderr, /--source must be one of: abstracts metadata; got "torrent"/);
    const tries = await runScript([], env({ DOWNLOAD_TRIES: 'many' }));
    assert.equal(tries.status, 2);
    assert.match(tries.stderr, /DOWNLOAD_TRIES must be a whole number/);
    assert.equal(server.requests.length, 0);
    assert.deepEqual(await files(), []);
  });

  test('is executable (docker exec backend ./data_download.sh)', async () => {
    assert.ok(((await stat(SCRIPT)).mode & 0o111) !== 0);
  });

  test('shellcheck finds nothing', () => {
    const version = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
    assert.ok(
      version.status === 0,
      'shellcheck is not installed: apt-get install -y shellcheck (Debian/Ubuntu; .ci/run installs it), or brew install shellcheck',
    );
    const r = spawnSync('shellcheck', ['--shell=bash', '--severity=style', SCRIPT], { encoding: 'utf8' });
    assert.equal(r.status, 0, `shellcheck findings:\n${r.stdout}${r.stderr}`);
  });
});
