import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OP_KINDS } from '@holdfast/protocol';
import { approvalBinding, approvalNeeded, needsSignedIn, STAFF_RULES } from './staff-rules.js';

const SHIFT = '0190a000-0000-7000-8000-000000000001';

describe('STAFF_RULES', () => {
  it('has a rule for every op kind; every kind a clerk records needs someone signed in', () => {
    assert.deepEqual(Object.keys(STAFF_RULES).sort(), [...OP_KINDS].sort());
    for (const kind of OP_KINDS) assert.equal(needsSignedIn(kind), true, kind);
  });

  it('a paid-out and a wristband refund need a supervisor; a safe drop and a sale need nobody', () => {
    const move = { shift: SHIFT, currency: 'EUR', direction: 'out', amount: 500 } as const;
    assert.equal(approvalNeeded('cash.moved', { ...move, reason: 'paid_out' }), 'supervisor');
    assert.equal(approvalNeeded('cash.moved', { ...move, reason: 'safe_drop' }), null);
    assert.equal(approvalNeeded('sale.recorded', {} as never), null);
    assert.equal(approvalNeeded('wallet.refunded', {} as never), 'supervisor');
  });

  it('an approval binds the whole body, or the fields known before recording (a wristband refund)', () => {
    const move = { shift: SHIFT, currency: 'EUR', direction: 'out', reason: 'paid_out', amount: 500 } as const;
    assert.deepEqual(approvalBinding('cash.moved', move), move);
    const refund = {
      shift: SHIFT,
      currency: 'EUR',
      wristband: '04a1b2c3d4e5f6',
      amount: 300,
      counter: 7,
      balanceBefore: 1000,
      sale: SHIFT,
    };
    assert.deepEqual(approvalBinding('wallet.refunded', refund), {
      shift: SHIFT,
      currency: 'EUR',
      sale: SHIFT,
      amount: 300,
    });
  });
});
