/**
 * What only PostgreSQL rows need: the device columns named one by one, and
 * the feeds, whose JSON columns (jsonb) arrive parsed. The records shared
 * with SQLite are in ../rows.ts (re-exported here for this backend's files).
 */
import type { ExceptionRecord } from '../../model/exception.js';
import type { LedgerEvent } from '../../model/ledger-event.js';
import { int, intOrNull, type Row, textOrNull } from '../rows.js';

export {
  int,
  intOrNull,
  type Row,
  settlementColumns,
  textOrNull,
  toDevice,
  toOfflinePayment,
  toServerKey,
  toShift,
  toStoredOp,
  toToken,
} from '../rows.js';

/**
 * A device with its placement, every column named: a named prepared
 * statement with `SELECT *` stops working ("cached plan must not change
 * result type") once a later migration adds a column, in every process
 * still running the release before it.
 */
export const DEVICE_COLUMNS = `d.id, d.label, d.public_key, d.enrolled_at, d.revoked_at, d.revoke_reason, d.high_water,
  d.head_hash, d.latest_seq, d.gap_from, d.gap_to, d.last_seen_at, d.clock_offset_ms, p.merchant, p.location, p.event`;
export const DEVICE_FROM = 'devices d LEFT JOIN device_placements p ON p.device = d.id';

export function toLedgerEvent(r: Row): LedgerEvent & { pos: number } {
  return {
    pos: int(r.pos),
    opId: r.op_id as string,
    device: r.device as string,
    seq: int(r.seq),
    type: r.type as string,
    shiftId: textOrNull(r.shift_id),
    currency: textOrNull(r.currency),
    amount: intOrNull(r.amount),
    data: r.data as Record<string, unknown>,
    deviceAt: int(r.device_at),
    appliedAt: int(r.applied_at),
  };
}

export function toException(r: Row): ExceptionRecord & { pos: number } {
  return {
    pos: int(r.pos),
    id: r.id as string,
    type: r.type as ExceptionRecord['type'],
    severity: r.severity as ExceptionRecord['severity'],
    device: r.device as string,
    opId: textOrNull(r.op_id),
    seq: intOrNull(r.seq),
    message: r.message as string,
    detail: r.detail as Record<string, unknown>,
    raisedAt: int(r.raised_at),
    dedupeKey: r.dedupe_key as string,
  };
}
