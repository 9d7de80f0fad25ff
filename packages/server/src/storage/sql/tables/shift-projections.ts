/**
 * The shift projections ingest writes beside the ledger: `cash_movements`
 * and `shifts` (upserted: a shift's totals move with every sale). Their
 * columns and the shift row mapper, for every backend. (`sales` is a view
 * of the ledger's sale.recorded events since migration 25: no row of its own.)
 */
import type { CashMovementRecord } from '../../../model/cash-movement.js';
import type { ShiftRecord } from '../../../model/shift.js';
import { int, intOrNull, type Row, total, totalOrNull } from '../../rows.js';
import { defineTable } from '../table.js';

export const CASH_MOVEMENTS = defineTable<CashMovementRecord>('cash_movements', {
  op_id: ['text', (m) => m.opId],
  device: ['text', (m) => m.device],
  seq: ['bigint', (m) => m.seq],
  shift_id: ['text', (m) => m.shiftId],
  currency: ['text', (m) => m.currency],
  direction: ['text', (m) => m.direction],
  reason: ['text', (m) => m.reason],
  amount: ['bigint', (m) => m.amount],
  device_at: ['bigint', (m) => m.deviceAt],
  applied_at: ['bigint', (m) => m.appliedAt],
});

export const SHIFTS = defineTable<ShiftRecord>('shifts', {
  id: ['text', (s) => s.id],
  device: ['text', (s) => s.device],
  clerk: ['text', (s) => s.clerk],
  currency: ['text', (s) => s.currency],
  status: ['text', (s) => s.status],
  opening_float: ['bigint', (s) => s.openingFloat],
  sales: ['bigint', (s) => s.sales],
  sales_total: ['bigint', (s) => s.salesTotal],
  cash_sales: ['bigint', (s) => s.cashSales],
  card_sales: ['bigint', (s) => s.cardSales],
  cash_in: ['bigint', (s) => s.cashIn],
  cash_out: ['bigint', (s) => s.cashOut],
  counted_cash: ['bigint', (s) => s.countedCash],
  opened_at: ['bigint', (s) => s.openedAt],
  closed_at: ['bigint', (s) => s.closedAt],
  expected_cash: ['bigint', (s) => s.expectedCash],
  variance: ['bigint', (s) => s.variance],
});

/** The columns a later batch may change: everything but the shift's identity and opening. */
const SHIFT_CHANGES = ['status', 'sales', 'sales_total', 'cash_sales', 'card_sales', 'cash_in', 'cash_out']
  .concat(['counted_cash', 'closed_at', 'expected_cash', 'variance'])
  .map((c) => `${c} = excluded.${c}`)
  .join(', ');

/** The ON CONFLICT clause of the shifts upsert (the same text in SQLite and PostgreSQL). */
export const SHIFT_UPSERT = `ON CONFLICT (id) DO UPDATE SET ${SHIFT_CHANGES}`;

export function shiftOf(r: Row): ShiftRecord {
  return {
    id: r.id as string,
    device: r.device as string,
    clerk: r.clerk as string,
    currency: r.currency as string,
    status: r.status as ShiftRecord['status'],
    openingFloat: int(r.opening_float),
    sales: total(r.sales),
    salesTotal: total(r.sales_total),
    cashSales: total(r.cash_sales),
    cardSales: total(r.card_sales),
    cashIn: total(r.cash_in),
    cashOut: total(r.cash_out),
    countedCash: intOrNull(r.counted_cash),
    openedAt: int(r.opened_at),
    closedAt: intOrNull(r.closed_at),
    expectedCash: totalOrNull(r.expected_cash),
    variance: totalOrNull(r.variance),
  };
}
