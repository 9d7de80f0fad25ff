/**
 * Retry delays: an exponential-ish schedule with full jitter.
 *
 * Full jitter (a uniform delay in [0, base]) spreads the retries of a
 * thousand terminals that lost the network at the same moment, so that
 * their return does not arrive as one wave.
 */
import type { Random } from './random.js';

/** Base delays in seconds for the 1st, 2nd, … consecutive failure; the last one repeats. */
export const DEFAULT_BACKOFF_SECONDS: readonly number[] = Object.freeze([0, 1, 3, 8, 15, 30, 60, 120, 300, 600]);

/** Checks a schedule: non-empty, finite, non-negative, non-decreasing. */
export function validateBackoffSchedule(schedule: readonly number[]): void {
  if (schedule.length === 0) throw new RangeError('backoff schedule must not be empty');
  let last = 0;
  for (const [i, s] of schedule.entries()) {
    if (!Number.isFinite(s) || s < 0)
      throw new RangeError(`backoff schedule[${i}] must be a non-negative number of seconds`);
    if (s < last) throw new RangeError(`backoff schedule[${i}] must not be smaller than the one before`);
    last = s;
  }
}

/** The base delay (ms, before jitter) after `failures` consecutive failures (failures >= 1). */
export function backoffBaseMs(failures: number, schedule: readonly number[] = DEFAULT_BACKOFF_SECONDS): number {
  const index = Math.min(Math.max(failures, 1), schedule.length) - 1;
  return Math.round((schedule[index] as number) * 1000);
}

/** A full-jitter delay (ms) in [0, base] after `failures` consecutive failures. */
export function backoffDelayMs(
  failures: number,
  random: Random,
  schedule: readonly number[] = DEFAULT_BACKOFF_SECONDS,
): number {
  return Math.floor(random.float() * (backoffBaseMs(failures, schedule) + 1));
}
