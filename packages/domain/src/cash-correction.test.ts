import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CashCorrectedBody } from '@holdfast/protocol';
import { type CashCorrectionRef, type CashMovementRef, cashCorrectionProblems } from './cash-correction.js';
import { DomainError } from './errors.js';
import { cashVariance, closeShift, expectedCash, openShift } from './shift.js';
import { reduceShift } from './shift-reducer.js';
import { approvalNeeded } from './staff-rules.js';

const SHIFT = '01890000-0000-7000-8000-00000000000a';
const MOVE = '01890000-0000-7000-8000-00000000000b';

const floatIn: CashMovementRef = { id: MOVE, device: 'till-1', currency: 'EUR', direction: 'in', amount: 5_000 };
const next = (amount: number, extra: Partial<CashCorrectionRef> = {}): CashCorrectionRef => ({
  movement: MOVE,
  device: 'till-1',
  currency: 'EUR',
  direction: 'out',
  amount,
  ...extra,
});
const codes = (ps: { code: string }[]) => ps.map((p) => p.code);

describe('cashCorrectionProblems', () => {
  it('accepts all of a movement, or parts up to it, the opposite way on its own till', () => {
    assert.deepEqual(cashCorrectionProblems(floatIn, 0, next(5_000)), []);
    assert.deepEqual(cashCorrectionProblems(floatIn, 3_000, next(2_000)), []);
    const drop: CashMovementRef = { ...floatIn, direction: 'out' };
    assert.deepEqual(cashCorrectionProblems(drop, 0, next(1, { direction: 'in' })), []);
  });

  it('more than is left of the movement, across corrections, is over', () => {
    assert.deepEqual(codes(cashCorrectionProblems(floatIn, 0, next(5_001))), ['cash_correction_over']);
    const [over] = cashCorrectionProblems(floatIn, 4_000, next(1_001));
    assert.equal(over?.code, 'cash_correction_over');
    assert.match(String(over?.message), /above what is left of the movement/);
    assert.deepEqual(codes(cashCorrectionProblems(floatIn, 6_000, next(1))), ['cash_correction_over']);
  });

  it('an unknown movement, another till, the same direction or another currency is invalid', () => {
    assert.deepEqual(codes(cashCorrectionProblems(undefined, 0, next(1))), ['cash_correction_invalid']);
    assert.match(String(cashCorrectionProblems(undefined, 0, next(1))[0]?.message), /is unknown/);
    assert.match(String(cashCorrectionProblems(floatIn, 0, next(1, { device: 'till-2' }))[0]?.message), /till-1/);
    assert.match(String(cashCorrectionProblems(floatIn, 0, next(1, { direction: 'in' }))[0]?.message), /moves it out/);
    assert.deepEqual(codes(cashCorrectionProblems(floatIn, 0, next(9_000, { currency: 'USD' }))), [
      'cash_correction_invalid',
    ]);
  });
});

describe('cash.corrected in a shift', () => {
  const opened = openShift(SHIFT, { clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
  const body = (direction: 'in' | 'out', amount: number): CashCorrectedBody => ({
    shift: SHIFT,
    currency: 'EUR',
    movement: MOVE,
    direction,
    amount,
    reason: 'keyed wrong',
  });

  it('moves cash the way it says, so an honest close shows no variance', () => {
    // A float of 50.00 recorded as 500.00: 450.00 taken back out.
    const moved = reduceShift(opened, MOVE, 'cash.moved', {
      shift: SHIFT,
      currency: 'EUR',
      direction: 'in',
      amount: 50_000,
      reason: 'float_in',
    });
    const corrected = reduceShift(moved, 'c1', 'cash.corrected', body('out', 45_000));
    assert.equal(corrected?.cashOut, 45_000);
    assert.equal(expectedCash(corrected ?? opened), 15_000);
    const closed = closeShift(corrected ?? opened, { shift: SHIFT, currency: 'EUR', countedCash: 15_000 });
    assert.equal(cashVariance(closed), 0);
    const back = reduceShift(opened, 'c2', 'cash.corrected', body('in', 700));
    assert.equal(back?.cashIn, 700);
  });

  it('refuses to move out more than the drawer holds, unless the server allows the overdraw', () => {
    assert.throws(
      () => reduceShift(opened, 'c1', 'cash.corrected', body('out', 10_001)),
      (e: unknown) => e instanceof DomainError && e.code === 'insufficient_cash',
    );
    const over = reduceShift(opened, 'c1', 'cash.corrected', body('out', 10_001), { allowOverdraw: true });
    assert.equal(expectedCash(over ?? opened), -1);
  });

  it("needs a supervisor's approval", () => {
    assert.equal(approvalNeeded('cash.corrected', body('out', 1)), 'supervisor');
  });
});
