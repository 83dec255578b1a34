// Where the scan's time goes: runs one measurement of bench/child.mjs under
// `node --cpu-prof` and prints the top self-time functions of every thread
// (the main thread, then each worker).
//   node bench/profile.mjs scan KEYS.json THREADS FILE...
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'truefilm-prof-'));
try {
  const out = execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, path.join(here, 'child.mjs'), ...process.argv.slice(2)], { encoding: 'utf8' });
  console.log(out.trim());
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  files.forEach((file, n) => {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const self = new Map();
    const dt = new Map();
    profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    let total = 0;
    for (const node of profile.nodes) {
      const t = dt.get(node.id) ?? 0;
      total += t;
      const where = node.callFrame.url ? ` ${node.callFrame.url.split('/').slice(-2).join('/')}` : '';
      const key = `${node.callFrame.functionName || '(anonymous)'}${where}`;
      self.set(key, (self.get(key) ?? 0) + t);
    }
    console.log(`\n${n === 0 ? 'main thread' : `worker ${n}`}: ${(total / 1000).toFixed(0)} ms sampled`);
    for (const [key, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
      console.log(`${(t / 1000).toFixed(0).padStart(7)} ms ${((100 * t) / total).toFixed(1).padStart(5)}%  ${key}`);
    }
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
