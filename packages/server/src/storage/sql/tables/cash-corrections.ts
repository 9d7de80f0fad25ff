/**
 * The `cash_corrections` table (model/cash-correction.ts): one row per
 * `cash.corrected` op, found by the movement it names. Append-only.
 */
import type { CashCorrectionRecord } from '../../../model/cash-correction.js';
import { int, type Row } from '../../rows.js';
import { defineTable } from '../table.js';

export const CASH_CORRECTIONS = defineTable<CashCorrectionRecord>('cash_corrections', {
  op_id: ['text', (r) => r.opId],
  movement_op_id: ['text', (r) => r.movement],
  device: ['text', (r) => r.device],
  seq: ['bigint', (r) => r.seq],
  shift_id: ['text', (r) => r.shiftId],
  currency: ['text', (r) => r.currency],
  direction: ['text', (r) => r.direction],
  amount: ['bigint', (r) => r.amount],
  device_at: ['bigint', (r) => r.deviceAt],
  recorded_at: ['bigint', (r) => r.recordedAt],
});

export function cashCorrectionOf(r: Row): CashCorrectionRecord {
  return {
    opId: r.op_id as string,
    movement: r.movement_op_id as string,
    device: r.device as string,
    seq: int(r.seq),
    shiftId: r.shift_id as string,
    currency: r.currency as string,
    direction: r.direction === 'in' ? 'in' : 'out',
    amount: int(r.amount),
    deviceAt: int(r.device_at),
    recordedAt: int(r.recorded_at),
  };
}
