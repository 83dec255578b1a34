/**
 * A real HTTP server on 127.0.0.1 (listen(0)) that speaks the Wikipedia REST
 * page summary API as en.wikipedia.org does, for the requests TrueFilm sends:
 *
 * - `GET /api/rest_v1/page/summary/{title}`: the title is one path segment,
 *   percent-encoded, with underscores for spaces; a raw `/` in it makes a
 *   different route (a not-found problem, as RESTBase answers);
 * - 200 `application/json` summary: `type` ('standard' | 'disambiguation' |
 *   'no-extract' | 'mainpage'), `title`, `titles`, `extract`, `extract_html`,
 *   `content_urls.desktop.page`...;
 * - 404 `application/problem+json` for a page that does not exist;
 * - 302 with a `Location` (relative, the encoded target title, as the API
 *   sends; or absolute) for a redirect page, the target's summary in the body;
 *   301 to the normalized title when the title is not (spaces, a lower-case
 *   first letter);
 * - 403 for a missing or empty User-Agent (Wikimedia's robot policy);
 * - an HTML 404 for a path outside the API (a wrong endpoint).
 *
 * Faults are injected per request by a function the test gives; it sees the
 * request (with `attempt`: how often this same path came before) and may
 * wait before it answers. Every request is recorded with the server's own
 * timestamps and the number in flight.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const API_PREFIX = '/api/rest_v1/page/summary/';

export type SummaryType = 'standard' | 'disambiguation' | 'no-extract' | 'mainpage';

export interface SummaryPage {
  type?: SummaryType;
  extract?: string;
}

export interface Redirect {
  /** the target page's key */
  to: string;
  status?: 301 | 302 | 303 | 307 | 308;
  /** an absolute Location (http://127.0.0.1:port/api/...) instead of the relative title */
  absolute?: boolean;
}

export type Fault =
  /** an error status, with an optional Retry-After and body */
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** the right answer, after a delay (a client may time out first) */
  | { kind: 'slow'; delayMs: number }
  /** 200 with a body that is not JSON (cut in the middle) */
  | { kind: 'malformed' }
  /** the connection reset (RST) before any response */
  | { kind: 'reset' }
  /** the headers and half the body, then the connection closed */
  | { kind: 'truncated' };

export interface RecordedRequest {
  /** 1-based arrival order */
  n: number;
  /** Date.now() when the request arrived */
  arrivedAt: number;
  method: string;
  /** the raw path after /api/rest_v1/page/summary/ (null outside the API) */
  segment: string | null;
  /** the page key it names: percent-decoded, `_` read as a space (null when it names none) */
  key: string | null;
  userAgent: string | undefined;
  accept: string | undefined;
  /** 1 for the first time this exact path came, 2 for the next... */
  attempt: number;
  /** requests in flight when this one arrived, itself included */
  inFlight: number;
  fault: Fault['kind'] | null;
  /** the status sent (0 for a reset), once answered */
  status?: number;
  location?: string;
  /** Date.now() when the response was sent */
  answeredAt?: number;
  /** the client went away before the answer */
  abandoned?: boolean;
}

export type FaultFn = (req: RecordedRequest, server: SummaryServer) => Fault | null | undefined | Promise<Fault | null | undefined>;

export interface SummaryServerOptions {
  /** page key (spaces) -> the page; a string is a standard page with that extract */
  pages: Record<string, SummaryPage | string>;
  /** page key -> the page it redirects to */
  redirects?: Record<string, string | Redirect>;
  faults?: FaultFn;
  /** delay before every answer (to make requests overlap) */
  delayMs?: number;
}

export interface SummaryServer {
  /** the API base, http://127.0.0.1:<port>/api/rest_v1/page/summary/ */
  endpoint: string;
  origin: string;
  requests: RecordedRequest[];
  /** the most requests ever in flight at once */
  maxInFlight: number;
  inFlight: number;
  /** resolves when `inFlight` reaches n (at once if it has) */
  whenInFlight(n: number): Promise<void>;
  close(): Promise<void>;
}

/** A title as Wikipedia's Location headers spell it: underscores, encodeURIComponent. */
export function encodeTitle(key: string): string {
  return encodeURIComponent(key.replace(/ /g, '_'));
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The summary JSON for a page, with the fields the real API gives. */
export function summaryOf(key: string, page: SummaryPage | string, pageid: number): Record<string, unknown> {
  const p = typeof page === 'string' ? { type: 'standard' as const, extract: page } : page;
  const canonical = key.replace(/ /g, '_');
  const extract = p.extract ?? '';
  const url = `https://en.wikipedia.org/wiki/${encodeTitle(key)}`;
  return {
    type: p.type ?? 'standard',
    title: canonical,
    displaytitle: `<span class="mw-page-title-main">${escapeHtml(key)}</span>`,
    namespace: { id: 0, text: '' },
    titles: { canonical, normalized: key, display: `<span class="mw-page-title-main">${escapeHtml(key)}</span>` },
    pageid,
    lang: 'en',
    dir: 'ltr',
    revision: String(1_000_000 + pageid),
    timestamp: '2025-01-31T12:00:00Z',
    description: p.type === 'disambiguation' ? 'Topics referred to by the same term' : '',
    content_urls: {
      desktop: { page: url, revisions: `${url}?action=history`, edit: `${url}?action=edit`, talk: `https://en.wikipedia.org/wiki/Talk:${encodeTitle(key)}` },
      mobile: { page: url.replace('en.wikipedia', 'en.m.wikipedia'), revisions: '', edit: '', talk: '' },
    },
    extract,
    extract_html: extract === '' ? '' : `<p>${escapeHtml(extract)}</p>`,
  };
}

function problem(uri: string, detail: string, anchor = ''): string {
  return JSON.stringify({ type: `https://mediawiki.org/wiki/HyperSwitch/errors/not_found${anchor}`, title: 'Not found.', method: 'get', detail, uri });
}

/** A fault function giving `faults[n - 1]` to the n-th request, nothing after. */
export function inOrder(...faults: Array<Fault | null>): FaultFn {
  return (req) => faults[req.n - 1] ?? null;
}

export async function startSummaryServer(options: SummaryServerOptions): Promise<SummaryServer> {
  const seen = new Map<string, number>();
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  const pageIds = new Map(Object.keys(options.pages).map((key, i) => [key, 1000 + i]));

  const state: SummaryServer = {
    endpoint: '',
    origin: '',
    requests: [],
    maxInFlight: 0,
    inFlight: 0,
    whenInFlight(n) {
      if (state.inFlight >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: async () => {},
  };

  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => void handle(req, res));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawPath = (req.url ?? '/').split('?')[0]!;
    const segment = rawPath.startsWith(API_PREFIX) ? rawPath.slice(API_PREFIX.length) : null;
    let key: string | null = null;
    let badEncoding = false;
    if (segment !== null && segment !== '' && !segment.includes('/')) {
      try {
        key = decodeURIComponent(segment).replace(/_/g, ' ');
      } catch {
        badEncoding = true;
      }
    }
    const attempt = (seen.get(rawPath) ?? 0) + 1;
    seen.set(rawPath, attempt);
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    const record: RecordedRequest = {
      n: state.requests.length + 1,
      arrivedAt: Date.now(),
      method: req.method ?? '',
      segment,
      key,
      userAgent: req.headers['user-agent'],
      accept: req.headers.accept,
      attempt,
      inFlight: state.inFlight,
      fault: null,
    };
    state.requests.push(record);
    for (const w of waiters.filter((x) => state.inFlight >= x.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }

    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      state.inFlight--;
    };
    res.on('close', () => {
      if (!done) record.abandoned = true;
      finish();
    });
    const send = (status: number, type: string, text: string, headers: Record<string, string> = {}): void => {
      if (done) return;
      record.status = status;
      record.location = headers.location;
      record.answeredAt = Date.now();
      finish(); // counted out before the client can see the answer and send the next one
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    const JSON_TYPE = 'application/json; charset=utf-8; profile="https://www.mediawiki.org/wiki/Specs/Summary/1.5.0"';
    const PROBLEM_TYPE = 'application/problem+json';

    const fault = (await options.faults?.(record, state)) ?? null;
    record.fault = fault?.kind ?? null;
    if (options.delayMs) await later(options.delayMs);
    if (done) return;

    const ua = req.headers['user-agent'];
    if (ua === undefined || ua.trim() === '') {
      send(403, 'text/plain; charset=utf-8', 'Please set a user-agent and respect our robot policy https://w.wiki/4wJS. See also T400119.');
      return;
    }
    if (segment === null) {
      send(404, 'text/html; charset=utf-8', '<!DOCTYPE html><html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, PROBLEM_TYPE, JSON.stringify({ type: 'https://mediawiki.org/wiki/HyperSwitch/errors/method_not_allowed', title: 'Method not allowed', method: req.method }));
      return;
    }
    if (badEncoding) {
      send(400, PROBLEM_TYPE, JSON.stringify({ type: 'https://mediawiki.org/wiki/HyperSwitch/errors/bad_request', title: 'Bad request', detail: 'Invalid title encoding' }));
      return;
    }
    const uri = `/en.wikipedia.org/v1/page/summary/${segment}`;
    if (key === null) {
      // RESTBase reads `AC/DC` as the title `AC` and one more path element: no such route.
      send(404, PROBLEM_TYPE, problem(uri, 'Not found.', '#route'));
      return;
    }

    const answer = (): void => {
      const k = key!;
      // Not the normalized form (spaces, a lower-case first letter): a permanent redirect to it.
      const first = k.charAt(0);
      const normalized = first.toUpperCase() + k.slice(1);
      if (segment.includes('%20') || segment.includes(' ') || normalized !== k) {
        send(301, 'text/plain; charset=utf-8', '', { location: encodeTitle(normalized) });
        return;
      }
      const redirect = options.redirects?.[k];
      if (redirect !== undefined) {
        const r = typeof redirect === 'string' ? { to: redirect } : redirect;
        const target = options.pages[r.to];
        const location = r.absolute ? `${state.origin}${API_PREFIX}${encodeTitle(r.to)}` : encodeTitle(r.to);
        const body = target === undefined ? '' : JSON.stringify(summaryOf(r.to, target, pageIds.get(r.to)!));
        send(r.status ?? 302, JSON_TYPE, body, { location });
        return;
      }
      const page = options.pages[k];
      if (page === undefined) {
        send(404, PROBLEM_TYPE, problem(uri, 'Page or revision not found.'));
        return;
      }
      send(200, JSON_TYPE, JSON.stringify(summaryOf(k, page, pageIds.get(k)!)));
    };

    switch (fault?.kind) {
      case undefined:
        answer();
        return;
      case 'status':
        send(fault.status, PROBLEM_TYPE, fault.body ?? JSON.stringify({ type: 'about:blank', title: `injected ${fault.status}` }), fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter });
        return;
      case 'slow':
        await later(fault.delayMs);
        answer();
        return;
      case 'malformed': {
        const page = options.pages[key] ?? 'Some page.';
        const full = JSON.stringify(summaryOf(key, page, 1));
        send(200, JSON_TYPE, full.slice(0, Math.floor(full.length / 2)));
        return;
      }
      case 'reset':
        record.status = 0;
        record.answeredAt = Date.now();
        finish();
        req.socket.resetAndDestroy();
        return;
      case 'truncated': {
        const page = options.pages[key] ?? 'Some page.';
        const full = JSON.stringify(summaryOf(key, page, 1));
        record.status = 200;
        record.answeredAt = Date.now();
        finish();
        res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(full) });
        res.write(full.slice(0, Math.floor(full.length / 2)), () => req.socket.destroy());
        return;
      }
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.origin = `http://127.0.0.1:${port}`;
  state.endpoint = `${state.origin}${API_PREFIX}`;
  state.close = async () => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}
