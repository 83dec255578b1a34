/**
 * What the user sees while a run works: log lines on stderr and, on a
 * terminal, progress bars (cli-progress); elsewhere a plain line per task
 * every few seconds, so CI logs and `docker logs` stay readable.
 */
import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';
import { formatBytes, formatCount, formatDuration } from './format.js';

export interface Task {
  /** sets the amount done so far */
  update(done: number): void;
  /** adds to the amount done */
  increment(amount: number): void;
  /** sets a new total (a gzip input's inflated size is known only at the end) */
  setTotal(total: number): void;
  /** the task is over; prints its final line */
  stop(): void;
}

export interface Ui {
  info(message: string): void;
  warn(message: string): void;
  task(label: string, total: number, unit: 'bytes' | 'items'): Task;
  /** stops every bar (before the process exits) */
  close(): void;
}

export interface UiOptions {
  /** bars on a terminal; false gives plain periodic lines */
  progress: boolean;
  stream?: NodeJS.WriteStream;
  /** seconds between plain progress lines */
  plainInterval?: number;
  /** nothing at all (tests) */
  quiet?: boolean;
}

/** cli-progress, loaded with the first bar: most runs (not on a terminal, --no-progress, --version) draw none */
const require = createRequire(import.meta.url);
const loadBars = (): typeof cliProgress => require('cli-progress') as typeof cliProgress;

function describe(unit: 'bytes' | 'items', done: number, total: number, startedAt: number, until = Date.now()): string {
  const seconds = Math.max((until - startedAt) / 1000, 1e-3);
  const rate = done / seconds;
  const pct = total > 0 ? ` (${Math.min(100, (100 * done) / total).toFixed(0)}%)` : '';
  const amount =
    unit === 'bytes'
      ? `${formatBytes(done)} of ${formatBytes(total)}${pct}, ${formatBytes(rate)}/s`
      : `${formatCount(done)} of ${formatCount(total)}${pct}`;
  const eta = rate > 0 && total > done ? `, ETA ${formatDuration(((total - done) / rate) * 1000)}` : '';
  return amount + eta;
}

export function createUi(options: UiOptions): Ui {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) {
    const task: Task = { update() {}, increment() {}, setTotal() {}, stop() {} };
    return { info() {}, warn() {}, task: () => task, close() {} };
  }
  const useBars = options.progress && stream.isTTY === true;
  let multibar: cliProgress.MultiBar | null = null;

  const write = (line: string): void => {
    if (multibar) multibar.log(line + '\n');
    else stream.write(line + '\n');
  };

  const barTask = (label: string, total: number, unit: 'bytes' | 'items'): Task => {
    const bars = loadBars();
    multibar ??= new bars.MultiBar(
      {
        stream,
        format: (_opts, params, payload: { label: string; unit: 'bytes' | 'items' }) => {
          const width = 30;
          const filled = Math.round(Math.min(1, params.progress) * width);
          const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
          // a stopped bar keeps its final rate: the multibar redraws it with the others
          const until = params.stopTime ?? Date.now();
          return `${payload.label.padEnd(10)} ${bar} ${describe(payload.unit, params.value, params.total, params.startTime, until)}`;
        },
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
      },
      bars.Presets.shades_grey,
    );
    const bar = multibar.create(Math.max(total, 1), 0, { label, unit });
    let done = 0;
    return {
      update(value) {
        done = value;
        bar.update(value);
      },
      increment(amount) {
        done += amount;
        bar.update(done);
      },
      setTotal(value) {
        bar.setTotal(Math.max(value, 1));
      },
      stop() {
        bar.update(done);
        bar.stop();
        multibar?.update(); // draw the final state now, not at the next frame
      },
    };
  };

  const plainTask = (label: string, total: number, unit: 'bytes' | 'items'): Task => {
    const startedAt = Date.now();
    const interval = (options.plainInterval ?? 5) * 1000;
    let done = 0;
    let shownAt = startedAt;
    const show = (): void => write(`${label}: ${describe(unit, done, total, startedAt)}`);
    return {
      update(value) {
        done = value;
        const now = Date.now();
        if (now - shownAt >= interval) {
          shownAt = now;
          show();
        }
      },
      increment(amount) {
        this.update(done + amount);
      },
      setTotal(value) {
        total = value;
      },
      stop() {
        write(`${label}: done, ${describe(unit, done, total, startedAt).replace(/, ETA.*$/, '')} in ${formatDuration(Date.now() - startedAt)}`);
      },
    };
  };

  return {
    info: (message) => write(message),
    warn: (message) => write(`warning: ${message}`),
    task: (label, total, unit) => (useBars && options.progress ? barTask(label, total, unit) : plainTask(label, total, unit)),
    close() {
      multibar?.stop();
      multibar = null;
    },
  };
}
