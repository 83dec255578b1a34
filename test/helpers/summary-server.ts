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
import { playFault, startFaultServer, type BaseRecord, type Fault, type FaultServerState } from './fault-server.js';

export type { Fault } from './fault-server.js';

const API_PREFIX = '/api/rest_v1/page/summary/';

type SummaryType = 'standard' | 'disambiguation' | 'no-extract' | 'mainpage';

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

export interface RecordedRequest extends BaseRecord {
  /** the raw path after /api/rest_v1/page/summary/ (null outside the API) */
  segment: string | null;
  /** the page key it names: percent-decoded, `_` read as a space (null when it names none) */
  key: string | null;
  location?: string;
  /** the segment was not valid percent-encoding */
  badEncoding: boolean;
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

export interface SummaryServer extends FaultServerState<RecordedRequest> {
  /** the API base, http://127.0.0.1:<port>/api/rest_v1/page/summary/ */
  endpoint: string;
  origin: string;
}

/** A title as Wikipedia's Location headers spell it: underscores, encodeURIComponent. */
function encodeTitle(key: string): string {
  return encodeURIComponent(key.replace(/ /g, '_'));
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The summary JSON for a page, with the fields the real API gives. */
function summaryOf(key: string, page: SummaryPage | string, pageid: number): Record<string, unknown> {
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

const JSON_TYPE = 'application/json; charset=utf-8; profile="https://www.mediawiki.org/wiki/Specs/Summary/1.5.0"';
const PROBLEM_TYPE = 'application/problem+json';

export async function startSummaryServer(options: SummaryServerOptions): Promise<SummaryServer> {
  const pageIds = new Map(Object.keys(options.pages).map((key, i) => [key, 1000 + i]));
  const state = { endpoint: '', origin: '', requests: [], maxInFlight: 0, inFlight: 0 } as unknown as SummaryServer;

  const port = await startFaultServer<RecordedRequest>(state, {
    describe(req) {
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
      return { attemptKey: rawPath, fields: { segment, key, badEncoding } };
    },
    async serve(x) {
      const { req, record } = x;
      const { segment, key } = record;
      const send = (status: number, type: string, text: string, headers: Record<string, string> = {}): void => {
        if (!x.done) record.location = headers.location;
        x.send(status, type, text, headers);
      };
      const uri = `/en.wikipedia.org/v1/page/summary/${segment}`;
      const answer = (): void => {
        const k = key!;
        // Not the normalized form (spaces, a lower-case first letter): a permanent redirect to it.
        const normalized = k.charAt(0).toUpperCase() + k.slice(1);
        if (segment!.includes('%20') || segment!.includes(' ') || normalized !== k) {
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
        if (page === undefined) send(404, PROBLEM_TYPE, problem(uri, 'Page or revision not found.'));
        else send(200, JSON_TYPE, JSON.stringify(summaryOf(k, page, pageIds.get(k)!)));
      };
      const fault = (await options.faults?.(record, state)) ?? null;
      await playFault(x, fault, {
        delayMs: options.delayMs,
        noUserAgent: 'Please set a user-agent and respect our robot policy https://w.wiki/4wJS. See also T400119.',
        refuse() {
          if (segment === null) {
            send(404, 'text/html; charset=utf-8', '<!DOCTYPE html><html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>');
          } else if (req.method !== 'GET' && req.method !== 'HEAD') {
            send(405, PROBLEM_TYPE, JSON.stringify({ type: 'https://mediawiki.org/wiki/HyperSwitch/errors/method_not_allowed', title: 'Method not allowed', method: req.method }));
          } else if (record.badEncoding) {
            send(400, PROBLEM_TYPE, JSON.stringify({ type: 'https://mediawiki.org/wiki/HyperSwitch/errors/bad_request', title: 'Bad request', detail: 'Invalid title encoding' }));
          } else if (key === null) {
            // RESTBase reads `AC/DC` as the title `AC` and one more path element: no such route.
            send(404, PROBLEM_TYPE, problem(uri, 'Not found.', '#route'));
          } else return false;
          return true;
        },
        answer,
        full: () => ({ type: JSON_TYPE, text: JSON.stringify(summaryOf(key!, options.pages[key!] ?? 'Some page.', 1)) }),
        errorType: PROBLEM_TYPE,
        errorBody: (status) => JSON.stringify({ type: 'about:blank', title: `injected ${status}` }),
      });
    },
  });
  state.origin = `http://127.0.0.1:${port}`;
  state.endpoint = `${state.origin}${API_PREFIX}`;
  return state;
}
