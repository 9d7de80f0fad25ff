/**
 * The `sale_corrections` table (model/sale-correction.ts): one row per
 * correction op, held or counted, found by the sale it names.
 */
import type { CorrectionKind } from '@holdfast/domain';
import type { RefundLine } from '@holdfast/protocol';
import type { SaleCorrectionRecord, SaleCorrectionState } from '../../../model/sale-correction.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { defineTable } from '../table.js';

export const SALE_CORRECTIONS = defineTable<SaleCorrectionRecord>('sale_corrections', {
  op_id: ['text', (c) => c.opId],
  sale_op_id: ['text', (c) => c.sale],
  kind: ['text', (c) => c.kind],
  device: ['text', (c) => c.device],
  seq: ['bigint', (c) => c.seq],
  shift_id: ['text', (c) => c.shiftId],
  currency: ['text', (c) => c.currency],
  amount: ['bigint', (c) => c.amount],
  lines: ['jsonb', (c) => (c.lines === null ? null : JSON.stringify(c.lines))],
  state: ['text', (c) => c.state],
  held_exception: ['text', (c) => c.heldException],
  device_at: ['bigint', (c) => c.deviceAt],
  recorded_at: ['bigint', (c) => c.recordedAt],
  judged_at: ['bigint', (c) => c.judgedAt],
});

export function saleCorrectionOf(r: Row, d: SqlDialect): SaleCorrectionRecord {
  return {
    opId: r.op_id as string,
    sale: r.sale_op_id as string,
    kind: r.kind as CorrectionKind,
    device: r.device as string,
    seq: int(r.seq),
    shiftId: r.shift_id as string,
    currency: r.currency as string,
    amount: int(r.amount),
    lines: r.lines === null || r.lines === undefined ? null : (d.readJson(r.lines) as RefundLine[]),
    state: r.state as SaleCorrectionState,
    heldException: textOrNull(r.held_exception),
    deviceAt: int(r.device_at),
    recordedAt: int(r.recorded_at),
    judgedAt: intOrNull(r.judged_at),
  };
}
