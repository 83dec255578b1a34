/**
 * The dashboard in a real browser: playwright-core driving a headless Chromium,
 * Debian's (/usr/bin/chromium) when it is installed, else the one that the
 * devDependency @sparticuz/chromium brings from the npm registry (see
 * helpers/chromium.ts). It loads the page on the sample data, checks
 * the headline, the table and the three charts, filters, sorts and pages,
 * looks at it on a phone, and makes sure titles, names and abstracts from the
 * data are shown as text and never run. Screenshots go to test-results/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import type { RunningDashboard } from '../src/dashboard/command.js';
import { formatMoney, formatRatio } from '../src/format.js';
import { chromiumToLaunch, DEBIAN_CHROMIUM, hasDebianChromium, type ChromiumToLaunch } from './helpers/chromium.js';
import { ROOT } from './helpers/cli.js';
import {
  MONEY_REPORT,
  MONEY_SPECS,
  expectedGroups,
  expectedIds,
  moneyFilms,
  SQL_TITLE,
  XSS_ABSTRACT,
  XSS_COMPANY,
  XSS_GENRE,
  XSS_TITLE,
  dashboardOn,
  databaseWith,
  hostileFilms,
  sampleDatabase,
} from './helpers/dashboard.js';
import { closeTestServers, freshDatabase, testServers, type TestDatabase } from './helpers/pg.js';

// The page's globals, inside page.evaluate (the tests compile without the DOM library).
declare const document: any;
declare const Chart: any;

const RESULTS = path.join(ROOT, 'test-results');
const LAPTOP: BrowserContextOptions = { viewport: { width: 1366, height: 900 } };
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

let browser: Browser;
let sample: TestDatabase;
let hostile: TestDatabase;
let empty: TestDatabase;
let onSample: RunningDashboard;
let onHostile: RunningDashboard;
let onEmpty: RunningDashboard;
let money: TestDatabase;
let onMoney: RunningDashboard;

let launched: ChromiumToLaunch;

// Never a skip: npm ci brings a Chromium when the machine has none.
test('drives Debian\'s Chromium when it is installed, else the one from npm', (t) => {
  t.diagnostic(`${launched.name}: Chromium ${browser.version()}`);
  if (hasDebianChromium()) assert.equal(launched.executablePath, DEBIAN_CHROMIUM);
  else assert.equal(browser.version().split('.')[0], launched.packageVersion!.split('.')[0], 'the Chromium that the @sparticuz/chromium version names');
});

before(async () => {
  const [server] = await testServers();
  [launched, sample, hostile, empty, money] = await Promise.all([
    chromiumToLaunch(),
    sampleDatabase(server!),
    databaseWith(server!, hostileFilms()),
    freshDatabase(server!, 'tf_dash'),
    databaseWith(server!, moneyFilms(), MONEY_REPORT),
  ]);
  [onSample, onHostile, onEmpty, onMoney] = await Promise.all([dashboardOn(sample), dashboardOn(hostile), dashboardOn(empty), dashboardOn(money)]);
  await mkdir(RESULTS, { recursive: true });
  // launch() gives every browser a fresh temporary profile (user-data-dir) and removes it on close
  browser = await chromium.launch({ executablePath: launched.executablePath, headless: true, args: launched.args, env: launched.env });
});

after(async () => {
  await browser?.close();
  await Promise.all([onSample, onHostile, onEmpty, onMoney].map((d) => d?.close()));
  await Promise.all([sample, hostile, empty, money].map((d) => d?.drop()));
  await closeTestServers();
});

interface Opened {
  page: Page;
  /** console errors and uncaught exceptions (a CSP violation is a console error) */
  problems: string[];
  /** alert()/confirm() texts: a script from the data that ran */
  dialogs: string[];
  close(): Promise<void>;
}

async function open(base: string, route = '/', options: BrowserContextOptions = LAPTOP): Promise<Opened> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(new URL(route, base).href);
  return { page, problems, dialogs, close: () => context.close() };
}

const ready = (page: Page) => page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });

/** Waits until the films table is idle and its count line says `text`. */
async function countSays(page: Page, text: string): Promise<void> {
  await page.waitForFunction(
    (t: string) => !document.getElementById('films').hasAttribute('aria-busy') && document.getElementById('films-count').textContent.includes(t),
    text,
  );
}

async function rows(page: Page) {
  return page.$$eval('#films-body tr:not(.detail):not(.no-rows)', (trs: any[]) =>
    trs.map((tr) => ({
      id: Number(tr.dataset.id),
      rank: tr.querySelector('.rank').textContent,
      title: tr.querySelector('.title').firstChild.textContent,
      budget: tr.querySelector('.budget').textContent,
      revenue: tr.querySelector('.revenue').textContent,
      ratio: tr.querySelector('.ratio').textContent,
      genres: [...tr.querySelectorAll('.genres .chip')].map((c: any) => c.textContent),
      companies: [...tr.querySelectorAll('.companies .chip')].map((c: any) => c.textContent),
    })),
  );
}

/** Labels and dataset sizes of the page's Chart.js charts. */
async function charts(page: Page): Promise<Record<'genre' | 'company' | 'scatter', { labels: string[]; sizes: number[] } | null>> {
  // (no named functions inside: tsx would wrap them in a helper the page does not have)
  const [genre, company, scatter] = await page.evaluate(() =>
    ['genre-chart', 'company-chart', 'scatter-chart'].map((id) => {
      const chart = Chart.getChart(id);
      return chart ? { labels: chart.data.labels as string[], sizes: chart.data.datasets.map((d: any) => d.data.length) as number[] } : null;
    }),
  );
  return { genre, company, scatter };
}

/** How many pixels of a canvas are painted: a chart that failed to draw leaves it blank. */
function painted(page: Page, id: string): Promise<number> {
  return page.evaluate((canvasId: string) => {
    const canvas = document.getElementById(canvasId);
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  }, id);
}

describe('the dashboard in Chromium', () => {
  test('shows the headline figures, the top films and three charts of the sample data', async () => {
    const { page, problems, dialogs, close } = await open(onSample.url);
    try {
      await ready(page);
      const [totals] = await sample.query(
        `SELECT count(*)::int AS films, count(*) FILTER (WHERE wikipedia_match <> 'none')::int AS matched FROM films`,
      );
      assert.equal(await page.textContent('#h-films'), String(totals!.films));
      assert.equal(await page.textContent('#h-matched'), `${Math.round((100 * totals!.matched) / totals!.films)}%`);
      const [load] = await sample.query<{ loaded_at: Date }>('SELECT loaded_at FROM truefilm_loads ORDER BY id DESC LIMIT 1');
      assert.equal(await page.getAttribute('#h-loaded', 'title'), load!.loaded_at.toISOString());
      assert.match((await page.textContent('#h-loaded-note'))!, /from 76 CSV rows/);

      // the table: the first page of 25, in rank order, numbers formatted as the CLI formats them
      const expected = await sample.query<{ id: number; rank: number; title: string; budget: string; revenue: string; ratio: number }>(
        'SELECT id, rank, title, budget, revenue, ratio FROM films ORDER BY rank LIMIT 25',
      );
      const shown = await rows(page);
      assert.deepEqual(
        shown.map((r) => [r.id, r.rank, r.title, r.budget, r.revenue, r.ratio]),
        expected.map((f) => [f.id, String(f.rank), f.title, formatMoney(Number(f.budget)), formatMoney(Number(f.revenue)), formatRatio(f.ratio)]),
      );
      assert.equal(shown[0]!.ratio, '4,133×');
      assert.equal(shown[0]!.budget, '$60K');
      assert.deepEqual(shown[0]!.genres, ['Horror', 'Mystery']);
      assert.equal(await page.textContent('#page-info'), '1–25 of 49 · page 1 of 2');

      // the charts: the views' rows, drawn
      const drawn = await charts(page);
      const genres = await sample.query<{ genre: string }>('SELECT genre FROM genre_performance ORDER BY median_ratio DESC, genre');
      assert.deepEqual(drawn.genre?.labels, genres.map((g) => g.genre));
      assert.deepEqual(drawn.genre?.sizes, [genres.length, genres.length], 'mean and median');
      const companies = await sample.query<{ company: string }>(
        'SELECT company FROM production_company_performance WHERE films >= 3 ORDER BY median_ratio DESC, films DESC, company LIMIT 15',
      );
      assert.ok(companies.length > 0);
      assert.deepEqual(drawn.company?.labels, companies.map((c) => c.company));
      assert.deepEqual(drawn.scatter?.sizes, [0, 49, 0], 'every film, none highlighted, none disputed');
      for (const id of ['genre-chart', 'company-chart', 'scatter-chart']) assert.ok((await painted(page, id)) > 2000, `${id} is drawn`);

      assert.deepEqual(problems, []);
      assert.deepEqual(dialogs, []);

      // the picture for the README: ten rows, then the charts
      await page.goto(new URL('/?size=10', onSample.url).href);
      await ready(page);
      await page.screenshot({ path: path.join(RESULTS, 'dashboard.png'), fullPage: true });
    } finally {
      await close();
    }
  });

  test('filters by genre, company and title, sorts, pages, and keeps the view in the address', async () => {
    const { page, problems, close } = await open(onSample.url);
    try {
      await ready(page);
      const horror = await sample.query<{ id: number; budget: string }>(
        `SELECT f.id, f.budget FROM films f JOIN film_genres fg ON fg.film_id = f.id JOIN genres g ON g.id = fg.genre_id
         WHERE g.name = 'Horror' ORDER BY f.rank`,
      );
      await page.selectOption('#f-genre', 'Horror');
      await countSays(page, `${horror.length} films match the filters`);
      const filtered = await rows(page);
      assert.deepEqual(filtered.map((r) => r.id), horror.slice(0, 25).map((r) => r.id));
      for (const r of filtered) assert.ok(r.genres.includes('Horror'), r.title);
      assert.match(page.url(), /\?genre=Horror$/);
      // the scatter highlights the genre's films; the genre chart marks its bar
      await page.waitForFunction((n: number) => Chart.getChart('scatter-chart').data.datasets[0].data.length === n, horror.length);
      const marked = await page.evaluate(() => {
        const chart = Chart.getChart('genre-chart');
        const colors = chart.data.datasets[0].backgroundColor as string[];
        const horror = colors[chart.data.labels.indexOf('Horror')];
        return chart.data.labels.filter((_: string, i: number) => colors[i] === horror);
      });
      assert.deepEqual(marked, ['Horror']);

      // sort by budget: highest first, then lowest first
      const budgets = horror.map((r) => Number(r.budget));
      await page.click('th[data-sort="budget"] button');
      await page.waitForSelector('th[data-sort="budget"][aria-sort="descending"]');
      await countSays(page, 'match');
      assert.equal((await rows(page))[0]!.budget, formatMoney(Math.max(...budgets)));
      await page.click('th[data-sort="budget"] button');
      await page.waitForSelector('th[data-sort="budget"][aria-sort="ascending"]');
      await page.waitForFunction(
        (b: string) => document.querySelector('#films-body tr .budget')?.textContent === b,
        formatMoney(Math.min(...budgets)),
      );
      assert.match(page.url(), /genre=Horror&sort=budget&order=asc/);

      // a reload keeps the view
      await page.reload();
      await ready(page);
      assert.equal(await page.inputValue('#f-genre'), 'Horror');
      assert.equal(await page.getAttribute('th[data-sort="budget"]', 'aria-sort'), 'ascending');
      assert.equal((await rows(page))[0]!.budget, formatMoney(Math.min(...budgets)));

      // a company chip filters by that company, together with the genre cleared
      await page.click('#f-reset');
      await countSays(page, '49 films');
      const disney = await sample.query(
        `SELECT f.id FROM films f JOIN film_production_companies fc ON fc.film_id = f.id
         JOIN production_companies c ON c.id = fc.company_id WHERE c.name = 'Walt Disney Productions'`,
      );
      await page.locator('#films-body .chip.company', { hasText: 'Walt Disney Productions' }).first().click();
      await countSays(page, `${disney.length} films match the filters`);
      assert.equal(await page.inputValue('#f-company'), 'Walt Disney Productions');
      for (const r of await rows(page)) assert.ok(r.companies.includes('Walt Disney Productions'));

      // the title search
      await page.click('#f-reset');
      await page.fill('#f-q', 'dragon');
      await countSays(page, '1 film matches the filters');
      assert.deepEqual((await rows(page)).map((r) => r.title), ['The Way of the Dragon']);

      // paging, in rank order again
      await page.goto(onSample.url);
      await ready(page);
      await page.click('#next');
      await page.waitForFunction(() => document.querySelector('#films-body tr .rank')?.textContent === '26');
      assert.equal(await page.textContent('#page-info'), '26–49 of 49 · page 2 of 2');
      assert.equal(await page.isDisabled('#next'), true);

      // clicking a genre's bar lists its films
      const crime = await sample.query(
        `SELECT f.id FROM films f JOIN film_genres fg ON fg.film_id = f.id JOIN genres g ON g.id = fg.genre_id WHERE g.name = 'Crime'`,
      );
      const bar = await page.evaluate(() => {
        const chart = Chart.getChart('genre-chart');
        const element = chart.getDatasetMeta(0).data[chart.data.labels.indexOf('Crime')];
        return { x: (element.x + element.base) / 2, y: element.y };
      });
      await page.locator('#genre-chart').click({ position: bar });
      await countSays(page, `${crime.length} films match the filters`);
      assert.equal(await page.inputValue('#f-genre'), 'Crime');
      await page.click('#f-reset');
      await countSays(page, '49 films');

      // the minimum-films control of the companies chart
      const five = await sample.query<{ company: string }>(
        'SELECT company FROM production_company_performance WHERE films >= 5 ORDER BY median_ratio DESC, films DESC, company LIMIT 15',
      );
      await page.selectOption('#min-films', '5');
      await page.waitForFunction((n: number) => Chart.getChart('company-chart')?.data.labels.length === n, five.length);
      assert.deepEqual((await charts(page)).company?.labels, five.map((c) => c.company));

      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test('reads well on a phone: cards instead of a wide table, nothing wider than the screen', async () => {
    const { page, problems, close } = await open(onSample.url, '/', PHONE);
    try {
      await ready(page);
      const layout = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: document.defaultView.innerWidth,
        thead: document.defaultView.getComputedStyle(document.querySelector('#films thead')).display,
        row: document.defaultView.getComputedStyle(document.querySelector('#films-body tr')).display,
        rows: document.querySelectorAll('#films-body tr').length,
      }));
      assert.ok(layout.scrollWidth <= layout.innerWidth, `the page is ${layout.scrollWidth}px wide on a ${layout.innerWidth}px screen`);
      assert.equal(layout.thead, 'none');
      assert.equal(layout.row, 'grid');
      assert.equal(layout.rows, 10, 'ten cards a page on a phone');
      assert.equal(await page.isVisible('#f-sort'), true, 'sorting without the table header');
      await page.selectOption('#f-sort', 'budget:asc');
      await page.waitForSelector('th[data-sort="budget"][aria-sort="ascending"]', { state: 'attached' });
      await page.waitForFunction(() => !document.getElementById('films').hasAttribute('aria-busy'));
      const [cheapest] = await sample.query<{ budget: string }>('SELECT min(budget) AS budget FROM films');
      assert.equal((await rows(page))[0]!.budget, formatMoney(Number(cheapest!.budget)));
      for (const id of ['genre-chart', 'company-chart', 'scatter-chart']) assert.ok((await painted(page, id)) > 2000, `${id} is drawn`);
      await page.selectOption('#f-sort', 'rank:asc');
      await page.waitForFunction(() => document.querySelector('#films-body tr .rank')?.textContent === '1');
      await page.screenshot({ path: path.join(RESULTS, 'dashboard-phone.png'), fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test('titles, names and abstracts from the data show as text and never run', async () => {
    const { page, problems, dialogs, close } = await open(onHostile.url);
    try {
      await ready(page);
      const shown = await rows(page);
      const script = shown.find((r) => r.id === 101)!;
      assert.equal(script.title, XSS_TITLE, 'the <script> title is text');
      assert.deepEqual(script.companies, [XSS_COMPANY]);
      assert.ok(script.genres.includes(XSS_GENRE));
      assert.equal(shown.find((r) => r.id === 102)!.title, SQL_TITLE);
      const injected = () =>
        page.evaluate(() => ({
          scripts: document.querySelectorAll('body script').length,
          images: document.querySelectorAll('img').length,
          handlers: document.querySelectorAll('[onerror], [onmouseover], [onclick]').length,
          bold: document.querySelectorAll('main b, main i').length,
        }));
      assert.deepEqual(await injected(), { scripts: 0, images: 0, handlers: 0, bold: 0 });
      assert.ok((await page.locator('#f-genre option', { hasText: XSS_GENRE }).count()) === 1, 'the genre name is an option, as text');

      const table = await page.evaluate(() => {
        const wrap = document.querySelector('.table-wrap');
        return { scroll: wrap.scrollWidth, client: wrap.clientWidth };
      });
      assert.ok(table.scroll <= table.client, `on a laptop the table fits: ${table.scroll}px in ${table.client}px`);

      // a javascript: URL in the data is no link; an https one is
      assert.equal(await page.locator('tr[data-id="102"] .wiki a').count(), 0);
      assert.equal(await page.getAttribute('tr[data-id="101"] .wiki a', 'href'), 'https://en.wikipedia.org/wiki/Script_(film)');

      // the abstract on demand, as text
      await page.click('tr[data-id="101"] .abstract-toggle');
      await page.waitForSelector('tr.detail .abstract');
      assert.equal(await page.textContent('tr.detail .abstract'), XSS_ABSTRACT);
      assert.equal(await page.getAttribute('tr[data-id="101"] .abstract-toggle', 'aria-expanded'), 'true');
      assert.deepEqual(await injected(), { scripts: 0, images: 0, handlers: 0, bold: 0 });

      // searching for the SQL-looking title finds it and nothing else
      await page.fill('#f-q', SQL_TITLE);
      await countSays(page, '1 film matches the filters');
      assert.deepEqual((await rows(page)).map((r) => r.title), [SQL_TITLE]);
      assert.equal((await hostile.query('SELECT count(*)::int AS n FROM films'))[0]!.n, 5);

      // hostile values in the address bar are text too
      await page.goto(new URL(`/?genre=${encodeURIComponent(XSS_COMPANY)}&q=${encodeURIComponent(XSS_TITLE)}`, onHostile.url).href);
      await ready(page);
      await countSays(page, '0 films match the filters');
      assert.equal(await page.inputValue('#f-q'), XSS_TITLE);
      assert.deepEqual(await injected(), { scripts: 0, images: 0, handlers: 0, bold: 0 });

      assert.deepEqual(dialogs, [], 'no script from the data ran');
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });

  test('an empty database shows what to run, not an error', async () => {
    const { page, problems, close } = await open(onEmpty.url);
    try {
      await page.waitForSelector('#empty:not([hidden])');
      assert.equal(await page.isVisible('#content'), false);
      const text = (await page.textContent('#empty'))!;
      assert.match(text, /No data loaded yet/);
      assert.match(text, /npm run demo/);
      assert.match(text, /truefilm run/);
      assert.equal(await page.textContent('#status'), '');
      await page.screenshot({ path: path.join(RESULTS, 'dashboard-empty.png') });
      assert.deepEqual(problems, []);
    } finally {
      await close();
    }
  });
});

// ---- the money check (SPEC sections 4a and 7) ------------------------------------------

const DISPUTED_IDS = MONEY_SPECS.filter((f) => f.money?.check === 'disputed').map((f) => f.id).sort();

/** Each row: its id, the mark's text and tooltip, and each money cell's Kaggle figure and Wikidata line. */
async function moneyRows(page: Page) {
  // (no named functions inside: tsx would wrap them in a helper the page does not have)
  return page.$$eval('#films-body tr:not(.detail):not(.no-rows)', (trs: any[]) =>
    trs.map((tr) => {
      const [budget, revenue] = ['budget', 'revenue'].map((cls) => {
        const td = tr.querySelector(`.${cls}`);
        const wikidata = td.querySelector('.wikidata');
        return { kaggle: td.firstChild.textContent, wikidata: wikidata ? wikidata.textContent : null, differs: wikidata ? wikidata.classList.contains('differs') : null };
      });
      const mark = tr.querySelector('.disputed-mark');
      return { id: Number(tr.dataset.id), mark: mark ? mark.textContent : null, why: mark ? mark.getAttribute('title') : null, budget, revenue };
    }),
  );
}

/** The genre and company charts' labels, and the scatter's datasets: filtered, not disputed, disputed. */
async function moneyCharts(page: Page) {
  const drawn = await charts(page);
  return { genres: drawn.genre?.labels, companies: drawn.company?.labels, scatter: drawn.scatter?.sizes };
}

const companiesAtLeast = (exclude: boolean, min: number) =>
  expectedGroups(MONEY_SPECS, 'company', exclude)
    .filter((g) => g.films >= min)
    .map((g) => g.name);

describe('the money check in Chromium', () => {
  for (const [device, options] of [
    ['a laptop', LAPTOP],
    ['a phone', PHONE],
  ] as const) {
    test(`on ${device}: the disputed films carry a mark and both pairs of figures; "leave out disputed films" changes the list, the headline and the aggregates, and survives a reload`, async () => {
      const { page, problems, dialogs, close } = await open(onMoney.url, '/?min_films=1', options);
      try {
        await ready(page);
        assert.match((await page.textContent('#money-counts'))!, /^3 confirmed · 4 disputed · 2 unchecked/);
        assert.equal(await page.isChecked('#exclude-disputed'), false);

        // the mark: on the disputed films only, in words, with the reason in its tooltip
        const rows = await moneyRows(page);
        assert.deepEqual(rows.map((r) => r.id), expectedIds(MONEY_SPECS, false));
        assert.deepEqual(rows.filter((r) => r.mark !== null).map((r) => r.id).sort(), DISPUTED_IDS);
        for (const r of rows.filter((r) => r.mark !== null)) assert.equal(r.mark, '⚠ Disputed', `film ${r.id}`);
        const lanterns = rows.find((r) => r.id === 201)!;
        assert.equal(lanterns.why, 'Disputed: budget $5K here, $13M on Wikidata');
        assert.ok(await page.isVisible('tr[data-id="201"] .disputed-mark'), 'the mark is shown');
        // both pairs: Kaggle's figures, and Wikidata's under them (the one that differs says so)
        assert.deepEqual(lanterns.budget, { kaggle: formatMoney(5_000), wikidata: '≠ Wikidata: $13M', differs: true });
        assert.deepEqual(lanterns.revenue, { kaggle: formatMoney(26_000_000), wikidata: 'Wikidata: $25M', differs: false });
        const meridian = rows.find((r) => r.id === 203)!;
        assert.deepEqual(meridian.budget, { kaggle: '$2M', wikidata: 'Wikidata: none', differs: false });
        assert.deepEqual(meridian.revenue, { kaggle: '$90M', wikidata: '≠ Wikidata: $9M', differs: true });
        assert.equal(rows.find((r) => r.id === 206)!.why, 'Disputed: budget $900K here, $30M on Wikidata; revenue $5.4M here, $80M on Wikidata');
        // a film that is not disputed shows Kaggle's pair alone
        assert.deepEqual(rows.find((r) => r.id === 202)!.budget, { kaggle: '$400K', wikidata: null, differs: null });
        assert.ok(await page.isVisible('tr[data-id="203"] .revenue .wikidata'), "Wikidata's figure is shown");

        // the headline: every film; the best is disputed and says so
        assert.equal(await page.textContent('#h-films'), '9');
        assert.match((await page.textContent('#h-best-note'))!, /^Paper Lanterns \(1994\) ⚠ Disputed$/);
        const before = await moneyCharts(page);
        assert.deepEqual(before.genres, expectedGroups(MONEY_SPECS, 'genre', false).map((g) => g.name));
        assert.deepEqual(before.companies, companiesAtLeast(false, 1));
        assert.deepEqual(before.scatter, [0, 5, 4], 'the disputed films are a dataset of their own in the scatter');

        // leave them out: the list, the headline and both aggregates change together
        await page.click('#exclude-disputed');
        await page.waitForSelector('body[data-disputed="excluded"]');
        assert.match(page.url(), /exclude_disputed=1/);
        const kept = await moneyRows(page);
        assert.deepEqual(kept.map((r) => r.id), expectedIds(MONEY_SPECS, true));
        assert.ok(kept.every((r) => r.mark === null && r.budget.wikidata === null), 'no disputed film, no mark');
        assert.equal(await page.textContent('#h-films'), '5');
        assert.match((await page.textContent('#h-films-note'))!, /4 disputed films left out/);
        assert.equal(await page.textContent('#h-best-note'), 'The Quiet Harbor (2003)');
        const after = await moneyCharts(page);
        assert.deepEqual(after.genres, expectedGroups(MONEY_SPECS, 'genre', true).map((g) => g.name));
        assert.deepEqual(after.companies, companiesAtLeast(true, 1));
        assert.deepEqual(after.scatter, [0, 5, 0]);
        assert.equal(await page.locator('#f-genre option', { hasText: 'Science Fiction' }).count(), 0, 'a genre whose only film is disputed is gone from the filter');
        assert.match((await page.textContent('#films-count'))!, /^5 films/);

        // a reload keeps it
        await page.reload();
        await ready(page);
        await page.waitForSelector('body[data-disputed="excluded"]');
        assert.equal(await page.isChecked('#exclude-disputed'), true);
        assert.deepEqual((await moneyRows(page)).map((r) => r.id), expectedIds(MONEY_SPECS, true));
        assert.equal(await page.textContent('#h-films'), '5');

        // with a genre filter too; then back to every film
        await page.selectOption('#f-genre', 'Thriller');
        await countSays(page, '1 film matches the filters');
        assert.deepEqual((await moneyRows(page)).map((r) => r.id), [202]);
        await page.click('#exclude-disputed');
        await page.waitForSelector('body[data-disputed="included"]');
        await countSays(page, '3 films match the filters');
        assert.deepEqual((await moneyRows(page)).map((r) => r.id), [202, 203, 206]);
        assert.doesNotMatch(page.url(), /exclude_disputed/);
        assert.equal(await page.textContent('#h-films'), '9');

        if (device === 'a phone') {
          const layout = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: document.defaultView.innerWidth }));
          assert.ok(layout.scrollWidth <= layout.innerWidth, `the page is ${layout.scrollWidth}px wide on a ${layout.innerWidth}px screen`);
        }
        await page.click('#f-reset');
        await countSays(page, '9 films');
        // the phone's picture is its first screen: the money check, the headline and the first cards
        await page.screenshot({ path: path.join(RESULTS, device === 'a phone' ? 'dashboard-money-phone.png' : 'dashboard-money.png'), fullPage: device !== 'a phone' });
        assert.deepEqual(problems, []);
        assert.deepEqual(dialogs, []);
      } finally {
        await close();
      }
    });
  }
});
