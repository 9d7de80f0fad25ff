/**
 * Wristband top-up reversal at the till (Terminal.reverseTopUp;
 * docs/wristbands.md, "Top-up reversal"): the cash goes back out of the
 * drawer and the chip is debited once, with a supervisor's approval from
 * the roster; what the till can see is wrong is refused before anything is
 * written.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { COLUMNS, expectedCash, negotiateLocale, receiptNumber, receiptText } from '@holdfast/domain';
import {
  generateDeviceKeys,
  makeStaffVerifier,
  type Roster,
  type RosterEntry,
  signRoster,
  uuidv7,
  type WalletTopUpReversedBody,
} from '@holdfast/protocol';
import { clerkMessage } from './clerk-messages.js';
import { TopUpReversalRefusedError } from './errors.js';
import { StaffError } from './staff.js';
import type { Terminal } from './terminal.js';
import { createHarness, type Harness, openTill } from './testing/harness.js';
import { SimulatedWristband } from './testing/simulated-wristband.js';

const KEYS = generateDeviceKeys();
const ANA: RosterEntry = { id: 'ana', name: 'Ana', role: 'clerk', pin: makeStaffVerifier('4821'), badge: null };
const BEA: RosterEntry = { id: 'bea', name: 'Bea', role: 'supervisor', pin: makeStaffVerifier('7390'), badge: null };
const CAI: RosterEntry = { id: 'cai', name: 'Cai', role: 'supervisor', pin: makeStaffVerifier('1357'), badge: null };
const roster: Roster = { v: 1, location: 'hall-a', version: 1, issuedAt: 1, staff: [ANA, BEA, CAI] };
const UID = '04A1B2C3D4E5F6';
const CARD = { token: 'tok_visa_4242', brand: 'visa' as const, last4: '4242' };

/** A till at a location with a roster, `clerk` signed in and a shift of theirs open (float 100.00 EUR). */
async function staffedTill(options: { roster?: boolean; clerk?: 'ana' | 'bea' } = {}): Promise<Harness> {
  const h = await createHarness({ enroll: false, autoSync: false });
  const clerk = options.clerk ?? 'ana';
  h.server.policyKeys = { k1: KEYS.publicKey };
  const { deviceId } = await h.terminal.enroll(h.server.createToken('till-1'), 'till-1');
  h.server.placements.set(deviceId, { merchant: 'acme', location: 'hall-a', event: null });
  if (options.roster !== false) {
    h.server.roster = signRoster(roster, KEYS.privateKey, 'k1');
    await h.terminal.pollFeed();
    h.terminal.signIn({ staff: clerk }, clerk === 'ana' ? '4821' : '7390');
  }
  openTill(h.terminal, clerk);
  return h;
}

async function withTill(
  fn: (h: Harness) => void | Promise<void>,
  options?: Parameters<typeof staffedTill>[0],
): Promise<void> {
  const h = await staffedTill(options);
  try {
    await fn(h);
  } finally {
    await h.cleanup();
  }
}

/** A wristband topped up in cash with `amount` on this till; returns it and the top-up's op id. */
function toppedUp(t: Terminal, amount: number): { band: SimulatedWristband; topUp: string } {
  const band = new SimulatedWristband(UID, 'EUR');
  const r = t.topUpWristband({ reader: band, amount, paid: 'cash' });
  assert.equal(r.chipWritten, true);
  return { band, topUp: r.op.id };
}

/** Bea approves the reversal `input` would record. */
function approve(t: Terminal, input: { topUp: string; amount?: number }, who = 'bea', pin = '7390'): void {
  t.approve({ kind: 'wallet.topup_reversed', body: t.reverseTopUpBody(input) }, { staff: who }, pin);
}

const refused = (code: TopUpReversalRefusedError['code'], message?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof TopUpReversalRefusedError, String(error));
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  return true;
};

describe('wristband top-up reversal at the till', () => {
  test('a mistaken cash top-up: the chip is debited, the cash leaves the drawer, an honest close balances', () =>
    withTill((h) => {
      const t = h.terminal;
      const { band, topUp } = toppedUp(t, 5_000);
      assert.equal(expectedCash(t.currentShift() ?? assert.fail('open shift')), 15_000);
      // Without an approval nothing is recorded and the chip is untouched.
      const seq = t.status().latestSeq;
      assert.throws(
        () => t.reverseTopUp({ reader: band, topUp }),
        (e: unknown) => e instanceof StaffError && e.code === 'approval_required',
      );
      assert.deepEqual([band.image().balance, band.image().counter, t.status().latestSeq], [5_000, 1, seq]);
      approve(t, { topUp });
      const r = t.reverseTopUp({ reader: band, topUp, reason: 'loaded 50 instead of 5' });
      assert.equal(r.chipWritten, true);
      assert.deepEqual(band.image(), { uid: UID, currency: 'EUR', balance: 0, counter: 2 });
      const entry = t.getOp(r.op.id) ?? assert.fail('recorded');
      assert.equal(entry.kind, 'wallet.topup_reversed');
      assert.deepEqual(entry.op.actor, { staff: 'ana', approvedBy: 'bea' });
      const body = entry.op.body as WalletTopUpReversedBody;
      assert.deepEqual(
        [body.topup, body.wristband, body.amount, body.counter, body.balanceBefore, body.reason],
        [topUp, UID, 5_000, 2, 5_000, 'loaded 50 instead of 5'],
      );
      assert.deepEqual(t.pendingWristbandWrites(), []);
      // The reversal slip: the top-up by this till's number, the cash out, the chip after, who approved it.
      const slip = t.receipt(r.op.id);
      assert.ok(slip.type === 'slip');
      assert.deepEqual(
        [slip.slip, slip.reference, slip.amount, slip.cash, slip.card, slip.wristband, slip.staff, slip.approvedBy],
        [
          'topup_reversal',
          { kind: 'topup', id: topUp, number: receiptNumber(entry.op.device, t.getOp(topUp)?.seq ?? 0) },
          5_000,
          5_000,
          null,
          { uid: UID, balanceAfter: 0 },
          'ana',
          'bea',
        ],
      );
      for (const paper of [58, 80] as const) {
        const text = receiptText(slip, { locale: negotiateLocale('es-MX'), paper });
        assert.match(text, /ANULACIÓN DE RECARGA/);
        assert.match(text, new RegExp(`Pulsera ${UID}`));
        assert.match(text, /Aprobado por: bea/);
        for (const line of text.split('\n')) assert.ok(line.length <= COLUMNS[paper], `${paper} mm: "${line}"`);
      }
      const shift = t.currentShift() ?? assert.fail('open shift');
      assert.deepEqual([shift.cashOut, expectedCash(shift)], [5_000, 10_000]);
      // The Z report of an honest close: no variance.
      const z = t.receipt(t.closeShift({ countedCash: 10_000 }).id);
      assert.ok(z.type === 'z_report');
      assert.deepEqual([z.cashOut, z.expectedCash, z.countedCash, z.variance], [5_000, 10_000, 10_000, 0]);
    }));

  test('a part, then the rest; a third reversal is refused as reversed already, more than is left as over', () =>
    withTill((h) => {
      const t = h.terminal;
      const { band, topUp } = toppedUp(t, 5_000);
      assert.throws(() => t.reverseTopUpBody({ topUp, amount: 5_001 }), refused('topup_reversal_over'));
      approve(t, { topUp, amount: 2_000 });
      t.reverseTopUp({ reader: band, topUp, amount: 2_000 });
      assert.equal(t.reverseTopUpBody({ topUp }).amount, 3_000, 'the default is what is left');
      assert.throws(
        () => t.reverseTopUpBody({ topUp, amount: 3_001 }),
        refused('topup_reversal_over', /2,000\.00|20\.00/),
      );
      approve(t, { topUp });
      t.reverseTopUp({ reader: band, topUp });
      assert.deepEqual([band.image().balance, band.image().counter], [0, 3]);
      assert.throws(() => t.reverseTopUpBody({ topUp }), refused('topup_already_reversed'));
      assert.equal(t.currentShift()?.cashOut, 5_000);
    }));

  test('a card top-up goes back to its card: the chip is debited, nothing leaves the drawer', () =>
    withTill((h) => {
      const t = h.terminal;
      const band = new SimulatedWristband(UID, 'EUR');
      const topUp = t.topUpWristband({ reader: band, amount: 2_500, paid: 'card', card: CARD }).op.id;
      const fields = t.reverseTopUpBody({ topUp });
      assert.equal(fields.tender, 'card');
      approve(t, { topUp });
      const r = t.reverseTopUp({ reader: band, topUp });
      assert.deepEqual([band.image().balance, band.image().counter], [0, 2]);
      const body = t.getOp(r.op.id)?.op.body as WalletTopUpReversedBody;
      assert.deepEqual([body.tender, body.amount], ['card', 2_500]);
      const shift = t.currentShift() ?? assert.fail('open shift');
      assert.deepEqual([shift.cashOut, expectedCash(shift)], [0, 10_000]);
      const slip = t.receipt(r.op.id);
      assert.ok(slip.type === 'slip');
      assert.deepEqual([slip.cash, slip.card], [0, { amount: 2_500, brand: null, last4: null }]);
    }));

  test('the chip write cut short, then retried: one chip debit and one op', () =>
    withTill((h) => {
      const t = h.terminal;
      const { band, topUp } = toppedUp(t, 4_000);
      approve(t, { topUp });
      band.failNextWrite();
      const first = t.reverseTopUp({ reader: band, topUp });
      assert.equal(first.chipWritten, false);
      assert.match(first.writeError ?? '', /left the reader/);
      assert.deepEqual([band.image().balance, band.image().counter], [4_000, 1], 'the chip is not written yet');
      assert.deepEqual(
        t.pendingWristbandWrites().map((w) => [w.opId, w.kind, w.balanceAfter, w.sale]),
        [[first.op.id, 'debit', 0, topUp]],
      );
      // The op stands: the cash left the drawer once.
      assert.equal(t.currentShift()?.cashOut, 4_000);
      const seq = t.status().latestSeq;
      // The clerk tries again (even with a fresh approval): the read finishes the first write, and nothing new is
      // recorded or written.
      assert.throws(() => approve(t, { topUp }), refused('topup_already_reversed'));
      assert.throws(() => t.reverseTopUp({ reader: band, topUp }), refused('topup_already_reversed'));
      assert.deepEqual([band.image().balance, band.image().counter], [0, 2], 'debited once, by the first op');
      assert.deepEqual(t.pendingWristbandWrites(), []);
      assert.equal(t.status().latestSeq, seq, 'no second op');
      assert.equal(t.currentShift()?.cashOut, 4_000);
    }));

  test('refusals before anything is written, each with words for the clerk', () =>
    withTill(async (h) => {
      const t = h.terminal;
      const { band, topUp } = toppedUp(t, 5_000);
      const seq = t.status().latestSeq;
      // Not a top-up of this till: an unknown id, or a sale's.
      const unknown = uuidv7(Date.now(), new Uint8Array(10).fill(7));
      assert.throws(() => t.reverseTopUpBody({ topUp: unknown }), refused('topup_unknown'));
      assert.throws(() => t.reverseTopUp({ reader: band, topUp: unknown }), refused('topup_unknown'));
      const sale = t.recordSale({
        lines: [{ sku: 'A', name: 'A', qty: 1, unitPrice: 100 }],
        tenders: [{ type: 'cash', amount: 100, tendered: 100 }],
      });
      assert.throws(() => t.reverseTopUpBody({ topUp: sale.id }), refused('topup_unknown'));
      // Another wristband, topped up by card.
      const other = new SimulatedWristband('04FFEEDDCCBBAA', 'EUR');
      t.topUpWristband({ reader: other, amount: 2_000, paid: 'card', card: CARD });
      // A bad amount names the field.
      assert.throws(() => t.reverseTopUpBody({ topUp, amount: 0 }), /amount/);
      approve(t, { topUp });
      // Another wristband on the reader.
      assert.throws(() => t.reverseTopUp({ reader: other, topUp }), refused('topup_wrong_wristband'));
      // The guest spent it (the chip written by a bar's till since): refused, not given back in cash.
      band.restore({ ...band.image(), balance: 1_200, counter: 4 });
      assert.throws(() => t.reverseTopUp({ reader: band, topUp }), refused('topup_balance_spent', /12\.00/));
      assert.equal(t.status().latestSeq, seq + 2, 'only the sale and the card top-up were recorded');
      assert.deepEqual([band.image().balance, band.image().counter], [1_200, 4]);
      // Part of it is still on the chip: that part can be given back (the approval was never used).
      approve(t, { topUp, amount: 1_200 });
      t.reverseTopUp({ reader: band, topUp, amount: 1_200 });
      assert.deepEqual([band.image().balance, band.image().counter], [0, 5]);
      // Words for the clerk, in each language.
      const spent = new TopUpReversalRefusedError('topup_balance_spent', 'spent');
      assert.match(clerkMessage(spent, 'en'), /spent/);
      assert.match(clerkMessage(spent, 'es-MX'), /se gastó/);
      assert.match(clerkMessage(spent, 'pt-BR'), /foi gasto/);
      // A top-up of an earlier shift.
      t.closeShift({ countedCash: expectedCash(t.currentShift() ?? assert.fail('open')) });
      openTill(t);
      assert.throws(() => t.reverseTopUpBody({ topUp }), refused('topup_other_shift'));
    }));

  test('the approver: not a clerk, not the clerk of the shift; no roster, no reversal', async () => {
    await withTill((h) => {
      const t = h.terminal;
      const { topUp } = toppedUp(t, 3_000);
      // A clerk cannot approve.
      assert.throws(
        () => approve(t, { topUp }, 'ana', '4821'),
        (e: unknown) => e instanceof StaffError && e.code === 'approval_role',
      );
    });
    // Bea runs the shift herself: her own approval does not count, Cai's does.
    await withTill(
      (h) => {
        const t = h.terminal;
        const { band, topUp } = toppedUp(t, 3_000);
        approve(t, { topUp }, 'bea', '7390');
        assert.throws(() => t.reverseTopUp({ reader: band, topUp }), refused('topup_approval_by_clerk'));
        assert.equal(band.image().balance, 3_000);
        h.clock.advance(1_000); // Cai's approval is the newer one.
        approve(t, { topUp }, 'cai', '1357');
        const r = t.reverseTopUp({ reader: band, topUp });
        assert.deepEqual(t.getOp(r.op.id)?.op.actor, { staff: 'bea', approvedBy: 'cai' });
      },
      { clerk: 'bea' },
    );
    await withTill(
      (h) => {
        const t = h.terminal;
        const { band, topUp } = toppedUp(t, 3_000);
        assert.throws(() => t.reverseTopUp({ reader: band, topUp }), refused('approval_missing'));
        assert.equal(band.image().balance, 3_000);
      },
      { roster: false },
    );
  });
});
