/**
 * What a run prints when it is done: the counts of each stage, where the
 * abstracts came from, the money check with its most disputed films, the top
 * ten, and where the data now lives.
 */
import { formatCount, formatMoney, formatRatio, maskUrl, textTable } from './format.js';
import type { PipelineResult } from './pipeline.js';
import type { FilmRecord } from './types.js';

/** "Wikipedia matches: 950 by Wikidata, 40 by title (35 online), 10 none; 985 with an abstract (960 from the live wiki, 25 from the dump)." */
function matchLine({ report, films }: PipelineResult): string {
  const m = report.matches;
  const live = report.wikipedia.status !== 'offline' || m.title_online > 0 || m.abstract_online > 0;
  const from = (source: string): number => films.filter((f) => f.match.abstractSource === source).length;
  const sources = [
    [from('api'), 'from the live wiki'],
    [from('dump'), 'from the dump'],
    [from('cirrus'), 'from the CirrusSearch dump'],
  ].flatMap(([n, where]) => (n === 0 ? [] : [`${formatCount(n as number)} ${where}`]));
  return (
    `Wikipedia matches: ${formatCount(m.wikidata)} by Wikidata, ` +
    (m.cirrus > 0 ? `${formatCount(m.cirrus)} by CirrusSearch, ` : '') +
    `${formatCount(m.title)} by title${live ? ` (${formatCount(m.title_online)} online)` : ''}, ${formatCount(m.none)} none; ` +
    `${formatCount(m.with_abstract)} with an abstract${sources.length > 0 ? ` (${sources.join(', ')})` : ''}.`
  );
}

/** Disputed films shown, the largest factor first. */
const MOST_DISPUTED = 5;

/** "The Tiger (2015): budget $5K here, $13M on Wikidata" */
function disputedLine(film: FilmRecord): string {
  const { money } = film;
  const kinds = [
    money.budget === 'differs' ? `budget ${formatMoney(film.budget)} here, ${formatMoney(money.wikidataBudget!)} on Wikidata` : null,
    money.revenue === 'differs' ? `box office ${formatMoney(film.revenue)} here, ${formatMoney(money.wikidataRevenue!)} on Wikidata` : null,
  ].filter((k) => k !== null);
  return `  ${film.title}${film.year === null ? '' : ` (${film.year})`}: ${kinds.join('; ')}`;
}

/** The money check's counts, then its most disputed films. */
function moneyLines({ report, films }: PipelineResult): string[] {
  const money = report.money;
  const source = money.status === 'ok' ? 'Wikidata' : `Wikidata ${money.status}`;
  const disputed = films.filter((f) => f.money.check === 'disputed').sort((a, b) => b.money.factor! - a.money.factor! || a.rank - b.rank);
  return [
    `Money check (${source}): ${formatCount(money.confirmed)} confirmed, ${formatCount(money.disputed)} disputed, ${formatCount(money.unchecked)} unchecked` +
      (money.other_currency > 0 ? `; ${formatCount(money.other_currency)} with an amount in another currency left out (rates: ${money.conversion})` : '') +
      '.',
    ...(disputed.length === 0 ? [] : [`Most disputed (off by more than a factor of 2):`, ...disputed.slice(0, MOST_DISPUTED).map(disputedLine)]),
  ];
}

const CHECK_MARK = { confirmed: 'confirmed', disputed: 'DISPUTED', unchecked: '' } as const;

export function printSummary(result: PipelineResult): void {
  const { report, top } = result;
  const m = report.metadata;
  const lines = [
    '',
    `Loaded ${formatCount(report.load.films)} films, ${report.load.genres} genres, ${report.load.production_companies} production companies.`,
    `CSV: ${formatCount(m.rows)} rows, ${m.malformed} malformed, ${m.duplicates} duplicate${m.duplicates === 1 ? '' : 's'}, ${formatCount(m.eligible)} eligible, ${formatCount(m.selected)} selected` +
      (m.bad_literals > 0 ? `, ${m.bad_literals} unparseable genre/company lists` : ''),
    matchLine(result),
    ...moneyLines(result),
    '',
    top.length === 0
      ? 'No film qualified: check --min-budget and the input.'
      : textTable(
          ['rank', 'title', 'year', 'budget', 'revenue', 'ratio', 'Wikidata'],
          top.map((r) => [
            String(r.rank),
            r.title.length > 40 ? r.title.slice(0, 39) + '…' : r.title,
            r.year === null ? '' : String(r.year),
            formatMoney(Number(r.budget)),
            formatMoney(Number(r.revenue)),
            formatRatio(r.ratio),
            CHECK_MARK[r.money_check],
          ]),
          'r__rrr_',
        ),
    '',
    `The data is in ${maskUrl(result.url)}`,
    result.embedded
      ? 'Open it: npm run db (prints the URL for psql, keeps the server up) · npm run dashboard (http://127.0.0.1:8502/)'
      : 'Open it: psql "$DATABASE_URL" · npm run dashboard (http://127.0.0.1:8502/)',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

