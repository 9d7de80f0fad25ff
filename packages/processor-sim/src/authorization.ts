/**
 * Authorization requests as the processor reads them: parsing (a 400 naming
 * the field), authorization ids, and the request hash that tells a replay
 * from a reused idempotency key. The wire types are @holdfast/processor-client's.
 */
import {
  type AuthorizationRequestBody,
  authorizationRequestSchema,
  IDEMPOTENCY_KEY_PATTERN,
} from '@holdfast/processor-client';
import { canonicalHash, sha256Hex } from '@holdfast/protocol';
import { ProcessorError, validated } from './errors.js';

/** A parsed request, `offline` filled in (absent and false are the same request). */
export type AuthorizationRequest = Omit<AuthorizationRequestBody, 'offline'> & { offline: boolean };

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
