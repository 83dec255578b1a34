/**
 * The one concurrency helper (src/concurrency.ts): `Slots`, the semaphore
 * under the HTTP client and the dashboard's reads, and `forEachLimited`,
 * the loop of Wikidata's batches. Bounds are shown by holding the work until
 * the test lets it go, never by timing it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { forEachLimited, Slots } from '../src/concurrency.js';
import { isTrueFilmError, TrueFilmError } from '../src/errors.js';

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Slots', () => {
  test('no more holders than slots; a release hands the slot to the first waiter; a second release does nothing', async () => {
    const slots = new Slots(2);
    const a = slots.tryAcquire()!;
    const b = slots.tryAcquire()!;
    assert.equal(slots.tryAcquire(), null, 'both held');
    const order: string[] = [];
    const c = slots.acquire().then((release) => (order.push('c'), release));
    const d = slots.acquire().then((release) => (order.push('d'), release));
    await settle();
    assert.deepEqual(order, [], 'the waiters wait');
    a();
    a();
    await settle();
    assert.deepEqual(order, ['c'], 'one release, one waiter: a second release of the same slot gives nothing');
    b();
    await settle();
    assert.deepEqual(order, ['c', 'd']);
    (await c)();
    (await d)();
    assert.ok(slots.tryAcquire() !== null && slots.tryAcquire() !== null && slots.tryAcquire() === null, 'two free again, no more');
  });

  test('an aborted wait rejects with the reason and takes no slot', async () => {
    const slots = new Slots(1);
    const held = slots.tryAcquire()!;
    const stop = new AbortController();
    const waiting = slots.acquire(stop.signal);
    const reason = new TrueFilmError('INTERRUPTED', 'stopped');
    stop.abort(reason);
    await assert.rejects(waiting, (err: unknown) => err === reason);
    held();
    assert.ok(slots.tryAcquire() !== null, 'the slot is free: the aborted waiter did not keep it');
  });
});

describe('forEachLimited', () => {
  test('every item runs, in order, at most `limit` at once', async () => {
    const gates = Array.from({ length: 7 }, gate);
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const stop = new AbortController();
    const all = forEachLimited(
      gates.map((_, i) => i),
      3,
      async (i) => {
        started.push(i);
        most = Math.max(most, ++running);
        await gates[i]!.opened;
        running--;
      },
      stop,
    );
    await settle();
    assert.deepEqual(started, [0, 1, 2], 'three start; the fourth waits');
    gates[1]!.open();
    await settle();
    assert.deepEqual(started, [0, 1, 2, 3], 'one ends, the next starts');
    for (const g of gates) g.open();
    await all;
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(most, 3);
    assert.equal(stop.signal.aborted, false, 'nothing aborted when nothing fails');
  });

  test('a bug is reported, not the INTERRUPTED it caused in the others; no item starts after it', async () => {
    const stop = new AbortController();
    const bug = new TypeError('the listener broke');
    const started: number[] = [];
    const failNow = gate();
    const running = forEachLimited(
      [0, 1, 2, 3, 4],
      2,
      async (i) => {
        started.push(i);
        if (i === 0) {
          // waits for the stop, then fails as a stopped request does
          await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
          throw new TrueFilmError('INTERRUPTED', 'stopped');
        }
        await failNow.opened;
        throw bug;
      },
      stop,
    );
    await settle();
    failNow.open();
    await assert.rejects(running, (err: unknown) => err === bug);
    assert.equal(stop.signal.reason, bug, 'the stop carries its cause');
    assert.deepEqual(started, [0, 1], 'nothing started after the failure');
  });

  test('when every item was interrupted (Ctrl-C), the INTERRUPTED is reported', async () => {
    const stop = new AbortController();
    const user = new AbortController();
    const running = forEachLimited(
      [0, 1, 2],
      3,
      async () => {
        await new Promise((resolve) => user.signal.addEventListener('abort', resolve, { once: true }));
        throw new TrueFilmError('INTERRUPTED', 'Ctrl-C');
      },
      stop,
    );
    await settle();
    user.abort();
    await assert.rejects(running, (err: unknown) => isTrueFilmError(err, 'INTERRUPTED'));
    assert.equal(stop.signal.aborted, true);
  });

  test('a stop from outside: no new item starts, those running finish, and nothing is thrown', async () => {
    const stop = new AbortController();
    const started: number[] = [];
    const release = gate();
    const running = forEachLimited(
      [0, 1, 2, 3],
      1,
      async (i) => {
        started.push(i);
        await release.opened;
      },
      stop,
    );
    await settle();
    stop.abort(new TrueFilmError('INTERRUPTED', 'enough'));
    release.open();
    await running;
    assert.deepEqual(started, [0]);
  });
});
