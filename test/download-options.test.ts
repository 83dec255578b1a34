/**
 * `truefilm download`'s options as the command line reads them: flag >
 * environment variable > default, the script's environment variables, and
 * every problem named in one usage error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCommandLine, type DownloadConfig } from '../src/config.js';
import { TrueFilmError } from '../src/errors.js';

const download = (argv: string[], env: Record<string, string> = {}) => parseCommandLine(['download', ...argv], env) as DownloadConfig;

describe('download options', () => {
  test('the defaults: the CSV only, into data/ as truefilm run reads it, 5 tries from 10 s, the 2025-02-01 dump', () => {
    const c = download([]);
    assert.deepEqual(c.sources, ['metadata']);
    assert.equal(c.dataDir, 'data');
    assert.equal(c.contact, null);
    assert.equal(c.tries, 5);
    assert.equal(c.retryDelayMs, 10_000);
    assert.equal(c.decompressRatio, 8);
    assert.equal(c.abstractsUrl, 'https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-abstract.xml.gz');
    assert.equal(c.cirrusBaseUrl, 'https://dumps.wikimedia.org/other/cirrus_search_index/');
    assert.equal(c.progress, true);
    assert.equal(c.force || c.keepGz, false);
  });

  test('flags beat the environment, which beats the default; an empty variable is the default', () => {
    assert.equal(download([], { TRUEFILM_DATA_DIR: '/env' }).dataDir, '/env');
    assert.equal(download(['--data-dir', '/flag'], { TRUEFILM_DATA_DIR: '/env' }).dataDir, '/flag');
    assert.equal(download(['--data-dir=/flag'], { TRUEFILM_DATA_DIR: '/env' }).dataDir, '/flag');
    assert.equal(download([], { TRUEFILM_DATA_DIR: '' }).dataDir, 'data');
    assert.equal(download([], { TRUEFILM_CONTACT: 'env@example.org' }).contact, 'env@example.org');
    assert.equal(download(['--contact', 'flag@example.org'], { TRUEFILM_CONTACT: 'env@example.org' }).contact, 'flag@example.org');
    assert.equal(download([], { ABSTRACTS_URL: '' }).abstractsUrl, 'https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-abstract.xml.gz');
    const c = download(['--source', 'cirrus', '--source=abstracts', '--source', 'cirrus', '--force', '--keep-gz', '--no-progress'], {
      DOWNLOAD_TRIES: '2',
      DOWNLOAD_RETRY_DELAY: '0',
      CIRRUS_DATE: '20250809',
      METADATA_URL: 'https://example.org/m.csv',
    });
    assert.deepEqual(c.sources, ['cirrus', 'abstracts'], 'in the order given, each once');
    assert.deepEqual([c.force, c.keepGz, c.progress, c.tries, c.retryDelayMs, c.cirrusDate, c.metadataUrl], [true, true, false, 2, 0, '20250809', 'https://example.org/m.csv']);
  });

  test('every problem in one usage error (exit 2), each named', () => {
    assert.throws(
      () => download(['--source', 'torrent', '--data-dir', '--frobnicate', 'x', '--contact', 'me (at) home'], { DOWNLOAD_TRIES: '0', DECOMPRESS_RATIO: 'lots', CIRRUS_DATE: '2025-08' }),
      (err: unknown) => {
        assert.ok(err instanceof TrueFilmError && err.code === 'USAGE', `a USAGE error, got ${String(err)}`);
        for (const problem of [
          '--source must be one of: abstracts cirrus metadata; got "torrent"',
          'unknown option "x"',
          'DOWNLOAD_TRIES must be a whole number from 1, got "0"',
          'DECOMPRESS_RATIO must be a whole number from 1, got "lots"',
          'CIRRUS_DATE must be a dump date as YYYYMMDD, got "2025-08"',
          '--contact must be an e-mail address',
        ]) {
          assert.ok(err.message.includes(problem), `names: ${problem}\n${err.message}`);
        }
        assert.match(err.hint ?? '', /truefilm download --help/);
        return true;
      },
    );
  });

  test('--help anywhere gives the download help, and parses nothing else', () => {
    const help = parseCommandLine(['download', '--source', 'torrent', '--help'], {});
    assert.equal(help.command, 'help');
    assert.match((help as { text: string }).text, /^Usage: \.\/data_download\.sh \[options\]/);
  });
});
