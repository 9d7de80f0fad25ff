/**
 * A virtual clock and event scheduler for deterministic simulation.
 *
 * Time moves only when the simulation runs the next timer. After each timer
 * fires, the scheduler waits until the work it started has settled (the
 * `settle` callback: typically in-flight server calls plus one macrotask
 * turn) before firing the next, so a run depends only on its seed, never on
 * how fast the machine is. Timers due at the same instant fire in the order
 * they were set.
 */
import type { Clock, TimerHandle } from '@holdfast/domain';

interface Timer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

export class VirtualClock implements Clock {
  #now: number;
  #order = 0;
  #heap: Timer[] = [];

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer: Timer = { at: this.#now + Math.max(0, ms), order: this.#order++, fn, cancelled: false };
    this.#push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers waiting to fire, cancelled ones excluded. */
  get pendingTimers(): number {
    return this.#heap.filter((t) => !t.cancelled).length;
  }

  /** When the next live timer fires, or null if none is set. */
  nextAt(): number | null {
    this.#dropCancelled();
    return this.#heap[0]?.at ?? null;
  }

  /**
   * Fires every timer due up to and including `until`, in time order, awaiting
   * `settle` after each one; then moves the clock to `until`.
   */
  async runUntil(until: number, settle: () => Promise<void>): Promise<void> {
    for (;;) {
      this.#dropCancelled();
      const next = this.#heap[0];
      if (!next || next.at > until) break;
      this.#pop();
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await settle();
    }
    this.#now = Math.max(this.#now, until);
  }

  #dropCancelled(): void {
    while (this.#heap[0]?.cancelled) this.#pop();
  }

  #before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(heap[i] as Timer, heap[parent] as Timer)) break;
      [heap[i], heap[parent]] = [heap[parent] as Timer, heap[i] as Timer];
      i = parent;
    }
  }

  #pop(): Timer | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.#before(heap[l] as Timer, heap[m] as Timer)) m = l;
        if (r < heap.length && this.#before(heap[r] as Timer, heap[m] as Timer)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m] as Timer, heap[i] as Timer];
        i = m;
      }
    }
    return top;
  }
}
