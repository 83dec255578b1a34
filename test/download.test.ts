/**
 * data_download.sh and `truefilm download` (which the script runs), for real
 * against a real HTTP server on 127.0.0.1: download, resume, checksums, 404,
 * 429 and Retry-After, redirects, Ctrl-C, disk space, work already done, the
 * movies CSV, and the CirrusSearch dump found through its index pages. Every
 * run writes into a temporary directory, never the repo's data/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FileServer, SCRIPT, bzip2, hashOf, makeAbstractDump, makeCirrusShard, publishTree, runScript } from './helpers/download.js';
import type { SeenRequest, ServedFile } from './helpers/download.js';
import { SAMPLE, runCli } from './helpers/cli.js';
import { closedPort } from './helpers/recorder.js';

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

/** The data directory's files, less the lock file a download holds there while it runs. */
async function files(): Promise<string[]> {
  if (!existsSync(dataDir)) return [];
  return (await readdir(dataDir)).filter((f) => f !== '.download.lock').sort();
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
    const r = await runScript(['--source', 'abstracts'], env({ TRUEFILM_CONTACT: 'film-desk@example.org' }));
    assert.equal(r.status, 0, r.stderr);
    assert.ok((await readFile(path.join(dataDir, XML_NAME))).equals(XML), 'the .xml is the decompressed dump');
    assert.deepEqual(await files(), [`.${XML_NAME}.source`, XML_NAME]);
    assert.match(r.stdout, /verifying enwiki-20250201-abstract\.xml\.gz \(sha256 from http:\/\/127\.0\.0\.1:\d+\/enwiki\/20250201\/enwiki-20250201-abstract\.xml\.gz\.sha256\)/);
    assert.match(r.stdout, /checksum ok/);
    const gets = server.seen(DUMP_PATH, 'GET');
    assert.equal(gets.length, 1);
    assert.equal(gets[0]!.range, undefined, 'a fresh download asks for the whole file');
    assert.match(gets[0]!.userAgent ?? '', /^TrueFilm\/\d+\.\d+\.\d+ \(film-desk@example\.org\) undici$/, "the program's User-Agent, with the user's contact");
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
    assert.match(first.stderr, /truefilm: could not download http:\S+ in 1 attempt\(s\); the .* received are kept in \S+\.part: run again to resume/);
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
    assert.match(r.stderr, new RegExp(`truefilm: not found \\(HTTP 404\\): ${server.url(DUMP_PATH).replace(/[.]/g, '\\.')}`));
    assert.match(r.stderr, /mirror/);
    assert.match(r.stderr, /T382069/);
    assert.deepEqual(await files(), []);
  });

  test('a server that does not answer: a clear message naming the URL, and no file', async () => {
    const url = `http://127.0.0.1:${await closedPort()}${DUMP_PATH}`;
    const r = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_URL: url }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`truefilm: cannot reach ${url.replace(/[.]/g, '\\.')}: .*Check the address and the network, then run again`));
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

describe('data_download.sh cirrus', () => {
  const ROOT_PATH = '/other/cirrus_search_index/';
  const OLD = '20250802';
  const MID = '20250809';
  const NEW = '20250816';
  /** the enwiki_content files of each date: real bzip2 of generated bulk NDJSON */
  const SHARDS: Record<string, Buffer[]> = {};
  let OTHER: Buffer;
  const EMPTY = Buffer.alloc(0);
  const shardName = (date: string, i: number): string => `enwiki_content-${date}-${String(i).padStart(5, '0')}.json.bz2`;
  const indexDir = (date: string): string => `${date}/index_name=enwiki_content/`;
  const shardPath = (date: string, i: number): string => ROOT_PATH + indexDir(date) + shardName(date, i);
  const cirrusDir = (date: string): string => path.join(dataDir, 'cirrus', date);

  before(() => {
    const counts: Record<string, number> = { [OLD]: 2, [MID]: 3, [NEW]: 2 };
    for (const [date, count] of Object.entries(counts)) {
      SHARDS[date] = Array.from({ length: count }, (_, i) => bzip2(makeCirrusShard(900, Number(date) + i, i * 1000 + 1)));
    }
    OTHER = bzip2(makeCirrusShard(20, 7));
    assert.ok(SHARDS[MID]!.every((b) => b.length > 150_000), 'the shards are big enough to cut');
  });

  /** The dump index in today's layout: OLD and MID complete, NEW still without _SUCCESS. */
  function tree(): Record<string, ServedFile> {
    const served: Record<string, ServedFile> = { 'readme.html': { body: Buffer.from('<p>CirrusSearch dumps</p>\n') } };
    for (const date of [OLD, MID, NEW]) {
      SHARDS[date]!.forEach((body, i) => (served[indexDir(date) + shardName(date, i)] = { body }));
      if (date !== NEW) served[`${indexDir(date)}_SUCCESS`] = { body: EMPTY };
      served[`${date}/index_name=enwiki_general/enwiki_general-${date}-00000.json.bz2`] = { body: OTHER };
      served[`${date}/index_name=enwiki_general/_SUCCESS`] = { body: EMPTY };
      served[`${date}/index_name=frwiki_content/frwiki_content-${date}-00000.json.bz2`] = { body: OTHER };
      served[`${date}/index_name=frwiki_content/_SUCCESS`] = { body: EMPTY };
    }
    return served;
  }

  function cirrusEnv(extra: Record<string, string> = {}): Record<string, string> {
    return env({ CIRRUS_BASE_URL: server.url(ROOT_PATH), ...extra });
  }

  /** The arguments printed at the end, both forms; they must agree. */
  function printed(stdout: string): string[] {
    const command = /^ {2}node dist\/main\.js (.+)$/m.exec(stdout);
    assert.ok(command, `prints the node dist/main.js command:\n${stdout}`);
    const words = command[1]!.split(' ');
    assert.equal(words.length % 2, 0);
    const files: string[] = [];
    for (let i = 0; i < words.length; i += 2) {
      assert.equal(words[i], '--abstracts');
      files.push(words[i + 1]!);
    }
    const variable = /^ {2}TRUEFILM_ABSTRACTS=(\S+)$/m.exec(stdout);
    assert.ok(variable, 'prints the TRUEFILM_ABSTRACTS value');
    assert.deepEqual(variable[1]!.split(':'), files);
    return files;
  }

  /** Requests under one directory of the server (its listing included). */
  const under = (prefix: string): SeenRequest[] => server.requests.filter((r) => r.path.startsWith(prefix));

  test('takes the newest complete date (one without _SUCCESS is skipped), fetches every file, keeps them compressed, prints the arguments', async () => {
    publishTree(server, ROOT_PATH, tree());
    const r = await runScript(['--source', 'cirrus'], cirrusEnv());
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`skipping ${NEW}: not complete yet: no _SUCCESS marker in http:\\S+/${NEW}/index_name%3Denwiki_content/ \\(2 file\\(s\\) so far\\)`));
    assert.match(r.stdout, new RegExp(`taking the dump of ${MID}: 3 file\\(s\\)`));
    assert.match(r.stderr, /publishes no checksums: each file is checked against the size the server announces and its compression header/);

    const names = SHARDS[MID]!.map((_, i) => shardName(MID, i));
    assert.deepEqual(await files(), ['cirrus']);
    assert.deepEqual(await readdir(path.join(dataDir, 'cirrus')), [MID], 'the complete directory only, no .part left');
    assert.deepEqual((await readdir(cirrusDir(MID))).sort(), ['.source', ...names]);
    for (const [i, body] of SHARDS[MID]!.entries()) {
      assert.ok((await readFile(path.join(cirrusDir(MID), shardName(MID, i)))).equals(body), `${shardName(MID, i)} is the file served, still bzip2`);
      const gets = server.seen(shardPath(MID, i), 'GET');
      assert.equal(gets.length, 1);
      assert.match(gets[0]!.userAgent ?? '', /^TrueFilm\//);
    }
    assert.match(await readFile(path.join(cirrusDir(MID), '.source'), 'utf8'), new RegExp(`^url=http:\\S+/${MID}/index_name%3Denwiki_content/$`, 'm'));

    assert.deepEqual(printed(r.stdout), names.map((n) => path.join(cirrusDir(MID), n)), 'every file, in shard order');
    assert.deepEqual(server.seen(shardPath(NEW, 0), 'GET'), [], 'nothing of the incomplete date is fetched');
    assert.deepEqual(under(ROOT_PATH + OLD), [], 'an older date is not even looked at');
    assert.deepEqual(under(`${ROOT_PATH}${MID}/index_name=frwiki_content`), [], 'nor another wiki');
    await assertNoTempLeft();
  });

  test('a second run downloads nothing and leaves the files alone; --force fetches them again', async () => {
    publishTree(server, ROOT_PATH, tree());
    const first = await runScript(['--source', 'cirrus'], cirrusEnv());
    assert.equal(first.status, 0, first.stderr);
    const file = path.join(cirrusDir(MID), shardName(MID, 0));
    const before = await stat(file);
    const count = server.requests.length;

    const second = await runScript(['--source', 'cirrus'], cirrusEnv());
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`the dump of ${MID} is already complete in \\S+: nothing to do`));
    const asked = server.requests.slice(count).map((q) => `${q.method} ${q.path}`);
    assert.deepEqual(asked, [`GET ${ROOT_PATH}`, `GET ${ROOT_PATH}${indexDir(NEW)}`], 'only the listings that tell whether a newer dump is complete');
    const afterStat = await stat(file);
    assert.equal(afterStat.mtimeMs, before.mtimeMs);
    assert.equal(afterStat.ino, before.ino);
    assert.deepEqual(printed(second.stdout), printed(first.stdout));

    const forced = await runScript(['--source', 'cirrus', '--force'], cirrusEnv());
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(server.seen(shardPath(MID, 0), 'GET').length, 2);
    assert.ok((await readFile(file)).equals(SHARDS[MID]![0]!));
  });

  test('a file cut off is resumed by the next run with a Range request; the files already there are not fetched again', async () => {
    const served = tree();
    const cutAt = 100_000;
    served[indexDir(MID) + shardName(MID, 1)] = { body: SHARDS[MID]![1]!, cuts: 1, cutAt };
    publishTree(server, ROOT_PATH, served);

    const first = await runScript(['--source', 'cirrus'], cirrusEnv({ DOWNLOAD_TRIES: '1' }));
    assert.equal(first.status, 1);
    assert.match(first.stderr, /truefilm: could not download http:\S+-00001\.json\.bz2 in 1 attempt\(s\); the .* received are kept in \S+\.part: run again to resume/);
    assert.doesNotMatch(first.stdout, /--abstracts/, 'no arguments for an incomplete dump');
    assert.deepEqual(await readdir(path.join(dataDir, 'cirrus')), [`${MID}.part`], 'nothing looks complete');
    const work = path.join(dataDir, 'cirrus', `${MID}.part`);
    assert.deepEqual((await readdir(work)).sort(), [shardName(MID, 0), `${shardName(MID, 1)}.part`]);
    const partSize = (await stat(path.join(work, `${shardName(MID, 1)}.part`))).size;
    assert.ok(partSize > 0 && partSize <= cutAt);

    const second = await runScript(['--source', 'cirrus'], cirrusEnv());
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`\\[1/3\\] ${shardName(MID, 0)} is already downloaded and checked`));
    assert.match(second.stdout, new RegExp(`resuming ${shardName(MID, 1).replace(/\./g, '\\.')} at`));
    assert.equal(server.seen(shardPath(MID, 0), 'GET').length, 1, 'the complete file is not fetched again');
    const gets = server.seen(shardPath(MID, 1), 'GET');
    assert.equal(gets.length, 2);
    assert.equal(gets[1]!.range, `bytes=${partSize}-`);
    assert.equal(gets[1]!.status, 206);
    assert.equal(gets[1]!.bytes, SHARDS[MID]![1]!.length - partSize, 'only the missing bytes were sent again');
    for (const [i, body] of SHARDS[MID]!.entries()) {
      assert.ok((await readFile(path.join(cirrusDir(MID), shardName(MID, i)))).equals(body));
    }
    assert.deepEqual(await readdir(path.join(dataDir, 'cirrus')), [MID]);
  });

  test('a wrong checksum in the published SHA256SUMS fails, deletes that file, and leaves nothing that looks complete', async () => {
    const served = tree();
    const wrong = hashOf('sha256', Buffer.from('not this file'));
    const sums = (digest1: string): Buffer =>
      Buffer.from(
        [hashOf('sha256', SHARDS[MID]![0]!), digest1, hashOf('sha256', SHARDS[MID]![2]!)].map((h, i) => `${h}  ${shardName(MID, i)}\n`).join(''),
      );
    served[`${indexDir(MID)}SHA256SUMS`] = { body: sums(wrong) };
    publishTree(server, ROOT_PATH, served);

    const r = await runScript(['--source', 'cirrus'], cirrusEnv());
    assert.equal(r.status, 1);
    const bad = shardName(MID, 1);
    assert.match(
      r.stderr,
      new RegExp(`checksum mismatch for ${bad.replace(/\./g, '\\.')}: expected sha256 ${wrong} \\(from http:\\S+/index_name%3Denwiki_content/SHA256SUMS\\), got ${hashOf('sha256', SHARDS[MID]![1]!)}`),
    );
    assert.match(r.stdout, new RegExp(`verifying ${shardName(MID, 0).replace(/\./g, '\\.')} \\(sha256 from http:\\S+/SHA256SUMS\\)\\nchecksum ok`));
    assert.doesNotMatch(r.stdout, /--abstracts/);
    assert.deepEqual(await readdir(path.join(dataDir, 'cirrus')), [`${MID}.part`], 'no complete directory');
    assert.deepEqual(await readdir(path.join(dataDir, 'cirrus', `${MID}.part`)), [shardName(MID, 0)], 'the bad file is deleted, .part included');
    assert.deepEqual(server.seen(shardPath(MID, 2), 'GET'), [], 'stops at the first bad file');
    assert.equal(server.seen(`${ROOT_PATH}${indexDir(MID)}SHA256SUMS`, 'GET').length, 1, 'the list of digests is fetched once');
    await assertNoTempLeft();

    // the server fixes its list: the next run fetches what is missing, and verifies it
    served[`${indexDir(MID)}SHA256SUMS`] = { body: sums(hashOf('sha256', SHARDS[MID]![1]!)) };
    publishTree(server, ROOT_PATH, served);
    const again = await runScript(['--source', 'cirrus'], cirrusEnv());
    assert.equal(again.status, 0, again.stderr);
    assert.equal(server.seen(shardPath(MID, 0), 'GET').length, 1);
    assert.equal((again.stdout.match(/checksum ok/g) ?? []).length, 2);
    assert.doesNotMatch(again.stderr, /publishes no checksums/);
    assert.equal(printed(again.stdout).length, 3);
  });

  test('an index with no enwiki content file: a clear message, exit 1, and nothing left behind', async () => {
    // no date holds enwiki_content at all
    const served: Record<string, ServedFile> = {};
    for (const date of [MID, NEW]) {
      served[`${date}/index_name=frwiki_content/frwiki_content-${date}-00000.json.bz2`] = { body: OTHER };
      served[`${date}/index_name=frwiki_content/_SUCCESS`] = { body: EMPTY };
    }
    publishTree(server, ROOT_PATH, served);
    const none = await runScript(['--source', 'cirrus'], cirrusEnv());
    assert.equal(none.status, 1);
    for (const date of [NEW, MID]) {
      assert.match(none.stdout, new RegExp(`skipping ${date}: it holds no enwiki content dump \\(neither index_name=enwiki_content/ nor enwiki-${date}-cirrussearch-content\\.json\\.gz\\)`));
    }
    assert.match(none.stderr, /truefilm: no complete enwiki content dump at http:\S+\/other\/cirrus_search_index\/ \(looked at 2 date\(s\), see above\)/);
    assert.deepEqual(await files(), []);

    // a complete enwiki_content directory whose files are not named as expected
    server.files.clear();
    publishTree(server, ROOT_PATH, {
      [`${indexDir(MID)}part-00000.json.bz2`]: { body: SHARDS[MID]![0]! },
      [`${indexDir(MID)}_SUCCESS`]: { body: EMPTY },
    });
    const renamed = await runScript(['--source', 'cirrus'], cirrusEnv());
    assert.equal(renamed.status, 1);
    assert.match(
      renamed.stderr,
      new RegExp(`truefilm: http:\\S+/${MID}/index_name%3Denwiki_content/ is marked complete \\(_SUCCESS\\) but lists no enwiki content shard \\(enwiki_content-${MID}-NNNNN\\.json\\.bz2 or \\.json\\.gz\\): the layout of the dumps has changed`),
    );
    assert.deepEqual(server.seen(`${ROOT_PATH}${indexDir(MID)}part-00000.json.bz2`), []);
    assert.deepEqual(await files(), []);

    // a page that is not the index of the dumps
    server.files.clear();
    server.files.set(ROOT_PATH, { body: Buffer.from('<html><a href="/">home</a> <a href="about.html">about</a></html>') });
    const page = await runScript(['--source', 'cirrus'], cirrusEnv());
    assert.equal(page.status, 1);
    assert.match(page.stderr, /the listing of http:\S+ holds no dump date \(a YYYYMMDD\/ directory\): is CIRRUS_BASE_URL the index of the CirrusSearch dumps\?/);
    assert.deepEqual(await files(), []);
  });

  test('checks the free space for the whole dump before fetching any of it', async () => {
    const served = tree();
    SHARDS[MID]!.forEach((body, i) => (served[indexDir(MID) + shardName(MID, i)] = { body, headSize: 400_000_000_000_000 }));
    publishTree(server, ROOT_PATH, served);
    const r = await runScript(['--source', 'cirrus'], cirrusEnv());
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`not enough free disk space in \\S+ to download the ${MID} enwiki_content dump \\(3 file\\(s\\)\\): about 1200\\.0 TB needed, .* free`));
    for (let i = 0; i < 3; i++) assert.deepEqual(server.seen(shardPath(MID, i), 'GET'), [], 'not a byte fetched');
    assert.equal(server.seen(shardPath(MID, 2), 'HEAD').length, 1, 'every size was asked first');
    assert.deepEqual(await files(), [], 'nothing left behind');
  });

  test('CIRRUS_DATE takes that date, verified against the .md5 beside each file; an incomplete or malformed date is refused', async () => {
    const served = tree();
    SHARDS[OLD]!.forEach((body, i) => (served[`${indexDir(OLD)}${shardName(OLD, i)}.md5`] = { body: Buffer.from(`${hashOf('md5', body)}  ${shardName(OLD, i)}\n`) }));
    publishTree(server, ROOT_PATH, served);
    const r = await runScript(['--source', 'cirrus'], cirrusEnv({ CIRRUS_DATE: OLD }));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`verifying ${shardName(OLD, 1).replace(/\./g, '\\.')} \\(md5 from http:\\S+-00001\\.json\\.bz2\\.md5\\)`));
    assert.deepEqual(server.seen(ROOT_PATH), [], 'the date is not looked up');
    assert.deepEqual(printed(r.stdout), SHARDS[OLD]!.map((_, i) => path.join(cirrusDir(OLD), shardName(OLD, i))));

    const count = server.requests.length;
    const again = await runScript(['--source', 'cirrus'], cirrusEnv({ CIRRUS_DATE: OLD }));
    assert.equal(again.status, 0, again.stderr);
    assert.equal(server.requests.length, count, 'a pinned date already here: no request at all');

    const incomplete = await runScript(['--source', 'cirrus'], cirrusEnv({ CIRRUS_DATE: NEW }));
    assert.equal(incomplete.status, 1);
    assert.match(incomplete.stderr, new RegExp(`the CirrusSearch dump of CIRRUS_DATE=${NEW} cannot be used: not complete yet: no _SUCCESS marker`));

    const bad = await runScript(['--source', 'cirrus'], cirrusEnv({ CIRRUS_DATE: '2025-08' }));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /CIRRUS_DATE must be a dump date as YYYYMMDD, got "2025-08"/);
  });

  test('reads the older layout too: one enwiki-<date>-cirrussearch-content.json.gz per date', async () => {
    const legacy = '/other/cirrussearch/';
    const gz = gzipSync(makeCirrusShard(300, 11));
    publishTree(server, legacy, {
      'DEPRECATED.txt': { body: Buffer.from('no longer updated\n') },
      'current/README': { body: Buffer.from('see the dated directories\n') },
      '20251222/enwiki-20251222-cirrussearch-content.json.gz': { body: gz },
      '20251222/enwiki-20251222-cirrussearch-general.json.gz': { body: OTHER },
      '20251222/frwiki-20251222-cirrussearch-content.json.gz': { body: OTHER },
      '20251229/frwiki-20251229-cirrussearch-content.json.gz': { body: OTHER },
    });
    const r = await runScript(['--source', 'cirrus'], env({ CIRRUS_BASE_URL: server.url(legacy) }));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /skipping 20251229: it holds no enwiki content dump/);
    const file = path.join(dataDir, 'cirrus', '20251222', 'enwiki-20251222-cirrussearch-content.json.gz');
    assert.ok((await readFile(file)).equals(gz), 'kept as .gz');
    assert.deepEqual(printed(r.stdout), [file]);
    assert.deepEqual(server.seen(`${legacy}20251222/enwiki-20251222-cirrussearch-general.json.gz`), []);
  });

  test('a file that is not what its name says (an HTML page saved as .json.bz2) is deleted', async () => {
    const served = tree();
    served[indexDir(MID) + shardName(MID, 0)] = { body: Buffer.from('<html><body>Too many requests</body></html>\n') };
    publishTree(server, ROOT_PATH, served);
    const r = await runScript(['--source', 'cirrus'], cirrusEnv());
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${shardName(MID, 0).replace(/\./g, '\\.')} is not a bzip2 file \\(it starts with the bytes 3c6874\\): deleted it; run again`));
    assert.deepEqual(await files(), [], 'nothing left behind');
  });

  test('a server that does not answer: the complete download already here is used, with a warning; without one, a clear error', async () => {
    const unreachable = `http://127.0.0.1:${await closedPort()}${ROOT_PATH}`;

    const nothing = await runScript(['--source', 'cirrus'], env({ CIRRUS_BASE_URL: unreachable, DOWNLOAD_TRIES: '2' }));
    assert.equal(nothing.status, 1);
    assert.doesNotMatch(nothing.stderr, /trying again/, 'a refused connection is not asked again (the retry policy of src/http/retry.ts)');
    assert.match(nothing.stderr, new RegExp(`truefilm: cannot list the CirrusSearch dumps at ${unreachable.replace(/\./g, '\\.')}: .*Check the address \\(CIRRUS_BASE_URL\\) and the network`));
    assert.deepEqual(await files(), []);

    publishTree(server, ROOT_PATH, tree());
    assert.equal((await runScript(['--source', 'cirrus'], cirrusEnv())).status, 0);
    const offline = await runScript(['--source', 'cirrus'], env({ CIRRUS_BASE_URL: unreachable, DOWNLOAD_TRIES: '1' }));
    assert.equal(offline.status, 0, offline.stderr);
    assert.match(offline.stderr, new RegExp(`warning: cannot list the CirrusSearch dumps at \\S+ \\(.*\\): using the complete download of ${MID} already here`));
    assert.equal(printed(offline.stdout).length, 3);
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

  test('with no --source, only the CSV: a run online needs no dump', async () => {
    serveDump();
    server.files.set(CSV_PATH, { body: await readFile(path.join(SAMPLE, 'movies_metadata.csv')) });
    const r = await runScript([], env({ METADATA_URL: server.url(CSV_PATH) }));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(await files(), ['movies_metadata.csv']);
    assert.equal(server.seen(DUMP_PATH, 'GET').length, 0, 'no dump is fetched');
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
    assert.match(r.stdout, /Neither is needed to run online/);
    assert.match(r.stdout, /MediaWiki Action API/);
    assert.match(r.stdout, /By default: metadata\./);
    assert.match(r.stdout, /CirrusSearch/);
    assert.match(r.stdout, /enwiki_content/);
    // the CirrusSearch source: what it is, which to use today and why, what it assumes of the server
    assert.match(r.stdout, /^ {2}cirrus {6}the newest complete CirrusSearch dump/m);
    assert.match(r.stdout, /Which abstracts to use today/);
    assert.match(r.stdout, /Use cirrus when you have the disk space/);
    for (const text of ['CIRRUS_BASE_URL', 'CIRRUS_DATE', 'https://dumps.wikimedia.org/other/cirrus_search_index/', 'index_name=enwiki_content/', 'enwiki_content-<date>-00000.json.bz2', '_SUCCESS', 'TRUEFILM_ABSTRACTS', 'lbzip2']) {
      assert.ok(r.stdout.includes(text), `--help names ${text}`);
    }
    assert.equal(server.requests.length, 0);
  });

  test('bad usage exits 2 and names the problem', async () => {
    const bad = await runScript(['--frobnicate'], env());
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown option "--frobnicate"/);
    const source = await runScript(['--source', 'torrent'], env());
    assert.equal(source.status, 2);
    assert.match(source.stderr, /--source must be one of: abstracts cirrus metadata; got "torrent"/);
    const tries = await runScript([], env({ DOWNLOAD_TRIES: 'many' }));
    assert.equal(tries.status, 2);
    assert.match(tries.stderr, /DOWNLOAD_TRIES must be a whole number/);
    assert.equal(server.requests.length, 0);
    assert.deepEqual(await files(), []);
  });

  test('is executable (docker exec backend ./data_download.sh)', async () => {
    assert.ok(((await stat(SCRIPT)).mode & 0o111) !== 0);
  });
});

describe('truefilm download (what data_download.sh runs)', () => {
  const RAW_PATH = '/files/enwiki-20250201-abstract.xml';
  /** an uncompressed dump of a few MB: large enough to span several 1 MiB writes */
  const RAW = makeAbstractDump(20_000, 5);

  test('node dist/main.js download is the same command: its --help, its usage errors, a download; truefilm --help names it', async () => {
    const help = await runCli(['download', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--source NAME/);
    assert.match(help.stdout, /DOWNLOAD_RETRY_DELAY/);
    assert.match((await runCli(['--help'])).stdout, /truefilm download/);

    const bad = await runCli(['download', '--source', 'torrent', '--frobnicate'], { env: { HOME: home } });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown option "--frobnicate"\n--source must be one of: abstracts cirrus metadata; got "torrent"/, 'every problem, in one go');

    const csv = await readFile(path.join(SAMPLE, 'movies_metadata.csv'));
    server.files.set('/files/movies_metadata.csv', { body: csv });
    const r = await runCli(['download', '--data-dir', dataDir, '--contact', 'film-desk@example.org'], {
      env: { HOME: home, METADATA_URL: server.url('/files/movies_metadata.csv') },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.ok((await readFile(path.join(dataDir, 'movies_metadata.csv'))).equals(csv));
    assert.match(server.seen('/files/movies_metadata.csv', 'GET')[0]!.userAgent ?? '', /\(film-desk@example\.org\)/);
  });

  test('HTTP 429 and 503 with Retry-After: the size and the file are asked again only after the time the server asked for', async () => {
    server.files.set(RAW_PATH, {
      body: RAW,
      throttle: [
        { method: 'HEAD', status: 429, times: 1, retryAfter: '1' },
        { method: 'GET', status: 503, times: 1, retryAfter: '1' },
      ],
    });
    const r = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_URL: server.url(RAW_PATH), ABSTRACTS_CHECKSUM: hashOf('sha256', RAW) }));
    assert.equal(r.status, 0, r.stderr);
    for (const method of ['HEAD', 'GET']) {
      const asked = server.seen(RAW_PATH, method);
      assert.equal(asked.length, 2, `${method}: once throttled, once answered`);
      assert.ok(asked[1]!.at - asked[0]!.at >= 1000, `${method}: asked again after ${asked[1]!.at - asked[0]!.at} ms, not before the 1 s asked for`);
    }
    assert.match(r.stderr, /the server answered HTTP 503 Service Unavailable for enwiki-20250201-abstract\.xml: trying again in 1\.0 s/);
    assert.ok((await readFile(path.join(dataDir, XML_NAME))).equals(RAW));
  });

  test('a redirect to a storage host is followed, with the User-Agent, and a cut transfer resumes there with Range', async () => {
    const STORE = '/storage/ia800/enwiki-20250201-abstract.xml.gz';
    server.files.set(DUMP_PATH, { body: GZ, redirect: server.url(STORE) });
    server.files.set(STORE, { body: GZ, cuts: 1, cutAt: 150_000 });
    const r = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_CHECKSUM: hashOf('md5', GZ), TRUEFILM_CONTACT: 'film-desk@example.org' }));
    assert.equal(r.status, 0, r.stderr);
    const gets = server.seen(STORE, 'GET');
    assert.equal(gets.length, 2);
    assert.equal(gets[1]!.range, `bytes=${gets[0]!.bytes}-`, 'resumed where the cut left it');
    for (const g of gets) assert.match(g.userAgent ?? '', /^TrueFilm\/\S+ \(film-desk@example\.org\) undici$/);
    assert.ok((await readFile(path.join(dataDir, XML_NAME))).equals(XML));
  });

  test('Ctrl-C during a transfer: exit 130, the bytes received kept in the .part, and the next run resumes from there and verifies the whole file', async () => {
    const held = 3 << 20;
    assert.ok(RAW.length > held, `the dump is larger than what is held (${RAW.length} bytes)`);
    server.files.set(RAW_PATH, { body: RAW, hold: true, cutAt: held });
    const part = path.join(dataDir, `${XML_NAME}.download.part`);
    const first = await runCli(['download', '--source', 'abstracts', '--no-progress'], {
      env: { HOME: home, TRUEFILM_DATA_DIR: dataDir, ABSTRACTS_URL: server.url(RAW_PATH), ABSTRACTS_CHECKSUM: hashOf('sha256', RAW) },
      onSpawn: (child) => {
        // the first 1 MiB write shows the transfer under way
        const poll = (): void => {
          stat(part).then(
            (s) => (s.size > 0 ? child.kill('SIGINT') : setImmediate(poll)),
            () => setImmediate(poll),
          );
        };
        poll();
      },
    });
    assert.equal(first.status, 130, first.stderr);
    assert.match(first.stderr, /stopped by SIGINT; partial downloads are kept as \.part files: run it again to resume/);
    const kept = (await stat(part)).size;
    assert.ok(kept >= 1 << 20 && kept <= held, `kept ${kept} bytes: at least the first write, at most what was sent`);

    server.files.set(RAW_PATH, { body: RAW });
    const second = await runScript(['--source', 'abstracts'], env({ ABSTRACTS_URL: server.url(RAW_PATH), ABSTRACTS_CHECKSUM: hashOf('sha256', RAW) }));
    assert.equal(second.status, 0, second.stderr);
    assert.equal(server.seen(RAW_PATH, 'GET').at(-1)!.range, `bytes=${kept}-`);
    assert.match(second.stdout, /checksum ok/, 'the digest covers the bytes of both runs');
    assert.ok((await readFile(path.join(dataDir, XML_NAME))).equals(RAW));
    assert.deepEqual(await files(), [`.${XML_NAME}.source`, XML_NAME]);
  });

  test('data_download.sh without a built program says how to build it', async () => {
    const checkout = path.join(tmp, `checkout-${n}`);
    await mkdir(checkout);
    await copyFile(SCRIPT, path.join(checkout, 'data_download.sh'));
    const r = spawnSync('bash', [path.join(checkout, 'data_download.sh'), '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /dist\/main\.js is missing: build the program first \(npm ci && npm run build\)/);
  });
});
