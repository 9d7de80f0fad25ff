/**
 * Cash corrections at the till (cash-corrections.ts; docs/corrections.md,
 * "Cash corrections"): a wrong `cash.moved` corrected by cash moved the
 * opposite way, approved offline by a supervisor's PIN against the roster,
 * refused before anything is written when the till can see it is wrong.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DomainError } from '@holdfast/domain';
import {
  generateDeviceKeys,
  makeStaffVerifier,
  type Roster,
  type RosterEntry,
  signRoster,
  ValidationError,
} from '@holdfast/protocol';
import { clerkMessage } from './clerk-messages.js';
import { CorrectionRefusedError } from './errors.js';
import { StaffError } from './staff.js';
import { createHarness, type Harness, openTill } from './testing/harness.js';

const KEYS = generateDeviceKeys();
const ANA: RosterEntry = { id: 'ana', name: 'Ana', role: 'clerk', pin: makeStaffVerifier('4821'), badge: null };
const BEA: RosterEntry = { id: 'bea', name: 'Bea', role: 'supervisor', pin: makeStaffVerifier('7390'), badge: null };
const CAL: RosterEntry = { id: 'cal', name: 'Cal', role: 'clerk', pin: makeStaffVerifier('1111'), badge: null };
const DEE: RosterEntry = { id: 'dee', name: 'Dee', role: 'supervisor', pin: makeStaffVerifier('2222'), badge: null };
const roster: Roster = { v: 1, location: 'hall-a', version: 1, issuedAt: 1, staff: [ANA, BEA, CAL, DEE] };
const BEA_OK = { staff: 'bea', pin: '7390' };

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
const staffRefused = (code: StaffError['code']) => (error: unknown) => {
  assert.ok(error instanceof StaffError, String(error));
  assert.equal(error.code, code, error.message);
  return true;
};

describe('cash corrections at the till', () => {
  test('a float keyed ten times too high is corrected offline in two parts; the close shows no variance', async () => {
    const h = await staffedTill();
    try {
      h.net.down = true; // approval and recording need no server
      openTill(h.terminal);
      const float = h.terminal.recordCashMovement({ direction: 'in', reason: 'float_in', amount: 50_000 });
      const first = h.terminal.correctCashMovement({
        movement: float.id,
        amount: 40_000,
        reason: 'keyed 500.00 for 50.00',
        approvedBy: BEA_OK,
      });
      assert.deepEqual(h.terminal.getOp(first.id)?.op.actor, { staff: 'ana', approvedBy: 'bea' });
      assert.deepEqual(h.terminal.getOp(first.id)?.op.body, {
        shift: h.terminal.currentShift()?.id,
        currency: 'EUR',
        movement: float.id,
        direction: 'out',
        amount: 40_000,
        reason: 'keyed 500.00 for 50.00',
      });
      // The rest by default: all that is left.
      const rest = h.terminal.correctCashMovement({ movement: float.id, reason: 'the rest', approvedBy: BEA_OK });
      assert.equal((h.terminal.getOp(rest.id)?.op.body as { amount?: number } | undefined)?.amount, 10_000);
      const seq = h.terminal.status().latestSeq;
      assert.throws(
        () => h.terminal.correctCashMovement({ movement: float.id, reason: 'again', approvedBy: BEA_OK }),
        refused('cash_correction_over', /corrected in full/),
      );
      assert.throws(
        () => h.terminal.correctCashMovement({ movement: float.id, amount: 1, reason: 'again', approvedBy: BEA_OK }),
        refused('cash_correction_over', /above what is left/),
      );
      assert.equal(h.terminal.status().latestSeq, seq, 'nothing recorded');
      const shift = h.terminal.currentShift();
      assert.deepEqual([shift?.cashIn, shift?.cashOut], [50_000, 50_000]);
      // The slip names the movement by this till's receipt number, the approver and the reason.
      const slip = h.terminal.receipt(first.id);
      assert.equal(slip.type, 'slip');
      if (slip.type === 'slip') {
        assert.deepEqual(
          [slip.slip, slip.reference.kind, slip.reference.id, slip.cash, slip.drawer, slip.approvedBy, slip.reason],
          ['cash_correction', 'cash_movement', float.id, 40_000, undefined, 'bea', 'keyed 500.00 for 50.00'],
        );
      }
      const close = h.terminal.closeShift({ countedCash: 10_000 });
      const z = h.terminal.receipt(close.id);
      assert.equal(z.type, 'z_report');
      if (z.type === 'z_report') {
        assert.equal(z.variance, 0);
        assert.deepEqual(
          z.kinds.find((k) => k.name === 'cash.corrected.out'),
          { name: 'cash.corrected.out', count: 2, amount: 50_000 },
        );
      }
    } finally {
      await h.cleanup();
    }
  });

  test('a safe drop keyed too high brings cash back in, with a slip that prints it as cash in', async () => {
    const h = await staffedTill();
    try {
      openTill(h.terminal);
      const drop = h.terminal.recordCashMovement({ direction: 'out', reason: 'safe_drop', amount: 8_000 });
      const back = h.terminal.correctCashMovement({
        movement: drop.id,
        amount: 5_000,
        reason: 'only 30.00 went to the safe',
        approvedBy: BEA_OK,
      });
      assert.equal((h.terminal.getOp(back.id)?.op.body as { direction?: string } | undefined)?.direction, 'in');
      assert.equal(h.terminal.currentShift()?.cashIn, 5_000);
      const slip = h.terminal.receipt(back.id);
      assert.ok(slip.type === 'slip' && slip.drawer === 'in');
    } finally {
      await h.cleanup();
    }
  });

  test('refused: unknown movement, another kind, no approver, the clerk or a clerk approving, no shift', async () => {
    const h = await staffedTill();
    try {
      assert.throws(
        () => h.terminal.correctCashMovement({ movement: 'x', reason: 'r', approvedBy: BEA_OK }),
        (e: unknown) => e instanceof DomainError && e.code === 'no_open_shift',
      );
      openTill(h.terminal);
      const paidIn = h.terminal.recordCashMovement({ direction: 'in', reason: 'paid_in', amount: 3_000 });
      const seq = h.terminal.status().latestSeq;
      const unknown = '01890000-0000-7000-8000-000000000001';
      assert.throws(
        () => h.terminal.correctCashMovement({ movement: unknown, reason: 'r', approvedBy: BEA_OK }),
        refused('cash_correction_invalid', /not one this till recorded/),
      );
      const shiftId = h.terminal.currentShift()?.id ?? '';
      assert.throws(
        () => h.terminal.correctCashMovement({ movement: shiftId, reason: 'r', approvedBy: BEA_OK }),
        refused('cash_correction_invalid'),
        'a shift.opened is not a cash movement',
      );
      const missing = { movement: paidIn.id, reason: 'r' } as Parameters<typeof h.terminal.correctCashMovement>[0];
      assert.throws(() => h.terminal.correctCashMovement(missing), staffRefused('approval_required'));
      assert.throws(
        () =>
          h.terminal.correctCashMovement({
            movement: paidIn.id,
            reason: 'r',
            approvedBy: { staff: 'ana', pin: '4821' },
          }),
        refused('approver_is_clerk'),
      );
      assert.throws(
        () =>
          h.terminal.correctCashMovement({
            movement: paidIn.id,
            reason: 'r',
            approvedBy: { staff: 'cal', pin: '1111' },
          }),
        staffRefused('approval_role'),
      );
      assert.throws(
        () =>
          h.terminal.correctCashMovement({
            movement: paidIn.id,
            reason: 'r',
            approvedBy: { staff: 'bea', pin: '0000' },
          }),
        staffRefused('wrong_pin'),
      );
      assert.throws(
        () => h.terminal.correctCashMovement({ movement: paidIn.id, amount: 0, reason: 'r', approvedBy: BEA_OK }),
        (e: unknown) => e instanceof ValidationError && e.field === 'body.amount',
      );
      assert.throws(
        () => h.terminal.correctCashMovement({ movement: paidIn.id, reason: '', approvedBy: BEA_OK }),
        (e: unknown) => e instanceof ValidationError && e.field === 'body.reason',
      );
      assert.equal(h.terminal.status().latestSeq, seq, 'nothing recorded');
      // A supervisor signed in as the recorder cannot approve their own correction either.
      h.terminal.signIn({ staff: 'dee' }, '2222');
      assert.throws(
        () =>
          h.terminal.correctCashMovement({
            movement: paidIn.id,
            reason: 'r',
            approvedBy: { staff: 'dee', pin: '2222' },
          }),
        refused('approver_is_clerk'),
      );
      const ok = h.terminal.correctCashMovement({ movement: paidIn.id, reason: 'r', approvedBy: BEA_OK });
      assert.deepEqual(h.terminal.getOp(ok.id)?.op.actor, { staff: 'dee', approvedBy: 'bea' });
    } finally {
      await h.cleanup();
    }
  });

  test('a till without a roster cannot approve; an overdraw of the drawer is refused', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      openTill(h.terminal);
      const paidIn = h.terminal.recordCashMovement({ direction: 'in', reason: 'paid_in', amount: 3_000 });
      assert.throws(
        () => h.terminal.correctCashMovement({ movement: paidIn.id, reason: 'r', approvedBy: BEA_OK }),
        refused('approval_missing'),
      );
    } finally {
      await h.cleanup();
    }
    const s = await staffedTill();
    try {
      openTill(s.terminal);
      const paidIn = s.terminal.recordCashMovement({ direction: 'in', reason: 'paid_in', amount: 3_000 });
      s.terminal.recordCashMovement({ direction: 'out', reason: 'safe_drop', amount: 13_000 });
      assert.throws(
        () => s.terminal.correctCashMovement({ movement: paidIn.id, reason: 'r', approvedBy: BEA_OK }),
        (e: unknown) => e instanceof DomainError && e.code === 'insufficient_cash',
      );
    } finally {
      await s.cleanup();
    }
  });

  test('the clerk is told in their language', () => {
    for (const code of ['cash_correction_invalid', 'cash_correction_over', 'approver_is_clerk'] as const) {
      const e = new CorrectionRefusedError(code, 'x');
      assert.notEqual(clerkMessage(e, 'en'), clerkMessage(e, 'es'));
      assert.notEqual(clerkMessage(e, 'en'), clerkMessage(e, 'pt'));
      assert.doesNotMatch(clerkMessage(e, 'en'), /Refused/);
    }
    assert.match(clerkMessage(new DomainError('no_open_shift', 'x'), 'en'), /No shift is open/);
  });
});
