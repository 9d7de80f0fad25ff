/**
 * The per-source limit on refused requests as a unit: bucket, refill, bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '@holdfast/domain/testing';
import { ProtocolError } from '@holdfast/protocol';
import { T0 } from '../testing/harness.js';
import { SourceLimiter } from './source-limit.js';

describe('SourceLimiter', () => {
  it('refuses an address once its burst of refusals is spent, until tokens refill; others are untouched', () => {
    const clock = new ManualClock(T0);
    const limiter = new SourceLimiter({ burst: 3, rate: 1, maxSources: 10 }, clock);
    limiter.check('10.0.0.1');
    for (let i = 0; i < 3; i++) limiter.charge('10.0.0.1');
    assert.throws(
      () => limiter.check('10.0.0.1'),
      (e: unknown) => e instanceof ProtocolError && e.code === 'rate_limited' && (e.retryAfterMs ?? 0) > 0,
    );
    limiter.check('10.0.0.2');
    clock.advance(1_000);
    limiter.check('10.0.0.1');
    assert.equal(limiter.limited, 1);
  });

  it('remembers at most maxSources addresses, however many refuse', () => {
    const limiter = new SourceLimiter({ maxSources: 5 }, new ManualClock(T0));
    for (let i = 0; i < 1000; i++) {
      limiter.charge(`10.0.${i >> 8}.${i & 255}`);
      assert.ok(limiter.size <= 5);
    }
    assert.equal(limiter.size, 5);
  });

  it('rate 0 turns the limit off; bad options are refused naming them', () => {
    const limiter = new SourceLimiter({ rate: 0, burst: 1 }, new ManualClock(T0));
    for (let i = 0; i < 10; i++) limiter.charge('a');
    limiter.check('a');
    assert.equal(limiter.size, 0);
    assert.throws(() => new SourceLimiter({ burst: 0 }, new ManualClock(T0)), /burst/);
    assert.throws(() => new SourceLimiter({ rate: -1 }, new ManualClock(T0)), /rate/);
  });
});
