/** Runs the built command line (dist/main.js) as a user would. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = path.join(ROOT, 'dist/main.js');
/** Real data (copied from the product's shared data; see its README): the CSV is gzipped to stay small. */
export const REAL_DATA = path.join(ROOT, 'test/fixtures/real');

/** The real CSV's first 4,994 rows, verbatim, inflated once into the temporary directory. */
export function realCsvPath(): string {
  const target = path.join(os.tmpdir(), `truefilm-real-first4994-${process.pid}.csv`);
  if (!existsSync(target)) {
    writeFileSync(target, gunzipSync(readFileSync(path.join(REAL_DATA, 'movies_metadata_first4994.csv.gz'))));
    process.once('exit', () => rmSync(target, { force: true }));
  }
  return target;
}
export const SAMPLE = path.join(ROOT, 'data/sample');

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** called with the child once it runs (to send it signals) */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
  timeoutMs?: number;
  /** run as another user (the tests run as root in CI) */
  uid?: number;
  gid?: number;
  /** node's own options, before the program (`--import` a hook) */
  nodeArgs?: string[];
}

/** A clean environment: no DATABASE_URL or TRUEFILM_* from the developer's shell. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'DATABASE_URL' || k.startsWith('TRUEFILM_') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), MAIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: cleanEnv(options.env),
      uid: options.uid,
      gid: options.gid,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    options.onSpawn?.(child);
  });
}
