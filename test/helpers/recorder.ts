/**
 * What the stages' tests share: a silent Ui, and Uis that record what a stage
 * says (its warnings, its progress tasks) or act on its progress; temporary
 * directories and servers removed and closed when the file's tests are done;
 * a closed port; key sets for the dump scan, closed or arriving during it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { WantedKeys } from '../../src/stages/abstracts.js';
import { createUi, type Task, type Ui } from '../../src/ui.js';

/** A Ui that says nothing and shows no progress. */
export const quiet: Ui = createUi({ progress: false, quiet: true });

export interface Recorder {
  ui: Ui;
  warnings: string[];
  tasks: Array<{ label: string; total: number; done: number; stopped: boolean }>;
  /** each task's times (Date.now()), in the order of `tasks` */
  times: TaskTimes[];
}

export interface TaskTimes {
  /** when the task was made, and when it was first told of an amount done */
  madeAt: number;
  firstDoneAt: number | null;
  /** the earliest time begin() was given (null: never called) */
  begunAt: number | null;
}

/** A Ui that keeps the warnings and the state of every progress task. */
export function recordingUi(): Recorder {
  const rec: Recorder = { warnings: [], tasks: [], times: [], ui: undefined as unknown as Ui };
  rec.ui = {
    info() {},
    warn: (m) => void rec.warnings.push(m),
    task(label, total) {
      const t = { label, total, done: 0, stopped: false };
      const times: TaskTimes = { madeAt: Date.now(), firstDoneAt: null, begunAt: null };
      rec.tasks.push(t);
      rec.times.push(times);
      const set = (d: number): void => {
        if (d > 0) times.firstDoneAt ??= Date.now();
        t.done = d;
      };
      return {
        update: set,
        increment: (d) => set(t.done + d),
        setTotal: (n) => void (t.total = n),
        begin: (at = Date.now()) => void (times.begunAt = Math.min(times.begunAt ?? at, at)),
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

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A Ui whose progress tasks call `onUpdate` at each update (the scan's progress), and that says nothing. */
export function hookedUi(onUpdate: (done: number, total: number) => void = () => {}): Ui {
  return {
    info() {},
    warn() {},
    close() {},
    task(_label: string, total: number): Task {
      return { update: (done) => onUpdate(done, total), increment() {}, setTotal() {}, begin() {}, stop() {} };
    },
  };
}

/** The whole key set, closed: every key known before the scan starts. */
export function closedKeys(list: string[]): WantedKeys {
  const w = new WantedKeys(list);
  w.close();
  return w;
}

/**
 * Keys as Wikidata's answers bring them: half before the scan, a quarter at
 * its first progress report, the rest (and the close) at its last.
 */
export function arrivingKeys(list: string[]): { wanted: WantedKeys; ui: Ui } {
  const wanted = new WantedKeys(list.filter((_, i) => i % 2 === 0));
  let first = true;
  const ui = hookedUi((done, total) => {
    if (wanted.closed) return;
    if (first) {
      first = false;
      wanted.add(list.filter((_, i) => i % 4 === 1));
    }
    if (done >= total) {
      wanted.add(list.filter((_, i) => i % 4 === 3));
      wanted.close();
    }
  });
  return { wanted, ui };
}
