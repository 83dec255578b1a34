/**
 * Keeps the best `limit` items seen, in O(limit) memory: a binary heap whose
 * root is the worst item kept, so a newcomer only has to beat the root.
 */
export class TopN<T extends R, R = T> {
  private readonly heap: T[] = [];

  /**
   * `better(a, b)` is true when a ranks before b; it must be a strict total
   * order. It may look at part of an item only (R): accepts() needs no more.
   */
  constructor(
    private readonly limit: number,
    private readonly better: (a: R, b: R) => boolean,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Whether offer() would keep an item that ranks so: the caller need not build one that cannot get in. */
  accepts(item: R): boolean {
    return this.limit > 0 && (this.heap.length < this.limit || this.better(item, this.heap[0]!));
  }

  /** Offers an item; returns whether it is (for now) among the best. */
  offer(item: T): boolean {
    const heap = this.heap;
    if (this.limit <= 0) return false;
    if (heap.length < this.limit) {
      heap.push(item);
      this.siftUp(heap.length - 1);
      return true;
    }
    if (!this.better(item, heap[0]!)) return false;
    heap[0] = item;
    this.siftDown(0);
    return true;
  }

  /** The kept items, best first. */
  sorted(): T[] {
    return [...this.heap].sort((a, b) => (this.better(a, b) ? -1 : this.better(b, a) ? 1 : 0));
  }

  // The heap is ordered so that every parent is worse than its children.
  private worse(i: number, j: number): boolean {
    return this.better(this.heap[j]!, this.heap[i]!);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, parent)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < heap.length && this.worse(left, worst)) worst = left;
      if (right < heap.length && this.worse(right, worst)) worst = right;
      if (worst === i) return;
      [heap[i], heap[worst]] = [heap[worst]!, heap[i]!];
      i = worst;
    }
  }
}
