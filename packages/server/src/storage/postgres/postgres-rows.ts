/**
 * Rows as node-postgres returns them, turned into the storage records.
 *
 * node-postgres returns BIGINT (and COUNT, SUM) as strings, because a
 * BIGINT may exceed 2^53. Every Holdfast integer is a safe integer by the
 * protocol's schemas, so they are converted back to numbers here, and a
 * value that is not one fails loudly instead of losing precision. Values
 * that arrive inside JSON built by the query (json_agg) are numbers already.
 */
import type { Op, StoredResult } from '@holdfast/protocol';
import type { ExceptionRecord, LedgerEvent, OfflinePaymentRecord, ShiftRecord } from '../../ingest/plan-ingest.js';
import type {
  DeviceRecord,
  EnrollmentTokenRecord,
  ServerKeyRecord,
  StoredOfflinePayment,
  StoredOp,
} from '../storage.js';

export type Row = Record<string, unknown>;

/** A BIGINT (string or number) as a number; throws if it is not a safe integer. */
export function int(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`expected a safe integer from PostgreSQL, got ${String(value)}`);
  return n;
}

/**
 * A device with its placement, every column named: a named prepared
 * statement with `SELECT *` stops working ("cached plan must not change
 * result type") once a later migration adds a column, in every process
 * still running the release before it.
 */
export const DEVICE_COLUMNS = `d.id, d.label, d.public_key, d.enrolled_at, d.revoked_at, d.revoke_reason, d.high_water,
  d.head_hash, d.latest_seq, d.gap_from, d.gap_to, d.last_seen_at, d.clock_offset_ms, p.merchant, p.location, p.event`;
export const DEVICE_FROM = 'devices d LEFT JOIN device_placements p ON p.device = d.id';

export const intOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : int(value));

export const textOrNull = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);

export function toDevice(r: Row): DeviceRecord {
  return {
    id: r.id as string,
    label: r.label as string,
    publicKey: r.public_key as string,
    enrolledAt: int(r.enrolled_at),
    revokedAt: intOrNull(r.revoked_at),
    revokeReason: textOrNull(r.revoke_reason),
    highWater: int(r.high_water),
    headHash: r.head_hash as string,
    latestSeq: int(r.latest_seq),
    gapFrom: intOrNull(r.gap_from),
    gapTo: intOrNull(r.gap_to),
    lastSeenAt: intOrNull(r.last_seen_at),
    clockOffsetMs: intOrNull(r.clock_offset_ms),
    merchant: textOrNull(r.merchant),
    location: textOrNull(r.location),
    event: textOrNull(r.event),
  };
}

export function toToken(r: Row): EnrollmentTokenRecord {
  return {
    id: r.id as string,
    tokenHash: r.token_hash as string,
    label: textOrNull(r.label),
    createdAt: int(r.created_at),
    expiresAt: int(r.expires_at),
    usedAt: intOrNull(r.used_at),
    deviceId: textOrNull(r.device_id),
    publicKey: textOrNull(r.public_key),
    merchant: textOrNull(r.merchant),
    location: textOrNull(r.location),
    event: textOrNull(r.event),
  };
}

export function toServerKey(r: Row): ServerKeyRecord {
  return {
    id: r.id as string,
    publicKey: r.public_key as string,
    privateKey: r.private_key as string,
    createdAt: int(r.created_at),
    retiredAt: intOrNull(r.retired_at),
  };
}

export function toOfflinePayment(r: Row): StoredOfflinePayment {
  return {
    opId: r.op_id as string,
    tenderIndex: int(r.tender_index),
    device: r.device as string,
    seq: int(r.seq),
    tender: r.tender as OfflinePaymentRecord['tender'],
    amount: int(r.amount),
    currency: r.currency as string,
    brand: r.brand as string,
    last4: r.last4 as string,
    token: r.token as string,
    policy: textOrNull(r.policy),
    approvedAt: int(r.approved_at),
    receivedAt: int(r.received_at),
    settledAt: intOrNull(r.settled_at),
    outcome: textOrNull(r.outcome),
  };
}

export function toShift(r: Row): ShiftRecord {
  return {
    id: r.id as string,
    device: r.device as string,
    clerk: r.clerk as string,
    currency: r.currency as string,
    status: r.status as ShiftRecord['status'],
    openingFloat: int(r.opening_float),
    sales: int(r.sales),
    salesTotal: int(r.sales_total),
    cashSales: int(r.cash_sales),
    cardSales: int(r.card_sales),
    cashIn: int(r.cash_in),
    cashOut: int(r.cash_out),
    countedCash: intOrNull(r.counted_cash),
    openedAt: int(r.opened_at),
    closedAt: intOrNull(r.closed_at),
    expectedCash: intOrNull(r.expected_cash),
    variance: intOrNull(r.variance),
  };
}

export function toStoredOp(r: Row): StoredOp {
  return {
    op: { ...(JSON.parse(r.envelope as string) as Omit<Op, 'hash'>), hash: r.hash as string },
    result: JSON.parse(r.result as string) as StoredResult,
    receivedAt: int(r.received_at),
  };
}

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
