/**
 * The authorization request and answer: wire types, the request schema, and
 * the request hash that tells a replay from a reused idempotency key.
 */
import { CURRENCY_PATTERN, canonicalHash, type Infer, MAX_AMOUNT, schema as s, sha256Hex } from '@holdfast/protocol';
import { ProcessorError, validated } from './errors.js';

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

/** A parsed request, `offline` filled in (absent and false are the same request). */
export type AuthorizationRequest = Omit<AuthorizationRequestBody, 'offline'> & { offline: boolean };

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

/** Parses a request body; bad input is a 400 naming the field. `offline` absent means false. */
export function parseAuthorizationRequest(body: unknown): AuthorizationRequest {
  const request = validated(() => authorizationRequestSchema.parse(body));
  return { ...request, offline: request.offline ?? false };
}

/** Checks an idempotency key found at `field`; a 400 naming it otherwise. */
export function parseIdempotencyKey(value: unknown, field: string): string {
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(value)) {
    const got =
      typeof value === 'string'
        ? `a string of ${value.length} characters`
        : Array.isArray(value)
          ? 'several values'
          : 'nothing';
    throw new ProcessorError('invalid_request', `${field} must be 1..255 visible ASCII characters, got ${got}`, {
      field,
      rule: '1..255 visible ASCII characters',
    });
  }
  return value;
}

/** SHA-256 over the canonical JSON (RFC 8785) of a parsed request: equal for equal requests. */
export function requestHash(request: AuthorizationRequest): string {
  return canonicalHash(request);
}

/**
 * The authorization id for an idempotency key. Keys are unique, so ids are;
 * deriving the id (rather than drawing it) keeps a seeded run's records
 * identical from one run to the next, and across restarts.
 */
export function authorizationId(idempotencyKey: string): string {
  return `auth_${sha256Hex(idempotencyKey).slice(0, 24)}`;
}

export const AUTHORIZATION_ID_PATTERN = /^auth_[0-9a-f]{24}$/;

/** The dotted paths at which two requests differ, e.g. `['amount', 'card.token']`. */
export function requestDifferences(stored: unknown, given: unknown, path = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (!isObject(stored) || !isObject(given)) return stored === given ? [] : [path || 'body'];
  const keys = [...new Set([...Object.keys(stored), ...Object.keys(given)])].sort();
  return keys.flatMap((key) => requestDifferences(stored[key], given[key], path ? `${path}.${key}` : key));
}
