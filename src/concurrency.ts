/**
 * Work that runs at once, bounded: one counting semaphore (`Slots`) for
 * everything that limits how much is in flight (the HTTP client's requests,
 * the dashboard's reads), the loop over a list on top of it (Wikidata's
 * batches), and a command that serves until it is stopped.
 */
import { isTrueFilmError } from './errors.js';

/** At most `size` holders at once; a wait for a slot can be aborted. */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = Math.max(1, Math.floor(size));
  }

  /** A slot now, or null when every one is held. Call the function returned to give it back. */
  tryAcquire(): (() => void) | null {
    if (this.free === 0) return null;
    this.free--;
    return this.releaser();
  }

  /** A slot, once one is free; rejects with `signal`'s reason when it aborts first. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    const now = this.tryAcquire();
    if (now !== null) return now;
    if (signal?.aborted) throw signal.reason;
    await new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(wake);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal?.reason);
      };
      this.waiting.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    // the slot was handed over by its releaser: it is held already
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.free++;
    };
  }
}

/**
 * Runs `work` on each item in order, at most `limit` at once, and waits for
 * all of them. Once `stop` aborts no new item starts (those running see the
 * abort through their own signal). A `work` that throws aborts `stop`; the
 * call then rejects with the failure that caused it: the first that is not
 * the INTERRUPTED the abort made of the others (a bug, or a stop by the user,
 * comes up as itself).
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>, stop: AbortController): Promise<void> {
  const slots = new Slots(limit);
  const running = new Set<Promise<void>>();
  const failures: unknown[] = [];
  for (const item of items) {
    const release = await slots.acquire(stop.signal).catch(() => null);
    if (release === null || stop.signal.aborted) {
      release?.();
      break;
    }
    const one: Promise<void> = work(item)
      .catch((err: unknown) => {
        failures.push(err);
        stop.abort(err);
      })
      .finally(() => {
        release();
        running.delete(one);
      });
    running.add(one);
  }
  await Promise.all(running);
  const cause = failures.find((f) => !isTrueFilmError(f, 'INTERRUPTED')) ?? failures[0];
  if (cause !== undefined) throw cause;
}

/** Resolves when `signal` aborts (at once if it already has): a server's life until Ctrl-C. */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * Something that changes for a while, then settles: `next()` resolves at
 * the next change, or at once when it has settled. Wakes whoever waits for
 * more work (Wikidata's answers, for the live wiki's questions).
 */
export class Changes {
  settled = false;
  private waiters: Array<() => void> = [];

  next(): Promise<void> {
    return this.settled ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  settle(): void {
    this.settled = true;
    this.notify();
  }
}
