/**
 * ManualClock: the one test clock. Its time moves only when a test says so,
 * firing timers in due order.
 *
 * Timers due at the same instant fire in the order they were set. `tick`
 * lets promise callbacks run after each timer, which is what async loops
 * (a sync loop awaiting its transport) need between two timer firings.
 */
import type { Clock, TimerHandle } from '../clock.js';

interface Timer {
  due: number;
  order: number;
  fn: () => void;
}

/** 2025-01-01T00:00:00Z: inside the protocol's accepted range for `at`. */
export const MANUAL_CLOCK_START = 1_735_689_600_000;

export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  readonly #timers = new Set<Timer>();

  constructor(start = MANUAL_CLOCK_START) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer: Timer = { due: this.#now + Math.max(0, ms), order: this.#order++, fn };
    this.#timers.add(timer);
    return { cancel: () => this.#timers.delete(timer) };
  }

  /** Timers set and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** When the next timer is due, or null. */
  nextTimerAt(): number | null {
    return this.#next()?.due ?? null;
  }

  /** Sets the time without firing anything (a test jumping to a moment; may go back). */
  set(time: number): void {
    this.#now = time;
  }

  /**
   * Moves time forward by `ms`, firing due timers synchronously, in order.
   * A negative `ms` sets the clock back (a device clock being corrected) and fires nothing.
   */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let timer = this.#next(target); timer; timer = this.#next(target)) this.#fire(timer);
    this.#now = target;
  }

  /** Moves time forward by `ms`, letting promises settle before and after each timer fires. */
  async tick(ms = 0): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (let timer = this.#next(target); timer; timer = this.#next(target)) {
      this.#fire(timer);
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** Fires timers one by one (jumping time to each) until none is left or `maxMs` has passed. */
  async runUntilIdle(maxMs = 24 * 3600 * 1000): Promise<void> {
    const limit = this.#now + maxMs;
    await settle();
    for (let timer = this.#next(limit); timer; timer = this.#next(limit)) {
      this.#fire(timer);
      await settle();
    }
  }

  /**
   * Awaits `promise` while moving time forward in `stepMs` steps: what a
   * caller needs when the promise itself waits on this clock (a delayed
   * request, a timeout). Throws if it has not settled after `maxMs`.
   */
  async drive<T>(promise: Promise<T>, stepMs = 100, maxMs = 24 * 3600 * 1000): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    tracked.catch(() => undefined); // handled below; keeps the rejection from counting as unhandled meanwhile
    await settle();
    for (let waited = 0; !settled; waited += stepMs) {
      if (waited >= maxMs) throw new Error(`ManualClock.drive: not settled after ${maxMs} ms of clock time`);
      await this.tick(stepMs);
    }
    return tracked;
  }

  #fire(timer: Timer): void {
    this.#timers.delete(timer);
    this.#now = Math.max(this.#now, timer.due);
    timer.fn();
  }

  #next(limit = Number.POSITIVE_INFINITY): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.#timers) {
      if (t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.order < best.order)) best = t;
    }
    return best;
  }
}

/** Lets every queued promise callback run (a macrotask turn, twice for chained awaits). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
