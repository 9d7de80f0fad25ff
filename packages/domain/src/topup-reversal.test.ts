import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WalletTopUpReversedBody } from '@holdfast/protocol';
import { DomainError } from './errors.js';
import { reduceShift } from './shift-reducer.js';
import { approvalBinding, approvalNeeded } from './staff-rules.js';
import { type TopUpRef, topUpReversalProblems } from './topup-reversal.js';

const SHIFT = '01890000-0000-7000-8000-00000000000a';
const TOPUP = '01890000-0000-7000-8000-00000000000b';
const UID = '04A1B2C3D4E5F6';

const topUp: TopUpRef = { id: TOPUP, shift: SHIFT, wristband: UID, currency: 'EUR', amount: 5_000, paid: 'cash' };
const next = (amount: number, extra: Partial<WalletTopUpReversedBody> = {}): WalletTopUpReversedBody => ({
  shift: SHIFT,
  currency: 'EUR',
  wristband: UID,
  amount,
  counter: 2,
  balanceBefore: 5_000,
  topup: TOPUP,
  ...extra,
});
const codes = (ps: { code: string }[]) => ps.map((p) => p.code);

describe('topUpReversalProblems', () => {
  it('accepts all of a cash top-up, or parts up to it, in its own shift', () => {
    assert.deepEqual(topUpReversalProblems(topUp, 0, next(5_000), 5_000), []);
    assert.deepEqual(topUpReversalProblems(topUp, 3_000, next(2_000), 2_000), []);
    assert.deepEqual(topUpReversalProblems(topUp, 0, next(1), null), [], 'an unknown wallet balance is not judged');
  });

  it('never more than the top-up across all its reversals', () => {
    assert.deepEqual(codes(topUpReversalProblems(topUp, 0, next(5_001), 9_000)), ['topup_reversal_over']);
    const twice = topUpReversalProblems(topUp, 5_000, next(1), 9_000);
    assert.deepEqual(codes(twice), ['topup_reversal_over']);
    assert.match(twice[0]?.message ?? '', /reversed before/);
  });

  it('an unknown top-up, one given back another way than paid, another shift, wristband or currency, money already spent', () => {
    assert.deepEqual(codes(topUpReversalProblems(undefined, 0, next(100), 5_000)), ['topup_reversal_invalid']);
    // Given back the other way than it was paid: a card top-up in cash, a cash top-up to a card.
    assert.deepEqual(codes(topUpReversalProblems({ ...topUp, paid: 'card' }, 0, next(100), 5_000)), [
      'topup_reversal_invalid',
    ]);
    assert.deepEqual(codes(topUpReversalProblems(topUp, 0, next(100, { tender: 'card' }), 5_000)), [
      'topup_reversal_invalid',
    ]);
    assert.deepEqual(topUpReversalProblems({ ...topUp, paid: 'card' }, 0, next(100, { tender: 'card' }), 5_000), []);
    const other = '01890000-0000-7000-8000-00000000000c';
    assert.match(topUpReversalProblems(topUp, 0, next(100, { shift: other }), 5_000)[0]?.message ?? '', /own shift/);
    assert.match(
      topUpReversalProblems(topUp, 0, next(100, { wristband: '04FFFFFFFFFFFF' }), 5_000)[0]?.message ?? '',
      /loaded wristband/,
    );
    assert.deepEqual(codes(topUpReversalProblems(topUp, 0, next(100, { currency: 'USD' }), 5_000)), [
      'topup_reversal_invalid',
    ]);
    const spent = topUpReversalProblems(topUp, 0, next(2_000), 1_000);
    assert.deepEqual(codes(spent), ['topup_reversal_invalid']);
    assert.match(spent[0]?.message ?? '', /already spent/);
  });
});

describe('wallet.topup_reversed at the till', () => {
  const open = reduceShift(null, SHIFT, 'shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 1_000 });
  assert.ok(open);

  it('takes the cash out of the drawer', () => {
    const after = reduceShift(open, 'r1', 'wallet.topup_reversed', next(600));
    assert.equal(after?.cashOut, 600);
  });

  it('a card top-up reversed moves no cash: it goes back to the card', () => {
    const after = reduceShift(open, 'r1', 'wallet.topup_reversed', next(5_000, { tender: 'card' }));
    assert.equal(after?.cashOut, 0);
  });

  it('refuses to give back more cash than the drawer holds', () => {
    assert.throws(
      () => reduceShift(open, 'r1', 'wallet.topup_reversed', next(1_001)),
      (e: unknown) => e instanceof DomainError && e.code === 'insufficient_cash',
    );
  });

  it('needs a supervisor, bound to what is known before the chip is tapped', () => {
    assert.equal(approvalNeeded('wallet.topup_reversed', next(600)), 'supervisor');
    assert.deepEqual(approvalBinding('wallet.topup_reversed', next(600, { reason: 'x' })), {
      shift: SHIFT,
      currency: 'EUR',
      wristband: UID,
      topup: TOPUP,
      amount: 600,
    });
  });
});
