/**
 * The swap under load: `wrk -c50` on the dashboard's /api/films?limit=50 while
 * 20 runs replace the load (the sample CSV, --top 20 and 40 in turn, each run
 * the built program as users run it). Counts what wrk saw go wrong (socket
 * errors, non-2xx answers) and, through a Lua script that reads every answer,
 * the empty ones and those mixing two loads (a total that is not the number of
 * films listed). The goal: all three 0.
 *
 * Debian's wrk is installed (apt-get) when missing. The database: --database-url
 * (a database made for it: the load replaces its tables), else the embedded
 * PostgreSQL in a temporary directory.
 *
 *   node --import tsx bench/swap.ts [--swaps 20] [--connections 50] [--database-url URL]
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { SAMPLE, runCli } from '../test/helpers/cli.js';
import { startCliDashboard } from '../test/helpers/dashboard.js';
import { flag } from './args.js';
import { scratch } from './scratch.js';

export interface SwapFigures {
  swaps: number;
  connections: number;
  /** answers wrk read */
  answers: number;
  /** socket errors (connect, read, write, timeout) and non-2xx answers, as wrk counts them */
  socketErrors: number;
  non2xx: number;
  /** 200 answers with no film, and answers whose total is not the films listed */
  empty: number;
  mixed: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  swapMs: number[];
}

const LUA = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) answers = 0; non2xx = 0; empty = 0; mixed = 0 end
function response(status, headers, body)
  answers = answers + 1
  if status < 200 or status > 299 then non2xx = non2xx + 1; return end
  if not body:find('"films":%[{') then empty = empty + 1; return end
  local total = tonumber(body:match('"total":(%d+)'))
  local _, listed = body:gsub('"rank":', '')
  if total ~= listed then mixed = mixed + 1 end
end
function done(summary, latency, requests)
  local a, n, e, m = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("answers"); n = n + t:get("non2xx"); e = e + t:get("empty"); m = m + t:get("mixed")
  end
  local s = summary.errors
  io.write(string.format("SWAP-BENCH %d %d %d %d %d %d %.3f %.3f %.3f %.1f\\n", a, n, e, m,
    s.connect + s.read + s.write + s.timeout, s.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests / (summary.duration / 1e6)))
end
`;


export function ensureWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return;
  } catch (err) {
    // wrk --version prints its usage and exits 1: only a missing binary is ENOENT
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
  }
  console.error('installing Debian’s wrk (apt-get)...');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'wrk'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

export async function benchSwap(options: { swaps?: number; connections?: number; databaseUrl?: string } = {}): Promise<SwapFigures> {
  const swaps = options.swaps ?? 20;
  const connections = options.connections ?? 50;
  ensureWrk();
  const place = await scratch('swap', options.databaseUrl);
  const { tmp, url } = place;
  const csv = path.join(SAMPLE, 'movies_metadata.csv');
  const load = async (top: number): Promise<number> => {
    const started = Date.now();
    const r = await runCli(['run', '--metadata', csv, '--top', String(top), '--offline', '--no-progress', '--database-url', url, '--data-dir', tmp]);
    if (r.status !== 0) throw new Error(`a swap failed (exit ${r.status}):\n${r.stderr}`);
    return Date.now() - started;
  };
  try {
    await load(40);
    const dashboard = await startCliDashboard(['--port', '0', '--database-url', url]);
    const script = path.join(tmp, 'swap.lua');
    writeFileSync(script, LUA);
    try {
      let out = '';
      const wrk = spawn('wrk', [`-c${connections}`, '-t2', '-d600s', '--timeout', '10s', '-s', script, new URL('/api/films?limit=50', dashboard.url).toString()]);
      wrk.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      wrk.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      const exited = new Promise<void>((resolve) => wrk.on('close', () => resolve()));
      const swapMs: number[] = [];
      try {
        for (let swap = 1; swap <= swaps; swap++) swapMs.push(await load(swap % 2 === 1 ? 20 : 40));
      } finally {
        wrk.kill('SIGINT');
        await exited;
      }
      const line = /SWAP-BENCH (.*)/.exec(out);
      if (!line) throw new Error(`wrk printed no figures:\n${out}`);
      const [answers, non2xx, empty, mixed, socketErrors, statusErrors, p50, p99, max, rps] = line[1]!.split(' ').map(Number) as number[];
      return {
        swaps,
        connections,
        answers: answers!,
        socketErrors: socketErrors!,
        non2xx: Math.max(non2xx!, statusErrors!),
        empty: empty!,
        mixed: mixed!,
        requestsPerSecond: rps!,
        latencyMs: { p50: p50!, p99: p99!, max: max! },
        swapMs,
      };
    } finally {
      await dashboard.stop();
    }
  } finally {
    await place.close();
  }
}

export function printSwap(f: SwapFigures): void {
  const ok = f.socketErrors + f.non2xx + f.empty + f.mixed === 0;
  console.log(
    [
      `swap under load: wrk -c${f.connections} on /api/films?limit=50 during ${f.swaps} swaps (runs of ${Math.min(...f.swapMs)}-${Math.max(...f.swapMs)} ms)`,
      `  ${f.answers} answers, ${f.requestsPerSecond.toFixed(0)} req/s; latency p50 ${f.latencyMs.p50.toFixed(1)} ms, p99 ${f.latencyMs.p99.toFixed(1)} ms, max ${f.latencyMs.max.toFixed(1)} ms`,
      `  errors: ${f.socketErrors} socket, ${f.non2xx} non-2xx; ${f.empty} empty answers, ${f.mixed} mixing two loads: ${ok ? 'goal met (all 0)' : 'GOAL MISSED'}`,
    ].join('\n'),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await benchSwap({
    swaps: Number(flag('swaps', '20')),
    connections: Number(flag('connections', '50')),
    databaseUrl: flag('database-url', '') || undefined,
  });
  printSwap(figures);
}
