/**
 * SPEC section 5 as the database itself reports it, after a real load: every
 * column's type and nullability from information_schema, the keys, and the
 * CHECK, UNIQUE and foreign-key rules tried against the server (a value the
 * contract forbids must be refused); and "all bulk data goes in with COPY",
 * seen on the wire by a recorder between the run and the server. The
 * expectations are written here from SPEC's text.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { after, before, describe, test } from 'node:test';
import { runCli, SAMPLE } from './helpers/cli.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from './helpers/pg.js';
import { startPgRecorder, type PgRecorder } from './helpers/pg-recorder.js';

let tmp: string;
let db: TestDatabase;
let recorder: PgRecorder;

async function load(top: number) {
  const before = { statements: recorder.statements.length, copy: { ...recorder.copy } };
  const r = await runCli(['run', '--metadata', path.join(SAMPLE, 'movies_metadata.csv'), '--top', String(top), '--offline', '--no-progress', '--data-dir', tmp, '--database-url', recorder.url]);
  assert.equal(r.status, 0, r.stderr);
  return { statements: recorder.statements.slice(before.statements), copyBytes: recorder.copy.bytes - before.copy.bytes, copyMessages: recorder.copy.messages - before.copy.messages };
}

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'truefilm-schema-'));
  db = await freshDatabase((await testServers())[0]!);
  recorder = await startPgRecorder(db.url);
});

after(async () => {
  await recorder?.close();
  await db?.drop();
  await closeTestServers();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** SPEC section 5, column by column: [name, type, nullable]. */
const COLUMNS: Record<string, [string, string, boolean][]> = {
  films: [
    ['id', 'integer', false],
    ['imdb_id', 'text', true],
    ['title', 'text', false],
    ['original_title', 'text', true],
    ['release_date', 'date', true],
    ['year', 'integer', true],
    ['budget', 'bigint', false],
    ['revenue', 'bigint', false],
    ['ratio', 'double precision', false],
    ['rank', 'integer', false],
    ['rating', 'real', true],
    ['vote_count', 'integer', true],
    ['wikipedia_url', 'text', true],
    ['wikipedia_title', 'text', true],
    ['wikipedia_abstract', 'text', true],
    ['wikipedia_match', 'text', false],
    ['abstract_source', 'text', true],
    ['wikidata_budget', 'bigint', true],
    ['wikidata_revenue', 'bigint', true],
    ['money_check', 'text', false],
  ],
  genres: [
    ['id', 'integer', false],
    ['name', 'text', false],
  ],
  film_genres: [
    ['film_id', 'integer', false],
    ['genre_id', 'integer', false],
  ],
  production_companies: [
    ['id', 'integer', false],
    ['name', 'text', false],
  ],
  film_production_companies: [
    ['film_id', 'integer', false],
    ['company_id', 'integer', false],
  ],
};

const VIEWS: Record<string, string[]> = {
  genre_performance: ['genre', 'films', 'mean_ratio', 'median_ratio', 'total_budget', 'total_revenue', 'disputed'],
  production_company_performance: ['company', 'films', 'mean_ratio', 'median_ratio', 'total_budget', 'total_revenue', 'disputed'],
};

/** Runs `sql` in a transaction that is always rolled back; the SQLSTATE it failed with, or null. */
async function refusal(sql: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(sql);
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? 'unknown';
  } finally {
    await client.query('ROLLBACK').catch(() => {});
    await client.end();
  }
}

describe('the schema of SPEC section 5, as the server reports it', () => {
  before(async () => {
    await load(49);
  });

  test('every table and column: type and nullability', async () => {
    for (const [table, columns] of Object.entries(COLUMNS)) {
      const rows = await db.query<{ column_name: string; data_type: string; is_nullable: string }>(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
        [table],
      );
      assert.deepEqual(
        rows.map((r) => [r.column_name, r.data_type, r.is_nullable === 'YES']),
        columns,
        table,
      );
    }
  });

  test('the views and their columns', async () => {
    for (const [view, columns] of Object.entries(VIEWS)) {
      const rows = await db.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
        [view],
      );
      assert.deepEqual(rows.map((r) => r.column_name), columns, view);
      const kind = await db.query<{ table_type: string }>(`SELECT table_type FROM information_schema.tables WHERE table_schema = 'public' AND table_name = $1`, [view]);
      assert.deepEqual(kind, [{ table_type: 'VIEW' }], view);
    }
  });

  test('primary keys, from pg_constraint', async () => {
    const rows = await db.query<{ table: string; columns: string[] }>(
      `SELECT c.conrelid::regclass::text AS table, array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
       WHERE c.contype = 'p' AND c.connamespace = 'public'::regnamespace
         AND c.conrelid::regclass::text IN ('films', 'genres', 'film_genres', 'production_companies', 'film_production_companies')
       GROUP BY c.conrelid ORDER BY 1`,
    );
    assert.deepEqual(
      rows.map((r) => [r.table, r.columns]),
      [
        ['film_genres', ['film_id', 'genre_id']],
        ['film_production_companies', ['film_id', 'company_id']],
        ['films', ['id']],
        ['genres', ['id']],
        ['production_companies', ['id']],
      ],
    );
  });

  test('CHECK rules: the values SPEC allows are taken, any other is refused', async () => {
    const withColumn = (column: 'wikipedia_match' | 'abstract_source' | 'money_check', value: string | null): string => {
      const row: Record<string, string> = { id: '999999', title: "'t'", budget: '1', revenue: '1', ratio: '1', rank: '999999', wikipedia_match: "'none'", money_check: "'unchecked'" };
      row[column] = value === null ? 'NULL' : `'${value}'`;
      return `INSERT INTO films (${Object.keys(row).join(', ')}) VALUES (${Object.values(row).join(', ')})`;
    };
    for (const v of ['wikidata', 'cirrus', 'title', 'none']) assert.equal(await refusal(withColumn('wikipedia_match', v)), null, `wikipedia_match ${v}`);
    for (const v of ['dump', 'api', 'cirrus', null]) assert.equal(await refusal(withColumn('abstract_source', v)), null, `abstract_source ${v}`);
    for (const v of ['confirmed', 'disputed', 'unchecked']) assert.equal(await refusal(withColumn('money_check', v)), null, `money_check ${v}`);
    assert.equal(await refusal(withColumn('wikipedia_match', 'guess')), '23514', 'wikipedia_match guess');
    assert.equal(await refusal(withColumn('abstract_source', 'rest')), '23514', 'abstract_source rest');
    assert.equal(await refusal(withColumn('money_check', 'maybe')), '23514', 'money_check maybe');
    assert.equal(await refusal(withColumn('money_check', null)), '23502', 'money_check is NOT NULL');
    assert.equal(await refusal(withColumn('wikipedia_match', null)), '23502', 'wikipedia_match is NOT NULL');
  });

  test('rank is unique; links must name a loaded film, genre and company', async () => {
    const [first] = await db.query<{ id: number; rank: number }>('SELECT id, rank FROM films ORDER BY rank LIMIT 1');
    assert.equal(
      await refusal(`INSERT INTO films (id, title, budget, revenue, ratio, rank, wikipedia_match, money_check) VALUES (999999, 't', 1, 1, 1, ${first!.rank}, 'none', 'unchecked')`),
      '23505',
      'a second film with rank 1',
    );
    const [genre] = await db.query<{ id: number }>('SELECT id FROM genres LIMIT 1');
    const [company] = await db.query<{ id: number }>('SELECT id FROM production_companies LIMIT 1');
    assert.equal(await refusal(`INSERT INTO film_genres VALUES (999999, ${genre!.id})`), '23503', 'film_genres: no such film');
    assert.equal(await refusal(`INSERT INTO film_genres VALUES (${first!.id}, 999999)`), '23503', 'film_genres: no such genre');
    assert.equal(await refusal(`INSERT INTO film_production_companies VALUES (999999, ${company!.id})`), '23503', 'film_production_companies: no such film');
    assert.equal(await refusal(`INSERT INTO film_production_companies VALUES (${first!.id}, 999999)`), '23503', 'film_production_companies: no such company');
  });
});

describe('all bulk data goes in with COPY, never row by row', () => {
  test('each table is filled by COPY FROM STDIN; the statements sent do not grow with the films', async () => {
    const small = await load(10);
    const large = await load(49);
    const counts = await db.query<{ films: number; links: number }>('SELECT (SELECT count(*)::integer FROM films) AS films, (SELECT count(*)::integer FROM film_genres) AS links');
    assert.deepEqual(counts, [{ films: 49, links: counts[0]!.links }]);
    assert.ok(counts[0]!.links > 49, `${counts[0]!.links} genre links`);
    for (const table of ['films', 'genres', 'film_genres', 'production_companies', 'film_production_companies']) {
      const copies = large.statements.filter((s) => new RegExp(`^COPY\\s+\\S*\\b${table}"?\\s*\\(.*\\)\\s+FROM\\s+STDIN`, 'is').test(s));
      assert.equal(copies.length, 1, `one COPY into ${table}: ${large.statements.filter((s) => s.includes(table)).join(' | ')}`);
    }
    const rowByRow = large.statements.filter((s) => /\bINSERT\s+INTO\s+\S*\b(films|genres|film_genres|production_companies|film_production_companies)\b[^;]*\bVALUES\b/is.test(s));
    assert.deepEqual(rowByRow, [], 'no INSERT ... VALUES into a table of the load');
    assert.equal(large.statements.length, small.statements.length, 'as many statements for 49 films as for 10');
    assert.ok(large.copyBytes > small.copyBytes * 2, `COPY data: ${small.copyBytes} bytes for 10 films, ${large.copyBytes} for 49`);
  });
});
