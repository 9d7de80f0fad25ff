/**
 * The authorization request and answer as they cross the wire between a
 * processor's client and the processor: the request schema and body, the
 * stored decision every answer carries, and the replay header.
 */
import { CURRENCY_PATTERN, type Infer, MAX_AMOUNT, schema as s } from '@holdfast/protocol';

export const DECLINE_CODES = [
  'insufficient_funds',
  'card_blocked',
  'do_not_honor',
  'expired_card',
  'processor_error',
] as const;
export type DeclineCode = (typeof DECLINE_CODES)[number];

export type AuthorizationStatus = 'approved' | 'declined';

/** `Idempotency-Key`: 1..255 visible ASCII characters (no spaces). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Answers a replay carries `idempotent-replayed: true`; a new authorization `false`. */
export const REPLAYED_HEADER = 'idempotent-replayed';

export const authorizationRequestSchema = s.object({
  merchant: s.string({ minLength: 1, maxLength: 128 }),
  amount: s.int({ min: 1, max: MAX_AMOUNT }),
  currency: s.string({
    minLength: 3,
    maxLength: 3,
    pattern: CURRENCY_PATTERN,
    patternRule: 'ISO 4217 code: 3 upper-case letters',
  }),
  card: s.object({
    token: s.string({ minLength: 1, maxLength: 128 }),
    brand: s.string({ minLength: 1, maxLength: 32 }),
    last4: s.string({ minLength: 4, maxLength: 4, pattern: /^\d{4}$/, patternRule: '4 digits' }),
  }),
  // Authorization without capture is not simulated yet: only `true` is taken.
  capture: s.literal(true),
  reference: s.optional(s.string({ minLength: 1, maxLength: 128 })),
  offline: s.optional(s.boolean()),
});

/** An authorization request as sent: `reference` and `offline` may be absent. */
export type AuthorizationRequestBody = Infer<typeof authorizationRequestSchema>;

/** A stored, final decision: what every answer about it carries, byte for byte. */
export interface Authorization {
  id: string;
  status: AuthorizationStatus;
  declineCode?: DeclineCode;
  merchant: string;
  amount: number;
  currency: string;
  card: { brand: string; last4: string };
  reference?: string;
  offline: boolean;
  /** Milliseconds since the Unix epoch, on the processor's clock. */
  createdAt: number;
}

/** The answer to an authorization request. */
export interface AuthorizeAnswer {
  authorization: Authorization;
  /** True when this is the stored answer to an earlier request with the same key. */
  replayed: boolean;
}

/** One authorization in the processor's listing, with its cursor and key. */
export interface ListedAuthorization {
  seq: number;
  idempotencyKey: string;
  authorization: Authorization;
}
