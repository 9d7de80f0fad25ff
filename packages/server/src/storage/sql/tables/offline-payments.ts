/**
 * The `offline_payments` table: one row per card tender approved offline,
 * written by ingest, then claimed, deferred, refused or settled by the
 * forwarder (the `later` columns). Its columns and row mappers, for every
 * backend; the SQL conditions of its states are in ../offline-payment-states.ts.
 */
import type { OfflinePaymentRecord, StoredOfflinePayment } from '../../../model/offline-payment.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import { defineTable } from '../table.js';

export const OFFLINE_PAYMENTS = defineTable<OfflinePaymentRecord>(
  'offline_payments',
  {
    op_id: ['text', (p) => p.opId],
    tender_index: ['int', (p) => p.tenderIndex],
    device: ['text', (p) => p.device],
    seq: ['bigint', (p) => p.seq],
    tender: ['text', (p) => p.tender],
    amount: ['bigint', (p) => p.amount],
    currency: ['text', (p) => p.currency],
    brand: ['text', (p) => p.brand],
    last4: ['text', (p) => p.last4],
    token: ['text', (p) => p.token],
    policy: ['text', (p) => p.policy],
    approved_at: ['bigint', (p) => p.approvedAt],
    received_at: ['bigint', (p) => p.receivedAt],
  },
  [
    'settled_at',
    'outcome',
    'processor_id',
    'decline_code',
    'settled_by',
    'claimed_by',
    'claim_expires_at',
    'attempts',
    'next_attempt_at',
    'last_error',
    'refused_at',
    'refusal_code',
    'deadline_stage',
  ],
);

export function offlinePaymentOf(r: Row): StoredOfflinePayment {
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

/** The settlement columns of an offline payment, as stored (all null until it is settled). */
export function settlementColumnsOf(r: Row) {
  return {
    outcome: textOrNull(r.outcome),
    processorId: textOrNull(r.processor_id),
    declineCode: textOrNull(r.decline_code),
    settledAt: intOrNull(r.settled_at),
  };
}
