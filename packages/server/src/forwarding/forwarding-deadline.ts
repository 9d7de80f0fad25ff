/**
 * The forwarding deadline: how long an offline-approved payment may stay
 * unsettled before the card network's window (24 h to 7 days, depending on
 * the acquirer) is at risk.
 *
 * Measured from `deadlineBase`: the device's time of approval, but never
 * later than when the server received the payment. The device clock is only
 * evidence, so it may move the start earlier (a payment carried in by
 * courier days after the tap is already old when it arrives: the card
 * network's clock started at the tap) but never later (a device clock
 * running ahead must not buy a payment more time).
 */
import { formatMoney } from '@holdfast/protocol';
import type { ExceptionRecord } from '../model/exception.js';
import type { StoredOfflinePayment } from '../model/offline-payment.js';
import type { DeadlineCandidate } from '../model/payment-forwarding.js';

export const DEFAULT_FORWARD_DEADLINE_HOURS = 72;
/** A warning is raised when this fraction of the deadline has passed. */
export const DEFAULT_DEADLINE_WARN_FRACTION = 0.75;
export const HOUR_MS = 3_600_000;

/** When a payment's deadline clock started: min(device approval time, server receipt). */
export function deadlineBase(p: Pick<StoredOfflinePayment, 'approvedAt' | 'receivedAt'>): number {
  return Math.min(p.approvedAt, p.receivedAt);
}

/** The dedupe key of a payment's deadline exception at `stage` (the backends' SQL builds the same text). */
export function forwardingDeadlineKey(
  stage: DeadlineCandidate['stage'],
  p: Pick<StoredOfflinePayment, 'opId' | 'tenderIndex'>,
): string {
  return `forwarding_deadline:${stage}:${p.opId}:${p.tenderIndex}`;
}

/** The deadline settings in ms, checked. */
export function deadlineSettings(hours: number, warnFraction: number): { deadlineMs: number; warnAfterMs: number } {
  if (!(hours > 0) || !Number.isFinite(hours))
    throw new RangeError('forward deadline must be a positive number of hours');
  if (!(warnFraction > 0 && warnFraction < 1)) throw new RangeError('deadline warning fraction must be in (0, 1)');
  const deadlineMs = Math.round(hours * HOUR_MS);
  return { deadlineMs, warnAfterMs: Math.round(deadlineMs * warnFraction) };
}

/** The exception for a candidate: a warning as the deadline nears, an alarm once it is missed. */
export function deadlineException(
  candidate: DeadlineCandidate,
  deadlineMs: number,
  now: number,
  id: string,
): ExceptionRecord {
  const p = candidate.payment;
  const base = deadlineBase(p);
  const deadlineAt = base + deadlineMs;
  const missed = candidate.stage === 'missed';
  const hoursLeft = Math.round(((deadlineAt - now) / HOUR_MS) * 10) / 10;
  return {
    id,
    type: 'forwarding_deadline',
    severity: missed ? 'alarm' : 'warning',
    device: p.device,
    opId: p.opId,
    seq: p.seq,
    message: missed
      ? `offline-approved ${p.brand} ****${p.last4} payment of ${formatMoney(p.amount, p.currency)} missed its forwarding deadline (${new Date(deadlineAt).toISOString()}) unsettled`
      : `offline-approved ${p.brand} ****${p.last4} payment of ${formatMoney(p.amount, p.currency)} is still unsettled ${hoursLeft} h before its forwarding deadline`,
    detail: {
      stage: candidate.stage,
      opId: p.opId,
      tenderIndex: p.tenderIndex,
      device: p.device,
      seq: p.seq,
      amount: p.amount,
      currency: p.currency,
      brand: p.brand,
      last4: p.last4,
      approvedAt: p.approvedAt,
      receivedAt: p.receivedAt,
      deadlineFrom: base,
      deadlineAt,
      attempts: p.attempts,
      lastError: p.lastError,
    },
    raisedAt: now,
    dedupeKey: forwardingDeadlineKey(candidate.stage, p),
  };
}
