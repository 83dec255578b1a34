/**
 * The dashboard's HTTP server (node:http): one page with its script, styles
 * and Chart.js (served from node_modules, so it works offline), and the JSON
 * API of SPEC section 7. Only GET and HEAD; every response carries a strict
 * Content-Security-Policy, so even a value that slipped past the page's
 * escaping could not run a script.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { TrueFilmError, describeError, isTrueFilmError } from '../errors.js';
import { maskUrl } from '../format.js';
import type { Ui } from '../ui.js';
import { createAnswers, gzipped, serialize, type Answer, type Answers, type Computed } from './answers.js';
import { parseAggregateQuery, parseCompanyQuery, parseFilmId, parseFilmQuery, parseNoParams } from './params.js';
import {
  EMPTY_STATE,
  createReader,
  countFilms,
  hasData,
  loadIdIn,
  queryCompanies,
  queryFilm,
  queryFilms,
  queryGenres,
  querySummary,
  readStallMs,
  type Reader,
  type ReaderOptions,
} from './queries.js';

export interface DashboardOptions {
  /** the PostgreSQL to read (with its password; never printed) */
  databaseUrl: string;
  /** 0 for any free port */
  port: number;
  /** default 127.0.0.1 */
  host?: string;
  /** where to report unexpected failures; quiet by default */
  ui?: Ui;
  /** the connection pool: its size, and how long a request waits for a connection while all are busy */
  pool?: ReaderOptions;
}

export interface RunningDashboard {
  /** the address to open in a browser, e.g. http://127.0.0.1:8502/ */
  url: string;
  port: number;
  /** films in the database, or null when nothing has been loaded yet */
  filmsLoaded(): Promise<number | null>;
  /** stops listening, drops open connections and closes the database pool */
  close(): Promise<void>;
}

const API_ENDPOINTS = [
  'GET /api/summary?exclude_disputed=',
  'GET /api/films?limit=&offset=&genre=&company=&q=&sort=&order=&exclude_disputed=',
  'GET /api/films/:id',
  'GET /api/genres?exclude_disputed=',
  'GET /api/production-companies?min_films=&limit=&exclude_disputed=',
  'GET /healthz',
];

// ---- static files ---------------------------------------------------------

interface Asset {
  body: Buffer;
  type: string;
}

/**
 * The page's files live in src/dashboard/static: beside this module under tsx,
 * and two levels up from dist/dashboard/ in a build (tsc copies no assets).
 */
function staticDir(): string {
  const candidates = [new URL('./static/', import.meta.url), new URL('../../src/dashboard/static/', import.meta.url)].map((u) =>
    fileURLToPath(u),
  );
  const found = candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
  if (!found) {
    throw new TrueFilmError('INTERNAL', "the dashboard's page is missing", {
      input: candidates.join(' or '),
      hint: 'Reinstall TrueFilm: src/dashboard/static/ must ship beside dist/.',
    });
  }
  return found;
}

/** Chart.js's UMD bundle from node_modules (its exports map does not list it, so go through the main entry). */
function chartJsPath(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');
}

async function loadAssets(): Promise<Map<string, Asset>> {
  const dir = staticDir();
  const files: [string, string, string][] = [
    ['/', path.join(dir, 'index.html'), 'text/html; charset=utf-8'],
    ['/app.js', path.join(dir, 'app.js'), 'text/javascript; charset=utf-8'],
    ['/style.css', path.join(dir, 'style.css'), 'text/css; charset=utf-8'],
    ['/favicon.svg', path.join(dir, 'favicon.svg'), 'image/svg+xml'],
    ['/vendor/chart.umd.min.js', chartJsPath(), 'text/javascript; charset=utf-8'],
  ];
  const assets = new Map<string, Asset>();
  for (const [route, file, type] of files) {
    try {
      assets.set(route, { body: await readFile(file), type });
    } catch (err) {
      throw new TrueFilmError('INTERNAL', `cannot read a file of the dashboard: ${(err as Error).message}`, {
        input: file,
        hint: route.startsWith('/vendor/') ? 'chart.js is a dependency: run npm ci.' : 'Reinstall TrueFilm.',
        cause: err,
      });
    }
  }
  assets.set('/index.html', assets.get('/')!);
  return assets;
}

// ---- responses ------------------------------------------------------------

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

function send(req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, body: Buffer | string, cache: string): void {
  const buffer = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': type,
    'Content-Length': buffer.length,
    'Cache-Control': cache,
  });
  res.end(req.method === 'HEAD' ? undefined : buffer);
}

/** Whether the client takes gzip (Accept-Encoding: gzip, not with q=0). */
function acceptsGzip(req: http.IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  if (typeof header !== 'string') return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    return (coding === 'gzip' || coding === '*') && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
  });
}

/** An API answer, gzipped when the client takes it and the body is large enough to gain from it. */
async function sendAnswer(req: http.IncomingMessage, res: http.ServerResponse, answer: Answer): Promise<void> {
  const compressed = acceptsGzip(req) ? gzipped(answer) : null;
  res.setHeader('Vary', 'Accept-Encoding');
  if (compressed) res.setHeader('Content-Encoding', 'gzip');
  send(req, res, answer.status, 'application/json; charset=utf-8', compressed ? await compressed : answer.body, 'no-store');
}

function sendJson(req: http.IncomingMessage, res: http.ServerResponse, status: number, value: unknown): void {
  send(req, res, status, 'application/json; charset=utf-8', JSON.stringify(value), 'no-store');
}

// ---- routes ---------------------------------------------------------------

/**
 * The API's answers, each read in one snapshot and kept per load (answers.ts):
 * the key names the endpoint and its parsed parameters, so that two ways of
 * asking the same thing share an answer.
 */
async function api(pathname: string, params: URLSearchParams, reader: Reader, answers: Answers): Promise<Answer> {
  /** `query`'s answer once a load has happened; before, the empty state with the endpoint's own empty fields. */
  const whenLoaded = (key: unknown, query: (c: pg.ClientBase) => Promise<unknown>, empty: object = {}): Promise<Answer> =>
    answers.get(JSON.stringify([pathname, key]), () =>
      reader.read(
        async (c): Promise<Computed> => ({
          load: await loadIdIn(c),
          status: 200,
          value: (await hasData(c)) ? await query(c) : { ...EMPTY_STATE, ...empty },
        }),
      ),
    );
  switch (pathname) {
    case '/api/summary': {
      const query = parseAggregateQuery(params, pathname);
      return whenLoaded(query, (c) => querySummary(c, query));
    }
    case '/api/films': {
      const query = parseFilmQuery(params);
      return whenLoaded(query, (c) => queryFilms(c, query), { films: [], total: 0, limit: query.limit, offset: query.offset });
    }
    case '/api/genres': {
      const query = parseAggregateQuery(params, pathname);
      return whenLoaded(query, (c) => queryGenres(c, query), { genres: [] });
    }
    case '/api/production-companies': {
      const query = parseCompanyQuery(params);
      return whenLoaded(query, (c) => queryCompanies(c, query), { companies: [], total: 0, min_films: query.minFilms });
    }
  }
  const film = /^\/api\/films\/([^/]+)$/.exec(pathname);
  if (film) {
    const id = parseFilmId(film[1]!);
    parseNoParams(params, '/api/films/:id');
    return answers.get(JSON.stringify([pathname, id]), () =>
      reader.read(async (c): Promise<Computed> => {
        const load = await loadIdIn(c);
        if (!(await hasData(c))) return { load, status: 404, value: { ...EMPTY_STATE, error: `no film with id ${id}: ${EMPTY_STATE.message}` } };
        const row = await queryFilm(c, id);
        return row ? { load, status: 200, value: row } : { load, status: 404, value: { error: `no film with id ${id} in the loaded data` } };
      }),
    );
  }
  return serialize(404, { error: `no such endpoint: ${pathname}`, endpoints: API_ENDPOINTS });
}

/**
 * What a client is told of a failure: a 400 names the parameter; a server-side
 * failure gets a short message and a request id, and the details (which name
 * the database server) go to the dashboard's log under that id.
 */
function errorStatus(err: unknown, requestId: string): [number, Record<string, unknown>] {
  if (isTrueFilmError(err, 'DASHBOARD_BAD_REQUEST')) return [400, { error: err.message, parameter: err.input }];
  if (isTrueFilmError(err, 'DB_BUSY')) {
    return [503, { error: `The dashboard is busy: every connection to the database stayed busy; try again shortly (request ${requestId}).`, request_id: requestId }];
  }
  if (isTrueFilmError(err) && (err.code === 'DB_UNREACHABLE' || err.code === 'DB_AUTH')) {
    return [503, { error: `The database is not available right now; try again shortly (request ${requestId}).`, request_id: requestId }];
  }
  return [500, { error: `The request failed on the server; its log tells why (request ${requestId}).`, request_id: requestId }];
}

/** Writes a failure's details to the log under a new request id, and returns the id. */
function logFailure(ui: Ui | undefined, req: http.IncomingMessage, pathname: string, err: unknown): string {
  const requestId = randomBytes(6).toString('hex');
  ui?.warn(`dashboard: request ${requestId}: ${req.method} ${pathname}: ${maskUrl(describeError(err))}`);
  return requestId;
}

function createHandler(assets: Map<string, Asset>, reader: Reader, answers: Answers, ui: Ui | undefined) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    let pathname = '/';
    try {
      const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
      pathname = url.pathname;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        sendJson(req, res, 405, { error: `method ${req.method} is not allowed: the dashboard only reads (GET, HEAD)` });
        return;
      }
      const asset = assets.get(pathname);
      if (asset) {
        send(req, res, 200, asset.type, asset.body, 'no-cache');
        return;
      }
      if (pathname === '/healthz') {
        try {
          const loaded = await reader.read(hasData);
          sendJson(req, res, 200, { status: 'ok', data: loaded ? 'loaded' : 'empty' });
        } catch (err) {
          const requestId = logFailure(ui, req, pathname, err);
          if (isTrueFilmError(err, 'DB_BUSY')) {
            res.setHeader('Retry-After', '1');
            sendJson(req, res, 503, { status: 'busy', error: `The database answers, but every connection stayed busy (request ${requestId}).`, request_id: requestId });
          } else {
            sendJson(req, res, 503, { status: 'unavailable', error: `The database is not available (request ${requestId}).`, request_id: requestId });
          }
        }
        return;
      }
      if (pathname.startsWith('/api/')) {
        await sendAnswer(req, res, await api(pathname, url.searchParams, reader, answers));
        return;
      }
      send(req, res, 404, 'text/plain; charset=utf-8', 'Not found. The dashboard is at / and its API under /api/.\n', 'no-store');
    } catch (err) {
      const requestId = isTrueFilmError(err, 'DASHBOARD_BAD_REQUEST') ? '' : logFailure(ui, req, pathname, err);
      const [status, body] = errorStatus(err, requestId);
      // a busy server will answer again soon; one that is down, when it is back
      if (!res.headersSent && isTrueFilmError(err, 'DB_BUSY')) res.setHeader('Retry-After', '1');
      if (!res.headersSent) sendJson(req, res, status, body);
      else res.destroy();
    }
  };
}

/** What to open in a browser: a wildcard address means this machine. */
function browserUrl(host: string, port: number): string {
  const shown = host === '' || host === '0.0.0.0' || host === '::' || host === '[::]' ? 'localhost' : host;
  return `http://${shown.includes(':') && !shown.startsWith('[') ? `[${shown}]` : shown}:${port}/`;
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): TrueFilmError {
  const where = `${host}:${port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new TrueFilmError('DASHBOARD_LISTEN', `port ${port} is already in use on ${host}`, {
        input: where,
        hint: `Stop the program that uses it, or choose another port: truefilm dashboard --port ${port === 65535 ? 8503 : port + 1}`,
        cause: err,
      });
    case 'EACCES':
      return new TrueFilmError('DASHBOARD_LISTEN', `not allowed to listen on port ${port}`, {
        input: where,
        hint: 'Ports below 1024 need privileges: choose another with --port.',
        cause: err,
      });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TrueFilmError('DASHBOARD_LISTEN', `--host ${host} is not an address of this machine`, {
        input: where,
        hint: 'Use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface, e.g. in a container).',
        cause: err,
      });
  }
  return new TrueFilmError('DASHBOARD_LISTEN', `cannot listen on ${where}: ${err.message}`, { input: where, cause: err });
}

export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  const assets = await loadAssets();
  const reader = createReader(options.databaseUrl, options.pool);
  const answers = createAnswers(options.databaseUrl, { stallMs: readStallMs() });
  const handler = createHandler(assets, reader, answers, options.ui);
  const server = http.createServer((req, res) => void handler(req, res));
  // Browsers keep connections open; a short keep-alive lets Ctrl-C stop promptly anyway.
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await Promise.all([reader.close(), answers.close()]);
    throw listenError(err as NodeJS.ErrnoException, host, options.port);
  }
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  return {
    url: browserUrl(host, port),
    port,
    filmsLoaded: () => reader.read(async (c) => ((await hasData(c)) ? countFilms(c) : null)),
    close: () =>
      (closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await Promise.all([reader.close(), answers.close()]);
      })()),
  };
}
