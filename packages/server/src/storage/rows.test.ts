import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { int, total } from './rows.js';
import { shiftOf } from './sql/tables/shift-projections.js';

describe('row values', () => {
  it('int refuses what is not a safe integer (ids, seqs, times stay exact or fail loudly)', () => {
    assert.equal(int('42'), 42);
    assert.throws(() => int('9007199254740993'), RangeError);
    assert.throws(() => int(1.5), RangeError);
  });

  it('a shift row whose stored totals passed 2^53 still reads (it must not fail the listing or the device)', () => {
    // node-postgres returns BIGINT as strings; SQLite would return the nearest double.
    const big = '9500000000000000';
    const shift = shiftOf({
      id: 's',
      device: 'd',
      clerk: 'ana',
      currency: 'EUR',
      status: 'open',
      opening_float: '0',
      sales: '0',
      sales_total: big,
      cash_sales: big,
      card_sales: '0',
      cash_in: big,
      cash_out: '0',
      counted_cash: null,
      opened_at: '1700000000000',
      closed_at: null,
      expected_cash: big,
      variance: null,
    });
    assert.equal(shift.cashIn, 9.5e15);
    assert.equal(shift.expectedCash, 9.5e15);
    assert.equal(total('12'), 12);
    assert.throws(() => total('1.5'), RangeError, 'a total is still an integer');
    assert.throws(() => total('x'), RangeError);
  });
});
