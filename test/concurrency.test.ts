/**
 * runWorkers (src/concurrency.ts): the queue workers of the Wikidata and
 * Wikipedia stages. One failure stops the others, and the failure that caused
 * the stop is the one reported, whatever the workers' order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runWorkers } from '../src/concurrency.js';
import { isTrueFilmError, TrueFilmError } from '../src/errors.js';

/** A worker that waits for the stop, then fails as a stopped request does. */
function stoppable(stop: AbortController): () => Promise<void> {
  return async () => {
    if (!stop.signal.aborted) await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
    throw new TrueFilmError('INTERRUPTED', 'stopped');
  };
}

test('every worker runs to its end; nothing is aborted when none fails', async () => {
  const stop = new AbortController();
  const queue = Array.from({ length: 10 }, (_, i) => i);
  const done: number[] = [];
  await runWorkers(3, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      await sleep(1);
      done.push(item);
    }
  }, stop);
  assert.deepEqual(done.sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(stop.signal.aborted, false);
});

test('a bug in a later worker is reported, not the INTERRUPTED it caused in an earlier one', async () => {
  const stop = new AbortController();
  const bug = new TypeError('the listener broke');
  const waiting = stoppable(stop);
  let started = 0;
  const running = runWorkers(
    2,
    async () => {
      // the first worker waits for the stop; the second fails
      if (started++ === 0) return waiting();
      await sleep(5);
      throw bug;
    },
    stop,
  );
  await assert.rejects(running, (err: unknown) => err === bug);
  assert.equal(stop.signal.reason, bug, 'the stop carries its cause');
});

test('when every worker was interrupted (Ctrl-C), the INTERRUPTED is reported', async () => {
  const stop = new AbortController();
  const user = new AbortController();
  const running = runWorkers(
    3,
    async () => {
      await new Promise((resolve) => user.signal.addEventListener('abort', resolve, { once: true }));
      throw new TrueFilmError('INTERRUPTED', 'Ctrl-C');
    },
    stop,
  );
  setTimeout(() => user.abort(), 5);
  await assert.rejects(running, (err: unknown) => isTrueFilmError(err, 'INTERRUPTED'));
  assert.equal(stop.signal.aborted, true);
});
