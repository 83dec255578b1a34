/**
 * What the download tests need: a real HTTP file server on 127.0.0.1 (HEAD,
 * byte ranges, a transfer cut off half-way or held open, 404, 429/503 with
 * Retry-After, redirects, directory listings in nginx's autoindex format), a
 * generated abstract dump and CirrusSearch dump files, and a runner for
 * data_download.sh with a clean environment.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { rng } from '../../bench/generate.js';
import { ROOT } from './cli.js';

export const SCRIPT = path.join(ROOT, 'data_download.sh');

export interface ServedFile {
  body: Buffer;
  /** answer Range requests with 206 (default true) */
  ranges?: boolean;
  /** cut this many GET transfers off (from the first) after `cutAt` bytes */
  cuts?: number;
  cutAt?: number;
  contentType?: string;
  /** the Content-Length a HEAD answers (default: the body's), to announce a huge file */
  headSize?: number;
  /** after the first `cutAt` bytes of a GET, send nothing more and keep the connection open */
  hold?: boolean;
  /** answer the first `times` requests of `method` with `status` (and `retryAfter`, when given) */
  throttle?: { method: 'GET' | 'HEAD'; status: number; times: number; retryAfter?: string }[];
  /** answer 302 with this Location instead */
  redirect?: string;
}

export interface SeenRequest {
  method: string;
  path: string;
  range: string | undefined;
  userAgent: string | undefined;
  status: number;
  /** body bytes written (for a cut transfer: those written before the cut) */
  bytes: number;
  /** when it came (Date.now()) */
  at: number;
}

export class FileServer {
  readonly files = new Map<string, ServedFile>();
  readonly requests: SeenRequest[] = [];
  private server: http.Server | null = null;
  private base = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  url(urlPath: string): string {
    return this.base + urlPath;
  }

  /** requests for one path, optionally of one method */
  seen(urlPath: string, method?: string): SeenRequest[] {
    return this.requests.filter((r) => r.path === urlPath && (method === undefined || r.method === method));
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // decoded as nginx does: /index_name%3Denwiki_content/ is /index_name=enwiki_content/
    const rawPath = new URL(req.url ?? '/', 'http://x').pathname;
    let urlPath = rawPath;
    try {
      urlPath = decodeURIComponent(rawPath);
    } catch {
      // a malformed escape: looked up as sent
    }
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: urlPath,
      range: req.headers.range,
      userAgent: req.headers['user-agent'],
      status: 0,
      bytes: 0,
      at: Date.now(),
    };
    this.requests.push(seen);
    req.resume();
    const file = this.files.get(urlPath);
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      seen.status = file ? 405 : 404;
      res.writeHead(seen.status, { 'content-type': 'text/plain' }).end(file ? 'method not allowed\n' : 'not found\n');
      return;
    }
    const throttle = file.throttle?.find((t) => t.method === req.method && t.times > 0);
    if (throttle) {
      throttle.times--;
      seen.status = throttle.status;
      res.writeHead(throttle.status, { 'content-type': 'text/plain', ...(throttle.retryAfter ? { 'retry-after': throttle.retryAfter } : {}) }).end('try again later\n');
      return;
    }
    if (file.redirect !== undefined) {
      seen.status = 302;
      res.writeHead(302, { location: file.redirect, 'content-type': 'text/plain' }).end('moved\n');
      return;
    }
    const size = file.body.length;
    const headers: http.OutgoingHttpHeaders = {
      'content-type': file.contentType ?? 'application/octet-stream',
      ...(file.ranges === false ? {} : { 'accept-ranges': 'bytes' }),
    };
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && file.ranges !== false) {
      start = Number(range[1]);
      if (start >= size) {
        seen.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
    }
    const body = file.body.subarray(start);
    headers['content-length'] = req.method === 'HEAD' && file.headSize !== undefined ? file.headSize : body.length;
    seen.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (file.hold && file.cutAt !== undefined && file.cutAt < body.length) {
      const part = body.subarray(0, file.cutAt);
      seen.bytes = part.length;
      res.write(part); // and nothing more: the connection stays open until the client or close() ends it
      return;
    }
    if (file.cuts && file.cuts > 0 && file.cutAt !== undefined && file.cutAt < body.length) {
      file.cuts--;
      const part = body.subarray(0, file.cutAt);
      seen.bytes = part.length;
      // let the bytes reach the socket, then drop the connection mid-body
      res.write(part, () => setImmediate(() => res.socket?.destroy()));
      return;
    }
    seen.bytes = body.length;
    res.end(body);
  }
}

const WORDS = (
  'film director producer studio budget revenue release drama comedy thriller western horror musical ' +
  'novel adaptation premiere festival award actor actress score screenplay sequel remake box office ' +
  'silent sound colour black white animated documentary war romance mystery crime science fiction'
).split(' ');

/** An abstract dump in the real layout: `docs` documents of random prose. */
export function makeAbstractDump(docs: number, seed = 1): Buffer {
  const next = rng(seed);
  const word = (): string => WORDS[Math.floor(next() * WORDS.length)]!;
  const parts = ['<feed>\n'];
  for (let i = 0; i < docs; i++) {
    const title = `${word()} ${word()} ${i}`;
    const words = Array.from({ length: 40 + Math.floor(next() * 60) }, word).join(' ');
    const slug = encodeURIComponent(title.replace(/ /g, '_'));
    parts.push(
      `<doc>\n<title>Wikipedia: ${title}</title>\n<url>https://en.wikipedia.org/wiki/${slug}</url>\n` +
        `<abstract>${words} ${Math.floor(next() * 1e9).toString(36)}.</abstract>\n<links>\n` +
        `<sublink linktype="nav"><anchor>Plot</anchor><link>https://en.wikipedia.org/wiki/${slug}#Plot</link></sublink>\n` +
        `</links>\n</doc>\n`,
    );
  }
  parts.push('</feed>\n');
  return Buffer.from(parts.join(''));
}

/**
 * One file of a CirrusSearch content dump: Elasticsearch bulk NDJSON, an action
 * line then the document, with the fields the pipeline reads (title,
 * opening_text, wikibase_item, external_link) among others.
 */
export function makeCirrusShard(docs: number, seed: number, firstPageId = 1): Buffer {
  const next = rng(seed);
  const word = (): string => WORDS[Math.floor(next() * WORDS.length)]!;
  const lines: string[] = [];
  for (let i = 0; i < docs; i++) {
    const pageId = firstPageId + i;
    const title = `${word()} ${word()} ${pageId}`;
    const lead = `${title} is a ${Array.from({ length: 30 + Math.floor(next() * 40) }, word).join(' ')}.`;
    const body = Array.from({ length: 80 + Math.floor(next() * 80) }, word).join(' ');
    const imdb = `tt${String(Math.floor(next() * 1e7)).padStart(7, '0')}`;
    lines.push(JSON.stringify({ index: { _id: String(pageId) } }));
    lines.push(
      JSON.stringify({
        namespace: 0,
        title,
        page_id: pageId,
        timestamp: '2025-08-01T12:00:00Z',
        wikibase_item: `Q${pageId * 7}`,
        category: [`${word()} films`],
        external_link: [`https://www.imdb.com/title/${imdb}/`, `https://example.org/${pageId}`],
        opening_text: lead,
        text: `${lead} ${body}`,
        incoming_links: Math.floor(next() * 500),
      }),
    );
  }
  return Buffer.from(lines.join('\n') + '\n');
}

/** bzip2 of `data`, made by the system's bzip2 (or lbzip2, or python3's bz2). */
export function bzip2(data: Buffer): Buffer {
  const makers: [string, string[]][] = [
    ['bzip2', ['-c']],
    ['lbzip2', ['-c']],
    ['python3', ['-c', 'import bz2, sys; sys.stdout.buffer.write(bz2.compress(sys.stdin.buffer.read()))']],
  ];
  for (const [command, args] of makers) {
    const made = spawnSync(command, args, { input: data, maxBuffer: 1 << 28 });
    if (made.status === 0 && made.stdout.subarray(0, 3).toString() === 'BZh') return made.stdout;
  }
  throw new Error('the CirrusSearch test files are made with bzip2 (or lbzip2, or python3): apt-get install bzip2');
}

const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');

/**
 * A directory listing as nginx's autoindex writes it (dumps.wikimedia.org):
 * "../" first, directories then files, each name by name; a name longer than
 * 50 characters is cut in the text (never in the link); "=" in a link is
 * written %3D, as Wikimedia's links to index_name=... directories are.
 */
function autoindex(dirPath: string, entries: { name: string; dir: boolean; size: number }[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.dir === b.dir ? (a.name < b.name ? -1 : 1) : a.dir ? -1 : 1));
  const rows = sorted.map(({ name, dir, size }) => {
    const shown = dir ? `${name}/` : name;
    const text = shown.length > 50 ? `${shown.slice(0, 47)}..&gt;` : shown;
    const href = encodeURIComponent(name) + (dir ? '/' : '');
    const pad = ' '.repeat(Math.max(1, 51 - Math.min(shown.length, 50)));
    const when = `16-${MONTHS[7]}-2025 04:12`;
    return `<a href="${href}">${text}</a>${pad}${when}${(dir ? '-' : String(size)).padStart(20)}`;
  });
  return Buffer.from(
    `<html>\r\n<head><title>Index of ${dirPath}</title></head>\r\n<body>\r\n<h1>Index of ${dirPath}</h1><hr><pre><a href="../">../</a>\r\n` +
      rows.join('\r\n') +
      (rows.length ? '\r\n' : '') +
      '</pre><hr></body>\r\n</html>\r\n',
  );
}

/**
 * Serves `files` (paths relative to `root`, which ends with "/") and, for
 * `root` and every directory under it, its autoindex listing.
 */
export function publishTree(server: FileServer, root: string, files: Record<string, ServedFile>): void {
  const dirs = new Map<string, Map<string, { dir: boolean; size: number }>>([['', new Map()]]);
  for (const [rel, file] of Object.entries(files)) {
    server.files.set(root + rel, file);
    const parts = rel.split('/');
    for (let i = 0; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!dirs.has(parent)) dirs.set(parent, new Map());
      const isDir = i < parts.length - 1;
      dirs.get(parent)!.set(parts[i]!, { dir: isDir, size: isDir ? 0 : file.body.length });
    }
  }
  for (const [dir, children] of dirs) {
    const dirPath = root + (dir ? `${dir}/` : '');
    const entries = [...children].map(([name, e]) => ({ name, ...e }));
    server.files.set(dirPath, { body: autoindex(dirPath, entries), contentType: 'text/html' });
  }
}

export function hashOf(algo: 'md5' | 'sha1' | 'sha256', data: Buffer): string {
  return createHash(algo).update(data).digest('hex');
}

interface ScriptResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs data_download.sh with only what the test gives: PATH, HOME, TMPDIR and
 * `env` (never the developer's ABSTRACTS_URL, KAGGLE_*, TRUEFILM_DATA_DIR...).
 */
export function runScript(args: string[], env: Record<string, string>): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', DOWNLOAD_RETRY_DELAY: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
