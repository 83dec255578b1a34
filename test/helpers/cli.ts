/** Runs the built command line (dist/main.js) as a user would. */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = path.join(ROOT, 'dist/main.js');
/**
 * The product's real test data (the real CSV's first rows, dump excerpts, recorded
 * API answers; see its README), read where it lies and never copied into the
 * project: TRUEFILM_REAL_DATA, else `../shared/data/real` beside the checkout, else
 * beside the local checkout this one was cloned from (a clean clone for CI).
 */
export const REAL_DATA = process.env.TRUEFILM_REAL_DATA || realDataBeside(ROOT) || realDataBeside(clonedFrom()) || path.resolve(ROOT, '../shared/data/real');

function realDataBeside(checkout: string | null): string | null {
  const dir = checkout === null ? null : path.resolve(checkout, '../shared/data/real');
  return dir !== null && existsSync(dir) ? dir : null;
}

/** The local checkout `origin` names, when it is a folder on this machine. */
function clonedFrom(): string | null {
  try {
    const origin = execFileSync('git', ['-C', ROOT, 'config', '--get', 'remote.origin.url'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dir = origin.startsWith('file://') ? fileURLToPath(origin) : origin;
    return path.isAbsolute(dir) && existsSync(dir) ? dir : null;
  } catch {
    return null;
  }
}

/** false when the real data is here; else the one-line reason the tests that need it skip */
export const WITHOUT_REAL_DATA: string | false = existsSync(path.join(REAL_DATA, 'movies_metadata_first4994.csv'))
  ? false
  : `the real data is absent (${REAL_DATA}; set TRUEFILM_REAL_DATA to its folder)`;

/** The real CSV's first 4,994 rows, verbatim. */
export function realCsvPath(): string {
  return path.join(REAL_DATA, 'movies_metadata_first4994.csv');
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
