#!/usr/bin/env node
// Runs every test/**/*.test.ts with node:test through tsx (node 20's --test
// does not find .ts files by itself), against one embedded PostgreSQL that is
// started here and shared by the test files (each test makes its own database).
//   node test/run.mjs [file-or-substring ...]
// A test that takes longer than TRUEFILM_TEST_TIMEOUT_MS (default 5 minutes: the
// slowest take about a minute on a busy 2-core machine) fails instead of
// stalling the run.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function findTests(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'fixtures') out.push(...(await findTests(full)));
    else if (entry.name.endsWith('.test.ts')) out.push(path.relative(root, full));
  }
  return out.sort();
}

const filters = process.argv.slice(2);
const files = (await findTests(path.join(root, 'test'))).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

// The CLI tests run the built program (dist/), as users do: build it first.
const built = await new Promise((resolve) => {
  const tsc = spawn(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });
  tsc.on('exit', (code) => resolve(code === 0));
});
if (!built) {
  console.error('the build failed: fix the type errors above');
  process.exit(1);
}

const { startEmbedded } = await import(path.join(root, 'dist/db/embedded.js'));
const { createUi } = await import(path.join(root, 'dist/ui.js'));
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'truefilm-test-pg-'));
// mkdtemp makes it private; as root the server runs as the postgres user, which must reach it
await chmod(dataDir, 0o755);
const server = await startEmbedded(dataDir, { ui: createUi({ progress: false, quiet: true }), port: 0 });

let status = 1;
try {
  status = await new Promise((resolve) => {
    const timeout = Number(process.env.TRUEFILM_TEST_TIMEOUT_MS) || 300_000;
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-timeout=${timeout}`, ...files], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, TRUEFILM_TEST_EMBEDDED_URL: server.url },
    });
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
console.error(`\n${files.length} test files; exit ${status}`);
process.exit(status);
