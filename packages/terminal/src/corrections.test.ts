/**
 * Sale voids and refunds at the till (corrections.ts; docs/corrections.md):
 * refused before anything is written when the terminal can see they are
 * wrong, recorded with the supervisor's approval stamped otherwise.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  generateDeviceKeys,
  makeStaffVerifier,
  type Roster,
  type RosterEntry,
  type SaleBody,
  signRoster,
} from '@holdfast/protocol';
import { CorrectionRefusedError } from './errors.js';
import { StaffError } from './staff.js';
import { cardSale, cashSale, createHarness, type Harness, openTill } from './testing/harness.js';

const KEYS = generateDeviceKeys();
const ANA: RosterEntry = { id: 'ana', name: 'Ana', role: 'clerk', pin: makeStaffVerifier('4821'), badge: null };
const BEA: RosterEntry = { id: 'bea', name: 'Bea', role: 'supervisor', pin: makeStaffVerifier('7390'), badge: null };
const roster: Roster = { v: 1, location: 'hall-a', version: 1, issuedAt: 1, staff: [ANA, BEA] };

async function staffedTill(): Promise<Harness> {
  const h = await createHarness({ enroll: false, autoSync: false });
  h.server.policyKeys = { k1: KEYS.publicKey };
  const { deviceId } = await h.terminal.enroll(h.server.createToken('till-1'), 'till-1');
  h.server.placements.set(deviceId, { merchant: 'acme', location: 'hall-a', event: null });
  h.server.roster = signRoster(roster, KEYS.privateKey, 'k1');
  await h.terminal.pollFeed();
  h.terminal.signIn({ staff: 'ana' }, '4821');
  return h;
}

const refused = (code: CorrectionRefusedError['code'], message?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof CorrectionRefusedError, String(error));
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  return true;
};

describe('sale corrections at the till', () => {
  test('a void gives the whole sale back with a supervisor’s approval; twice, or without approval, is refused', async () => {
    const h = await staffedTill();
    try {
      openTill(h.terminal);
      const sale = h.terminal.recordSale(cashSale(4)); // 1 000 cash
      assert.equal(h.terminal.currentShift()?.cashSales, 1_000);
      assert.throws(
        () => h.terminal.voidSale({ sale: sale.id }),
        (e: unknown) => e instanceof StaffError,
      );
      const body = h.terminal.voidSaleBody({ sale: sale.id });
      assert.deepEqual([body.cash, body.card], [1_000, 0]);
      h.terminal.approve({ kind: 'sale.voided', body }, { staff: 'bea' }, '7390');
      const voided = h.terminal.voidSale({ sale: sale.id });
      assert.deepEqual(h.terminal.getOp(voided.id)?.op.actor, { staff: 'ana', approvedBy: 'bea' });
      const shift = h.terminal.currentShift();
      assert.equal((shift?.openingFloat ?? 0) + (shift?.cashSales ?? 0) - (shift?.cashOut ?? 0), 10_000);
      // The void slip names the sale by the receipt number this till printed, and its approver.
      const slip = h.terminal.receipt(voided.id);
      assert.equal(slip.type, 'slip');
      assert.deepEqual(slip.type === 'slip' ? [slip.slip, slip.reference.number, slip.cash, slip.approvedBy] : [], [
        'sale_void',
        h.terminal.receipt(sale.id).number,
        1_000,
        'bea',
      ]);
      const seq = h.terminal.status().latestSeq;
      assert.throws(() => h.terminal.voidSaleBody({ sale: sale.id }), refused('sale_void_invalid', /already voided/));
      assert.throws(() => h.terminal.refundSale({ sale: sale.id, tender: 'cash' }), refused('refund_over_sale'));
      assert.equal(h.terminal.status().latestSeq, seq, 'nothing recorded');
    } finally {
      await h.cleanup();
    }
  });

  test('a void in another shift is refused: refund it instead', async () => {
    const h = await staffedTill();
    try {
      openTill(h.terminal);
      const sale = h.terminal.recordSale(cashSale(2));
      h.terminal.closeShift({ countedCash: 10_500 });
      openTill(h.terminal);
      assert.throws(() => h.terminal.voidSaleBody({ sale: sale.id }), refused('sale_void_invalid', /own shift/));
      assert.throws(
        () => h.terminal.voidSaleBody({ sale: '01a1fdfa-4600-752d-be3a-d367069f4721' }),
        refused('sale_void_invalid', /not recorded on this terminal/),
      );
    } finally {
      await h.cleanup();
    }
  });

  test('refunds by lines and amounts: never more than the sale across refunds; a card refund goes to its card', async () => {
    const h = await staffedTill();
    try {
      openTill(h.terminal);
      const sale = h.terminal.recordSale(cardSale(1_299));
      const first = h.terminal.refundSaleBody({ sale: sale.id, tender: 'card', amount: 1_000 });
      const sold = h.terminal.getOp(sale.id)?.op.body as SaleBody | undefined;
      const paid = sold?.tenders[0] as { token: string; last4: string };
      assert.deepEqual([first.card?.token, first.card?.last4], [paid.token, paid.last4]);
      h.terminal.approve({ kind: 'sale.refunded', body: first }, { staff: 'bea' }, '7390');
      h.terminal.refundSale({ sale: sale.id, tender: 'card', amount: 1_000 });
      assert.equal(h.terminal.currentShift()?.cashOut, 0, 'a card refund leaves the drawer alone');
      assert.throws(
        () => h.terminal.refundSaleBody({ sale: sale.id, tender: 'cash', amount: 300 }),
        refused('refund_over_sale', /1300 given back across corrections of a sale of 1299/),
      );
      const rest = h.terminal.refundSaleBody({ sale: sale.id, tender: 'cash' });
      assert.equal(rest.amount, 299, 'by default what is left');
      assert.throws(
        () => h.terminal.refundSaleBody({ sale: sale.id, tender: 'cash', lines: [{ line: 3, qty: 1 }] }),
        refused('refund_invalid', /line 3: the sale has 1 lines/),
      );
      assert.throws(
        () => h.terminal.refundSaleBody({ sale: sale.id, tender: 'cash', lines: [{ line: 0, qty: 2 }] }),
        refused('refund_over_sale', /line 0: 2 units given back, 1 sold/),
      );
    } finally {
      await h.cleanup();
    }
  });

  test('without a roster no supervisor can approve at the till: corrections are refused', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      const sale = h.terminal.recordSale(cashSale(1));
      assert.throws(() => h.terminal.voidSale({ sale: sale.id }), refused('approval_missing'));
      assert.throws(() => h.terminal.refundSale({ sale: sale.id, tender: 'cash' }), refused('approval_missing'));
    } finally {
      await h.cleanup();
    }
  });
});
