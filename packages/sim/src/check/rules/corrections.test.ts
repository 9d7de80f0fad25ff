/**
 * The corrections rules on hand-built server truths: an over-refund the
 * server noticed (refund_over_sale raised) is a fact, not a violation; one
 * it did not notice is; a void names its approver.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Truth } from '../truth.js';
import { correctionRules } from './corrections.js';

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

function truth(exceptions: { type: string; opId: string }[], approvedBy?: string): Truth {
  return {
    server: {
      ops: [op('sale-1'), op('r1'), op('r2'), op('v1')],
      sales: [{ opId: 'sale-1', total: 1_000 }],
      ledger: [
        ledger('sale-1', 'sale.recorded', 1_000, {}),
        ledger('r1', 'sale.refunded', 600, { sale: 'sale-1' }),
        ledger('r2', 'wallet.refunded', 500, { sale: 'sale-1' }),
        ledger('v1', 'sale.voided', 0, { sale: 'sale-2', ...(approvedBy ? { approvedBy } : {}) }),
      ],
      exceptions,
    },
  } as unknown as Truth;
}

describe('correction rules', () => {
  it('an over-refund nobody raised is a violation; one the server raised is a fact', () => {
    const unnoticed = correctionRules(truth([], 'bea'));
    assert.deepEqual(
      unnoticed.map((v) => [v.rule, v.opId]),
      [['refunds-within-sale', 'r2']],
    );
    assert.match(unnoticed[0]?.message ?? '', /sale sale-1 of 1000 had 1100 given back/);
    assert.deepEqual(correctionRules(truth([{ type: 'refund_over_sale', opId: 'r2' }], 'bea')), []);
  });

  it('a sale void without an approver is a violation', () => {
    const found = correctionRules(truth([{ type: 'refund_over_sale', opId: 'r2' }]));
    assert.deepEqual(
      found.map((v) => [v.rule, v.opId]),
      [['sale-void-approved', 'v1']],
    );
  });
});
