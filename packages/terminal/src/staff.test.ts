/**
 * Staff at the till on the terminal (staff.ts): the roster the feed
 * delivers, offline sign-in by id or badge, the persisted lock-out, single-
 * use approvals bound to one op, and the actor stamped on every op.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  badgeDigest,
  type CashMovedBody,
  generateDeviceKeys,
  makeStaffVerifier,
  type Roster,
  type RosterEntry,
  signRoster,
} from '@holdfast/protocol';
import { APPROVAL_TTL_MS, LOCKOUT_BASE_MS, LOCKOUT_THRESHOLD, StaffError, type StaffErrorCode } from './staff.js';
import { cashSale, createHarness, type Harness, openTill } from './testing/harness.js';

const KEYS = generateDeviceKeys();
const BADGE = 'badge-ana-0123456789abcdef';
const ANA: RosterEntry = {
  id: 'ana',
  name: 'Ana',
  role: 'clerk',
  pin: makeStaffVerifier('4821'),
  badge: badgeDigest(BADGE),
};
const BEA: RosterEntry = { id: 'bea', name: 'Bea', role: 'supervisor', pin: makeStaffVerifier('7390'), badge: null };

function roster(version: number, staff: RosterEntry[]): Roster {
  return { v: 1, location: 'hall-a', version, issuedAt: 1, staff };
}

/** An enrolled till at hall-a that has polled the feed once and holds roster v1 (ana, bea). */
async function staffedTill(): Promise<Harness> {
  const h = await createHarness({ enroll: false, autoSync: false });
  h.server.policyKeys = { k1: KEYS.publicKey };
  const { deviceId } = await h.terminal.enroll(h.server.createToken('till-1'), 'till-1');
  h.server.placements.set(deviceId, { merchant: 'acme', location: 'hall-a', event: null });
  h.server.roster = signRoster(roster(1, [ANA, BEA]), KEYS.privateKey, 'k1');
  await h.terminal.pollFeed();
  assert.equal(h.terminal.staffRoster()?.version, 1);
  return h;
}

const code =
  (expected: StaffErrorCode, check: (e: StaffError) => void = () => {}) =>
  (error: unknown) => {
    assert.ok(error instanceof StaffError, String(error));
    assert.equal(error.code, expected, error.message);
    check(error);
    return true;
  };

describe('staff at the till', () => {
  test('signs in offline by id or badge; every op records who; nothing is recorded without someone signed in', async () => {
    const h = await staffedTill();
    try {
      const requests = { ...h.server.requests };
      assert.throws(() => openTill(h.terminal), code('staff_required'));
      assert.equal(h.terminal.status().latestSeq, 0, 'nothing recorded');

      const ana = h.terminal.signIn({ staff: 'ana' }, '4821');
      assert.deepEqual([ana.id, ana.role], ['ana', 'clerk']);
      const shift = openTill(h.terminal);
      const sale = h.terminal.recordSale(cashSale());
      assert.deepEqual(h.terminal.getOp(shift)?.op.actor, { staff: 'ana' });
      assert.deepEqual(h.terminal.getOp(sale.id)?.op.actor, { staff: 'ana' });
      assert.deepEqual(h.server.requests, requests, 'sign-in and recording asked the server nothing');

      h.terminal.signOut();
      assert.equal(h.terminal.currentStaff(), null);
      assert.throws(() => h.terminal.recordSale(cashSale()), code('staff_required'));
      assert.equal(h.terminal.signIn({ badge: BADGE }, '4821').id, 'ana');
      assert.throws(() => h.terminal.signIn({ badge: 'badge-nobody-0123456789' }, '4821'), code('staff_unknown'));
      assert.throws(() => h.terminal.signIn({ staff: 'zed' }, '4821'), code('staff_unknown'));

      // The ops reach the server with their actor, hash intact.
      await h.terminal.syncNow();
      assert.equal(h.terminal.status().pending, 0);
    } finally {
      await h.cleanup();
    }
  });

  test('a till without a roster records as before, with no actor', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      const shift = openTill(h.terminal);
      assert.equal(h.terminal.getOp(shift)?.op.actor, undefined);
      assert.equal('actor' in (h.terminal.getOp(shift)?.op ?? {}), false);
      assert.throws(() => h.terminal.signIn({ staff: 'ana' }, '4821'), code('no_roster'));
    } finally {
      await h.cleanup();
    }
  });

  test(`${LOCKOUT_THRESHOLD} wrong PINs lock the member out on this till; a restart keeps the lock-out`, async () => {
    const h = await staffedTill();
    try {
      for (let i = 1; i < LOCKOUT_THRESHOLD; i++) {
        assert.throws(
          () => h.terminal.signIn({ staff: 'ana' }, '0000'),
          code('wrong_pin', (e) => assert.equal(e.attemptsLeft, LOCKOUT_THRESHOLD - i)),
        );
      }
      assert.throws(
        () => h.terminal.signIn({ staff: 'ana' }, '1111'),
        code('locked_out', (e) => assert.equal(e.retryAfterMs, LOCKOUT_BASE_MS)),
      );
      assert.throws(() => h.terminal.signIn({ staff: 'ana' }, '4821'), code('locked_out'), 'even the right PIN');
      assert.equal(h.terminal.signIn({ staff: 'bea' }, '7390').id, 'bea', 'another member is not locked out');

      const reopened = await h.reopen({ autoSync: false });
      h.clock.advance(LOCKOUT_BASE_MS - 1000);
      assert.throws(
        () => reopened.signIn({ staff: 'ana' }, '4821'),
        code('locked_out', (e) => assert.equal(e.retryAfterMs, 1000)),
      );
      assert.equal(reopened.currentStaff(), null, 'a restart signs the clerk out');
      h.clock.advance(1000);
      assert.equal(reopened.signIn({ staff: 'ana' }, '4821').id, 'ana');
      assert.deepEqual(reopened.staffLockout('ana'), { failures: 0, lockedUntil: null });
      // The next lock-out lasts twice as long.
      for (let i = 0; i < LOCKOUT_THRESHOLD - 1; i++) assert.throws(() => reopened.signIn({ staff: 'ana' }, '0000'));
      assert.throws(
        () => reopened.signIn({ staff: 'ana' }, '0000'),
        code('locked_out', (e) => assert.equal(e.retryAfterMs, 2 * LOCKOUT_BASE_MS)),
      );
    } finally {
      await h.cleanup();
    }
  });

  test('an approval is bound to one op (kind and body), used once, expires, and needs the role', async () => {
    const h = await staffedTill();
    try {
      h.terminal.signIn({ staff: 'ana' }, '4821');
      const shift = openTill(h.terminal);
      const payout = { direction: 'out', reason: 'paid_out', amount: 500 } as const;
      const body: CashMovedBody = { shift, currency: 'EUR', ...payout };
      assert.throws(() => h.terminal.recordCashMovement(payout), code('approval_required'));
      // A safe drop needs no approval.
      h.terminal.recordCashMovement({ direction: 'out', reason: 'safe_drop', amount: 100 });
      assert.throws(
        () => h.terminal.approve({ kind: 'cash.moved', body }, { staff: 'ana' }, '4821'),
        code('approval_role'),
      );
      assert.throws(
        () => h.terminal.approve({ kind: 'cash.moved', body }, { staff: 'bea' }, '0000'),
        code('wrong_pin'),
      );
      assert.throws(
        () => h.terminal.approve({ kind: 'sale.recorded', body: { ...body } as never }, { staff: 'bea' }, '7390'),
        code('approval_not_needed'),
      );

      h.terminal.approve({ kind: 'cash.moved', body }, { staff: 'bea' }, '7390');
      assert.throws(
        () => h.terminal.recordCashMovement({ ...payout, amount: 5000 }),
        code('approval_required'),
        'another body',
      );
      const op = h.terminal.recordCashMovement(payout);
      assert.deepEqual(h.terminal.getOp(op.id)?.op.actor, { staff: 'ana', approvedBy: 'bea' });
      assert.throws(() => h.terminal.recordCashMovement(payout), code('approval_required'), 'used once');

      h.terminal.approve({ kind: 'cash.moved', body }, { staff: 'bea' }, '7390');
      h.clock.advance(APPROVAL_TTL_MS);
      assert.throws(() => h.terminal.recordCashMovement(payout), code('approval_required'), 'expired');

      // An approval given for ana's op is not bea's to use.
      h.terminal.approve({ kind: 'cash.moved', body }, { staff: 'bea' }, '7390');
      h.terminal.signIn({ staff: 'bea' }, '7390');
      assert.throws(() => h.terminal.recordCashMovement(payout), code('approval_required'));
    } finally {
      await h.cleanup();
    }
  });

  test('a new roster version removes a member (signed out at once); a forged or foreign roster is refused, the rest of the answer applied', async () => {
    const h = await staffedTill();
    try {
      h.terminal.signIn({ staff: 'ana' }, '4821');
      h.server.roster = signRoster(roster(2, [BEA]), KEYS.privateKey, 'k1');
      await h.terminal.pollFeed();
      assert.equal(h.terminal.staffRoster()?.version, 2);
      assert.equal(h.terminal.currentStaff(), null, 'the removed member is signed out');
      assert.throws(() => h.terminal.signIn({ staff: 'ana' }, '4821'), code('staff_unknown'));

      const forged = signRoster(roster(3, [BEA, { ...ANA, role: 'manager' }]), generateDeviceKeys().privateKey, 'k1');
      h.server.roster = forged;
      h.server.pushFeedEvent('someone-else', 'wristband.blocked', 'op-x', { wristband: '04a1b2c3d4e5f6' });
      const refused = await h.terminal.pollFeed();
      assert.match(String(refused.rosterRefused), /roster\.sig/);
      assert.equal(refused.applied, 1, "the answer's items still apply");
      h.server.roster = signRoster({ ...roster(3, [BEA, ANA]), location: 'hall-b' }, KEYS.privateKey, 'k1');
      assert.match(String((await h.terminal.pollFeed()).rosterRefused), /roster\.location/);
      assert.equal(h.terminal.staffRoster()?.version, 2, 'the roster held is unchanged');
      const reopened = await h.reopen({ autoSync: false });
      assert.equal(reopened.staffRoster()?.version, 2, 'kept in the journal');
    } finally {
      await h.cleanup();
    }
  });
});
