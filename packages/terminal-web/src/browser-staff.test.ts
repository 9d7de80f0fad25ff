/**
 * Staff sign-in at the browser till (browser-staff.ts) on a real journal
 * (better-sqlite3; the browser journal has the same schema), with a roster
 * whose verifiers node:crypto made, as the server does: the right PIN signs
 * in and stamps ops as the Node till does, wrong PINs count down to the
 * same lock-out as the Node till's, kept in the journal across a restart;
 * a member dropped by a newer roster is signed out.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { makeStaffVerifier, type Roster, type SaleBody } from '@holdfast/protocol';
import { Journal } from '@holdfast/terminal';
import { LOCKOUT_BASE_MS, LOCKOUT_THRESHOLD, META } from '@holdfast/terminal/portable';
import { BrowserStaff } from './browser-staff.js';

const ANA_PIN = '4821';
const VERIFIER = makeStaffVerifier(ANA_PIN);

function roster(version: number, staff = ['ana', 'ben']): Roster {
  return {
    v: 1,
    location: 'north',
    version,
    issuedAt: 1,
    staff: staff.map((id) => ({
      id,
      name: id === 'ana' ? 'Ana' : 'Ben',
      role: 'clerk' as const,
      pin: id === 'ben' ? null : VERIFIER,
      badge: null,
    })),
  };
}

const SALE = { currency: 'EUR', total: 350 } as unknown as SaleBody;

function withJournal(fn: (journal: Journal, dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-browser-staff-'));
  const journal = Journal.open(dir);
  return fn(journal, dir).finally(() => {
    if (journal.isOpen) journal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
}

function clockAt(start: number) {
  const clock = { t: start, now: () => clock.t, setTimer: () => ({ cancel: () => undefined }) };
  return clock;
}

describe('BrowserStaff', () => {
  it('without a roster: sign-in says so, and ops are recorded without an actor (as the Node till)', () =>
    withJournal(async (journal) => {
      const staff = new BrowserStaff({ journal: journal as never, clock: clockAt(1000) });
      await assert.rejects(staff.signIn('ana', ANA_PIN), { code: 'no_roster' });
      assert.deepEqual(staff.stamp('sale.recorded', SALE), { actor: undefined, approvalId: null });
      assert.deepEqual(staff.members(), []);
    }));

  it('with a roster: refuses selling until signed in, then stamps { staff } on every op', () =>
    withJournal(async (journal) => {
      journal.setMeta({ [META.roster]: JSON.stringify(roster(1)) });
      const staff = new BrowserStaff({ journal: journal as never, clock: clockAt(1000) });
      assert.throws(() => staff.stamp('sale.recorded', SALE), { code: 'staff_required' });
      assert.throws(() => staff.stamp('shift.opened', {} as never), { code: 'staff_required' });
      const signed = await staff.signIn('ana', ANA_PIN);
      assert.deepEqual(signed, { id: 'ana', name: 'Ana', role: 'clerk', since: 1000 });
      assert.deepEqual(staff.stamp('sale.recorded', SALE), { actor: { staff: 'ana' }, approvalId: null });
      assert.throws(() => staff.stamp('cash.moved', { reason: 'paid_out' } as never), { code: 'approval_required' });
      staff.signOut();
      assert.equal(staff.current(), null);
      assert.throws(() => staff.stamp('sale.recorded', SALE), { code: 'staff_required' });
    }));

  it('refuses an unknown member, a member without a PIN, and input that is no PIN', () =>
    withJournal(async (journal) => {
      journal.setMeta({ [META.roster]: JSON.stringify(roster(1)) });
      const staff = new BrowserStaff({ journal: journal as never, clock: clockAt(1000) });
      await assert.rejects(staff.signIn('zoe', ANA_PIN), { code: 'staff_unknown' });
      await assert.rejects(staff.signIn('ben', '1234'), { code: 'staff_no_pin' });
      await assert.rejects(staff.signIn('ana', 4821), { name: 'ValidationError' });
      await assert.rejects(staff.signIn('ana', '1'.repeat(65)), { name: 'ValidationError' });
      await assert.rejects(staff.signIn({ id: 'ana' }, ANA_PIN), { name: 'ValidationError' });
      assert.equal(staff.lockout('ana').failures, 0, 'refused input is not a guess');
      assert.deepEqual(
        staff.members().map((m) => [m.id, m.hasPin, m.lockedUntil]),
        [
          ['ana', true, null],
          ['ben', false, null],
        ],
      );
    }));

  it('locks out after LOCKOUT_THRESHOLD wrong PINs for LOCKOUT_BASE_MS, kept across a restart; the right PIN then works', () =>
    withJournal(async (journal, dir) => {
      journal.setMeta({ [META.roster]: JSON.stringify(roster(1)) });
      const clock = clockAt(10_000);
      const staff = new BrowserStaff({ journal: journal as never, clock });
      for (let i = 1; i < LOCKOUT_THRESHOLD; i++) {
        await assert.rejects(staff.signIn('ana', '0000'), { code: 'wrong_pin', attemptsLeft: LOCKOUT_THRESHOLD - i });
      }
      await assert.rejects(staff.signIn('ana', '0000'), { code: 'locked_out', retryAfterMs: LOCKOUT_BASE_MS });
      await assert.rejects(staff.signIn('ana', ANA_PIN), { code: 'locked_out' }, 'even the right PIN while locked');
      journal.close();
      // A restart (a reload of the page: a new worker on the same journal) keeps the lock-out.
      const reopened = Journal.open(dir);
      try {
        clock.t += 1000;
        const again = new BrowserStaff({ journal: reopened as never, clock });
        assert.equal(again.current(), null, 'a restart signs the clerk out');
        await assert.rejects(again.signIn('ana', ANA_PIN), {
          code: 'locked_out',
          retryAfterMs: LOCKOUT_BASE_MS - 1000,
        });
        assert.equal(again.members()[0]?.lockedUntil, 10_000 + LOCKOUT_BASE_MS);
        clock.t = 10_000 + LOCKOUT_BASE_MS;
        assert.equal((await again.signIn('ana', ANA_PIN)).id, 'ana');
        assert.deepEqual(again.lockout('ana'), { failures: 0, lockedUntil: null });
        // The next lock-out lasts twice as long, as on the Node till.
        for (let i = 1; i < LOCKOUT_THRESHOLD; i++)
          await assert.rejects(again.signIn('ana', '0000'), { code: 'wrong_pin' });
        await assert.rejects(again.signIn('ana', '0000'), { code: 'locked_out', retryAfterMs: 2 * LOCKOUT_BASE_MS });
      } finally {
        reopened.close();
      }
    }));

  it('counts concurrent wrong PINs one by one (the checks are serialized)', () =>
    withJournal(async (journal) => {
      journal.setMeta({ [META.roster]: JSON.stringify(roster(1)) });
      const staff = new BrowserStaff({ journal: journal as never, clock: clockAt(1000) });
      const results = await Promise.allSettled([1, 2, 3].map(() => staff.signIn('ana', '0000')));
      assert.deepEqual(
        results.map((r) => (r.status === 'rejected' ? (r.reason as { attemptsLeft: number }).attemptsLeft : null)),
        [LOCKOUT_THRESHOLD - 1, LOCKOUT_THRESHOLD - 2, LOCKOUT_THRESHOLD - 3],
      );
      assert.equal(staff.lockout('ana').failures, 3);
    }));

  it('signs out a member a newer roster no longer lists, and says who', () =>
    withJournal(async (journal) => {
      journal.setMeta({ [META.roster]: JSON.stringify(roster(1)) });
      const staff = new BrowserStaff({ journal: journal as never, clock: clockAt(1000) });
      await staff.signIn('ana', ANA_PIN);
      journal.setMeta({ [META.roster]: JSON.stringify(roster(2, ['ben'])) });
      assert.equal(staff.current(), null);
      assert.deepEqual(staff.removed(), { id: 'ana', name: 'Ana' });
      assert.throws(() => staff.stamp('sale.recorded', SALE), { code: 'staff_required' });
      await assert.rejects(staff.signIn('ana', ANA_PIN), { code: 'staff_unknown' });
    }));
});
