#!/usr/bin/env node
// npm run lint: the checks that need tools from outside npm, and the typecheck.
// (`npm test` needs nothing but `npm ci`; these need the tools below.)
//   shellcheck  data_download.sh and .ci/run                       apt-get install -y shellcheck
//   wasm        src/scan/wasm/docfind.wasm.ts is what docfind.c     apt-get install -y clang lld
//               compiles to (bench/build-wasm.mjs --check)
//   typecheck   src, test and bench (npm run typecheck)             npm ci
// Every check runs; the exit status is 1 when one fails or cannot run, and
// the last lines say which, and what to install.
//   node test/lint.mjs [check ...]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** a tool from outside npm: the command that proves it is there, and the Debian package that has it */
const TOOLS = {
  shellcheck: { probe: ['shellcheck', '--version'], apt: 'shellcheck' },
  clang: { probe: ['clang', '--version'], apt: 'clang' },
  'wasm-ld': { probe: ['wasm-ld', '--version'], apt: 'lld' },
};

const CHECKS = [
  {
    name: 'shellcheck',
    what: 'data_download.sh and .ci/run',
    tools: ['shellcheck'],
    command: ['shellcheck', '--shell=bash', '--severity=style', 'data_download.sh', '.ci/run'],
  },
  {
    name: 'wasm',
    what: 'the embedded src/scan/wasm/docfind.wasm.ts is what docfind.c compiles to',
    tools: ['clang', 'wasm-ld'],
    command: [process.execPath, 'bench/build-wasm.mjs', '--check'],
    // 2: it cannot tell (another clang than the one that built the bytes)
    statuses: {
      2: 'cannot check with this clang: check where Debian bookworm\'s clang is (.ci/run, the Docker dev image), ' +
        'or, after a change to docfind.c, rebuild with `npm run build:wasm` and commit both files',
    },
  },
  {
    name: 'typecheck',
    what: 'src, test and bench (tsconfig.check.json)',
    tools: [],
    command: ['npm', 'run', '--silent', 'typecheck'],
  },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !CHECKS.some((c) => c.name === w));
if (unknown.length > 0) {
  console.error(`lint: no check named ${unknown.join(', ')} (the checks: ${CHECKS.map((c) => c.name).join(', ')})`);
  process.exit(2);
}

const present = new Map();
const has = (tool) => {
  if (!present.has(tool)) {
    const [command, ...args] = TOOLS[tool].probe;
    const r = spawnSync(command, args, { stdio: 'ignore' });
    present.set(tool, !r.error && r.status === 0);
  }
  return present.get(tool);
};

/** [check, outcome] in order: 'ok', 'failed', or what kept it from running */
const results = [];
for (const check of CHECKS.filter((c) => wanted.length === 0 || wanted.includes(c.name))) {
  const missing = check.tools.filter((t) => !has(t));
  if (missing.length > 0) {
    const line = `cannot run: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed`;
    console.log(`lint: ${check.name}: ${line}`);
    results.push([check, line, missing]);
    continue;
  }
  console.log(`lint: ${check.name}: ${check.what}`);
  const [command, ...args] = check.command;
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  const outcome = r.error
    ? `could not run ${command}: ${r.error.message}`
    : r.status === 0
      ? 'ok'
      : check.statuses?.[r.status] ?? `failed (exit ${r.status ?? r.signal}): see above`;
  console.log(`lint: ${check.name}: ${outcome}`);
  results.push([check, outcome, []]);
}

const bad = results.filter(([, outcome]) => outcome !== 'ok');
console.log('');
for (const [check, outcome] of results) console.log(`  ${outcome === 'ok' ? 'ok  ' : 'FAIL'}  ${check.name.padEnd(10)} ${outcome === 'ok' ? check.what : outcome}`);
const missing = [...new Set(bad.flatMap(([, , m]) => m))];
if (missing.length > 0) {
  const packages = [...new Set(missing.map((t) => TOOLS[t].apt))];
  console.log(`\nNot installed: ${missing.join(', ')}. Install with (Debian/Ubuntu, as root; .ci/run does it):`);
  console.log(`  apt-get install -y ${packages.join(' ')}`);
}
console.log(bad.length === 0 ? `\nlint: ${results.length === 1 ? 'the check' : `all ${results.length} checks`} passed` : `\nlint: ${bad.length} of ${results.length} checks did not pass`);
process.exit(bad.length === 0 ? 0 : 1);
