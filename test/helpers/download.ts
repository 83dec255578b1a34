/**
 * What the data_download.sh tests need: a real HTTP file server on 127.0.0.1
 * (HEAD, byte ranges, a transfer cut off half-way, 404), a generated abstract
 * dump, and a runner for the script with a clean environment.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
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
}

export interface SeenRequest {
  method: string;
  path: string;
  range: string | undefined;
  userAgent: string | undefined;
  status: number;
  /** body bytes written (for a cut transfer: those written before the cut) */
  bytes: number;
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
    const urlPath = new URL(req.url ?? '/', 'http://x').pathname;
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: urlPath,
      range: req.headers.range,
      userAgent: req.headers['user-agent'],
      status: 0,
      bytes: 0,
    };
    this.requests.push(seen);
    req.resume();
    const file = this.files.get(urlPath);
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      seen.status = file ? 405 : 404;
      res.writeHead(seen.status, { 'content-type': 'text/plain' }).end(file ? 'method not allowed\n' : 'not found\n');
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
    headers['content-length'] = body.length;
    seen.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
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

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'film director producer studio budget revenue release drama comedy thriller western horror musical ' +
  'novel adaptation premiere festival award actor actress score screenplay sequel remake box office ' +
  'silent sound colour black white animated documentary war romance mystery crime science fiction'
).split(' ');

/** An abstract dump in the real layout: `docs` documents of random prose. */
export function makeAbstractDump(docs: number, seed = 1): Buffer {
  const next = random(seed);
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

export function hashOf(algo: 'md5' | 'sha1' | 'sha256', data: Buffer): string {
  return createHash(algo).update(data).digest('hex');
}

export interface ScriptResult {
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
