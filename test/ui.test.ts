/**
 * What the Ui shows of a task's progress: bars on a terminal (here a stream
 * that keeps what is written and says it is a TTY) and plain lines elsewhere.
 * The Ui runs on the test's own clock, so every rate is exact and nothing
 * depends on how fast or busy the machine is.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { formatBytes } from '../src/format.js';
import { createUi, type Ui } from '../src/ui.js';

const GiB = 1 << 30;

/** A stream that keeps what is written to it, a terminal or not. */
function screen(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  Object.assign(stream, { isTTY, columns: 200, rows: 40 });
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text };
}

/** Every line drawn for `label`, in order, without the terminal's escape codes. */
function frames(text: string, label: string): string[] {
  return text
    .replace(/\x1b(\[[0-9;?]*[A-Za-z]|[78])/g, '\n')
    .split(/[\r\n]+/)
    .filter((line) => line.startsWith(label));
}

/** A clock that moves only when the test says. */
function clock(): { now: () => number; advance: (ms: number) => number } {
  let t = 1_700_000_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const rate = (bytes: number, ms: number): string => `${formatBytes(bytes / (ms / 1000))}/s`;

/**
 * A scan as the abstracts stage reports it: the task is made, workers start
 * up for 600 ms, the first result says when its worker began (150 ms before it
 * came back), bytes come in three steps, and stop() comes 80 ms after the last.
 * Returns when the work began and when its last bytes came.
 */
function scanLike(ui: Ui, c: ReturnType<typeof clock>, options: { begin: boolean }): { madeAt: number; began: number; lastAt: number } {
  const madeAt = c.now();
  const task = ui.task('abstracts', GiB, 'bytes');
  const began = c.advance(600);
  c.advance(150);
  if (options.begin) task.begin(began);
  task.update(GiB / 4);
  c.advance(200);
  task.update((3 * GiB) / 4);
  c.advance(120);
  task.update(GiB);
  const lastAt = c.now();
  c.advance(80);
  task.stop();
  return { madeAt, began, lastAt };
}

describe('a finished bar shows the rate of the work itself', () => {
  test('on a terminal: the bytes over the time from when the work began to when the last bytes came, redrawn or not', () => {
    const c = clock();
    const s = screen(true);
    const ui = createUi({ progress: true, stream: s.stream, now: c.now });
    try {
      const { madeAt, began, lastAt } = scanLike(ui, c, { begin: true });
      const expected = rate(GiB, lastAt - began);
      assert.equal(expected, '2.3 GB/s');
      // what a clock from the bar's making to stop() gives (cli-progress's startTime and stopTime): not this
      assert.notEqual(rate(GiB, c.now() - madeAt), expected);
      // stop() draws the final frame at once
      assert.equal(frames(s.text(), 'abstracts').at(-1), `abstracts  ${'█'.repeat(30)} 1.1 GB of 1.1 GB (100%), ${expected}`);

      // later frames (the multibar redraws every bar, and close() once more) keep it
      c.advance(10_000);
      ui.close();
      assert.match(frames(s.text(), 'abstracts').at(-1)!, new RegExp(`, ${expected.replace('.', '\\.')}$`));
    } finally {
      ui.close();
    }
  });

  test('in plain lines: the same rate, and how long the task took, start-up included', () => {
    const c = clock();
    const s = screen(false);
    const ui = createUi({ progress: true, stream: s.stream, now: c.now, plainInterval: 0 });
    const { madeAt, began, lastAt } = scanLike(ui, c, { begin: true });
    const lines = frames(s.text(), 'abstracts');
    // while it runs, the rate counts to now, and the ETA follows from it
    assert.equal(lines[0], `abstracts: 268 MB of 1.1 GB (25%), ${rate(GiB / 4, 150)}, ETA 450 ms`);
    assert.equal(lines.at(-1), `abstracts: done, 1.1 GB of 1.1 GB (100%), ${rate(GiB, lastAt - began)} in 1.1 s (600 ms to start)`);
    assert.equal(c.now() - madeAt, 1150);
  });

  test('without begin(), the rate counts from the task\'s making; the wait before stop() never counts', () => {
    const c = clock();
    const s = screen(false);
    const ui = createUi({ progress: false, stream: s.stream, now: c.now, plainInterval: 3600 });
    const { madeAt, lastAt } = scanLike(ui, c, { begin: false });
    assert.deepEqual(frames(s.text(), 'abstracts'), [`abstracts: done, 1.1 GB of 1.1 GB (100%), ${rate(GiB, lastAt - madeAt)} in 1.1 s`]);

    // a count has no rate; a task with nothing done says so
    const items = ui.task('load', 5, 'items');
    c.advance(50);
    items.increment(2);
    items.increment(3);
    items.stop();
    const empty = ui.task('metadata', 0, 'bytes');
    empty.stop();
    assert.deepEqual(frames(s.text(), 'load'), ['load: done, 5 of 5 (100%) in 50 ms']);
    assert.deepEqual(frames(s.text(), 'metadata'), ['metadata: done, 0 B of 0 B, 0 B/s in 0 ms']);
  });
});
