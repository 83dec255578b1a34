/**
 * A real HTTP server on 127.0.0.1 (listen(0)) that speaks English
 * Wikipedia's MediaWiki Action API (`/w/api.php`) for `action=query`, shaped
 * on the real answers recorded in shared/data/real/api/ (wptools-query.json,
 * wptools-redirect.json, wptools-disambiguation.json):
 *
 * - GET or POST (form-encoded); `format=json`, `formatversion=2` (pages a
 *   list, flags `true`) or 1 (pages an object keyed by page id, negative for
 *   missing ones, flags `""`);
 * - `titles` split on `|` (or on U+001F when the value starts with it), at most
 *   50: more is the `toomanyvalues` error;
 * - titles normalised as MediaWiki does (underscores, runs of spaces, a
 *   lower-case first letter: `query.normalized`); invalid titles (`<>[]{}|`,
 *   empty) as `invalid` pages with `invalidreason`; interwiki prefixes
 *   (`q:`, `fr:`, `wikt:`...) in `query.interwiki`; other namespaces' pages
 *   with their `ns`;
 * - `redirects=1`: redirects followed, chains too, listed in `query.redirects`;
 * - `prop=extracts` (TextExtracts): with `exintro`, at most 20 intro
 *   extracts a response (`exlimit` above is lowered, with a warning), the
 *   rest through `continue: { excontinue, continue }`, and on the
 *   continuation the finished modules are not repeated; plain text with
 *   `explaintext`, HTML otherwise; `prop=pageprops` (`ppprop` filters:
 *   `disambiguation: ""`, `wikibase_item`); `prop=description`;
 * - pages in page-id order (missing ones first), never in the order asked;
 * - `maxlag`: a `maxlag` fault answers HTTP 200 with the `maxlag` error, a
 *   Retry-After and X-Database-Lag, when the request's maxlag is below the lag;
 * - 403 for a missing User-Agent; gzip when the client accepts it.
 *
 * Faults are injected per request by a function the test gives (see
 * fault-server.ts, plus `maxlag`). Every request is recorded.
 */
import { gzipSync } from 'node:zlib';
import type http from 'node:http';
import { playFault, startFaultServer, type BaseRecord, type Exchange, type Fault, type FaultServerState } from './fault-server.js';

export type { Fault } from './fault-server.js';

export interface WikiPage {
  /** the plain-text intro; '' or absent: the page has none */
  extract?: string;
  /** the short description */
  description?: string;
  disambiguation?: boolean;
  /** the Wikidata item, Q... */
  item?: string;
  /** the namespace, 0 (articles) by default */
  ns?: number;
}

export type ApiFault = Fault | { kind: 'maxlag'; lag: number; retryAfter?: string };

export interface RecordedRequest extends BaseRecord {
  path: string;
  params: Record<string, string>;
  /** the titles asked, as sent */
  titles: string[];
  /** the request carried continuation parameters */
  continued: boolean;
  /** the request asked for extracts */
  extracts: boolean;
  acceptEncoding: string | undefined;
  /** an API error code the answer carried (maxlag, toomanyvalues...) */
  apiError?: string;
}

export type FaultFn = (req: RecordedRequest, server: ActionApiServer) => ApiFault | null | undefined | Promise<ApiFault | null | undefined>;

export interface ActionApiOptions {
  /** title (normalised) -> the page; a string is an article with that intro extract */
  pages: Record<string, WikiPage | string>;
  /** title (normalised) -> the title it redirects to */
  redirects?: Record<string, string>;
  faults?: FaultFn;
  /** delay before every answer (to make requests overlap; a slow API) */
  delayMs?: number;
  /** TextExtracts' limit with exintro (20 on Wikipedia) */
  extractLimit?: number;
  /** changes an answer's JSON before it is sent: a server that answers what no MediaWiki would */
  tamper?: (body: Record<string, unknown>, req: RecordedRequest) => void;
}

export interface ActionApiServer extends FaultServerState<RecordedRequest> {
  /** http://127.0.0.1:<port>/w/api.php */
  endpoint: string;
  /** requests answered with data: status 200 and no API error */
  answered(): RecordedRequest[];
}

const API_PATH = '/w/api.php';
const TITLES_LIMIT = 50;
const INTERWIKI = new Set(['q', 'wikiquote', 'wikt', 'wiktionary', 'fr', 'de', 'es', 'it', 'ja', 'zh', 'm', 'meta', 'c', 'commons', 'd', 'wikidata', 's', 'n', 'b', 'v', 'voy', 'mw', 'w', 'species']);
const NAMESPACES: Record<string, number> = { talk: 1, user: 2, wikipedia: 4, file: 6, mediawiki: 8, template: 10, help: 12, category: 14, portal: 100, draft: 118 };
const INVALID = /[<>[\]{}|\u0000-\u001f\u007f\ufffd]/u;
/** The characters MediaWikiTitleCodec reads as a space (tabs and line breaks are not: they are invalid). */
const SPACES = /[ _\u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/gu;
const JSON_TYPE = 'application/json; charset=utf-8';

/** MediaWiki's own normalisation, written from its documentation (not the client's code). */
export function normalizeLikeMediaWiki(raw: string): { title: string } | { invalid: string } | { interwiki: string } {
  let t = raw.normalize('NFC').replace(/[\u200e\u200f\u202a-\u202e]/gu, '').replace(SPACES, ' ').replace(/^ | $/g, '');
  const hash = t.indexOf('#');
  if (hash >= 0) t = t.slice(0, hash).trim();
  if (t.startsWith(':')) t = t.slice(1).trim();
  if (t === '') return { invalid: 'The requested page title is empty or contains only the name of a namespace.' };
  const bad = INVALID.exec(t);
  if (bad) return { invalid: `The requested page title contains invalid characters: "${bad[0]}".` };
  if (/%[0-9A-Fa-f]{2}/.test(t)) return { invalid: 'The requested page title contains invalid characters: "%".' };
  const colon = t.indexOf(':');
  if (colon > 0) {
    const prefix = t.slice(0, colon).trim().toLowerCase();
    if (INTERWIKI.has(prefix)) return { interwiki: prefix };
    if (NAMESPACES[prefix] !== undefined) {
      const rest = t.slice(colon + 1).trim();
      return { title: `${prefix[0]!.toUpperCase()}${prefix.slice(1)}:${rest.charAt(0).toUpperCase()}${rest.slice(1)}` };
    }
  }
  const first = String.fromCodePoint(t.codePointAt(0)!);
  const upper = first.toUpperCase();
  return { title: (upper.length === first.length ? upper : first) + t.slice(first.length) };
}

function paramsOf(req: http.IncomingMessage, body: string): Record<string, string> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const params: Record<string, string> = Object.fromEntries(url.searchParams);
  if (req.method === 'POST' && (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
  }
  return params;
}

function splitTitles(value: string | undefined): string[] {
  if (value === undefined || value === '') return [];
  return value.startsWith('\u001f') ? value.slice(1).split('\u001f') : value.split('|');
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function startActionApiServer(options: ActionApiOptions): Promise<ActionApiServer> {
  const limit = options.extractLimit ?? 20;
  const pageIds = new Map(Object.keys(options.pages).map((title, i) => [title, 10_000 + i * 7]));
  const state = { endpoint: '', requests: [], maxInFlight: 0, inFlight: 0 } as unknown as ActionApiServer;
  state.answered = () => state.requests.filter((r) => r.status === 200 && r.apiError === undefined && !r.abandoned);

  /** The JSON of an answer, or of an error, in the request's formatversion. */
  function query(params: Record<string, string>): { body: Record<string, unknown>; error?: string } {
    const fv2 = params.formatversion === '2' || params.formatversion === 'latest';
    const flag = fv2 ? true : '';
    const error = (code: string, info: string, extra: Record<string, unknown> = {}) => ({
      body: { error: { code, info, ...extra, ...(fv2 ? { docref: 'See https://en.wikipedia.org/w/api.php for API usage.' } : { '*': 'See https://en.wikipedia.org/w/api.php for API usage.' }) }, servedby: 'mw-api-ext.test' },
      error: code,
    });
    if (params.action !== 'query') return error('badvalue', `Unrecognized value for parameter "action": ${params.action ?? ''}.`);
    const titles = splitTitles(params.titles);
    if (titles.length > TITLES_LIMIT) return error('toomanyvalues', `Too many values supplied for parameter "titles". The limit is ${TITLES_LIMIT}.`, { parameter: 'titles', limit: TITLES_LIMIT, lowlimit: TITLES_LIMIT, highlimit: 500 });

    const props = new Set((params.prop ?? '').split('|').filter((p) => p !== ''));
    const done = new Set((params.continue ?? '').split('||')[1]?.split('|') ?? []);
    const ppprop = params.ppprop === undefined ? null : new Set(params.ppprop.split('|'));
    const warnings: Record<string, unknown> = {};
    const normalized: Array<Record<string, unknown>> = [];
    const redirects: Array<Record<string, unknown>> = [];
    const interwiki: Array<Record<string, unknown>> = [];
    const pages = new Map<string, Record<string, unknown>>();
    let fakeId = 0;

    for (const asked of titles) {
      const n = normalizeLikeMediaWiki(asked);
      if ('interwiki' in n) {
        interwiki.push({ title: asked, iw: n.interwiki });
        continue;
      }
      if ('invalid' in n) {
        pages.set(`invalid:${asked}`, { title: asked, invalidreason: n.invalid, invalid: flag, _id: --fakeId });
        continue;
      }
      let title = n.title;
      if (title !== asked) normalized.push(fv2 ? { fromencoded: false, from: asked, to: title } : { from: asked, to: title });
      if (params.redirects !== undefined) {
        // a chain is followed to its end; a loop lists its redirects and gives no page
        const seen = new Set([title]);
        let looped = false;
        for (let to = options.redirects?.[title]; to !== undefined; to = options.redirects?.[title]) {
          if (!redirects.some((r) => r.from === title)) redirects.push({ from: title, to });
          if (seen.has(to)) {
            looped = true;
            break;
          }
          seen.add(to);
          title = to;
        }
        if (looped) continue;
      }
      if (pages.has(title)) continue;
      const ns = (() => {
        const c = title.indexOf(':');
        return c > 0 ? (NAMESPACES[title.slice(0, c).toLowerCase()] ?? 0) : 0;
      })();
      const spec = options.pages[title];
      const page = typeof spec === 'string' ? { extract: spec } : spec;
      if (page === undefined || (options.redirects?.[title] !== undefined && params.redirects === undefined)) {
        // a redirect page not followed is a page of its own; the test world gives it no text
        pages.set(title, page === undefined && options.redirects?.[title] === undefined ? { ns, title, missing: flag, _id: --fakeId } : { pageid: 9_000_000 + pages.size, ns, title, redirect: flag, _id: 9_000_000 + pages.size });
        continue;
      }
      const id = pageIds.get(title)!;
      const out: Record<string, unknown> = { pageid: id, ns: page.ns ?? ns, title, _id: id };
      if (props.has('pageprops') && !done.has('pageprops')) {
        const pp: Record<string, string> = {};
        if (page.disambiguation && (ppprop === null || ppprop.has('disambiguation'))) pp.disambiguation = '';
        if (page.item && (ppprop === null || ppprop.has('wikibase_item'))) pp.wikibase_item = page.item;
        if (Object.keys(pp).length > 0) out.pageprops = pp;
      }
      if (props.has('description') && !done.has('description') && page.description) {
        out.description = page.description;
        out.descriptionsource = 'local';
      }
      pages.set(title, out);
    }

    // pages in page-id order, the missing and invalid ones (negative ids) first
    const ordered = [...pages.values()].sort((a, b) => (a._id as number) - (b._id as number));
    let cont: Record<string, unknown> | null = null;
    if (props.has('extracts') && !done.has('extracts')) {
      const intro = params.exintro !== undefined;
      const max = intro ? limit : 1;
      let exlimit = params.exlimit === undefined ? 20 : params.exlimit === 'max' ? max : Number(params.exlimit);
      if (exlimit > max) {
        warnings.extracts = fv2
          ? { warnings: `exlimit was too large for a whole article extracts request, lowered to ${max}.` }
          : { '*': `exlimit was too large for a whole article extracts request, lowered to ${max}.` };
        exlimit = max;
      }
      const from = Number(params.excontinue ?? 0);
      const good = ordered.filter((p) => p.pageid !== undefined && p.redirect === undefined);
      good.slice(from, from + exlimit).forEach((p) => {
        const spec = options.pages[p.title as string];
        const text = (typeof spec === 'string' ? spec : spec?.extract) ?? '';
        p.extract = params.explaintext !== undefined ? text : text === '' ? '' : `<p>${escapeHtml(text)}</p>`;
      });
      if (from + exlimit < good.length) {
        const finished = [...props].filter((p) => p !== 'extracts');
        cont = { excontinue: from + exlimit, continue: `||${finished.join('|')}` };
      }
    }

    const list = ordered.map(({ _id, ...p }) => p);
    const q: Record<string, unknown> = {};
    if (normalized.length > 0) q.normalized = normalized;
    if (redirects.length > 0) q.redirects = redirects;
    if (interwiki.length > 0) q.interwiki = interwiki;
    if (list.length > 0) q.pages = fv2 ? list : Object.fromEntries(list.map((p, i) => [String(p.pageid ?? -(i + 1)), p]));
    const body: Record<string, unknown> = {};
    if (cont === null) body.batchcomplete = flag;
    else body.continue = cont;
    if (Object.keys(warnings).length > 0) body.warnings = warnings;
    body.query = q;
    return { body };
  }

  const send = (x: Exchange<RecordedRequest>, status: number, text: string, headers: Record<string, string> = {}): void => {
    if (/\bgzip\b/.test(x.record.acceptEncoding ?? '')) x.send(status, JSON_TYPE, gzipSync(text), { 'content-encoding': 'gzip', vary: 'Accept-Encoding', ...headers });
    else x.send(status, JSON_TYPE, text, headers);
  };

  const port = await startFaultServer<RecordedRequest>(state, {
    describe(req, body) {
      const params = paramsOf(req, body);
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      // what makes two requests "the same": the parameters, in order of name
      const attemptKey = JSON.stringify(Object.entries(params).sort(([a], [b]) => (a < b ? -1 : 1)));
      return {
        attemptKey,
        fields: {
          path,
          params,
          titles: splitTitles(params.titles),
          continued: params.excontinue !== undefined || params.continue !== undefined,
          extracts: (params.prop ?? '').split('|').includes('extracts'),
          acceptEncoding: req.headers['accept-encoding'] as string | undefined,
        },
      };
    },
    async serve(x) {
      const { req, record } = x;
      const fault = (await options.faults?.(record, state)) ?? null;
      const answer = (): void => {
        const { body, error } = query(record.params);
        if (error !== undefined) record.apiError = error;
        else options.tamper?.(body, record);
        send(x, 200, JSON.stringify(body), error !== undefined ? { 'mediawiki-api-error': error } : {});
      };
      if (fault?.kind === 'maxlag') {
        if (options.delayMs) await x.later(options.delayMs);
        const asked = Number(record.params.maxlag);
        if (record.params.maxlag !== undefined && Number.isFinite(asked) && fault.lag > asked) {
          record.fault = null;
          record.apiError = 'maxlag';
          const text = JSON.stringify({
            error: { code: 'maxlag', info: `Waiting for 10.64.48.35: ${fault.lag} seconds lagged.`, host: '10.64.48.35', lag: fault.lag, type: 'db', docref: 'See https://en.wikipedia.org/w/api.php for API usage.' },
            servedby: 'mw-api-ext.test',
          });
          send(x, 200, text, { 'retry-after': fault.retryAfter ?? String(Math.max(5, fault.lag)), 'x-database-lag': String(fault.lag), 'mediawiki-api-error': 'maxlag' });
        } else {
          answer();
        }
        return;
      }
      await playFault(x, fault, {
        delayMs: options.delayMs,
        noUserAgent: 'Please set a user-agent and respect our robot policy https://w.wiki/4wJS. See also T400119.',
        refuse() {
          if (record.path !== API_PATH) x.send(404, 'text/html; charset=utf-8', '<!DOCTYPE html><html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>');
          else if (req.method !== 'GET' && req.method !== 'POST') x.send(405, 'text/plain', 'method not allowed');
          else if (record.params.format !== 'json') x.send(200, 'text/html; charset=utf-8', '<!DOCTYPE html><html><body>MediaWiki API help</body></html>');
          else return false;
          return true;
        },
        answer,
        full: () => ({ type: JSON_TYPE, text: JSON.stringify(query(record.params).body) }),
        errorType: 'text/html; charset=utf-8',
        errorBody: (status) => `<!DOCTYPE html><html><head><title>Wikimedia Error</title></head><body>injected ${status}</body></html>`,
        wrongShape: () => JSON.stringify({ batchcomplete: true, query: { pages: [{ pageid: 1, ns: 0 }] } }),
      });
    },
  });
  state.endpoint = `http://127.0.0.1:${port}${API_PATH}`;
  return state;
}
