import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settleTicket } from './bet.js';

describe('settleTicket', () => {
  it('waits while a selection has no result and none lost', () => {
    assert.equal(
      settleTicket(1_000, [
        { odds: 250, result: 'won' },
        { odds: 180, result: null },
      ]),
      null,
    );
  });

  it('is lost as soon as any selection lost, even with others unknown', () => {
    assert.deepEqual(
      settleTicket(1_000, [
        { odds: 250, result: null },
        { odds: 180, result: 'lost' },
      ]),
      { outcome: 'lost', payout: 0 },
    );
  });

  it('pays stake × Π odds rounded down, void and push selections at odds 1.00', () => {
    assert.deepEqual(settleTicket(1_000, [{ odds: 250, result: 'won' }]), { outcome: 'won', payout: 2_500 });
    // 333 × 1.50 = 499.5: the half is the house's.
    assert.deepEqual(settleTicket(333, [{ odds: 150, result: 'won' }]), { outcome: 'won', payout: 499 });
    assert.deepEqual(
      settleTicket(1_000, [
        { odds: 250, result: 'won' },
        { odds: 300, result: 'void' },
        { odds: 400, result: 'push' },
      ]),
      { outcome: 'won', payout: 2_500 },
    );
    // 777 × 1.33 × 1.17 = 1209.0609 → 1209
    assert.deepEqual(
      settleTicket(777, [
        { odds: 133, result: 'won' },
        { odds: 117, result: 'won' },
      ]),
      { outcome: 'won', payout: 1_209 },
    );
  });

  it('gives the stake back when nothing won: void if every selection is void, else push', () => {
    assert.deepEqual(settleTicket(1_000, [{ odds: 250, result: 'void' }]), { outcome: 'void', payout: 1_000 });
    assert.deepEqual(
      settleTicket(1_000, [
        { odds: 250, result: 'void' },
        { odds: 250, result: 'push' },
      ]),
      { outcome: 'push', payout: 1_000 },
    );
  });
});
