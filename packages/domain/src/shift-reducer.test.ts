import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OP_KINDS, type OpBodies, parseBody, uuidv7 } from '@holdfast/protocol';
import { DomainError } from './errors.js';
import { applyCashMovement, applySale, expectedCash, openShift, type Shift } from './shift.js';
import { reduceShift, SHIFT_RULES } from './shift-reducer.js';

const SHIFT = uuidv7(1_700_000_000_000, new Uint8Array(10).fill(1));
const OP = uuidv7(1_700_000_000_001, new Uint8Array(10).fill(2));

const opened = parseBody('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 1_000 });
const cashSale = parseBody('sale.recorded', {
  shift: SHIFT,
  currency: 'EUR',
  lines: [{ sku: 'ITEM', name: 'Item', qty: 1, unitPrice: 500 }],
  total: 500,
  tenders: [{ type: 'cash', amount: 500, tendered: 500 }],
});
const dropAll = (amount: number): OpBodies['cash.moved'] =>
  parseBody('cash.moved', { shift: SHIFT, currency: 'EUR', direction: 'out', amount, reason: 'safe_drop' });

function open(): Shift {
  return openShift(SHIFT, opened);
}

describe('shift reducer', () => {
  it('names an effect for every op kind: one opens, one closes, tickets move drawer cash, loyalty points and stock none', () => {
    const byEffect = (effect: string) => OP_KINDS.filter((k) => SHIFT_RULES[k].effect === effect).sort();
    assert.deepEqual(byEffect('opens'), ['shift.opened']);
    assert.deepEqual(byEffect('closes'), ['shift.closed']);
    assert.deepEqual(byEffect('none'), ['loyalty.points', 'stock.adjusted', 'stock.counted', 'stock.received']);
    assert.deepEqual(byEffect('within'), [
      'cash.corrected',
      'cash.moved',
      'sale.recorded',
      'sale.refunded',
      'sale.voided',
      'ticket.issued',
      'ticket.paid',
      'ticket.voided',
      'wallet.refunded',
      'wallet.topped_up',
      'wallet.topup_reversed',
    ]);
  });

  it('opens a shift named by the op id, and applies an op within it as the shift rules do', () => {
    assert.deepEqual(reduceShift(null, OP, 'shift.opened', opened), openShift(OP, opened));
    assert.deepEqual(reduceShift(open(), OP, 'sale.recorded', cashSale), applySale(open(), cashSale));
    const closed = reduceShift(open(), OP, 'shift.closed', {
      shift: SHIFT,
      currency: 'EUR',
      countedCash: 900,
    });
    assert.equal(closed?.status, 'closed');
    assert.equal(closed?.countedCash, 900);
  });

  it('counts a stake into the drawer and a payout or void out of it: an honest close balances', () => {
    const ticket = { shift: SHIFT, currency: 'EUR', stake: 10_000 } as OpBodies['ticket.issued'];
    const paid = { shift: SHIFT, currency: 'EUR', amount: 25_000 } as OpBodies['ticket.paid'];
    const voided = { shift: SHIFT, currency: 'EUR', amount: 10_000 } as OpBodies['ticket.voided'];
    let shift = reduceShift(open(), OP, 'ticket.issued', ticket) as Shift;
    assert.equal(expectedCash(shift), 11_000);
    shift = reduceShift(shift, OP, 'ticket.issued', ticket) as Shift;
    shift = reduceShift(shift, OP, 'ticket.voided', voided) as Shift;
    assert.equal(expectedCash(shift), 11_000);
    assert.throws(
      () => reduceShift(shift, OP, 'ticket.paid', paid),
      (e: unknown) => e instanceof DomainError && e.code === 'insufficient_cash',
    );
    shift = reduceShift(shift, OP, 'ticket.paid', paid, { allowOverdraw: true }) as Shift;
    assert.equal(expectedCash(shift), 11_000 - 25_000);
    assert.throws(
      () => reduceShift(null, OP, 'ticket.issued', ticket),
      (e: unknown) => e instanceof DomainError && e.code === 'no_open_shift',
    );
  });

  it('a void gives its cash part back out of the drawer, a cash refund its amount, a card refund nothing', () => {
    const sold = { ...cashSale, total: 3_000, tenders: [{ type: 'cash', amount: 3_000, tendered: 3_000 }] };
    let shift = reduceShift(open(), OP, 'sale.recorded', sold as OpBodies['sale.recorded']) as Shift;
    assert.equal(expectedCash(shift), 4_000);
    const refund = (amount: number, tender: 'cash' | 'card') =>
      ({ shift: SHIFT, sale: OP, currency: 'EUR', amount, tender }) as OpBodies['sale.refunded'];
    shift = reduceShift(shift, OP, 'sale.refunded', refund(500, 'card')) as Shift;
    assert.equal(expectedCash(shift), 4_000);
    shift = reduceShift(shift, OP, 'sale.refunded', refund(500, 'cash')) as Shift;
    assert.equal(expectedCash(shift), 3_500);
    const voided = { shift: SHIFT, sale: OP, currency: 'EUR', cash: 2_500, card: 700 } as OpBodies['sale.voided'];
    shift = reduceShift(shift, OP, 'sale.voided', voided) as Shift;
    assert.equal(expectedCash(shift), 1_000);
    assert.throws(
      () => reduceShift(shift, OP, 'sale.refunded', refund(1_001, 'cash')),
      (e: unknown) => e instanceof DomainError && e.code === 'insufficient_cash',
    );
    assert.throws(
      () => reduceShift(shift, OP, 'sale.voided', { ...voided, currency: 'USD' }),
      (e: unknown) => e instanceof DomainError && e.code === 'currency_mismatch',
    );
  });

  it('refuses an overdraw unless allowed, as applyCashMovement does', () => {
    const shift = open();
    assert.throws(
      () => reduceShift(shift, OP, 'cash.moved', dropAll(5_000)),
      (e: unknown) => e instanceof DomainError && e.code === 'insufficient_cash',
    );
    const overdrawn = reduceShift(shift, OP, 'cash.moved', dropAll(5_000), { allowOverdraw: true });
    assert.deepEqual(overdrawn, applyCashMovement(shift, dropAll(5_000), { allowOverdraw: true }));
    assert.equal(overdrawn && expectedCash(overdrawn), -4_000);
  });

  it('throws no_open_shift for an op within a shift given none', () => {
    assert.throws(
      () => reduceShift(null, OP, 'sale.recorded', cashSale),
      (e: unknown) => e instanceof DomainError && e.code === 'no_open_shift',
    );
  });
});
