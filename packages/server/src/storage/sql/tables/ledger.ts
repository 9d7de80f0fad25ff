/**
 * The `ledger` table: the append-only audit trail, paged by its identity
 * `pos`. Its columns and row mapper, for every backend.
 */
import type { LedgerEvent } from '../../../model/ledger-event.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { defineTable } from '../table.js';

export const LEDGER = defineTable<LedgerEvent>(
  'ledger',
  {
    op_id: ['text', (e) => e.opId],
    device: ['text', (e) => e.device],
    seq: ['bigint', (e) => e.seq],
    type: ['text', (e) => e.type],
    shift_id: ['text', (e) => e.shiftId],
    currency: ['text', (e) => e.currency],
    amount: ['bigint', (e) => e.amount],
    data: ['jsonb', (e) => JSON.stringify(e.data)],
    device_at: ['bigint', (e) => e.deviceAt],
    applied_at: ['bigint', (e) => e.appliedAt],
  },
  ['pos'],
);

/** A ledger row as a ledger event with its position. */
export function ledgerEventOf(r: Row, dialect: SqlDialect): LedgerEvent & { pos: number } {
  return {
    pos: int(r.pos),
    opId: r.op_id as string,
    device: r.device as string,
    seq: int(r.seq),
    type: r.type as string,
    shiftId: textOrNull(r.shift_id),
    currency: textOrNull(r.currency),
    amount: intOrNull(r.amount),
    data: dialect.readJson(r.data) as Record<string, unknown>,
    deviceAt: int(r.device_at),
    appliedAt: int(r.applied_at),
  };
}
