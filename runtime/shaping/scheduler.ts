/**
 * Runs callbacks at precise times (the `performance.now()` clock). Node's timers fire late
 * by a millisecond or more, which would show up in every measured round trip, so the
 * scheduler sleeps with a timer until shortly before the earliest deadline and then polls
 * with `setImmediate` (which still lets I/O through) until it is due.
 */
export class Scheduler {
  private readonly heap: { due: number; order: number; run: () => void }[] = [];
  private order = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  /** Timers are trusted to this many ms before a deadline; the rest is polled. */
  private static readonly SPIN_MS = 2;

  at(due: number, run: () => void): void {
    const item = { due, order: this.order++, run };
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
    if (i === 0) this.arm();
  }

  clear(): void {
    this.heap.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.polling) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const top = this.heap[0];
    if (!top) return;
    const wait = top.due - performance.now() - Scheduler.SPIN_MS;
    if (wait > 0) this.timer = setTimeout(() => this.poll(), wait);
    else this.poll();
  }

  private readonly poll = (): void => {
    this.timer = undefined;
    const now = performance.now();
    while (this.heap.length > 0 && this.heap[0]!.due <= now) this.pop().run();
    const top = this.heap[0];
    if (top && top.due - performance.now() <= Scheduler.SPIN_MS) {
      this.polling = true;
      setImmediate(() => {
        this.polling = false;
        this.poll();
      });
    } else {
      this.polling = false;
      this.arm();
    }
  };

  private pop(): { due: number; order: number; run: () => void } {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: { due: number; order: number }, b: { due: number; order: number }): boolean {
  return a.due < b.due || (a.due === b.due && a.order < b.order);
}
