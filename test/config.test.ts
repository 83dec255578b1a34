/**
 * SPEC section 2's options as the command line reads them: every flag and
 * environment variable, the defaults, and "flag > environment variable >
 * default". Written from SPEC's table.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseCommandLine, type DashboardConfig, type DbConfig, type RunConfig } from '../src/config.js';

const run = (argv: string[], env: Record<string, string> = {}) => parseCommandLine(['run', ...argv], env) as RunConfig;

describe('run options: flag > environment variable > default', () => {
  test('the defaults of SPEC section 2, with no flag and no environment', () => {
    const c = run([]);
    assert.equal(c.metadata, path.join('data', 'movies_metadata.csv'));
    assert.deepEqual(c.abstracts, [path.join('data', 'enwiki-latest-abstract.xml')]);
    assert.equal(c.abstractsNamed, false);
    assert.equal(c.top, 1000);
    assert.equal(c.minBudget, 1000);
    assert.equal(c.threads, os.availableParallelism());
    assert.equal(c.databaseUrl, null, 'the embedded server');
    assert.equal(c.dataDir, 'data');
    assert.equal(c.sparqlEndpoint, 'https://query.wikidata.org/sparql');
    assert.equal(c.wikipediaEndpoint, 'https://en.wikipedia.org/w/api.php');
    assert.equal(c.contact, null);
    assert.equal(c.offline, false);
    assert.equal(c.report, null);
    assert.equal(c.progress, true);
  });

  // [flag, environment variable, a value for each, what the config holds]
  const pairs: [string, string, string, string, (c: RunConfig) => unknown, unknown, unknown][] = [
    ['--metadata', 'TRUEFILM_METADATA', 'flag.csv', 'env.csv', (c) => c.metadata, 'flag.csv', 'env.csv'],
    ['--abstracts', 'TRUEFILM_ABSTRACTS', 'flag.xml', `a.xml${path.delimiter}b.xml`, (c) => c.abstracts, ['flag.xml'], ['a.xml', 'b.xml']],
    ['--database-url', 'DATABASE_URL', 'postgres://flag@h/db', 'postgres://env@h/db', (c) => c.databaseUrl, 'postgres://flag@h/db', 'postgres://env@h/db'],
    ['--data-dir', 'TRUEFILM_DATA_DIR', '/flag-dir', '/env-dir', (c) => c.dataDir, '/flag-dir', '/env-dir'],
    ['--sparql-endpoint', 'TRUEFILM_SPARQL_ENDPOINT', 'http://flag/sparql', 'http://env/sparql', (c) => c.sparqlEndpoint, 'http://flag/sparql', 'http://env/sparql'],
    ['--wikipedia-endpoint', 'TRUEFILM_WIKIPEDIA_ENDPOINT', 'http://flag/w/api.php', 'http://env/w/api.php', (c) => c.wikipediaEndpoint, 'http://flag/w/api.php', 'http://env/w/api.php'],
    ['--contact', 'TRUEFILM_CONTACT', 'flag@example.org', 'https://env.example.org/', (c) => c.contact, 'flag@example.org', 'https://env.example.org/'],
  ];
  for (const [flag, variable, flagValue, envValue, read, fromFlag, fromEnv] of pairs) {
    test(`${flag} beats ${variable}, which beats the default`, () => {
      assert.deepEqual(read(run([], { [variable]: envValue })), fromEnv, 'the environment over the default');
      assert.deepEqual(read(run([flag, flagValue], { [variable]: envValue })), fromFlag, 'the flag over the environment');
    });
  }

  test('the data directory moves the defaults that live in it; a named file does not move', () => {
    const c = run([], { TRUEFILM_DATA_DIR: '/srv/tf' });
    assert.equal(c.metadata, path.join('/srv/tf', 'movies_metadata.csv'));
    assert.deepEqual(c.abstracts, [path.join('/srv/tf', 'enwiki-latest-abstract.xml')]);
    assert.equal(run(['--data-dir', '/srv/tf'], { TRUEFILM_METADATA: '/elsewhere/m.csv' }).metadata, '/elsewhere/m.csv');
    assert.equal(run(['--abstracts', 'x.xml']).abstractsNamed, true);
  });
});

describe('dashboard and db options', () => {
  test('the dashboard listens on 127.0.0.1:8502 by default; flags beat TRUEFILM_DASHBOARD_PORT / _HOST and DATABASE_URL', () => {
    const d = parseCommandLine(['dashboard'], {}) as DashboardConfig;
    assert.deepEqual([d.port, d.host, d.databaseUrl, d.dataDir], [8502, '127.0.0.1', null, 'data']);
    const env = { TRUEFILM_DASHBOARD_PORT: '9000', TRUEFILM_DASHBOARD_HOST: '0.0.0.0', DATABASE_URL: 'postgres://env@h/db', TRUEFILM_DATA_DIR: '/env-dir' };
    const e = parseCommandLine(['dashboard'], env) as DashboardConfig;
    assert.deepEqual([e.port, e.host, e.databaseUrl, e.dataDir], [9000, '0.0.0.0', 'postgres://env@h/db', '/env-dir']);
    const f = parseCommandLine(['dashboard', '--port', '9100', '--host', '::1', '--database-url', 'postgres://flag@h/db', '--data-dir', '/flag-dir'], env) as DashboardConfig;
    assert.deepEqual([f.port, f.host, f.databaseUrl, f.dataDir], [9100, '::1', 'postgres://flag@h/db', '/flag-dir']);
  });

  test('db: --port beats TRUEFILM_PG_PORT; --data-dir beats TRUEFILM_DATA_DIR', () => {
    assert.deepEqual((parseCommandLine(['db'], {}) as DbConfig).port, null);
    const env = { TRUEFILM_PG_PORT: '5555', TRUEFILM_DATA_DIR: '/env-dir' };
    const e = parseCommandLine(['db'], env) as DbConfig;
    assert.deepEqual([e.port, e.dataDir], [5555, '/env-dir']);
    const f = parseCommandLine(['db', '--port', '6666', '--data-dir', '/flag-dir'], env) as DbConfig;
    assert.deepEqual([f.port, f.dataDir], [6666, '/flag-dir']);
  });
});
