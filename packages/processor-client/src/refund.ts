/**
 * Refunds of captured card payments as they cross the wire between a
 * processor's client and the processor (docs/processor-sim.md, "Refunds";
 * docs/corrections.md, "Card refunds at the processor").
 *
 * A refund names the approved authorization it gives money back on. The
 * processor stores one refund per idempotency key and never lets the
 * refunds of one authorization add up to more than it captured.
 */
import { CURRENCY_PATTERN, type Infer, MAX_AMOUNT, schema as s } from '@holdfast/protocol';

export const refundRequestSchema = s.object({
  /** The processor's id of the approved authorization refunded (`auth_` + 24 hex digits). */
  authorization: s.string({
    minLength: 29,
    maxLength: 29,
    pattern: /^auth_[0-9a-f]{24}$/,
    patternRule: 'auth_ and 24 lowercase hex digits',
  }),
  amount: s.int({ min: 1, max: MAX_AMOUNT }),
  currency: s.string({
    minLength: 3,
    maxLength: 3,
    pattern: CURRENCY_PATTERN,
    patternRule: 'ISO 4217 code: 3 upper-case letters',
  }),
});

export type RefundRequestBody = Infer<typeof refundRequestSchema>;

/** A stored refund: what every answer about it carries. */
export interface Refund {
  id: string;
  authorization: string;
  amount: number;
  currency: string;
  /** What the authorization's refunds add up to, this one included, when it was made. */
  refunded: number;
  /** Milliseconds since the Unix epoch, on the processor's clock. */
  createdAt: number;
}

/** The answer to a refund request. */
export interface RefundAnswer {
  refund: Refund;
  /** True when this is the stored refund of an earlier request with the same key. */
  replayed: boolean;
}
