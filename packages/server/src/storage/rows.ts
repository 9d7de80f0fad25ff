/**
 * Storage rows turned into storage records, for every SQL backend: both name
 * their columns alike (snake_case).
 *
 * Integers are checked, not just converted: node-postgres returns BIGINT
 * (and COUNT, SUM) as strings, because a BIGINT may exceed 2^53. Every
 * Holdfast integer is a safe integer by the protocol's schemas, so a value
 * that is not one fails loudly instead of losing precision. SQLite returns
 * numbers, which pass through.
 */
import type { Op, StoredResult } from '@holdfast/protocol';
import type { StoredOp } from '../model/batch.js';
import type { DeviceRecord } from '../model/device.js';
import type { EnrollmentTokenRecord } from '../model/enrollment.js';
import type { OfflinePaymentRecord, StoredOfflinePayment } from '../model/offline-payment.js';
import type { ServerKeyRecord } from '../model/policy.js';
import type { ShiftRecord } from '../model/shift.js';

export type Row = Record<string, unknown>;

/** An integer column (string or number) as a number; throws if it is not a safe integer. */
export function int(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`expected a safe integer from the database, got ${String(value)}`);
  return n;
}

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
    attempts: int(r.attempts),
    nextAttemptAt: intOrNull(r.next_attempt_at),
    lastError: textOrNull(r.last_error),
    deadlineStage: (textOrNull(r.deadline_stage) as StoredOfflinePayment['deadlineStage']) ?? null,
    refusedAt: intOrNull(r.refused_at),
    refusalCode: textOrNull(r.refusal_code),
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

/** The settlement columns of an offline payment, as stored (all null until it is settled). */
export function settlementColumns(r: Row) {
  return {
    outcome: textOrNull(r.outcome),
    processorId: textOrNull(r.processor_id),
    declineCode: textOrNull(r.decline_code),
    settledAt: intOrNull(r.settled_at),
  };
}
