/**
 * `truefilm demo` (what `npm run demo` runs after the build): the bundled
 * sample, online when Wikidata and the live Wikipedia can be reached, offline
 * with one line saying so when they cannot. The endpoints come from the
 * environment, as a user would point them elsewhere; here they are test
 * servers holding a made-up wiki for the sample's films, or hosts that
 * refuse, do not resolve, or never answer.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runMetadata } from '../src/stages/metadata.js';
import type { ActionApiServer } from './helpers/action-api-server.js';
import { runCli, SAMPLE } from './helpers/cli.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from './helpers/pg.js';
import { closedPort, quiet } from './helpers/recorder.js';
import type { SparqlServer } from './helpers/sparql-server.js';
import { buildWorld } from './helpers/wiki-world.js';
import { serveWorld } from './helpers/world-servers.js';

let tmp: string;
let db: TestDatabase;
let sparql: SparqlServer;
let wiki: ActionApiServer;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-demo-'));
  await chmod(tmp, 0o755);
  const { films } = await runMetadata(path.join(SAMPLE, 'movies_metadata.csv'), { top: 1000, minBudget: 1000, ui: quiet });
  const world = buildWorld(films, { fallbackShare: 0.05 });
  ({ sparql, wiki } = await serveWorld(world));
  db = await freshDatabase((await testServers())[0]!);
});

after(async () => {
  await db?.drop();
  await sparql?.close();
  await wiki?.close();
  await closeTestServers();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** The demo as a user runs it, with the endpoints (and nothing else of the run's inputs) from the environment. */
async function demo(name: string, endpoints: { sparql: string; wiki: string }) {
  const report = path.join(tmp, `${name}.json`);
  const result = await runCli(['demo', '--database-url', db.url, '--data-dir', path.join(tmp, name), '--no-progress', '--report', report], {
    env: {
      TRUEFILM_SPARQL_ENDPOINT: endpoints.sparql,
      TRUEFILM_WIKIPEDIA_ENDPOINT: endpoints.wiki,
      TRUEFILM_CONTACT: undefined,
      TRUEFILM_METADATA: '/nonexistent/movies.csv',
      TRUEFILM_ABSTRACTS: '/nonexistent/dump.xml',
    },
  });
  assert.equal(result.status, 0, result.stderr);
  return { ...result, report: JSON.parse(await readFile(report, 'utf8')) };
}

describe('truefilm demo', () => {
  test('with the services reachable, it asks them: most of the 49 films get an abstract from the live wiki', async () => {
    const run = await demo('online', { sparql: sparql.url, wiki: wiki.endpoint });
    const { matches, metadata, wikidata, wikipedia } = run.report;
    assert.equal(metadata.selected, 49);
    assert.ok(matches.abstract_online >= 40, `${matches.abstract_online} of 49 abstracts from the live wiki`);
    assert.equal(wikidata.status, 'ok');
    assert.equal(wikipedia.status, 'ok');
    assert.equal(sparql.requests.length, 1, 'one SPARQL request for 49 films');
    assert.ok(wiki.requests.length >= 1 && wiki.requests.length <= 6, `${wiki.requests.length} Action API requests: ${JSON.stringify(wiki.requests.map((r) => [r.titles.length, r.params.excontinue ?? '', r.titles.slice(0, 60)]))}`);
    assert.match(run.stdout, new RegExp(`with an abstract \\(${matches.abstract_online} from the live wiki[,)]`));
    assert.doesNotMatch(run.stdout, /ran offline/);
    assert.equal(run.stderr.match(/set yours with --contact/g)?.length, 1, 'the contact note, as in any online run');
  });

  test('no network (a refused connection, a name that does not resolve): one line says it ran offline, and why', async () => {
    const before = { sparql: sparql.requests.length, wiki: wiki.requests.length };
    const refused = `http://127.0.0.1:${await closedPort()}/sparql`;
    const run = await demo('offline', { sparql: refused, wiki: 'https://no-such-host.invalid/w/api.php' });
    const lines = run.stdout.split('\n').filter((l) => /ran offline/.test(l));
    assert.equal(lines.length, 1, run.stdout);
    assert.match(lines[0]!, /^The demo ran offline: 127\.0\.0\.1:\d+ \(connection refused: ECONNREFUSED\) and no-such-host\.invalid \(.+\) cannot be reached\. With a network/);
    assert.equal(run.report.wikidata.status, 'offline');
    assert.equal(run.report.wikipedia.status, 'offline');
    assert.equal(run.report.metadata.selected, 49);
    assert.doesNotMatch(run.stderr, /warning|--contact/, 'offline: no warning, no contact note');
    assert.deepEqual({ sparql: sparql.requests.length, wiki: wiki.requests.length }, before, 'nothing sent to the servers');
  });

  test('a host that takes connections but never answers them: offline after one connect timeout, both hosts tried at once', async () => {
    const connections: net.Socket[] = [];
    const closed = new Set<net.Socket>();
    /** at each connection's arrival, how many earlier ones the client still held open */
    const heldOpen: number[] = [];
    const silent = net.createServer((socket) => {
      heldOpen.push(connections.filter((c) => !closed.has(c)).length);
      connections.push(socket);
      socket.on('close', () => closed.add(socket));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const run = await demo('silent', { sparql: `https://127.0.0.1:${port}/sparql`, wiki: `https://127.0.0.1:${port}/w/api.php` });
      assert.match(run.stdout, /The demo ran offline: 127\.0\.0\.1:\d+ \(no answer to connect within 5\.0 s\) and 127\.0\.0\.1:\d+ \(no answer to connect within 5\.0 s\) cannot be reached/);
      assert.equal(connections.length, 2, 'one connection to each endpoint, and no request');
      assert.deepEqual(heldOpen, [0, 1], 'the second host was tried while the first was still waited for');
      assert.equal(run.report.wikipedia.status, 'offline');
    } finally {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
