/**
 * The `topup_reversals` table (model/topup-reversal.ts): one row per
 * `wallet.topup_reversed` op, found by the top-up it names. Append-only.
 */
import type { TopUpReversalRecord } from '../../../model/topup-reversal.js';
import { int, type Row } from '../../rows.js';
import { defineTable } from '../table.js';

export const TOPUP_REVERSALS = defineTable<TopUpReversalRecord>('topup_reversals', {
  op_id: ['text', (r) => r.opId],
  topup_op_id: ['text', (r) => r.topup],
  device: ['text', (r) => r.device],
  seq: ['bigint', (r) => r.seq],
  shift_id: ['text', (r) => r.shiftId],
  wristband: ['text', (r) => r.wristband],
  currency: ['text', (r) => r.currency],
  amount: ['bigint', (r) => r.amount],
  device_at: ['bigint', (r) => r.deviceAt],
  recorded_at: ['bigint', (r) => r.recordedAt],
});

export function topUpReversalOf(r: Row): TopUpReversalRecord {
  return {
    opId: r.op_id as string,
    topup: r.topup_op_id as string,
    device: r.device as string,
    seq: int(r.seq),
    shiftId: r.shift_id as string,
    wristband: r.wristband as string,
    currency: r.currency as string,
    amount: int(r.amount),
    deviceAt: int(r.device_at),
    recordedAt: int(r.recorded_at),
  };
}
