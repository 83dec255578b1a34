/**
 * Waiting on work that runs at once: a few workers that share one queue
 * (batches of SPARQL, batches of titles for the Action API), and a command that serves
 * until it is stopped.
 */
import { isTrueFilmError } from './errors.js';

/**
 * Runs `count` copies of `worker` at once and waits for every one. A worker
 * that throws aborts `stop`, so that the others end at their next request;
 * the call then rejects with the failure that caused it: the first that is
 * not the INTERRUPTED the abort made of the others (a bug, or a stop by the
 * user, comes up as itself).
 */
export async function runWorkers(count: number, worker: () => Promise<void>, stop: AbortController): Promise<void> {
  const guarded = async (): Promise<void> => {
    try {
      await worker();
    } catch (err) {
      stop.abort(err);
      throw err;
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: count }, guarded));
  const reasons = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  const cause = reasons.find((r) => !isTrueFilmError(r, 'INTERRUPTED')) ?? reasons[0];
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
