/**
 * What the HTTP stages' tests share: a Ui that records what a stage says
 * (its warnings and its progress tasks), and temporary directories and
 * servers that are removed and closed when the file's tests are done.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import type { Ui } from '../../src/ui.js';

export interface Recorder {
  ui: Ui;
  warnings: string[];
  tasks: Array<{ label: string; total: number; done: number; stopped: boolean }>;
}

/** A Ui that keeps the warnings and the state of every progress task. */
export function recordingUi(): Recorder {
  const rec: Recorder = { warnings: [], tasks: [], ui: undefined as unknown as Ui };
  rec.ui = {
    info() {},
    warn: (m) => void rec.warnings.push(m),
    task(label, total) {
      const t = { label, total, done: 0, stopped: false };
      rec.tasks.push(t);
      return {
        update: (d) => void (t.done = d),
        increment: (d) => void (t.done += d),
        setTotal: (n) => void (t.total = n),
        stop: () => void (t.stopped = true),
      };
    },
    close() {},
  };
  return rec;
}

/**
 * A new temporary directory per call (`truefilm-<name>-…`) and a way to keep
 * servers; both are cleaned up after the calling file's tests.
 */
export function scratch(name: string): { tempDir: () => Promise<string>; keep: <T extends { close(): Promise<unknown> }>(server: T) => T } {
  const dirs: string[] = [];
  const servers: { close(): Promise<unknown> }[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  return {
    tempDir: async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), `truefilm-${name}-`));
      dirs.push(dir);
      return dir;
    },
    keep: (server) => {
      servers.push(server);
      return server;
    },
  };
}
