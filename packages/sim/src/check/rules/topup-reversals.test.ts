/**
 * The top-up reversal rule on hand-built server truths: reversals above
 * their top-up, of an unknown top-up, given back another way than it was
 * paid (a card top-up in cash, a cash one to a card), or without an approver are a
 * violation when the server raised nothing about them, and a fact when it
 * did; reversals within a cash top-up are clean.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Truth } from '../truth.js';
import { topUpReversalRules } from './topup-reversals.js';

const op = (id: string) => ({ id, status: 'accepted' });
const ledger = (opId: string, type: string, amount: number, data: Record<string, unknown>) => ({
  opId,
  device: 'd1',
  seq: 1,
  type,
  shiftId: 's1',
  amount,
  data,
});

function truth(
  reversals: { id: string; topup: string; amount: number; approvedBy?: string | null; tender?: 'cash' | 'card' }[],
  exceptions: { type: string; opId: string }[] = [],
): Truth {
  return {
    server: {
      ops: [op('t1'), op('t2'), ...reversals.map((r) => op(r.id))],
      ledger: [
        ledger('t1', 'wallet.topped_up', 5_000, { paid: 'cash' }),
        ledger('t2', 'wallet.topped_up', 5_000, { paid: 'card' }),
        ...reversals.map((r) =>
          ledger(r.id, 'wallet.topup_reversed', r.amount, {
            topup: r.topup,
            ...(r.tender ? { tender: r.tender } : {}),
            approvedBy: r.approvedBy === undefined ? 'sup-1' : r.approvedBy,
          }),
        ),
      ],
      exceptions,
    },
  } as unknown as Truth;
}

const rules = (t: Truth) => topUpReversalRules(t).map((v) => [v.rule, v.opId]);

describe('top-up reversal rules', () => {
  it('reversals within a cash top-up, approved, are clean', () => {
    assert.deepEqual(
      rules(
        truth([
          { id: 'r1', topup: 't1', amount: 2_000 },
          { id: 'r2', topup: 't1', amount: 3_000 },
        ]),
      ),
      [],
    );
  });

  it('a top-up reversed twice in total, unnoticed, is a violation; noticed, a fact', () => {
    const twice = [
      { id: 'r1', topup: 't1', amount: 5_000 },
      { id: 'r2', topup: 't1', amount: 5_000 },
    ];
    const found = topUpReversalRules(truth(twice));
    assert.deepEqual(
      found.map((v) => [v.rule, v.opId]),
      [['topup-reversals-within-topup', 'r2']],
    );
    assert.match(found[0]?.message ?? '', /top-up t1 of 5000 had 10000 reversed/);
    assert.deepEqual(rules(truth(twice, [{ type: 'topup_reversal_over', opId: 'r2' }])), []);
  });

  it('a card top-up given back to its card is clean; a cash one given back to a card, unnoticed, is a violation', () => {
    assert.deepEqual(rules(truth([{ id: 'r1', topup: 't2', amount: 5_000, tender: 'card' }])), []);
    const found = topUpReversalRules(truth([{ id: 'r1', topup: 't1', amount: 1, tender: 'card' }]));
    assert.deepEqual(
      found.map((v) => [v.rule, v.opId]),
      [['topup-reversals-within-topup', 'r1']],
    );
    assert.match(found[0]?.message ?? '', /paid by cash and given back by card/);
  });

  it('an unknown or card top-up, or no approver, unnoticed, is a violation', () => {
    assert.deepEqual(rules(truth([{ id: 'r1', topup: 'nope', amount: 1 }])), [['topup-reversals-within-topup', 'r1']]);
    assert.deepEqual(rules(truth([{ id: 'r1', topup: 't2', amount: 1 }])), [['topup-reversals-within-topup', 'r1']]);
    assert.deepEqual(rules(truth([{ id: 'r1', topup: 't1', amount: 1, approvedBy: null }])), [
      ['topup-reversals-within-topup', 'r1'],
    ]);
    assert.deepEqual(
      rules(truth([{ id: 'r1', topup: 'nope', amount: 1 }], [{ type: 'topup_reversal_invalid', opId: 'r1' }])),
      [],
    );
  });
});
