/**
 * The forwarder's pure rules: retry delays, which processor refusals are
 * permanent, and the deadline's start and settings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import { ProcessorRefusedError } from '@holdfast/processor-client';
import fc from 'fast-check';
import { FORWARD_BACKOFF_SECONDS, isPermanentRefusal, retryDelayMs } from './forwarder.js';
import { deadlineBase, deadlineSettings, forwardingDeadlineKey, HOUR_MS } from './forwarding-deadline.js';

const fixed = (value: number) => ({ float: () => value, bytes: (n: number) => new Uint8Array(n) });

describe('retryDelayMs', () => {
  it('is half the base plus up to the other half: lowest and highest draws', () => {
    assert.equal(retryDelayMs(1, fixed(0)), 2_500);
    assert.equal(retryDelayMs(1, fixed(0.999_999_9)), 5_000);
    assert.equal(retryDelayMs(2, fixed(0)), 7_500);
    assert.equal(retryDelayMs(2, fixed(0.999_999_9)), 15_000);
  });

  it('the last step repeats past the end of the schedule', () => {
    const last = (FORWARD_BACKOFF_SECONDS[FORWARD_BACKOFF_SECONDS.length - 1] ?? 0) * 1000;
    assert.equal(retryDelayMs(FORWARD_BACKOFF_SECONDS.length, fixed(0)), last / 2);
    assert.equal(retryDelayMs(FORWARD_BACKOFF_SECONDS.length + 50, fixed(0.999_999_9)), last);
  });

  it('stays in [base/2, base], and never shrinks from one failure to the next at the same draw (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 2 ** 31 }), (failures, seed) => {
        const base = (FORWARD_BACKOFF_SECONDS[Math.min(failures, FORWARD_BACKOFF_SECONDS.length) - 1] ?? 0) * 1000;
        const delay = retryDelayMs(failures, new SeededRandom(seed));
        assert.ok(delay >= base / 2 && delay <= base, `${failures}: ${delay} of ${base}`);
        const draw = new SeededRandom(seed).float();
        assert.ok(retryDelayMs(failures + 1, fixed(draw)) >= retryDelayMs(failures, fixed(draw)));
      }),
    );
  });

  it('a fleet that failed together comes back spread out, not as one wave', () => {
    const random = new SeededRandom(42);
    const delays = Array.from({ length: 1_000 }, () => retryDelayMs(3, random));
    assert.ok(new Set(delays).size > 900, 'distinct delays');
    assert.ok(Math.min(...delays) < 16_000 && Math.max(...delays) > 29_000);
  });
});

describe('isPermanentRefusal', () => {
  const refused = (status: number, code: string, retryable = false) =>
    new ProcessorRefusedError(status, code, 'm', retryable);

  it('a request the processor will never take: 400, 413, 422', () => {
    assert.equal(isPermanentRefusal(refused(400, 'invalid_request')), true);
    assert.equal(isPermanentRefusal(refused(413, 'body_too_large')), true);
    assert.equal(isPermanentRefusal(refused(422, 'idempotency_key_reused')), true);
  });

  it('transient: our key or URL (401, 403, 404), load (408, 429), an outage (503), anything retryable', () => {
    for (const [status, code] of [
      [401, 'unauthorized'],
      [403, 'forbidden'],
      [404, 'not_found'],
      [408, 'timeout'],
      [429, 'rate_limited'],
      [503, 'processor_unavailable'],
      [500, 'internal'],
    ] as const) {
      assert.equal(isPermanentRefusal(refused(status, code)), false, `${status}`);
    }
    assert.equal(isPermanentRefusal(refused(400, 'try_later', true)), false, 'the processor says retryable');
  });
});

describe('forwarding deadline', () => {
  it('starts at device time, but never later than the server received it', () => {
    assert.equal(deadlineBase({ approvedAt: 1_000, receivedAt: 5_000 }), 1_000, 'carried in late: device time');
    assert.equal(deadlineBase({ approvedAt: 9_000, receivedAt: 5_000 }), 5_000, 'device clock ahead: receipt');
    assert.equal(deadlineBase({ approvedAt: 5_000, receivedAt: 5_000 }), 5_000);
  });

  it('settings: hours > 0, warning fraction strictly between 0 and 1', () => {
    assert.deepEqual(deadlineSettings(72, 0.75), { deadlineMs: 72 * HOUR_MS, warnAfterMs: 54 * HOUR_MS });
    assert.deepEqual(deadlineSettings(1, 0.5), { deadlineMs: HOUR_MS, warnAfterMs: HOUR_MS / 2 });
    for (const [hours, fraction] of [
      [0, 0.75],
      [-1, 0.75],
      [Number.NaN, 0.75],
      [Number.POSITIVE_INFINITY, 0.75],
      [72, 0],
      [72, 1],
      [72, 1.5],
    ] as const) {
      assert.throws(() => deadlineSettings(hours, fraction), RangeError, `${hours} h, ${fraction}`);
    }
  });

  it('dedupe keys name the stage, the op and the tender', () => {
    assert.equal(forwardingDeadlineKey('warning', { opId: 'op', tenderIndex: 2 }), 'forwarding_deadline:warning:op:2');
    assert.notEqual(
      forwardingDeadlineKey('warning', { opId: 'op', tenderIndex: 0 }),
      forwardingDeadlineKey('missed', { opId: 'op', tenderIndex: 0 }),
    );
  });
});
