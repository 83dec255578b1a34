// TrueFilm dashboard: reads the JSON API and draws the page.
// Every value that came from the data goes into the page as text (textContent,
// text nodes, or drawn on a canvas by Chart.js), never as HTML; links are only
// made from http(s) URLs.

/* global Chart */

const PAGE_SIZES = [10, 25, 50, 100];
const SHOWN_COMPANIES = 4;
const SCATTER_LIMIT = 1000;
const COMPANY_BARS = 15;

const COLORS = {
  accent: '#2456d6',
  accentSoft: 'rgba(36, 86, 214, 0.28)',
  median: '#2456d6',
  mean: '#9bb5f2',
  selected: '#e08a00',
  point: 'rgba(36, 86, 214, 0.62)',
  pointFaint: 'rgba(120, 132, 155, 0.28)',
  disputed: '#c2410c',
  grid: '#e8ecf3',
  ink: '#172033',
  muted: '#5b6579',
};

// ---- numbers for people (the same rules as src/format.ts) --------------------

/** $1.2M, $350K, $7.5B */
export function formatMoney(usd) {
  const abs = Math.abs(usd);
  for (const [size, suffix] of [[1e9, 'B'], [1e6, 'M'], [1e3, 'K']]) {
    if (abs >= size) {
      const v = usd / size;
      return `$${v.toFixed(Math.abs(v) >= 100 ? 0 : 1).replace(/\.0$/, '')}${suffix}`;
    }
  }
  return `$${usd.toFixed(0)}`;
}

/** 4,133× ; 12.5× ; 1.03× */
export function formatRatio(ratio) {
  const digits = ratio >= 100 ? 0 : ratio >= 10 ? 1 : 2;
  return `${ratio.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}×`;
}

const formatCount = (n) => n.toLocaleString('en-US');
const plural = (n, one, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

function formatAgo(date) {
  const seconds = Math.max(0, (Date.now() - date.getTime()) / 1000);
  if (seconds < 60) return 'just now';
  const steps = [[60, 'minute'], [3600, 'hour'], [86400, 'day'], [86400 * 30, 'month'], [86400 * 365, 'year']];
  let unit = steps[0];
  for (const step of steps) if (seconds >= step[0]) unit = step;
  const n = Math.floor(seconds / unit[0]);
  return `${n} ${unit[1]}${n === 1 ? '' : 's'} ago`;
}

// ---- DOM helpers ---------------------------------------------------------------

const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes, never HTML. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

/** The URL when it is an http(s) URL, else null (a `javascript:` URL in the data never becomes a link). */
function safeHttpUrl(text) {
  if (typeof text !== 'string') return null;
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

function setStatus(message, isError = false) {
  const status = $('status');
  status.textContent = message;
  status.classList.toggle('error', isError);
  status.setAttribute('role', isError ? 'alert' : 'status');
}

class ApiError extends Error {}

async function getJson(path) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: 'application/json' } });
  } catch {
    throw new ApiError('Cannot reach the dashboard server. Is `truefilm dashboard` still running?');
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${path} with HTTP ${response.status} and no JSON.`);
  }
  if (!response.ok && !(response.status === 404 && body && body.empty)) {
    throw new ApiError(body && body.error ? body.error : `HTTP ${response.status} from ${path}`);
  }
  return body;
}

// ---- state, kept in the address bar so a view can be shared or reloaded ------------

const SORTS = ['rank', 'title', 'year', 'budget', 'revenue', 'ratio', 'rating'];
const NATURAL_ORDER = { rank: 'asc', title: 'asc', year: 'asc', budget: 'desc', revenue: 'desc', ratio: 'desc', rating: 'desc' };

const state = {
  genre: '',
  company: '',
  q: '',
  sort: 'rank',
  order: 'asc',
  page: 0,
  size: 25,
  minFilms: 3,
  /** the "leave out disputed films" control: applies to every figure on the page */
  excludeDisputed: false,
};

/** Phones show fewer rows a page: each film is a card there. */
const narrow = () => matchMedia('(max-width: 760px)').matches;
const defaultSize = () => (narrow() ? 10 : 25);

function readLocation() {
  const p = new URLSearchParams(location.search);
  state.genre = p.get('genre') ?? '';
  state.company = p.get('company') ?? '';
  state.q = p.get('q') ?? '';
  const sort = p.get('sort');
  state.sort = SORTS.includes(sort) ? sort : 'rank';
  const order = p.get('order');
  state.order = order === 'asc' || order === 'desc' ? order : NATURAL_ORDER[state.sort];
  const page = Number(p.get('page'));
  state.page = Number.isInteger(page) && page >= 1 ? page - 1 : 0;
  const size = Number(p.get('size'));
  state.size = PAGE_SIZES.includes(size) ? size : defaultSize();
  const min = Number(p.get('min_films'));
  state.minFilms = Number.isInteger(min) && min >= 1 && min <= 1000 ? min : 3;
  state.excludeDisputed = p.get('exclude_disputed') === '1';
}

function writeLocation() {
  const p = new URLSearchParams();
  if (state.genre) p.set('genre', state.genre);
  if (state.company) p.set('company', state.company);
  if (state.q) p.set('q', state.q);
  if (state.sort !== 'rank' || state.order !== 'asc') {
    p.set('sort', state.sort);
    p.set('order', state.order);
  }
  if (state.page > 0) p.set('page', String(state.page + 1));
  if (state.size !== defaultSize()) p.set('size', String(state.size));
  if (state.minFilms !== 3) p.set('min_films', String(state.minFilms));
  if (state.excludeDisputed) p.set('exclude_disputed', '1');
  const query = p.toString();
  history.replaceState(null, '', query ? `?${query}` : location.pathname);
}

function filterParams() {
  const p = new URLSearchParams();
  if (state.genre) p.set('genre', state.genre);
  if (state.company) p.set('company', state.company);
  if (state.q.trim()) p.set('q', state.q.trim());
  if (state.excludeDisputed) p.set('exclude_disputed', '1');
  return p;
}

/** The parameters of the aggregates (summary, genres, companies, the scatter's films): only the disputed control. */
function viewParams(extra = {}) {
  const p = new URLSearchParams(extra);
  if (state.excludeDisputed) p.set('exclude_disputed', '1');
  const query = p.toString();
  return query ? `?${query}` : '';
}

const hasFilter = () => Boolean(state.genre || state.company || state.q.trim());

// ---- headline -------------------------------------------------------------------

function renderHeadline(summary) {
  $('h-films').textContent = formatCount(summary.films);
  $('h-films-note').textContent =
    `${plural(summary.genres, 'genre')} · ${plural(summary.companies, 'production company', 'production companies')}` +
    (summary.left_out ? ` · ${plural(summary.left_out, 'disputed film')} left out` : '');

  const share = summary.films > 0 ? summary.matched / summary.films : 0;
  $('h-matched').textContent = `${Math.round(share * 100)}%`;
  const how = [];
  if (summary.matches.wikidata) how.push(`${formatCount(summary.matches.wikidata)} by Wikidata`);
  if (summary.matches.cirrus) how.push(`${formatCount(summary.matches.cirrus)} by CirrusSearch`);
  if (summary.matches.title) how.push(`${formatCount(summary.matches.title)} by title`);
  $('h-matched-note').textContent =
    `${formatCount(summary.matched)} of ${formatCount(summary.films)}` +
    (how.length ? ` (${how.join(', ')})` : '') +
    ` · ${plural(summary.with_abstract, 'abstract')}`;

  if (summary.best) {
    $('h-best').textContent = formatRatio(summary.best.ratio);
    $('h-best-note').replaceChildren(
      summary.best.year ? `${summary.best.title} (${summary.best.year})` : summary.best.title,
      summary.best.money_check === 'disputed' ? ' ' : '',
      summary.best.money_check === 'disputed' ? disputedMark() : '',
    );
  } else {
    $('h-best').textContent = '—';
    $('h-best-note').textContent = 'no film qualified in the last load';
  }

  if (summary.load) {
    const at = new Date(summary.load.loaded_at);
    $('h-loaded').textContent = at.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
    const parts = [`${at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}, ${formatAgo(at)}`];
    if (typeof summary.load.csv_rows === 'number') parts.push(`from ${plural(summary.load.csv_rows, 'CSV row')}`);
    if (summary.load.wikidata_status === 'offline') parts.push('offline run');
    $('h-loaded').title = at.toISOString();
    $('h-loaded-note').textContent = parts.join(' · ');
  } else {
    $('h-loaded').textContent = '—';
    $('h-loaded-note').textContent = 'no load history in this database';
  }
}

// ---- the money check ------------------------------------------------------------

/** What the run asked Wikidata, in a few words, when it did not answer. */
const MONEY_STATUS = { offline: 'offline run: Wikidata was not asked', unavailable: 'Wikidata did not answer' };

function renderMoney(summary) {
  const m = summary.money;
  const parts = [`${formatCount(m.confirmed)} confirmed`, `${formatCount(m.disputed)} disputed`, `${formatCount(m.unchecked)} unchecked`];
  const notes = [];
  if (MONEY_STATUS[m.status]) notes.push(MONEY_STATUS[m.status]);
  if (m.disputed) notes.push('disputed: Kaggle\u2019s budget or revenue is off by more than 2× from Wikidata\u2019s');
  $('money-counts').textContent = parts.join(' · ') + (notes.length ? ` (${notes.join('; ')})` : '');
  const toggle = $('exclude-disputed');
  toggle.checked = state.excludeDisputed;
  // nothing to leave out: the control stays, but says so
  toggle.disabled = m.disputed === 0 && !state.excludeDisputed;
  toggle.parentElement.title = toggle.disabled ? 'No film of this load is disputed' : '';
}

/** The mark of a disputed film: words, not a colour alone, with the reason in its tooltip. */
function disputedMark(film) {
  let why = 'Kaggle\u2019s figures are off by more than 2× from Wikidata\u2019s';
  if (film) {
    const kinds = [];
    for (const [kind, kaggle, wikidata] of [['budget', film.budget, film.wikidata_budget], ['revenue', film.revenue, film.wikidata_revenue]]) {
      if (differs(kaggle, wikidata)) kinds.push(`${kind} ${formatMoney(kaggle)} here, ${formatMoney(wikidata)} on Wikidata`);
    }
    if (kinds.length) why = `Disputed: ${kinds.join('; ')}`;
  }
  return el('span', { class: 'disputed-mark', title: why }, el('span', { 'aria-hidden': 'true' }, '⚠ '), 'Disputed');
}

/** SPEC 4a: a kind differs when kaggle ÷ wikidata is outside 0.5–2. */
function differs(kaggle, wikidata) {
  if (wikidata === null || wikidata === undefined || !(wikidata > 0)) return false;
  const r = kaggle / wikidata;
  return r < 0.5 || r > 2;
}

// ---- filters --------------------------------------------------------------------

let companyNames = new Set();

function renderFilterOptions(genres, companies) {
  const select = $('f-genre');
  select.replaceChildren(el('option', { value: '' }, 'All genres'));
  const byName = [...genres].sort((a, b) => a.genre.localeCompare(b.genre));
  for (const g of byName) select.append(el('option', { value: g.genre }, `${g.genre} (${formatCount(g.films)})`));
  if (state.genre && !byName.some((g) => g.genre === state.genre)) select.append(el('option', { value: state.genre }, state.genre));
  select.value = state.genre;

  const list = $('company-list');
  const names = companies.map((c) => c.company).sort((a, b) => a.localeCompare(b));
  companyNames = new Set(names);
  list.replaceChildren(...names.map((name) => el('option', { value: name })));
  $('f-company').value = state.company;
  $('f-q').value = state.q;
  $('page-size').value = String(state.size);
  $('min-films').value = String(state.minFilms);
  syncSortControls();
}

function syncSortControls() {
  for (const th of document.querySelectorAll('#films thead th[data-sort]')) {
    if (th.dataset.sort === state.sort) th.setAttribute('aria-sort', state.order === 'asc' ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  const select = $('f-sort');
  const value = `${state.sort}:${state.order}`;
  if (![...select.options].some((o) => o.value === value)) {
    const label = state.sort[0].toUpperCase() + state.sort.slice(1);
    select.append(el('option', { value }, `${label}, ${state.order === 'asc' ? 'ascending' : 'descending'}`));
  }
  select.value = value;
}

function setFilter(change) {
  Object.assign(state, change, { page: 0 });
  $('f-genre').value = state.genre;
  $('f-company').value = state.company;
  $('f-q').value = state.q;
  refreshFilms();
}

function wireControls() {
  $('f-genre').addEventListener('change', (e) => setFilter({ genre: e.target.value }));
  const company = $('f-company');
  company.addEventListener('input', () => {
    if (company.value === '' || companyNames.has(company.value)) setFilter({ company: company.value });
  });
  company.addEventListener('change', () => {
    if (company.value !== state.company) setFilter({ company: company.value });
  });
  let timer = null;
  $('f-q').addEventListener('input', (e) => {
    clearTimeout(timer);
    timer = setTimeout(() => setFilter({ q: e.target.value }), 250);
  });
  $('filters').addEventListener('submit', (e) => e.preventDefault());
  $('filters').addEventListener('reset', (e) => {
    e.preventDefault();
    clearTimeout(timer);
    setFilter({ genre: '', company: '', q: '' });
  });
  $('f-sort').addEventListener('change', (e) => {
    const [sort, order] = e.target.value.split(':');
    Object.assign(state, { sort, order, page: 0 });
    refreshFilms(false);
  });
  for (const th of document.querySelectorAll('#films thead th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => {
      const sort = th.dataset.sort;
      const order = sort === state.sort ? (state.order === 'asc' ? 'desc' : 'asc') : NATURAL_ORDER[sort];
      Object.assign(state, { sort, order, page: 0 });
      refreshFilms(false);
    });
  }
  $('prev').addEventListener('click', () => {
    state.page = Math.max(0, state.page - 1);
    refreshFilms(false);
  });
  $('next').addEventListener('click', () => {
    state.page += 1;
    refreshFilms(false);
  });
  $('page-size').addEventListener('change', (e) => {
    state.size = Number(e.target.value);
    state.page = 0;
    refreshFilms(false);
  });
  $('min-films').addEventListener('change', (e) => {
    state.minFilms = Number(e.target.value);
    writeLocation();
    refreshCompanyChart();
  });
}

// ---- the films table ------------------------------------------------------------

/** Buttons that filter by a genre or company; a long company list shows its first few and "+N". */
function chips(names, kind) {
  const active = kind === 'genre' ? state.genre : state.company;
  const box = el('div', { class: 'chips' });
  const chip = (name) => {
    const button = el('button', { type: 'button', class: `chip ${kind}${name === active ? ' active' : ''}`, title: `Only films of ${name}` }, name);
    button.addEventListener('click', () => setFilter(kind === 'genre' ? { genre: name } : { company: name }));
    return button;
  };
  const limit = kind === 'company' && names.length > SHOWN_COMPANIES + 1 ? SHOWN_COMPANIES : names.length;
  box.append(...names.slice(0, limit).map(chip));
  if (limit < names.length) {
    const more = el('button', { type: 'button', class: 'chip more', 'aria-label': `Show ${names.length - limit} more companies` }, `+${names.length - limit} more`);
    more.addEventListener('click', () => more.replaceWith(...names.slice(limit).map(chip)));
    box.append(more);
  }
  return box;
}

function numberCell(cls, label, text) {
  return el('td', { class: `${cls} num`, 'data-label': label }, text);
}

/** Kaggle's figure; for a disputed film, Wikidata's under it (or that it has none). */
function moneyCell(cls, label, kaggle, wikidata) {
  const cell = numberCell(cls, label, formatMoney(kaggle));
  if (wikidata === undefined) return cell;
  const off = differs(kaggle, wikidata);
  const text = wikidata === null ? 'Wikidata: none' : `Wikidata: ${formatMoney(wikidata)}`;
  const tip =
    wikidata === null
      ? `Wikidata gives no ${label.toLowerCase()} that counts`
      : `Wikidata's ${label.toLowerCase()}: $${formatCount(wikidata)}${off ? ` (Kaggle's is ${formatRatio(Math.max(kaggle / wikidata, wikidata / kaggle))} off)` : ' (agrees within 2×)'}`;
  cell.append(el('span', { class: `wikidata${off ? ' differs' : ''}`, title: tip }, off ? '≠ ' : '', text));
  return cell;
}

function filmRow(film) {
  const tr = el('tr', { 'data-id': film.id });
  const disputed = film.money_check === 'disputed';
  if (disputed) tr.classList.add('disputed');
  const title = el('td', { class: 'title' }, film.title);
  if (film.original_title && film.original_title !== film.title) title.append(el('span', { class: 'original' }, film.original_title));
  if (disputed) title.append(el('span', { class: 'marks' }, disputedMark(film)));

  const wiki = el('td', { class: 'wiki' });
  const href = safeHttpUrl(film.wikipedia_url);
  const actions = el('div', { class: 'wiki-actions' });
  if (href) {
    actions.append(
      el('a', { href, target: '_blank', rel: 'noopener noreferrer', title: film.wikipedia_title ?? film.title }, 'Page ↗'),
    );
  }
  if (film.has_abstract) {
    const button = el('button', { type: 'button', class: 'link-button abstract-toggle', 'aria-expanded': 'false' }, 'Abstract');
    button.addEventListener('click', () => toggleAbstract(tr, film, button));
    actions.append(button);
  }
  if (actions.childNodes.length === 0) actions.append(el('span', { class: 'none', title: 'not matched to a Wikipedia page' }, '—'));
  wiki.append(actions);

  tr.append(
    el('td', { class: 'rank' }, `${film.rank}`),
    title,
    numberCell('year', 'Year', film.year === null ? '—' : String(film.year)),
    moneyCell('budget', 'Budget', film.budget, disputed ? film.wikidata_budget : undefined),
    moneyCell('revenue', 'Revenue', film.revenue, disputed ? film.wikidata_revenue : undefined),
    el('td', { class: 'ratio num', title: `revenue ÷ budget = ${film.ratio}${disputed ? ' (disputed: Wikidata’s figures differ)' : ''}` }, formatRatio(film.ratio)),
    numberCell('rating', 'Rating', film.rating === null || film.vote_count === 0 ? '—' : film.rating.toFixed(1)),
    el('td', { class: 'genres' }, chips(film.genres, 'genre')),
    el('td', { class: 'companies' }, chips(film.companies, 'company')),
    wiki,
  );
  return tr;
}

async function toggleAbstract(tr, film, button) {
  const open = tr.nextElementSibling && tr.nextElementSibling.classList.contains('detail') ? tr.nextElementSibling : null;
  if (open) {
    open.remove();
    button.setAttribute('aria-expanded', 'false');
    return;
  }
  const cell = el('td', { colspan: 10 }, el('p', { class: 'muted' }, 'Loading the abstract…'));
  const detail = el('tr', { class: 'detail' }, cell);
  tr.after(detail);
  button.setAttribute('aria-expanded', 'true');
  try {
    const full = await getJson(`/api/films/${encodeURIComponent(film.id)}`);
    const meta = [];
    const page = safeHttpUrl(full.wikipedia_url);
    const method = { wikidata: 'Wikidata (IMDb id)', cirrus: 'CirrusSearch', title: 'title' }[full.wikipedia_match];
    meta.push(page ? el('a', { href: page, target: '_blank', rel: 'noopener noreferrer' }, full.wikipedia_title ?? 'Wikipedia') : null);
    meta.push(method ? ` · matched by ${method}` : '');
    if (/^tt\d+$/.test(full.imdb_id ?? '')) {
      meta.push(' · ', el('a', { href: `https://www.imdb.com/title/${full.imdb_id}/`, target: '_blank', rel: 'noopener noreferrer' }, 'IMDb'));
    }
    if (full.release_date) meta.push(` · released ${full.release_date}`);
    if (full.vote_count) meta.push(` · ${plural(full.vote_count, 'vote')}`);
    cell.replaceChildren(
      el('p', { class: 'abstract' }, full.wikipedia_abstract ?? 'No abstract for this page.'),
      el('p', { class: 'detail-meta' }, ...meta),
    );
  } catch (err) {
    cell.replaceChildren(el('p', { class: 'status error' }, err.message));
  }
}

let filmsRequest = 0;

async function refreshFilms(filtersChanged = true) {
  writeLocation();
  syncSortControls();
  const request = ++filmsRequest;
  const params = filterParams();
  params.set('limit', String(state.size));
  params.set('offset', String(state.page * state.size));
  if (state.sort !== 'rank' || state.order !== 'asc') {
    params.set('sort', state.sort);
    params.set('order', state.order);
  }
  $('films').setAttribute('aria-busy', 'true');
  try {
    const page = await getJson(`/api/films?${params}`);
    if (request !== filmsRequest) return;
    if (page.films.length === 0 && page.total > 0 && state.page > 0) {
      state.page = Math.floor((page.total - 1) / state.size);
      refreshFilms(false);
      return;
    }
    renderFilms(page);
    setStatus('');
  } catch (err) {
    if (request === filmsRequest) setStatus(err.message, true);
  } finally {
    if (request === filmsRequest) $('films').removeAttribute('aria-busy');
  }
  if (filtersChanged) {
    refreshHighlight();
    markSelectedBars();
  }
}

function renderFilms(page) {
  const body = $('films-body');
  if (page.films.length === 0) {
    const reset = el('button', { type: 'button', class: 'secondary' }, 'Clear filters');
    reset.addEventListener('click', () => setFilter({ genre: '', company: '', q: '' }));
    body.replaceChildren(el('tr', { class: 'no-rows' }, el('td', { colspan: 10 }, 'No film matches these filters. ', reset)));
  } else {
    body.replaceChildren(...page.films.map(filmRow));
  }
  const first = page.total === 0 ? 0 : page.offset + 1;
  const last = page.offset + page.films.length;
  const pages = Math.max(1, Math.ceil(page.total / page.limit));
  $('films-count').textContent = hasFilter()
    ? `${plural(page.total, 'film')} match${page.total === 1 ? 'es' : ''} the filters`
    : `${plural(page.total, 'film')}, best ratio first`;
  $('page-info').textContent = page.total === 0 ? 'No films' : `${formatCount(first)}–${formatCount(last)} of ${formatCount(page.total)} · page ${state.page + 1} of ${pages}`;
  $('prev').disabled = state.page === 0;
  $('next').disabled = last >= page.total;
}

// ---- charts ---------------------------------------------------------------------

const charts = {};
let genreRows = [];
let companyRows = [];

/** Axis labels for a log scale: 1-2-5 over a short range, powers of ten over a long one. */
function logTicks(format) {
  return {
    color: COLORS.muted,
    autoSkip: true,
    maxRotation: 0,
    callback(value, _index, ticks) {
      const values = ticks.map((t) => t.value).filter((v) => v > 0);
      const decades = Math.log10(Math.max(...values) / Math.min(...values));
      const mantissa = Number((value / 10 ** Math.floor(Math.log10(value) + 1e-9)).toPrecision(3));
      const shown = decades > 2.5 ? [1] : [1, 2, 5];
      return shown.includes(mantissa) ? format(Number(value.toPrecision(3))) : '';
    },
  };
}

/** 1,000× ; 50× ; 0.5× (axis labels: round numbers need no decimals) */
const tickRatio = (v) => `${v.toLocaleString('en-US', { maximumFractionDigits: 2 })}×`;

function baseOptions() {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    plugins: { legend: { labels: { color: COLORS.ink, boxWidth: 12, boxHeight: 12 } } },
  };
}

function shorten(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function barColors(labels, selected, color) {
  return labels.map((label) => (selected && label === selected ? COLORS.selected : color));
}

/** ", 2 disputed" for a group that counts disputed films. */
const disputedNote = (group) => (group.disputed ? `, ${formatCount(group.disputed)} disputed` : '');

function drawGenreChart(genres) {
  genreRows = genres;
  const box = $('genre-box');
  box.style.height = `${Math.max(220, genres.length * 30 + 70)}px`;
  const labels = genres.map((g) => g.genre);
  const config = {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'Median', data: genres.map((g) => g.median_ratio), backgroundColor: barColors(labels, state.genre, COLORS.median), borderRadius: 3 },
        { label: 'Mean', data: genres.map((g) => g.mean_ratio), backgroundColor: barColors(labels, state.genre, COLORS.mean), borderRadius: 3 },
      ],
    },
    options: {
      ...baseOptions(),
      indexAxis: 'y',
      scales: {
        x: { type: 'logarithmic', grid: { color: COLORS.grid }, ticks: logTicks(tickRatio) },
        y: { grid: { display: false }, ticks: { color: COLORS.ink, autoSkip: false } },
      },
      plugins: {
        ...baseOptions().plugins,
        tooltip: {
          callbacks: {
            label: (ctx) => `${ctx.dataset.label}: ${formatRatio(ctx.parsed.x)}`,
            afterBody: (items) => {
              const g = genres[items[0].dataIndex];
              return [plural(g.films, 'film') + disputedNote(g), `${formatMoney(g.total_budget)} budget → ${formatMoney(g.total_revenue)} revenue`];
            },
          },
        },
      },
      onClick: (_event, elements) => {
        if (elements.length) setFilter({ genre: genres[elements[0].index].genre });
      },
      onHover: (event, elements) => {
        event.native.target.style.cursor = elements.length ? 'pointer' : 'default';
      },
    },
  };
  charts.genre?.destroy();
  charts.genre = new Chart($('genre-chart'), config);
}

function drawCompanyChart(companies, total) {
  companyRows = companies;
  const empty = $('company-empty');
  const box = $('company-box');
  if (companies.length === 0) {
    charts.company?.destroy();
    charts.company = null;
    box.hidden = true;
    empty.hidden = false;
    empty.textContent = `No production company has ${state.minFilms} or more films in this load: lower the minimum.`;
    $('company-note').textContent = '';
    return;
  }
  box.hidden = false;
  empty.hidden = true;
  $('company-note').textContent =
    total > companies.length
      ? `The best ${companies.length} of ${plural(total, 'company', 'companies')} with ${state.minFilms} or more films.`
      : `${plural(total, 'company', 'companies')} with ${state.minFilms} or more films.`;
  box.style.height = `${Math.max(200, companies.length * 28 + 60)}px`;
  const labels = companies.map((c) => c.company);
  const config = {
    type: 'bar',
    data: {
      labels,
      datasets: [
        {
          label: 'Median return',
          data: companies.map((c) => c.median_ratio),
          backgroundColor: barColors(labels, state.company, COLORS.median),
          borderRadius: 3,
        },
      ],
    },
    options: {
      ...baseOptions(),
      indexAxis: 'y',
      scales: {
        x: { type: 'logarithmic', grid: { color: COLORS.grid }, ticks: logTicks(tickRatio) },
        y: { grid: { display: false }, ticks: { color: COLORS.ink, autoSkip: false, callback: (_v, i) => shorten(labels[i], narrow() ? 18 : 28) } },
      },
      plugins: {
        ...baseOptions().plugins,
        legend: { display: false },
        tooltip: {
          callbacks: {
            title: (items) => companies[items[0].dataIndex].company,
            label: (ctx) => `Median: ${formatRatio(ctx.parsed.x)}`,
            afterBody: (items) => {
              const c = companies[items[0].dataIndex];
              return [`Mean: ${formatRatio(c.mean_ratio)}`, plural(c.films, 'film') + disputedNote(c), `${formatMoney(c.total_budget)} budget → ${formatMoney(c.total_revenue)} revenue`];
            },
          },
        },
      },
      onClick: (_event, elements) => {
        if (elements.length) setFilter({ company: companies[elements[0].index].company });
      },
      onHover: (event, elements) => {
        event.native.target.style.cursor = elements.length ? 'pointer' : 'default';
      },
    },
  };
  charts.company?.destroy();
  charts.company = new Chart($('company-chart'), config);
}

async function refreshCompanyChart() {
  try {
    const result = await getJson(`/api/production-companies${viewParams({ min_films: state.minFilms, limit: COMPANY_BARS })}`);
    drawCompanyChart(result.companies, result.total);
  } catch (err) {
    setStatus(err.message, true);
  }
}

function markSelectedBars() {
  if (charts.genre) {
    const labels = genreRows.map((g) => g.genre);
    charts.genre.data.datasets[0].backgroundColor = barColors(labels, state.genre, COLORS.median);
    charts.genre.data.datasets[1].backgroundColor = barColors(labels, state.genre, COLORS.mean);
    charts.genre.update();
  }
  if (charts.company) {
    charts.company.data.datasets[0].backgroundColor = barColors(companyRows.map((c) => c.company), state.company, COLORS.median);
    charts.company.update();
  }
}

const toPoint = (f) => ({ x: f.budget, y: f.ratio, title: f.title, year: f.year, revenue: f.revenue, rank: f.rank, disputed: f.money_check === 'disputed' });

function drawScatter(films, total) {
  const config = {
    type: 'scatter',
    data: {
      datasets: [
        { label: 'Films matching the filters', data: [], backgroundColor: COLORS.selected, pointRadius: 4, pointHoverRadius: 6 },
        { label: 'All films', data: films.filter((f) => f.money_check !== 'disputed').map(toPoint), backgroundColor: COLORS.point, pointRadius: 3, pointHoverRadius: 5 },
        // a shape of their own (and a legend entry in words), not a colour alone
        {
          label: 'Disputed (Wikidata’s figures differ)',
          data: films.filter((f) => f.money_check === 'disputed').map(toPoint),
          backgroundColor: COLORS.disputed,
          pointStyle: 'triangle',
          pointRadius: 5,
          pointHoverRadius: 7,
        },
      ],
    },
    options: {
      ...baseOptions(),
      scales: {
        x: { type: 'logarithmic', title: { display: true, text: 'Budget', color: COLORS.muted }, grid: { color: COLORS.grid }, ticks: logTicks(formatMoney) },
        y: { type: 'logarithmic', title: { display: true, text: 'Revenue ÷ budget', color: COLORS.muted }, grid: { color: COLORS.grid }, ticks: logTicks(tickRatio) },
      },
      plugins: {
        ...baseOptions().plugins,
        legend: {
          ...baseOptions().plugins.legend,
          // the legend shows each dataset's shape: the disputed films' triangle is not a colour alone
          labels: { ...baseOptions().plugins.legend.labels, usePointStyle: true, filter: (item, data) => data.datasets[item.datasetIndex].data.length > 0 },
        },
        tooltip: {
          callbacks: {
            title: (items) => items.map((i) => `#${i.raw.rank} ${i.raw.title}${i.raw.year ? ` (${i.raw.year})` : ''}${i.raw.disputed ? ' — disputed' : ''}`),
            label: (ctx) => `${formatMoney(ctx.raw.x)} → ${formatMoney(ctx.raw.revenue)}: ${formatRatio(ctx.raw.y)}`,
          },
        },
      },
    },
  };
  charts.scatter?.destroy();
  charts.scatter = new Chart($('scatter-chart'), config);
  $('scatter-note').textContent =
    `Each dot is a film${total > films.length ? ` (the best ${formatCount(films.length)} of ${formatCount(total)})` : ''}; both axes log scale. Filtered films are highlighted.`;
}

let highlightRequest = 0;

async function refreshHighlight() {
  if (!charts.scatter) return;
  const mine = ++highlightRequest;
  let points = [];
  if (hasFilter()) {
    const params = filterParams();
    params.set('limit', String(SCATTER_LIMIT));
    try {
      const page = await getJson(`/api/films?${params}`);
      points = page.films.map(toPoint);
    } catch {
      points = [];
    }
  }
  if (mine !== highlightRequest) return;
  const [matching, all] = charts.scatter.data.datasets;
  matching.data = points;
  all.backgroundColor = points.length || hasFilter() ? COLORS.pointFaint : COLORS.point;
  all.label = state.excludeDisputed ? 'Films (disputed left out)' : 'All films';
  charts.scatter.update();
}

// ---- start ----------------------------------------------------------------------

function showEmpty(body) {
  $('content').hidden = true;
  $('empty').hidden = false;
  // the commands to run are on the page; the API's hint says the same for JSON readers
  $('empty-message').textContent = body.message;
  setStatus('');
}

let dataRequest = 0;

/**
 * Everything the disputed control changes: the headline, the filter lists,
 * the table and the three charts. The body's data-disputed says which view
 * is on the page once it is all drawn.
 */
async function refreshData(summary) {
  const mine = ++dataRequest;
  delete document.body.dataset.disputed;
  const [fresh, genres, companies, scatter] = await Promise.all([
    summary ?? getJson(`/api/summary${viewParams()}`),
    getJson(`/api/genres${viewParams()}`),
    getJson(`/api/production-companies${viewParams()}`),
    getJson(`/api/films${viewParams({ limit: SCATTER_LIMIT })}`),
  ]);
  if (mine !== dataRequest) return;
  if (fresh.empty) {
    showEmpty(fresh);
    return;
  }
  renderHeadline(fresh);
  renderMoney(fresh);
  renderFilterOptions(genres.genres, companies.companies);
  await refreshFilms(false);
  if (typeof Chart === 'undefined') {
    setStatus('The charts could not load (Chart.js is missing from node_modules: run npm ci).', true);
  } else {
    drawGenreChart(genres.genres);
    drawScatter(scatter.films, scatter.total);
    await refreshCompanyChart();
    await refreshHighlight();
  }
  if (mine === dataRequest) document.body.dataset.disputed = state.excludeDisputed ? 'excluded' : 'included';
}

async function start() {
  readLocation();
  let summary;
  try {
    summary = await getJson(`/api/summary${viewParams()}`);
  } catch (err) {
    setStatus(err.message, true);
    return;
  }
  if (summary.empty) {
    showEmpty(summary);
    return;
  }
  $('content').hidden = false;
  wireControls();
  $('exclude-disputed').addEventListener('change', (e) => {
    state.excludeDisputed = e.target.checked;
    state.page = 0;
    writeLocation();
    refreshData().catch((err) => setStatus(err.message, true));
  });
  if (typeof Chart !== 'undefined') {
    Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
    Chart.defaults.color = COLORS.muted;
  }
  try {
    await refreshData(summary);
    document.body.dataset.ready = 'true';
  } catch (err) {
    setStatus(err.message, true);
  }
}

start();
