/**
 * The processor's error answers: the stable codes, their HTTP status and
 * retry hint, and the body of every non-2xx answer.
 *
 * Every error answer means nothing was stored, except that a
 * `idempotency_key_reused` answer leaves the first request's authorization
 * as it was.
 */

export const PROCESSOR_ERROR_CODES = {
  malformed_json: { status: 400, retryable: false },
  invalid_request: { status: 400, retryable: false },
  unsupported_media_type: { status: 415, retryable: false },
  body_too_large: { status: 413, retryable: false },
  unauthorized: { status: 401, retryable: false },
  not_found: { status: 404, retryable: false },
  idempotency_key_reused: { status: 422, retryable: false },
  /** A refund of an authorization that was never approved, or in another currency: nothing was refunded. */
  refund_not_captured: { status: 422, retryable: false },
  /** A refund that with the earlier ones would pass what the authorization captured: nothing was refunded. */
  refund_over_capture: { status: 422, retryable: false },
  /** The simulated outage: answered before anything was read or stored. */
  processor_unavailable: { status: 503, retryable: true },
  internal: { status: 500, retryable: true },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ProcessorErrorCode = keyof typeof PROCESSOR_ERROR_CODES;

/** The body of every non-2xx answer. */
export interface ProcessorWireError {
  code: ProcessorErrorCode;
  message: string;
  /** The offending field, e.g. `card.last4`, `headers.idempotency-key`, `query.limit`. */
  field?: string;
  /** The rule it broke, e.g. `string matching ^\d{4}$`. */
  rule?: string;
  retryable: boolean;
}
