/**
 * What `truefilm download` reads in a dump server's pages, as pure functions
 * (src/download/listing.ts): directory listings as nginx and Apache write
 * them, checksum files, the dump files of a directory and their order, digests
 * given by the user, and the Content-Range of a resumed transfer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  algoOf,
  digestFilesFor,
  digestIn,
  dumpFiles,
  CIRRUS_SHARD_RE,
  legacyCirrusRe,
  listingDates,
  listingNames,
  parseGivenDigest,
  publishedDigestCandidates,
  publishesDigests,
  urlName,
} from '../src/download/listing.js';
import { parseContentRange } from '../src/http/transfer.js';

describe('listingNames', () => {
  test("nginx's autoindex, as dumps.wikimedia.org serves it: the link is read, not the text that cuts long names; %3D decoded", () => {
    const page = [
      '<html>\r\n<head><title>Index of /other/cirrus_search_index/20250809/index_name=enwiki_content/</title></head>\r\n<body>',
      '<h1>Index of /other/cirrus_search_index/20250809/</h1><hr><pre><a href="../">../</a>',
      '<a href="index_name%3Denwiki_content/">index_name=enwiki_content/</a>                         16-Aug-2025 04:12                   -',
      '<a href="enwiki_content-20250809-00000.json.bz2">enwiki_content-20250809-00000.json.bz2</a>             16-Aug-2025 04:12           601234567',
      '<a href="enwiki_content-20250809-00001-with-a-very-long-name.json.bz2">enwiki_content-20250809-00001-with-a-very-lo..&gt;</a> 16-Aug-2025 04:12 5',
      '<a href="_SUCCESS">_SUCCESS</a>                                           16-Aug-2025 04:12                   0',
      '</pre><hr></body>\r\n</html>',
    ].join('\r\n');
    assert.deepEqual(listingNames(page), [
      'index_name=enwiki_content/',
      'enwiki_content-20250809-00000.json.bz2',
      'enwiki_content-20250809-00001-with-a-very-long-name.json.bz2',
      '_SUCCESS',
    ]);
  });

  test("Apache's autoindex: sort links, the parent directory, single quotes, absolute links and entities", () => {
    const page = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html><head><title>Index of /dumps</title></head><body><h1>Index of /dumps</h1>
<table><tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th></tr>
<tr><td><a href="/">Parent Directory</a></td></tr>
<tr><td><a HREF='20250802/'>20250802/</a></td></tr>
<tr><td><a href="https://mirror.example.org/dumps/20250809/">20250809/</a></td></tr>
<tr><td><a href="./notes%20and%20more.txt?download=1#top">notes and more.txt</a></td></tr>
<tr><td><a href="a&amp;b.txt">a&amp;b.txt</a></td></tr>
<tr><td><a href="bad%ZZescape">bad%ZZescape</a></td></tr>
<tr><td><a href="20250802/">20250802/ again</a></td></tr>
</table></body></html>`;
    assert.deepEqual(listingNames(page), ['20250802/', '20250809/', 'notes and more.txt', 'a&b.txt', 'bad%ZZescape']);
  });

  test('a page with no links, or no page at all, lists nothing', () => {
    assert.deepEqual(listingNames('<html><body>Too many requests</body></html>'), []);
    assert.deepEqual(listingNames(''), []);
  });

  test('the dates of an index, newest first, each once; other entries ignored', () => {
    assert.deepEqual(listingDates(['20250802/', 'readme.html', '20250816/', 'current/', '2025081/', '20250809/', '20250816/', '20250823']), ['20250816', '20250809', '20250802']);
  });
});

describe('dump files', () => {
  test('in shard order by number, not by text; a .bz2 with a .gz twin left out; other indexes and wikis ignored', () => {
    const entries = [
      'enwiki_content-20250809-00010.json.bz2',
      'enwiki_content-20250809-00002.json.bz2',
      'enwiki_content-20250809-00002.json.gz',
      'enwiki_content-20250809-00001.json.bz2',
      'enwiki_content-20250809-00001.json.bz2',
      'enwiki_general-20250809-00000.json.bz2',
      'frwiki_content-20250809-00000.json.bz2',
      'enwiki_content-20250809-00003.json.bz2.md5',
      '_SUCCESS',
    ];
    assert.deepEqual(dumpFiles(entries, CIRRUS_SHARD_RE), [
      'enwiki_content-20250809-00001.json.bz2',
      'enwiki_content-20250809-00002.json.gz',
      'enwiki_content-20250809-00010.json.bz2',
    ]);
  });

  test('the older layout: one file per date, for that date only', () => {
    const entries = ['enwiki-20251222-cirrussearch-content.json.gz', 'enwiki-20251222-cirrussearch-general.json.gz', 'enwiki-20251229-cirrussearch-content.json.gz'];
    assert.deepEqual(dumpFiles(entries, legacyCirrusRe('20251222')), ['enwiki-20251222-cirrussearch-content.json.gz']);
    assert.equal(dumpFiles(entries, legacyCirrusRe()).length, 2);
  });
});

describe('checksums', () => {
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
  const sha1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
  const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

  test('algoOf tells md5, sha1, sha256 and sha512 by length, and nothing else', () => {
    assert.equal(algoOf(md5), 'md5');
    assert.equal(algoOf(sha1.toUpperCase()), 'sha1');
    assert.equal(algoOf(sha256), 'sha256');
    assert.equal(algoOf('ab'.repeat(64)), 'sha512');
    assert.equal(algoOf('ab'.repeat(24)), null);
    assert.equal(algoOf(`${md5.slice(1)}g`), null);
  });

  test('digestIn: the line naming the file (text or binary mode), CRLF tolerated; a lone digest only where allowed', () => {
    const list = `${sha1}  other.xml.gz\r\n${md5.toUpperCase()} *enwiki-20250201-abstract.xml.gz\r\n`;
    assert.equal(digestIn(list, 'enwiki-20250201-abstract.xml.gz', { lone: false }), md5);
    assert.equal(digestIn(list, 'absent.gz', { lone: false }), null);
    assert.equal(digestIn(`${sha256}\n`, 'x.gz', { lone: true }), sha256);
    assert.equal(digestIn(`${sha256}\n`, 'x.gz', { lone: false }), null, 'a list names its files');
    assert.equal(digestIn('not a digest  x.gz\n', 'x.gz', { lone: true }), null);
  });

  test('a digest given by the user: hex of a known length, "<algo>:" that agrees, or none', () => {
    assert.deepEqual(parseGivenDigest(sha256.toUpperCase()), { algo: 'sha256', hex: sha256 });
    assert.deepEqual(parseGivenDigest(`sha1:${sha1}`), { algo: 'sha1', hex: sha1 });
    assert.equal(parseGivenDigest('none'), 'none');
    assert.equal(parseGivenDigest('sha256:1234'), undefined);
    assert.equal(parseGivenDigest(`md5:${sha1}`), undefined, 'the algorithm named must be the one the length says');
  });

  test('where a digest may be published beside a file, best first; a Wikimedia dump run adds its sums files', () => {
    const urls = publishedDigestCandidates('https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-abstract.xml.gz?x=1').map((c) => c.url);
    assert.deepEqual(urls, [
      'https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-abstract.xml.gz.sha256',
      'https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-abstract.xml.gz.sha512',
      'https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-abstract.xml.gz.sha1',
      'https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-abstract.xml.gz.md5',
      'https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-sha1sums.txt',
      'https://dumps.wikimedia.org/enwiki/20250201/enwiki-20250201-md5sums.txt',
      'https://dumps.wikimedia.org/enwiki/20250201/SHA256SUMS',
    ]);
    assert.equal(publishedDigestCandidates('https://mirror.example.org/x/abstract.xml.gz').length, 5, 'no sums files for a name that is not a dump run');
  });

  test("the checksum files a directory's listing offers for a file, its own first; none asked for blindly", () => {
    const shard = 'enwiki_content-20250809-00000.json.bz2';
    const entries = [shard, `${shard}.md5`, `${shard}.sha256`, 'SHA256SUMS', 'enwiki-20250809-md5sums.txt', 'notes.txt', 'bad name-md5sums.txt'];
    assert.deepEqual(digestFilesFor(shard, entries), [
      { name: `${shard}.sha256`, lone: true },
      { name: `${shard}.md5`, lone: true },
      { name: 'SHA256SUMS', lone: false },
      { name: 'enwiki-20250809-md5sums.txt', lone: false },
    ]);
    assert.deepEqual(digestFilesFor(shard, [shard, '_SUCCESS']), []);
    assert.equal(publishesDigests(entries), true);
    assert.equal(publishesDigests([shard, '_SUCCESS']), false);
  });
});

describe('URLs and ranges', () => {
  test('urlName: the last segment, without query or fragment', () => {
    assert.equal(urlName('https://example.org/a/b/movies_metadata.csv.gz?token=x#f'), 'movies_metadata.csv.gz');
    assert.equal(urlName('https://example.org/dir/'), '');
  });

  test('parseContentRange: a partial answer, an unsatisfied range, an unknown total, and garbage', () => {
    assert.deepEqual(parseContentRange('bytes 200000-709999/710000'), { start: 200000, total: 710000 });
    assert.deepEqual(parseContentRange('bytes */710000'), { start: null, total: 710000 });
    assert.deepEqual(parseContentRange('bytes 0-9/*'), { start: 0, total: null });
    assert.equal(parseContentRange('items 0-9/10'), null);
    assert.equal(parseContentRange(undefined), null);
  });
});
