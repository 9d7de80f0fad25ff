/**
 * A card payment a terminal approved offline, and its life on the server.
 *
 *   recorded ──forwarder claims──▶ processor answers ──▶ settled (approved | declined)
 *      │  ▲                          │
 *      └──┘ transient failure:       └─ refusal (4xx about the request) ──▶ refused
 *           attempts + 1, backoff       (never retried; stays in the actual exposure)
 *
 * The stored row keeps the lifecycle in nullable columns (settled_at,
 * outcome, refused_at, …); `offlinePaymentState` is the one reading of them.
 */
/**
 * A card payment the terminal approved on its own (`decision.mode` local,
 * outcome approved): money the processor has not confirmed. One per card
 * tender of such a sale. Stored unsettled; the forwarder's answer settles
 * or refuses it (`StoredOfflinePayment`, `offlinePaymentState`).
 */
export interface OfflinePaymentRecord {
  opId: string;
  /** Index of the tender in the sale's `tenders`: a sale may be split over several cards. */
  tenderIndex: number;
  device: string;
  seq: number;
  tender: 'card';
  amount: number;
  currency: string;
  brand: string;
  last4: string;
  /** The processor token of the card (never a card number). */
  token: string;
  /** The op's `decision.policy`: the policy the terminal approved under, or null. */
  policy: string | null;
  /** Device clock at approval (the op's `at`): evidence only. */
  approvedAt: number;
  receivedAt: number;
}

/** An offline payment as stored, with what settlement will fill in later. */
export interface StoredOfflinePayment extends OfflinePaymentRecord {
  /** When the processor's answer settled it (server clock); null until then. */
  settledAt: number | null;
  /** The processor's answer, `approved` or `declined`; null until settled. */
  outcome: string | null;
  /** Consecutive transient forwarding failures (outage, unknown outcome) since the last answer; 0 at first. */
  attempts: number;
  /** Not claimed before this instant (server clock): the backoff after a transient failure; null: due now. */
  nextAttemptAt: number | null;
  /** Why the last forwarding attempt left it unsettled, for operators; null if none failed. */
  lastError: string | null;
  /** The last forwarding-deadline stage reported for it: null, `warning` or `missed`. */
  deadlineStage: 'warning' | 'missed' | null;
  /** When the processor refused it for good (never retried after); null otherwise. */
  refusedAt: number | null;
  /** The processor's error code of that refusal (e.g. `idempotency_key_reused`). */
  refusalCode: string | null;
}

/** Which offline payment: a sale may be split over several cards (one row per card tender). */
export interface OfflinePaymentKey {
  opId: string;
  tenderIndex: number;
}

/** An offline payment claimed for forwarding, with what the forwarder needs beside it. */
export interface ClaimedOfflinePayment extends StoredOfflinePayment {
  /** The device's current placement merchant, or null if it was never placed. */
  merchant: string | null;
  claimedBy: string;
  claimExpiresAt: number;
}

/** Where an offline payment is in its life, read from its stored row. */
export type OfflinePaymentState =
  | {
      /** Not answered yet: waiting to be forwarded, or backing off after a transient failure. */
      state: 'unsettled';
      attempts: number;
      nextAttemptAt: number | null;
      lastError: string | null;
      deadlineStage: 'warning' | 'missed' | null;
    }
  | { state: 'settled'; outcome: 'approved' | 'declined'; settledAt: number }
  | { state: 'refused'; refusedAt: number; refusalCode: string | null };

/**
 * The state of a stored offline payment. A settled row wins over a refusal
 * (a refused payment is never forwarded again, so both cannot be true of a
 * row the forwarder wrote; settlement is the stronger fact if they were).
 */
export function offlinePaymentState(payment: StoredOfflinePayment): OfflinePaymentState {
  if (payment.settledAt !== null) {
    if (payment.outcome !== 'approved' && payment.outcome !== 'declined') {
      throw new RangeError(
        `offline payment ${payment.opId}/${payment.tenderIndex} settled with outcome ${payment.outcome}`,
      );
    }
    return { state: 'settled', outcome: payment.outcome, settledAt: payment.settledAt };
  }
  if (payment.refusedAt !== null) {
    return { state: 'refused', refusedAt: payment.refusedAt, refusalCode: payment.refusalCode };
  }
  return {
    state: 'unsettled',
    attempts: payment.attempts,
    nextAttemptAt: payment.nextAttemptAt,
    lastError: payment.lastError,
    deadlineStage: payment.deadlineStage,
  };
}
