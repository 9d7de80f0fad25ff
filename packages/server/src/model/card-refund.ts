/**
 * Card refunds forwarded to the processor (docs/corrections.md, "Card
 * refunds at the processor"): one row per card tender a correction gives
 * money back to, the outbox the card refunder works through.
 *
 *   pending ──refunder claims──▶ processor refunds ──▶ refunded (once per key)
 *      │  ▲                           │
 *      └──┘ transient failure,        └─ refused for good (over the capture,
 *           or the sale's card           nothing captured, key reused)
 *           payment not captured yet     ──▶ declined: card_refund_declined alarm
 *
 * A `sale.refunded` with `tender: card` makes one row (the sale's card
 * tender paid by that card); a `sale.voided` makes one row per card tender
 * of the sale (each refunded in full). The processor simulates capture
 * with the authorization, so a void's card part is always a refund of a
 * capture, never a reversal of an authorization.
 */

export type CardRefundState = 'pending' | 'refunded' | 'declined';

export interface CardRefund {
  /** The correction op (`sale.voided` or `sale.refunded`). */
  opId: string;
  /** Index of the sale's card tender refunded. */
  tenderIndex: number;
  kind: 'void' | 'refund';
  /** The `sale.recorded` op whose card payment is refunded. */
  saleOpId: string;
  /** The device and seq of the correction op. */
  device: string;
  seq: number;
  amount: number;
  currency: string;
  enrolledAt: number;
  state: CardRefundState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  claimedBy: string | null;
  claimExpiresAt: number | null;
  /** The processor's authorization refunded, once known. */
  authorizationId: string | null;
  /** The processor's refund id, once refunded. */
  refundId: string | null;
  /** The processor's refusal code when declined (`refund_over_capture`, `refund_not_captured`, …). */
  declineCode: string | null;
  declineMessage: string | null;
  settledAt: number | null;
}

/**
 * What the sale's card tender was captured as, read when a refund is
 * claimed: the processor's authorization id; `waiting` while the payment
 * is not answered yet (an offline payment not forwarded, an online one
 * pending); `none` when nothing was ever captured (declined, refused).
 */
export type CardCapture =
  | { kind: 'captured'; authorizationId: string }
  | { kind: 'waiting'; why: string }
  | { kind: 'none'; why: string };

export interface ClaimedCardRefund extends CardRefund {
  capture: CardCapture;
}

export interface CardRefundAnswerRequest {
  opId: string;
  tenderIndex: number;
  owner: string;
  at: number;
  exceptionId: string;
  outcome:
    | { status: 'refunded'; authorizationId: string; refundId: string }
    | { status: 'declined'; authorizationId: string | null; code: string; message: string };
}

export interface CardRefundDeferRequest {
  opId: string;
  tenderIndex: number;
  owner: string;
  attempts: number;
  nextAttemptAt: number;
  error: string;
}
