/**
 * The betting invariants bite on a real simulated betting day (4 shops,
 * 45 virtual minutes of latam-intermittent: flapping links, lost answers,
 * power cuts, staff at the tills): the day is clean, then each rule is
 * tampered with and names its violation.
 *
 * The clean day is also the regression test of a payout approved online
 * losing its staff actor (every such payout raised staff_missing).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type BettingShopReport, runBettingShop } from '../../scenarios/betting-shop.js';
import { checkTruth } from '../check-truth.js';
import { formatViolation } from '../format.js';
import type { Truth } from '../truth.js';
import type { Rule } from '../violation.js';

describe('betting invariants on a simulated betting day', () => {
  let truth: Truth;
  let report: BettingShopReport;
  before(async () => {
    report = await runBettingShop({
      shops: 4,
      minutes: 45,
      seed: 4,
      onTruth: (t) => {
        truth = t;
      },
    });
  });

  const rulesOf = (t: Truth): Rule[] => [...new Set(checkTruth(t).map((v) => v.rule))];

  it('is clean: tickets sold, settled and paid, voids approved, drawers balanced, no exception raised', () => {
    assert.deepEqual(report.violations.map(formatViolation), []);
    // Only the expected exceptions (a deliberate miscount, card declines): the checker's exception rule.
    for (const type of [
      'staff_missing',
      'approval_missing',
      'approval_role_missing',
      'void_invalid',
      'payout_invalid',
      'ticket_paid_twice',
      'shift_rule',
    ]) {
      assert.equal(report.exceptions[type], undefined, `no ${type}: ${JSON.stringify(report.exceptions)}`);
    }
    assert.ok(report.ticketsIssued > 0 && report.ticketsSettled > 0 && report.payouts > 0, JSON.stringify(report));
    assert.ok(report.voids > 0, 'some tickets were voided with approval');
    assert.ok(report.counters.voidsRefusedAtTill > 0, 'voids without approval were refused at the till');
    assert.equal(report.payoutsTwice, 0);
    assert.equal(report.voidsWithoutApproval, 0);
    assert.equal(report.falseVariances, 0);
    const paidOnline = truth.server.ops.filter((o) => o.kind === 'ticket.paid');
    assert.ok(paidOnline.length > 0);
    for (const op of paidOnline) {
      const actor = (JSON.parse(op.envelope) as { actor?: { staff?: string } }).actor;
      assert.match(String(actor?.staff), /^clerk-shop-/, `payout ${op.id} names the clerk who paid it`);
    }
  });

  it('a ticket paid twice', () => {
    const s = truth.server;
    const paid = s.ledger.find((e) => e.type === 'ticket.paid');
    const other = s.ops.find((o) => o.status === 'accepted' && o.id !== paid?.opId);
    assert.ok(paid && other);
    const t = { ...truth, server: { ...s, ledger: [...s.ledger, { ...paid, opId: other.id }] } };
    assert.ok(rulesOf(t).includes('ticket-paid-once'), JSON.stringify(rulesOf(t)));
  });

  it('a payout that is not stake × odds rounded down', () => {
    const s = truth.server;
    const paid = s.tickets.find((t) => t.state === 'paid');
    assert.ok(paid);
    const tickets = s.tickets.map((t) => (t === paid ? { ...t, payout: (t.payout ?? 0) + 1 } : t));
    const t = { ...truth, server: { ...s, tickets } };
    assert.ok(rulesOf(t).includes('payout-amount'), JSON.stringify(rulesOf(t)));
  });

  it('liability not released (a settled ticket still open) and liability held by nothing', () => {
    const s = truth.server;
    const lost = s.tickets.find((t) => t.state === 'lost');
    assert.ok(lost);
    const reopened = s.tickets.map((t) => (t === lost ? { ...t, state: 'accepted' as const, payout: null } : t));
    assert.ok(rulesOf({ ...truth, server: { ...s, tickets: reopened } }).includes('liability-held'));
    const x = lost.selections[0];
    assert.ok(x);
    const liabilities = [
      ...s.liabilities,
      { currency: lost.currency, event: x.event, market: x.market, selection: x.selection, liability: 100, tickets: 1 },
    ];
    assert.ok(rulesOf({ ...truth, server: { ...s, liabilities } }).includes('liability-held'));
  });

  it('a void with no approver, and a void approved by someone without the supervisor role', () => {
    const s = truth.server;
    const ledger = s.ledger.map((e) =>
      e.type === 'ticket.voided' ? { ...e, data: { ...e.data, approvedBy: null } } : e,
    );
    assert.ok(rulesOf({ ...truth, server: { ...s, ledger } }).includes('void-approved'));
    const demoted = s.staffEvents.map((e) => (e.staff.startsWith('sup-') ? { ...e, role: 'clerk' } : e));
    const staff = checkTruth({ ...truth, server: { ...s, staffEvents: demoted } }).filter((v) => v.rule === 'staff');
    const voids = new Set(s.ops.filter((o) => o.kind === 'ticket.voided').map((o) => o.id));
    assert.ok(
      staff.some((v) => v.opId !== undefined && voids.has(v.opId) && /needs a supervisor/.test(v.message)),
      JSON.stringify(staff.slice(0, 3)),
    );
  });

  it('an honest drawer that shows a variance', () => {
    const s = truth.server;
    const closed = s.shifts.find((x) => x.variance === 0);
    assert.ok(closed);
    const shifts = s.shifts.map((x) => (x === closed ? { ...x, variance: 500 } : x));
    const found = checkTruth({ ...truth, server: { ...s, shifts } }).filter((v) => v.rule === 'drawer-honest');
    assert.equal(found.length, 1);
    assert.match(found[0]?.message ?? '', /counted honestly but closed with a variance of 500/);
  });
});
