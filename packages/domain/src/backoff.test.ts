import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backoffBaseMs, backoffDelayMs, DEFAULT_BACKOFF_SECONDS, validateBackoffSchedule } from './backoff.js';
import { type Random, SeededRandom } from './random.js';

/** A Random whose float() always returns `value`. */
function fixedRandom(value: number): Random {
  return { float: () => value, bytes: (n) => new Uint8Array(n) };
}

/** The largest double below 1: the top of what Random.float() may return. */
const ALMOST_ONE = 1 - 2 ** -53;

describe('backoffBaseMs', () => {
  it('follows 0, 1, 3, 8, 15, 30, 60, 120, 300, 600 seconds, then repeats the last', () => {
    assert.deepEqual(DEFAULT_BACKOFF_SECONDS, [0, 1, 3, 8, 15, 30, 60, 120, 300, 600]);
    const seconds = [0, 1, 3, 8, 15, 30, 60, 120, 300, 600];
    seconds.forEach((s, i) => {
      assert.equal(backoffBaseMs(i + 1), s * 1000, `failure ${i + 1}`);
    });
    for (const failures of [11, 12, 100, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      assert.equal(backoffBaseMs(failures), 600_000, `failure ${failures}`);
    }
  });

  it('treats zero or negative failures as the first', () => {
    assert.equal(backoffBaseMs(0), 0);
    assert.equal(backoffBaseMs(-3), 0);
  });

  it('uses a given schedule', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => backoffBaseMs(n, [2, 5])),
      [2_000, 5_000, 5_000, 5_000],
    );
    assert.equal(backoffBaseMs(1, [0.25]), 250);
  });

  it('the default schedule is valid and frozen', () => {
    assert.doesNotThrow(() => validateBackoffSchedule(DEFAULT_BACKOFF_SECONDS));
    assert.ok(Object.isFrozen(DEFAULT_BACKOFF_SECONDS));
  });
});

describe('backoffDelayMs', () => {
  it('spans the whole range [0, base] at the extremes of float()', () => {
    for (let failures = 1; failures <= 12; failures++) {
      const base = backoffBaseMs(failures);
      assert.equal(backoffDelayMs(failures, fixedRandom(0)), 0);
      assert.equal(backoffDelayMs(failures, fixedRandom(ALMOST_ONE)), base, `failure ${failures}`);
    }
    assert.equal(backoffDelayMs(3, fixedRandom(0.5)), 1_500);
  });

  it('is always an integer in [0, base] for the default schedule (property)', () => {
    const float = fc.oneof(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.constant(ALMOST_ONE));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), float, (failures, f) => {
        const base = backoffBaseMs(failures);
        const delay = backoffDelayMs(failures, fixedRandom(f));
        assert.ok(Number.isInteger(delay), `${delay} is an integer`);
        assert.ok(delay >= 0 && delay <= base, `${delay} in [0, ${base}]`);
      }),
      { numRuns: 2000 },
    );
  });

  it('works in whole milliseconds for schedules given to the millisecond, e.g. 1.001 s (property)', () => {
    // BUG (see the test report): backoffBaseMs computes 1.001 × 1000 = 1000.9999999999999, and
    // backoffDelayMs can then return 1001, just above that base. Sub-millisecond entries such as
    // 0.0015 s (base 1.5 ms, delay up to 2) break the bound the same way.
    assert.equal(backoffBaseMs(1, [1.001]), 1001);
    assert.ok(backoffDelayMs(1, fixedRandom(ALMOST_ONE), [0.0015]) <= backoffBaseMs(1, [0.0015]));
    const schedule = fc
      .array(fc.integer({ min: 0, max: 86_400_000 }), { minLength: 1, maxLength: 12 })
      .map((ms) => ms.sort((a, b) => a - b).map((m) => m / 1000));
    const float = fc.oneof(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.constant(ALMOST_ONE));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), float, schedule, (failures, f, custom) => {
        validateBackoffSchedule(custom);
        const base = backoffBaseMs(failures, custom);
        assert.ok(Number.isInteger(base), `base ${base} is whole milliseconds`);
        const delay = backoffDelayMs(failures, fixedRandom(f), custom);
        assert.ok(Number.isInteger(delay) && delay >= 0 && delay <= base, `${delay} in [0, ${base}]`);
      }),
      { numRuns: 2000 },
    );
  });

  it('is within [0, base] for a real SeededRandom and uses the whole range', () => {
    const random = new SeededRandom(99);
    const delays = Array.from({ length: 5_000 }, () => backoffDelayMs(4, random));
    assert.ok(delays.every((d) => d >= 0 && d <= 8_000));
    assert.ok(Math.min(...delays) < 100);
    assert.ok(Math.max(...delays) > 7_900);
  });

  it('is deterministic for a SeededRandom seed', () => {
    const run = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 30 }, (_, i) => backoffDelayMs(i + 1, random));
    };
    assert.deepEqual(run(42), run(42));
    assert.notDeepEqual(run(42), run(43));
  });
});

describe('validateBackoffSchedule', () => {
  it('accepts non-empty, non-negative, non-decreasing schedules', () => {
    for (const ok of [[0], [5], [0, 0, 0], [1, 1, 2], [0.5, 1.5]]) {
      assert.doesNotThrow(() => validateBackoffSchedule(ok), JSON.stringify(ok));
    }
  });

  it('rejects empty, negative, decreasing and non-finite schedules', () => {
    const bad: ReadonlyArray<readonly [number[], RegExp]> = [
      [[], /must not be empty/],
      [[-1], /schedule\[0\] must be a non-negative number/],
      [[0, 1, -1], /schedule\[2\] must be a non-negative number/],
      [[5, 3], /schedule\[1\] must not be smaller than the one before/],
      [[1, 2, 2, 1], /schedule\[3\] must not be smaller/],
      [[Number.NaN], /schedule\[0\] must be a non-negative number/],
      [[1, Number.NaN, 2], /schedule\[1\] must be a non-negative number/],
      [[1, Number.POSITIVE_INFINITY], /schedule\[1\] must be a non-negative number/],
    ];
    for (const [schedule, message] of bad) {
      assert.throws(
        () => validateBackoffSchedule(schedule),
        (e: unknown) => {
          assert.ok(e instanceof RangeError);
          assert.match(e.message, message);
          return true;
        },
      );
    }
  });
});
