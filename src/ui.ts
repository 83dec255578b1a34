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
  /**
   * The work itself began at `at` (ms, as Date.now(); now when left out), later
   * than the task was made: a pool of workers started up first. The rate
   * counts from the earliest such time; without it, from the task's making.
   */
  begin(at?: number): void;
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
  /** the clock, in ms (Date.now; tests set their own) */
  now?: () => number;
}

/**
 * A task's amount done and its times, which its bar and its plain lines read.
 * The rate is the work's own: the amount over the time from when the work
 * began (the task's making, or what begin() says) until the last amount came
 * (a finished task) or now (a running one). Neither the start-up before the
 * work nor the wait between the last amount and stop() counts.
 * (cli-progress's own startTime is when the bar was made, and its stopTime
 * when stop() was called: neither is the work's.)
 */
class Meter {
  done = 0;
  private readonly madeAt: number;
  private beganAt: number | null = null;
  /** when `done` last changed */
  private doneAt: number | null = null;
  private stoppedAt: number | null = null;

  constructor(
    private readonly unit: 'bytes' | 'items',
    public total: number,
    private readonly now: () => number,
  ) {
    this.madeAt = now();
  }

  set(done: number): void {
    if (this.stoppedAt !== null || done === this.done) return;
    this.done = done;
    this.doneAt = this.now();
  }

  begin(at = this.now()): void {
    if (this.stoppedAt === null) this.beganAt = Math.min(this.beganAt ?? at, at);
  }

  stop(): void {
    this.stoppedAt ??= this.now();
  }

  private get startedAt(): number {
    return this.beganAt ?? this.madeAt;
  }

  private rate(): number {
    const until = this.stoppedAt === null ? this.now() : (this.doneAt ?? this.stoppedAt);
    return this.done / Math.max((until - this.startedAt) / 1000, 1e-3);
  }

  /** "1.0 GB of 1.1 GB (93%), 2.3 GB/s, ETA 40 ms" (no ETA once stopped) */
  describe(): string {
    const { done, total } = this;
    const rate = this.rate();
    const pct = total > 0 ? ` (${Math.min(100, (100 * done) / total).toFixed(0)}%)` : '';
    const amount =
      this.unit === 'bytes'
        ? `${formatBytes(done)} of ${formatBytes(total)}${pct}, ${formatBytes(rate)}/s`
        : `${formatCount(done)} of ${formatCount(total)}${pct}`;
    const eta = this.stoppedAt === null && rate > 0 && total > done ? `, ETA ${formatDuration(((total - done) / rate) * 1000)}` : '';
    return amount + eta;
  }

  /** "in 1.1 s", and how much of that went to starting when begin() said so */
  took(): string {
    const starting = this.startedAt - this.madeAt;
    return `in ${formatDuration((this.stoppedAt ?? this.now()) - this.madeAt)}${starting > 0 ? ` (${formatDuration(starting)} to start)` : ''}`;
  }
}

/** cli-progress, loaded with the first bar: most runs (not on a terminal, --no-progress, --version) draw none */
const require = createRequire(import.meta.url);
const loadBars = (): typeof cliProgress => require('cli-progress') as typeof cliProgress;

export function createUi(options: UiOptions): Ui {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) {
    const task: Task = { update() {}, increment() {}, setTotal() {}, begin() {}, stop() {} };
    return { info() {}, warn() {}, task: () => task, close() {} };
  }
  const now = options.now ?? Date.now;
  const useBars = options.progress && stream.isTTY === true;
  let multibar: cliProgress.MultiBar | null = null;

  const write = (line: string): void => {
    if (multibar) multibar.log(line + '\n');
    else stream.write(line + '\n');
  };

  const barTask = (label: string, meter: Meter): Task => {
    const bars = loadBars();
    multibar ??= new bars.MultiBar(
      {
        stream,
        // every frame reads the task's Meter, never cli-progress's startTime/stopTime
        format: (_opts, _params, payload: { label: string; meter: Meter }) => {
          const { meter } = payload;
          const width = 30;
          const filled = Math.round(Math.min(1, meter.total > 0 ? meter.done / meter.total : 1) * width);
          const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
          return `${payload.label.padEnd(10)} ${bar} ${meter.describe()}`;
        },
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
      },
      bars.Presets.shades_grey,
    );
    const bar = multibar.create(Math.max(meter.total, 1), 0, { label, meter });
    return {
      update(value) {
        meter.set(value);
        bar.update(value);
      },
      increment(amount) {
        this.update(meter.done + amount);
      },
      setTotal(value) {
        meter.total = value;
        bar.setTotal(Math.max(value, 1));
      },
      begin(at) {
        meter.begin(at);
      },
      stop() {
        meter.stop();
        bar.stop();
        multibar?.update(); // draw the final state now, not at the next frame
      },
    };
  };

  const plainTask = (label: string, meter: Meter): Task => {
    const interval = (options.plainInterval ?? 5) * 1000;
    let shownAt = now();
    return {
      update(value) {
        meter.set(value);
        const at = now();
        if (at - shownAt >= interval) {
          shownAt = at;
          write(`${label}: ${meter.describe()}`);
        }
      },
      increment(amount) {
        this.update(meter.done + amount);
      },
      setTotal(value) {
        meter.total = value;
      },
      begin(at) {
        meter.begin(at);
      },
      stop() {
        meter.stop();
        write(`${label}: done, ${meter.describe()} ${meter.took()}`);
      },
    };
  };

  return {
    info: (message) => write(message),
    warn: (message) => write(`warning: ${message}`),
    task: (label, total, unit) => (useBars ? barTask : plainTask)(label, new Meter(unit, total, now)),
    close() {
      multibar?.stop();
      multibar = null;
    },
  };
}
