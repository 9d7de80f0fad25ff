/**
 * The rules of operator actions, without a database: which actions
 * resolve, what money actions may take, and (property) that written-off
 * plus recovered money never exceeds the declined amount and resolves
 * exactly when it reaches it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ExceptionRecord } from '../model/exception.js';
import type { ExceptionAction, ExceptionActionKind } from '../model/exception-action.js';
import { decideExceptionAction, exceptionView, outstandingOf } from './exception-actions.js';

const exception = (type: ExceptionRecord['type'], detail: Record<string, unknown> = {}): ExceptionRecord => ({
  id: 'x1',
  type,
  severity: 'alarm',
  device: 'd1',
  opId: 'op1',
  seq: 4,
  message: 'm',
  detail,
  raisedAt: 1,
  dedupeKey: `${type}:op1`,
});
const decline = (amount = 1_000) =>
  exception('post_auth_decline', { amount, currency: 'EUR', shift: 's1', tenderIndex: 0 });

let n = 0;
const request = (action: ExceptionActionKind, amount: number | null = null) => ({
  id: `a${++n}`,
  exceptionId: 'x1',
  action,
  note: 'n',
  amount,
  by: 'ana',
  at: 100 + n,
});

/** Applies actions in order, keeping those recorded. */
function run(x: ExceptionRecord, steps: [ExceptionActionKind, number | null][]): ExceptionAction[] {
  const actions: ExceptionAction[] = [];
  for (const [action, amount] of steps) {
    const d = decideExceptionAction(x, actions, request(action, amount));
    if (d.outcome === 'record') actions.push(d.action);
  }
  return actions;
}

describe('decideExceptionAction', () => {
  it('non-money exceptions: contacted keeps open; acknowledged, written_off and recovered resolve', () => {
    for (const action of ['acknowledged', 'written_off', 'recovered'] as const) {
      const d = decideExceptionAction(exception('cash_variance'), [], request(action));
      assert.equal(d.outcome, 'record');
      assert.equal(d.outcome === 'record' && d.action.resolves, true, action);
      assert.equal(d.outcome === 'record' && d.ledger, null, 'no money moves');
    }
    const contacted = decideExceptionAction(exception('fork'), [], request('contacted'));
    assert.equal(contacted.outcome === 'record' && contacted.action.resolves, false);
  });

  it('after a resolution every action is refused', () => {
    const actions = run(exception('fork'), [['acknowledged', null]]);
    for (const action of ['contacted', 'acknowledged', 'written_off', 'recovered'] as const) {
      assert.deepEqual(decideExceptionAction(exception('fork'), actions, request(action)), {
        outcome: 'already_resolved',
      });
    }
  });

  it('money: an amount of 1..outstanding; at it resolves, just under keeps open, just over is refused', () => {
    const at = decideExceptionAction(decline(1_000), [], request('recovered', 1_000));
    assert.equal(at.outcome === 'record' && at.action.resolves, true);
    const under = decideExceptionAction(decline(1_000), [], request('recovered', 999));
    assert.equal(under.outcome === 'record' && under.action.resolves, false);
    const over = decideExceptionAction(decline(1_000), [], request('recovered', 1_001));
    assert.deepEqual(over.outcome === 'invalid' && [over.field, over.rule], ['amount', 'integer 1..1000']);
    const zero = decideExceptionAction(decline(1_000), [], request('written_off', 0));
    assert.equal(zero.outcome === 'invalid' && zero.field, 'amount');
  });

  it('money: no amount takes what is outstanding; the ledger event names the exception, the op and the shift', () => {
    const actions = run(decline(1_000), [['recovered', 400]]);
    const d = decideExceptionAction(decline(1_000), actions, request('written_off'));
    assert.equal(d.outcome, 'record');
    if (d.outcome !== 'record') return;
    assert.deepEqual([d.action.amount, d.action.currency, d.action.resolves], [600, 'EUR', true]);
    assert.deepEqual(
      [d.ledger?.type, d.ledger?.opId, d.ledger?.device, d.ledger?.seq, d.ledger?.shiftId, d.ledger?.amount],
      ['payment.written_off', 'op1', 'd1', 4, 's1', 600],
    );
    assert.equal(d.ledger?.data.exceptionId, 'x1');
  });

  it('money: acknowledged is refused (naming action); contacted takes no amount', () => {
    const ack = decideExceptionAction(decline(), [], request('acknowledged'));
    assert.equal(ack.outcome === 'invalid' && ack.field, 'action');
    const contacted = decideExceptionAction(decline(), [], request('contacted', 5));
    assert.equal(contacted.outcome === 'invalid' && contacted.field, 'amount');
    const refused = exception('payment_refused', { amount: 300, currency: 'EUR' });
    assert.equal(decideExceptionAction(refused, [], request('acknowledged')).outcome, 'invalid');
    assert.deepEqual(outstandingOf(refused, []), { amount: 300, currency: 'EUR', outstanding: 300 });
  });

  it('property: Σ money actions never exceeds the amount; resolved exactly when it reaches it', () => {
    const step = fc.tuple(
      fc.constantFrom<ExceptionActionKind>('contacted', 'written_off', 'recovered', 'acknowledged'),
      fc.option(fc.integer({ min: -5, max: 1_200 }), { nil: null }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.array(step, { maxLength: 12 }), (amount, steps) => {
        const x = decline(amount);
        const actions = run(x, steps);
        const money = actions.reduce((sum, a) => sum + (a.amount ?? 0), 0);
        assert.ok(money <= amount);
        const view = exceptionView({ ...x, pos: 1 }, actions);
        assert.equal(view.status === 'resolved', money === amount);
        assert.ok(actions.filter((a) => a.resolves).length <= 1);
        assert.equal(outstandingOf(x, actions)?.outstanding, amount - money);
      }),
    );
  });
});
