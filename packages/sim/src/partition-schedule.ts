/**
 * When each zone is cut off from the server: per zone, a sorted list of
 * disjoint down-windows [from, to), so that "is this zone up now?" is a
 * binary search even with thousands of windows (a three-day festival of
 * flapping links). The zone `*` stands for every zone (the venue's uplink or
 * the data centre itself).
 */
import { type Random, randomIntBetween } from '@holdfast/domain';

export interface Partition {
  zone: string;
  from: number;
  to: number;
}

/** Every zone: a window in this zone cuts off all terminals. */
export const ALL_ZONES = '*';

export interface FlapOptions {
  /** How long each outage lasts, ms (uniform in the range). */
  downMs: readonly [number, number];
  /** How long the link stays up between outages, ms. */
  upMs: readonly [number, number];
}

export class PartitionSchedule {
  readonly #windows = new Map<string, { from: number; to: number }[]>();
  #count = 0;

  /** Cuts `zone` off during [from, to); overlapping windows merge. */
  add(zone: string, from: number, to: number): void {
    if (!(to > from)) return;
    const list = this.#windows.get(zone) ?? [];
    this.#windows.set(zone, list);
    let lo = from;
    let hi = to;
    const kept: { from: number; to: number }[] = [];
    for (const w of list) {
      if (w.to < lo || w.from > hi) kept.push(w);
      else {
        lo = Math.min(lo, w.from);
        hi = Math.max(hi, w.to);
      }
    }
    kept.push({ from: lo, to: hi });
    kept.sort((a, b) => a.from - b.from);
    list.length = 0;
    list.push(...kept);
    this.#count++;
  }

  /**
   * A flapping link: alternating outages and up-times drawn from `random`,
   * starting with an outage at `from`, until `to`. Returns the windows added.
   */
  flap(zone: string, from: number, to: number, random: Random, options: FlapOptions): Partition[] {
    const added: Partition[] = [];
    for (let t = from; t < to; ) {
      const down = randomIntBetween(random, options.downMs[0], options.downMs[1]);
      const end = Math.min(to, t + down);
      this.add(zone, t, end);
      added.push({ zone, from: t, to: end });
      t = end + randomIntBetween(random, options.upMs[0], options.upMs[1]);
    }
    return added;
  }

  /** Whether `zone` (and every zone, `*`) can reach the server at `at`. */
  isUp(zone: string, at: number): boolean {
    return !this.#down(zone, at) && !this.#down(ALL_ZONES, at);
  }

  /** Windows added so far (flaps count each outage). */
  get size(): number {
    return this.#count;
  }

  /** When the last window of any zone ends (0 if none). */
  get lastEnd(): number {
    let end = 0;
    for (const list of this.#windows.values()) end = Math.max(end, list.at(-1)?.to ?? 0);
    return end;
  }

  #down(zone: string, at: number): boolean {
    const list = this.#windows.get(zone);
    if (!list || list.length === 0) return false;
    // The last window starting at or before `at`.
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid] as { from: number }).from <= at) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && at < (list[found] as { to: number }).to;
  }
}
