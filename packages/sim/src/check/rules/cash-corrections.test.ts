/**
 * The cash correction rule on hand-built server truths: corrections above
 * their movement, of an unknown movement or another device's, in the same
 * direction, or without an approver are a violation when the server raised
 * nothing about them, and a fact when it did; corrections within a
 * movement are clean.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Truth } from '../truth.js';
import { cashCorrectionRules } from './cash-corrections.js';

const op = (id: string) => ({ id, status: 'accepted' });
const ledger = (opId: string, type: string, amount: number, data: Record<string, unknown>, device = 'd1') => ({
  opId,
  device,
  seq: 1,
  type,
  shiftId: 's1',
  amount,
  data,
});

interface Fix {
  id: string;
  movement: string;
  amount: number;
  direction?: 'in' | 'out';
  approvedBy?: string | null;
  device?: string;
}

function truth(corrections: Fix[], exceptions: { type: string; opId: string }[] = []): Truth {
  return {
    server: {
      ops: [op('m1'), ...corrections.map((c) => op(c.id))],
      ledger: [
        ledger('m1', 'cash.moved', 5_000, { direction: 'in', reason: 'float_in' }),
        ...corrections.map((c) =>
          ledger(
            c.id,
            'cash.corrected',
            c.amount,
            {
              movement: c.movement,
              direction: c.direction ?? 'out',
              approvedBy: c.approvedBy === undefined ? 'sup-1' : c.approvedBy,
            },
            c.device,
          ),
        ),
      ],
      exceptions,
    },
  } as unknown as Truth;
}

const rules = (t: Truth) => cashCorrectionRules(t).map((v) => [v.rule, v.opId]);
const RULE = 'cash-corrections-within-movement';

describe('cash correction rules', () => {
  it('corrections within a movement, the opposite way, approved, are clean', () => {
    assert.deepEqual(
      rules(
        truth([
          { id: 'c1', movement: 'm1', amount: 2_000 },
          { id: 'c2', movement: 'm1', amount: 3_000 },
        ]),
      ),
      [],
    );
  });

  it('a movement corrected for more than it moved, unnoticed, is a violation; noticed, a fact', () => {
    const twice = [
      { id: 'c1', movement: 'm1', amount: 5_000 },
      { id: 'c2', movement: 'm1', amount: 1 },
    ];
    const found = cashCorrectionRules(truth(twice));
    assert.deepEqual(
      found.map((v) => [v.rule, v.opId]),
      [[RULE, 'c2']],
    );
    assert.match(found[0]?.message ?? '', /cash movement m1 of 5000 had 5001 corrected/);
    assert.deepEqual(rules(truth(twice, [{ type: 'cash_correction_over', opId: 'c2' }])), []);
  });

  it('an unknown movement, another device, the same direction or no approver, unnoticed, is a violation', () => {
    assert.deepEqual(rules(truth([{ id: 'c1', movement: 'nope', amount: 1 }])), [[RULE, 'c1']]);
    assert.deepEqual(rules(truth([{ id: 'c1', movement: 'm1', amount: 1, device: 'd2' }])), [[RULE, 'c1']]);
    assert.deepEqual(rules(truth([{ id: 'c1', movement: 'm1', amount: 1, direction: 'in' }])), [[RULE, 'c1']]);
    assert.deepEqual(rules(truth([{ id: 'c1', movement: 'm1', amount: 1, approvedBy: null }])), [[RULE, 'c1']]);
    assert.deepEqual(
      rules(truth([{ id: 'c1', movement: 'nope', amount: 1 }], [{ type: 'cash_correction_invalid', opId: 'c1' }])),
      [],
    );
  });
});
