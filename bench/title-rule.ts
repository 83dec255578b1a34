/**
 * The title rule measured on real Wikipedia text (not a test: it needs the
 * real data and a PostgreSQL server, and it reports numbers).
 *
 * 1. Leads: of the real leads joined to the real CSV's films
 *    (film-leads.jsonl), how many give their year in the first sentence
 *    ("is a YYYY", src/stages/match.ts leadYear), and how many of those are
 *    more than 2 years from the CSV's year (the year check would refuse them).
 * 2. Offline matching: an abstract dump (SPEC section 8 layout) written to a
 *    temporary folder from the real leads of wikipedia-movie-data/ (the
 *    article title from `href`, the lead as the abstract), then
 *      node dist/main.js run --metadata movies_metadata_first4994.csv
 *        --abstracts DUMP --top 1000 --offline --report ...
 *    into PostgreSQL; each film's page is compared with the article
 *    film-leads.jsonl gives it: right, wrong, or none; "unchecked", a page
 *    for a film that has no lead to compare with, is listed by name to be
 *    read (film-leads-rejected.json says why some films have no lead: a
 *    wrong page, or the right page with an extract that is not prose).
 *
 *   node --import tsx bench/title-rule.ts [--main dist/main.js] [--base REV]
 *        [--server postgres://postgres@127.0.0.1:5432]
 *
 * --main: the build to run (default this checkout's dist/, built first with
 * `npm run build`). --base REV: also build REV (git archive into a temporary
 * folder, this checkout's node_modules) and run it the same way, then list
 * the films whose match differs. Each run loads into a database of its own,
 * created with psql on --server and dropped after.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { percentDecode, urlFromKey } from '../src/keys.js';
import { leadYear } from '../src/stages/match.js';
import { REAL_DATA, WITHOUT_REAL_DATA } from '../test/helpers/cli.js';
import { flag } from './args.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOP = 1000;

interface Lead {
  imdb_id: string;
  csv_title: string;
  csv_release_date: string;
  wikipedia_title: string;
  intro: string;
}

interface Loaded {
  id: number;
  imdb_id: string | null;
  title: string;
  year: number | null;
  wikipedia_title: string | null;
}

type Verdict = 'right' | 'wrong' | 'none' | 'unchecked';


function readLeads(): Lead[] {
  return readFileSync(path.join(REAL_DATA, 'film-leads.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Lead);
}

/** Part 1: the leads that give their year in the first sentence, and those more than 2 years off. */
export function measureLeads(leads: readonly Lead[]): { leads: number; named: number; far: string[] } {
  let named = 0;
  const far: string[] = [];
  for (const lead of leads) {
    const year = leadYear(lead.intro);
    if (year === null) continue;
    named++;
    const csvYear = Number(lead.csv_release_date.slice(0, 4));
    if (Math.abs(year - csvYear) > 2) far.push(`${lead.csv_title} (${csvYear}): the lead says ${year}`);
  }
  return { leads: leads.length, named, far };
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An abstract dump of the real leads, one doc per article title (its first record wins). */
function writeDump(file: string): { docs: number; withAbstract: number } {
  const dir = path.join(REAL_DATA, 'wikipedia-movie-data');
  const seen = new Set<string>();
  const out: string[] = ['<feed>'];
  let withAbstract = 0;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    for (const r of JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as { href?: string; extract?: string }[]) {
      if (!r.href) continue;
      const key = percentDecode(r.href).replace(/_/g, ' ');
      if (seen.has(key)) continue;
      seen.add(key);
      const lead = r.extract?.trim() ?? '';
      if (lead !== '') withAbstract++;
      out.push(
        '<doc>',
        `<title>Wikipedia: ${escapeXml(key)}</title>`,
        `<url>${urlFromKey(key)}</url>`,
        lead === '' ? '<abstract />' : `<abstract>${escapeXml(lead)}</abstract>`,
        '<links>',
        '</links>',
        '</doc>',
      );
    }
  }
  out.push('</feed>', '');
  writeFileSync(file, out.join('\n'));
  return { docs: seen.size, withAbstract };
}

function psql(server: string, sql: string): void {
  const run = spawnSync('psql', [`${server}/postgres`, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { encoding: 'utf8' });
  if (run.error || run.status !== 0) throw new Error(`psql failed (${sql}): ${run.error?.message ?? run.stderr}`);
}

/** One offline run of `main` into a database of its own; the films as loaded, in rank order. */
async function runOffline(main: string, dump: string, server: string, tmp: string, name: string): Promise<{ films: Loaded[]; report: any }> {
  const database = `truefilm_title_rule_${process.pid}_${name}`;
  psql(server, `CREATE DATABASE ${database}`);
  try {
    const url = `${server}/${database}`;
    const report = path.join(tmp, `${name}.report.json`);
    const args = [main, 'run', '--metadata', path.join(REAL_DATA, 'movies_metadata_first4994.csv'), '--abstracts', dump, '--top', String(TOP), '--offline'];
    args.push('--report', report, '--database-url', url, '--data-dir', path.join(tmp, `data-${name}`), '--no-progress');
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: ROOT });
    if (run.status !== 0) throw new Error(`the run failed (exit ${run.status}): ${run.stderr}`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<Loaded>('SELECT id, imdb_id, title, year, wikipedia_title FROM films ORDER BY rank');
      return { films: rows, report: JSON.parse(readFileSync(report, 'utf8')) };
    } finally {
      await client.end();
    }
  } finally {
    psql(server, `DROP DATABASE IF EXISTS ${database}`);
  }
}

/** Each film's verdict against its real article. */
function judge(films: readonly Loaded[], leads: readonly Lead[]): Map<number, Verdict> {
  const byImdb = new Map(leads.map((l) => [l.imdb_id, l.wikipedia_title]));
  const verdicts = new Map<number, Verdict>();
  for (const f of films) {
    const article = f.imdb_id ? byImdb.get(f.imdb_id) : undefined;
    if (f.wikipedia_title === null) verdicts.set(f.id, 'none');
    else if (article !== undefined) verdicts.set(f.id, f.wikipedia_title === article ? 'right' : 'wrong');
    else verdicts.set(f.id, 'unchecked');
  }
  return verdicts;
}

const shown = (title: string | null | undefined) => (title == null ? 'no page' : `"${title}"`);

function summary(label: string, films: readonly Loaded[], verdicts: ReadonlyMap<number, Verdict>): string {
  const count = (v: Verdict) => films.filter((f) => verdicts.get(f.id) === v).length;
  const lines = [`${label}: ${count('right')} right, ${count('wrong')} wrong, ${count('none')} none, ${count('unchecked')} matched with no lead to check`];
  for (const f of films.filter((x) => verdicts.get(x.id) === 'wrong')) lines.push(`  wrong: "${f.title}" (${f.year}) took "${f.wikipedia_title}"`);
  for (const f of films.filter((x) => verdicts.get(x.id) === 'unchecked')) lines.push(`  unchecked: "${f.title}" (${f.year}) took "${f.wikipedia_title}"`);
  return lines.join('\n');
}

/** REV built in a temporary folder with this checkout's node_modules: its dist/main.js. */
function buildRevision(rev: string, tmp: string): string {
  const dir = path.join(tmp, `build-${rev.replace(/[^\w.-]/g, '_')}`);
  const archive = spawnSync('sh', ['-c', `mkdir -p "${dir}" && git -C "${ROOT}" archive "${rev}" | tar -x -C "${dir}"`], { encoding: 'utf8' });
  if (archive.status !== 0) throw new Error(`git archive ${rev} failed: ${archive.stderr}`);
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`building ${rev} failed: ${tsc.stdout}${tsc.stderr}`);
  return path.join(dir, 'dist', 'main.js');
}

async function main(): Promise<void> {
  if (WITHOUT_REAL_DATA) throw new Error(`bench/title-rule.ts needs the real data: ${WITHOUT_REAL_DATA}`);
  const server = flag('server', 'postgres://postgres@127.0.0.1:5432')!.replace(/\/+$/, '');
  const mainJs = path.resolve(flag('main', path.join(ROOT, 'dist', 'main.js'))!);
  const base = flag('base', null);
  const leads = readLeads();

  const l = measureLeads(leads);
  console.log(`leads (film-leads.jsonl): ${l.named} of ${l.leads} give their year in the first sentence; ${l.far.length} of them more than 2 years from the CSV's`);
  for (const x of l.far) console.log(`  ${x}`);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'truefilm-title-rule-'));
  try {
    const dump = path.join(tmp, 'enwiki-film-leads-abstract.xml');
    const written = writeDump(dump);
    console.log(`dump: ${written.docs} article titles, ${written.withAbstract} with a lead as the abstract`);
    const now = await runOffline(mainJs, dump, server, tmp, 'now');
    if (now.report.abstracts.docs !== written.docs) throw new Error(`the run read ${now.report.abstracts.docs} docs of ${written.docs}`);
    const nowVerdicts = judge(now.films, leads);
    if (base !== null) {
      const before = await runOffline(buildRevision(base, tmp), dump, server, tmp, 'base');
      const beforeVerdicts = judge(before.films, leads);
      console.log(summary(`before (${base}), --top ${TOP} --offline`, before.films, beforeVerdicts));
      const was = new Map(before.films.map((f) => [f.id, f]));
      const changed = now.films.filter((f) => was.get(f.id)?.wikipedia_title !== f.wikipedia_title);
      console.log(`changed: ${changed.length}`);
      for (const f of changed) console.log(`  "${f.title}" (${f.year}): ${shown(was.get(f.id)?.wikipedia_title)} (${beforeVerdicts.get(f.id)}) -> ${shown(f.wikipedia_title)} (${nowVerdicts.get(f.id)})`);
    }
    console.log(summary(`now (${path.relative(ROOT, mainJs) || mainJs}), --top ${TOP} --offline`, now.films, nowVerdicts));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
