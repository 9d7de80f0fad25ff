/**
 * What the forwarder asks storage to do with an offline payment: settle it, defer it after a transient failure, refuse it, or raise its forwarding-deadline exception.
 */
import type { ExceptionRecord } from './exception.js';
import type { OfflinePaymentKey, StoredOfflinePayment } from './offline-payment.js';

/** The processor's final answer about a forwarded payment. */
export interface PaymentSettlement {
  status: 'approved' | 'declined';
  /** The processor's authorization id. */
  processorId: string;
  /** Only for a decline. */
  declineCode?: string;
  /** Server clock when the answer was received. */
  at: number;
}

export interface SettleRequest {
  payment: OfflinePaymentKey;
  /** Who settles (the forwarder's owner id); kept for the record. */
  owner: string;
  settlement: PaymentSettlement;
  /** Id of the `post_auth_decline` exception this raises if it is a decline (data, not a callback). */
  exceptionId: string;
}

export interface SettleOutcome {
  /** What is stored: this settlement, or the one stored before (a second settle changes nothing). */
  settlement: PaymentSettlement;
  /** False when the payment had already been settled. */
  settledNow: boolean;
}

/** A transient forwarding failure: try again with the same key, not before `nextAttemptAt`. */
export interface DeferRequest {
  payment: OfflinePaymentKey;
  /** The claimer; a payment claimed by someone else since (lease ran out) is left alone. */
  owner: string;
  /** Consecutive failures now (the stored `attempts` + 1). */
  attempts: number;
  nextAttemptAt: number;
  error: string;
}

/** The processor refused the payment for good (a 4xx about the request): never retried. */
export interface RefuseRequest {
  payment: OfflinePaymentKey;
  owner: string;
  /** The processor's error code, e.g. `idempotency_key_reused`, `invalid_request`. */
  code: string;
  /** HTTP status and message of the refusal, for the exception's detail. */
  status: number;
  message: string;
  /** The field the processor named, if any. */
  field: string | null;
  at: number;
  /** Id of the `payment_refused` exception this raises. */
  exceptionId: string;
}

/** Which forwarding-deadline exception an unsettled payment is due for. */
export interface DeadlineQuery {
  now: number;
  /** Warn once a payment is this old (measured from `deadlineBase`). */
  warnAfterMs: number;
  /** The deadline: an alarm once a payment is this old. */
  deadlineMs: number;
  limit: number;
}

/** An unsettled, unrefused payment whose `stage` exception has not been raised yet. */
export interface DeadlineCandidate {
  payment: StoredOfflinePayment;
  stage: 'warning' | 'missed';
}

/** A deadline exception to raise for a payment, and the stage it records on the payment. */
export interface DeadlineNotice {
  payment: OfflinePaymentKey;
  stage: 'warning' | 'missed';
  exception: ExceptionRecord;
}
