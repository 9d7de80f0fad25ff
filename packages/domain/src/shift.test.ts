import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CASH_MOVEMENT_REASONS,
  type CashMovedBody,
  type CashMovementReason,
  parseBody,
  type SaleBody,
  type ShiftClosedBody,
  uuidv7,
} from '@holdfast/protocol';
import fc from 'fast-check';
import { DOMAIN_ERROR_CODES, DomainError, type DomainErrorCode } from './errors.js';
import {
  applyCashMovement,
  applySale,
  applyTopUp,
  cashVariance,
  closeShift,
  expectedCash,
  MAX_SHIFT_TOTAL,
  openShift,
  type Shift,
  tenderSplit,
} from './shift.js';

const SHIFT = uuidv7(1_700_000_000_000, new Uint8Array(10).fill(1));
const OTHER_SHIFT = uuidv7(1_700_000_000_000, new Uint8Array(10).fill(2));

/**
 * A schema-valid sale of `cash + card` in one line, paid with a cash tender of `cash` (handing
 * over `change` more) and a card tender of `card`; either tender is left out when zero.
 */
function sale(cash: number, card: number, options: { change?: number; shift?: string; currency?: string } = {}) {
  const total = cash + card;
  const body: SaleBody = {
    shift: options.shift ?? SHIFT,
    currency: options.currency ?? 'EUR',
    lines: [{ sku: 'ITEM', name: 'Item', qty: 1, unitPrice: total }],
    total,
    tenders: [
      ...(cash > 0 ? [{ type: 'cash' as const, amount: cash, tendered: cash + (options.change ?? 0) }] : []),
      ...(card > 0
        ? [{ type: 'card' as const, amount: card, token: 'tok_12345678', brand: 'visa' as const, last4: '4242' }]
        : []),
    ],
  };
  return parseBody('sale.recorded', body);
}

function move(
  reason: CashMovementReason,
  amount: number,
  options: { shift?: string; currency?: string } = {},
): CashMovedBody {
  return parseBody('cash.moved', {
    shift: options.shift ?? SHIFT,
    currency: options.currency ?? 'EUR',
    direction: CASH_MOVEMENT_REASONS[reason],
    amount,
    reason,
  });
}

function close(countedCash: number, options: { shift?: string; currency?: string } = {}): ShiftClosedBody {
  return parseBody('shift.closed', { shift: options.shift ?? SHIFT, currency: options.currency ?? 'EUR', countedCash });
}

function open(openingFloat = 10_000): Shift {
  return openShift(SHIFT, parseBody('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat }));
}

function expectDomainError(run: () => unknown, code: DomainErrorCode): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof DomainError, `expected a DomainError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

describe('shift flow', () => {
  it('opens with the float and nothing taken', () => {
    const shift = open(10_000);
    assert.deepEqual(shift, {
      id: SHIFT,
      clerk: 'ana',
      currency: 'EUR',
      status: 'open',
      openingFloat: 10_000,
      sales: 0,
      salesTotal: 0,
      cashSales: 0,
      cardSales: 0,
      cashIn: 0,
      cashOut: 0,
      countedCash: null,
    });
    assert.equal(expectedCash(shift), 10_000);
    assert.equal(cashVariance(shift), null);
  });

  it('sales, cash movements and close add up', () => {
    let shift = open(10_000);
    shift = applySale(shift, sale(1_500, 0, { change: 500 }));
    shift = applySale(shift, sale(0, 2_500));
    shift = applySale(shift, sale(500, 700));
    shift = applySale(shift, sale(0, 0));
    shift = applyCashMovement(shift, move('paid_in', 300));
    shift = applyCashMovement(shift, move('float_in', 200));
    shift = applyCashMovement(shift, move('safe_drop', 5_000));
    shift = applyCashMovement(shift, move('paid_out', 100));
    assert.equal(shift.sales, 4);
    assert.equal(shift.salesTotal, 5_200);
    assert.equal(shift.cashSales, 2_000);
    assert.equal(shift.cardSales, 3_200);
    assert.equal(shift.cashIn, 500);
    assert.equal(shift.cashOut, 5_100);
    // Change handed back is not cash kept: 10000 + 2000 + 500 − 5100.
    assert.equal(expectedCash(shift), 7_400);
    assert.equal(cashVariance(shift), null);

    const short = closeShift(shift, close(7_350));
    assert.equal(short.status, 'closed');
    assert.equal(short.countedCash, 7_350);
    assert.equal(cashVariance(short), -50);
    assert.equal(cashVariance(closeShift(shift, close(7_400))), 0);
    assert.equal(cashVariance(closeShift(shift, close(7_500))), 100);
    assert.equal(cashVariance(closeShift(shift, close(0))), -7_400);
  });

  it('tenderSplit separates cash, card and wristband amounts', () => {
    assert.deepEqual(tenderSplit(sale(300, 700, { change: 200 })), { cash: 300, card: 700, wristband: 0 });
    assert.deepEqual(tenderSplit(sale(0, 0)), { cash: 0, card: 0, wristband: 0 });
    const band = { type: 'wristband' as const, amount: 400, wristband: '04A1B2C3', counter: 2, balanceBefore: 900 };
    const mixed = { ...sale(300, 0), total: 700, tenders: [...sale(300, 0).tenders, band] };
    assert.deepEqual(tenderSplit(mixed), { cash: 300, card: 0, wristband: 400 });
  });

  it('a cash top-up is cash in the drawer; a card top-up is not', () => {
    const shift = open(1_000);
    const topUp = {
      shift: shift.id,
      currency: shift.currency,
      wristband: '04A1B2C3',
      amount: 2_000,
      counter: 1,
      balanceBefore: 0,
      paid: 'cash' as const,
    };
    assert.equal(expectedCash(applyTopUp(shift, topUp)), 3_000);
    const card = { token: 'tok_4242abcd', brand: 'visa' as const, last4: '4242' };
    assert.equal(expectedCash(applyTopUp(shift, { ...topUp, paid: 'card', card })), 1_000);
    assert.throws(() => applyTopUp(closeShift(shift, close(1_000)), topUp), /closed/);
  });

  it('never changes the shift it is given', () => {
    const shift = Object.freeze(open(1_000));
    const snapshot = { ...shift };
    const after = applyCashMovement(applySale(shift, sale(100, 100)), move('paid_in', 5));
    closeShift(after, close(0));
    assert.deepEqual(shift, snapshot);
  });
});

describe('shift errors', () => {
  it('shift_not_open: nothing applies to a closed shift', () => {
    const closed = closeShift(open(), close(10_000));
    expectDomainError(() => applySale(closed, sale(100, 0)), 'shift_not_open');
    expectDomainError(() => applyCashMovement(closed, move('paid_in', 100)), 'shift_not_open');
    expectDomainError(() => closeShift(closed, close(10_000)), 'shift_not_open');
  });

  it('shift_mismatch: an op for another shift', () => {
    const shift = open();
    expectDomainError(() => applySale(shift, sale(100, 0, { shift: OTHER_SHIFT })), 'shift_mismatch');
    expectDomainError(() => applyCashMovement(shift, move('paid_in', 1, { shift: OTHER_SHIFT })), 'shift_mismatch');
    expectDomainError(() => closeShift(shift, close(0, { shift: OTHER_SHIFT })), 'shift_mismatch');
  });

  it('currency_mismatch: an op in another currency', () => {
    const shift = open();
    expectDomainError(() => applySale(shift, sale(100, 0, { currency: 'USD' })), 'currency_mismatch');
    expectDomainError(() => applyCashMovement(shift, move('paid_in', 1, { currency: 'USD' })), 'currency_mismatch');
    expectDomainError(() => closeShift(shift, close(0, { currency: 'USD' })), 'currency_mismatch');
  });

  it('insufficient_cash: moving out more than the drawer holds; exactly all of it is fine', () => {
    let shift = open(1_000);
    shift = applySale(shift, sale(500, 9_000));
    shift = applyCashMovement(shift, move('paid_in', 200));
    assert.equal(expectedCash(shift), 1_700);
    expectDomainError(() => applyCashMovement(shift, move('safe_drop', 1_701)), 'insufficient_cash');
    expectDomainError(() => applyCashMovement(shift, move('paid_out', 1_701)), 'insufficient_cash');
    const emptied = applyCashMovement(shift, move('safe_drop', 1_700));
    assert.equal(expectedCash(emptied), 0);
    expectDomainError(() => applyCashMovement(emptied, move('paid_out', 1)), 'insufficient_cash');
    // Card takings are not in the drawer.
    expectDomainError(() => applyCashMovement(open(0), move('paid_out', 1)), 'insufficient_cash');
  });

  it('total_out_of_range: a running total may reach MAX_SHIFT_TOTAL, not pass it; the shift is left as it was', () => {
    const full: Shift = { ...open(0), cashIn: MAX_SHIFT_TOTAL - 10, salesTotal: MAX_SHIFT_TOTAL - 10 };
    const reached = applyCashMovement(full, move('paid_in', 10));
    assert.equal(reached.cashIn, MAX_SHIFT_TOTAL);
    expectDomainError(() => applyCashMovement(reached, move('paid_in', 1)), 'total_out_of_range');
    expectDomainError(() => applySale(full, sale(11, 0)), 'total_out_of_range');
    const paid = applyTopUp(reached, {
      wristband: 'WB-1',
      shift: SHIFT,
      currency: 'EUR',
      amount: 1,
      paid: 'card',
      counter: 1,
      balanceBefore: 0,
      balanceAfter: 1,
    } as Parameters<typeof applyTopUp>[1]);
    assert.equal(paid.cashIn, MAX_SHIFT_TOTAL, 'a card top-up does not touch the drawer');
    // Even from a total already past the bound (stored before the bound existed), nothing grows.
    const poisoned: Shift = { ...open(0), cashIn: 2 ** 53 + 2 };
    expectDomainError(() => applyCashMovement(poisoned, move('paid_in', 1)), 'total_out_of_range');
    assert.ok(4 * MAX_SHIFT_TOTAL < Number.MAX_SAFE_INTEGER, 'expected cash, a sum of four totals, stays exact');
  });

  it('a refused op leaves the shift as it was', () => {
    const shift = open(100);
    const snapshot = structuredClone(shift);
    expectDomainError(() => applyCashMovement(shift, move('safe_drop', 101)), 'insufficient_cash');
    expectDomainError(() => applySale(shift, sale(1, 0, { currency: 'GBP' })), 'currency_mismatch');
    assert.deepEqual(shift, snapshot);
  });

  it('DomainError is an Error with a known code', () => {
    const e = new DomainError('no_open_shift', 'm');
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'DomainError');
    assert.equal(e.message, 'm');
    assert.ok(DOMAIN_ERROR_CODES.includes(e.code));
  });
});

describe('conservation of money (property)', () => {
  type Step =
    | { kind: 'sale'; cash: number; card: number; change: number }
    | { kind: 'move'; reason: CashMovementReason; amount: number };

  const saleStep = fc.record({
    kind: fc.constant('sale' as const),
    cash: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_000_000 })),
    card: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1_000_000 })),
    change: fc.nat({ max: 5_000 }),
  });
  const moveStep = fc.record({
    kind: fc.constant('move' as const),
    reason: fc.constantFrom(...(Object.keys(CASH_MOVEMENT_REASONS) as CashMovementReason[])),
    amount: fc.integer({ min: 1, max: 2_000_000 }),
  });

  it('expectedCash = float + Σcash tenders + Σin − Σout, and salesTotal = cashSales + cardSales', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1_000_000 }),
        fc.array(fc.oneof(saleStep, moveStep), { maxLength: 60 }),
        fc.nat({ max: 10_000_000 }),
        (openingFloat, steps: Step[], counted) => {
          let shift = open(openingFloat);
          let cashTenders = 0;
          let cardTenders = 0;
          let cashIn = 0;
          let cashOut = 0;
          let sales = 0;
          for (const step of steps) {
            if (step.kind === 'sale') {
              shift = applySale(shift, sale(step.cash, step.card, { change: step.change }));
              cashTenders += step.cash;
              cardTenders += step.card;
              sales++;
            } else if (CASH_MOVEMENT_REASONS[step.reason] === 'in') {
              shift = applyCashMovement(shift, move(step.reason, step.amount));
              cashIn += step.amount;
            } else if (step.amount > openingFloat + cashTenders + cashIn - cashOut) {
              const before = shift;
              expectDomainError(() => applyCashMovement(before, move(step.reason, step.amount)), 'insufficient_cash');
            } else {
              shift = applyCashMovement(shift, move(step.reason, step.amount));
              cashOut += step.amount;
            }
            assert.equal(expectedCash(shift), openingFloat + cashTenders + cashIn - cashOut);
            assert.ok(expectedCash(shift) >= 0, 'the drawer never goes negative');
            assert.equal(shift.salesTotal, shift.cashSales + shift.cardSales);
          }
          assert.equal(shift.sales, sales);
          assert.equal(shift.cashSales, cashTenders);
          assert.equal(shift.cardSales, cardTenders);
          assert.equal(shift.salesTotal, cashTenders + cardTenders);
          assert.equal(shift.cashIn, cashIn);
          assert.equal(shift.cashOut, cashOut);
          const closed = closeShift(shift, close(counted));
          assert.equal(cashVariance(closed), counted - (openingFloat + cashTenders + cashIn - cashOut));
          assert.equal(expectedCash(closed), expectedCash(shift));
        },
      ),
      { numRuns: 500 },
    );
  });
});
