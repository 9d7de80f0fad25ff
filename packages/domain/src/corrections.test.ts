import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SaleBody } from '@holdfast/protocol';
import {
  type CorrectionFact,
  correctionFactOf,
  correctionProblems,
  lineRefundable,
  refundableLeft,
  saleFactOf,
  voidTenderProblems,
} from './corrections.js';

const SHIFT = 'shift-1';
const body: SaleBody = {
  shift: SHIFT,
  currency: 'EUR',
  lines: [
    { sku: 'A', name: 'Mug', qty: 3, unitPrice: 333, discount: 100 },
    { sku: 'B', name: 'Hat', qty: 1, unitPrice: 1_000 },
  ],
  total: 1_899,
  tenders: [
    { type: 'cash', amount: 899, tendered: 1_000 },
    { type: 'card', amount: 1_000, token: 'tok_test_4242', brand: 'visa', last4: '4242' },
  ],
};
const sale = saleFactOf('sale-1', 'dev-a', body);

const refund = (
  opId: string,
  amount: number,
  lines?: { line: number; qty: number }[],
  device = 'dev-b',
): CorrectionFact =>
  correctionFactOf(opId, device, 'sale.refunded', {
    shift: 'shift-b',
    sale: sale.id,
    currency: 'EUR',
    amount,
    tender: 'cash',
    ...(lines ? { lines } : {}),
  });

describe('sale corrections', () => {
  it('a sale fact keeps its lines and tender split', () => {
    assert.deepEqual([sale.total, sale.cash, sale.card, sale.wristband], [1_899, 899, 1_000, 0]);
  });

  it('a line refund is worth its share of the discounted line, rounded up; the total bounds the sum', () => {
    assert.equal(lineRefundable(sale, 0, 1), 300); // (999 - 100) / 3 = 299.67
    assert.equal(lineRefundable(sale, 0, 3), 899);
    assert.equal(lineRefundable(sale, 5, 1), 0);
    // Three single-unit refunds at the rounded-up share give back 900 of a line worth 899: the sale's total bounds the sum.
    const first = refund('r1', 300, [{ line: 0, qty: 1 }]);
    const second = refund('r2', 300, [{ line: 0, qty: 1 }]);
    assert.deepEqual(correctionProblems(sale, [first], second), []);
    const third = refund('r3', 300, [{ line: 0, qty: 1 }]);
    assert.deepEqual(correctionProblems(sale, [first, second], third), []);
    const fourth = refund('r4', 1, [{ line: 0, qty: 1 }]);
    assert.deepEqual(
      correctionProblems(sale, [first, second, third], fourth).map((p) => p.message),
      ['line 0: 4 units given back, 3 sold'],
    );
  });

  it('never more than the sale across all corrections, whatever device recorded them', () => {
    const a = refund('r1', 1_000, undefined, 'dev-b');
    const b = refund('r2', 900, undefined, 'dev-c');
    assert.equal(refundableLeft(sale, [a]), 899);
    assert.deepEqual(
      correctionProblems(sale, [a], b).map((p) => [p.code, p.message]),
      [['refund_over_sale', '1900 given back across corrections of a sale of 1899']],
    );
    assert.deepEqual(correctionProblems(sale, [a], refund('r3', 899)), []);
  });

  it('a void: same device and shift, exact cash and card parts, not after a refund or a void', () => {
    const voidBody = { shift: SHIFT, sale: sale.id, currency: 'EUR', cash: 899, card: 1_000 };
    const ok = correctionFactOf('v1', 'dev-a', 'sale.voided', voidBody);
    assert.equal(ok.amount, 1_899);
    assert.deepEqual(correctionProblems(sale, [], ok), []);
    assert.deepEqual(voidTenderProblems(sale, voidBody), []);
    assert.equal(voidTenderProblems(sale, { ...voidBody, card: 0 })[0]?.code, 'sale_void_invalid');
    const elsewhere = correctionFactOf('v2', 'dev-b', 'sale.voided', voidBody);
    assert.match(correctionProblems(sale, [], elsewhere)[0]?.message ?? '', /voided in its own shift/);
    const afterRefund = correctionProblems(sale, [refund('r1', 100)], ok).map((p) => p.message);
    assert.ok(
      afterRefund.some((m) => /already partly refunded/.test(m)),
      afterRefund.join('; '),
    );
    const refundAfterVoid = correctionProblems(sale, [ok], refund('r2', 1)).map((p) => p.code);
    assert.deepEqual(refundAfterVoid, ['refund_invalid', 'refund_over_sale']);
  });

  it('a correction in another currency, or of a line the sale never had, is invalid', () => {
    const usd = { ...refund('r1', 100), currency: 'USD' };
    assert.equal(correctionProblems(sale, [], usd)[0]?.code, 'refund_invalid');
    assert.deepEqual(
      correctionProblems(sale, [], refund('r2', 100, [{ line: 2, qty: 1 }])).map((p) => [p.code, p.message]),
      [['refund_invalid', 'line 2: the sale has 2 lines']],
    );
  });
});
