/**
 * Errors of the wire protocol: the stable, machine-readable codes a server
 * answers with, and the in-process error classes that carry them.
 *
 * A code never changes meaning once published; terminals branch on `code`
 * and `retryable`, people read `message`.
 */

/**
 * Request-level error codes with their HTTP status and whether retrying the
 * same request later can succeed. A request-level error means nothing in the
 * request was applied.
 */
export const ERROR_CODES = {
  malformed_json: { status: 400, retryable: false },
  /** A JSON object names one member twice (RFC 8785 canonical JSON needs I-JSON): refused, never "last one wins". */
  duplicate_member: { status: 400, retryable: false },
  /** The body is not valid UTF-8: refused, never repaired with U+FFFD. */
  invalid_utf8: { status: 400, retryable: false },
  /** The request line or headers could not be parsed as HTTP. */
  malformed_http: { status: 400, retryable: false },
  /** The headers or body did not arrive within the server's request timeout; nothing was done. */
  request_timeout: { status: 408, retryable: true },
  /** The URL (or one path parameter) is longer than the server reads. */
  uri_too_long: { status: 414, retryable: false },
  /** The request headers are larger than the server reads. */
  headers_too_large: { status: 431, retryable: false },
  invalid_request: { status: 400, retryable: false },
  unsupported_media_type: { status: 415, retryable: false },
  body_too_large: { status: 413, retryable: false },
  hash_mismatch: { status: 400, retryable: false },
  chain_broken: { status: 400, retryable: false },
  seq_not_contiguous: { status: 400, retryable: false },
  device_mismatch: { status: 400, retryable: false },
  duplicate_in_batch: { status: 400, retryable: false },
  unauthorized: { status: 401, retryable: false },
  /** Operator login: unknown username, wrong password or disabled account (one answer for all three). */
  invalid_credentials: { status: 401, retryable: false },
  /** Operator session past its idle or absolute expiry, or logged out. */
  session_expired: { status: 401, retryable: false },
  /** Operator login refused for a while after too many failures (per account or per source); see retryAfterMs. */
  login_locked: { status: 429, retryable: true },
  /** An authenticated operator whose role lacks the right; `rule` names the roles that have it. */
  forbidden: { status: 403, retryable: false },
  /** A cookie-authenticated unsafe request without the session's CSRF token in `x-csrf-token`. */
  csrf_failed: { status: 403, retryable: false },
  unknown_device: { status: 401, retryable: false },
  bad_signature: { status: 401, retryable: false },
  device_revoked: { status: 403, retryable: false },
  token_invalid: { status: 403, retryable: false },
  token_expired: { status: 403, retryable: false },
  token_used: { status: 409, retryable: false },
  key_already_enrolled: { status: 409, retryable: false },
  /** A key rotation signed by a key the device has already rotated away from (and naming another new key). */
  key_superseded: { status: 409, retryable: false },
  /** An operator account with this username exists already. */
  username_taken: { status: 409, retryable: false },
  /** An operator action on an exception that another action already resolved. */
  already_resolved: { status: 409, retryable: false },
  not_found: { status: 404, retryable: false },
  /** A staff id or badge already on a roster (docs/staff-and-roles.md). */
  staff_exists: { status: 409, retryable: false },
  /** POST /v1/authorize: the op id was already asked about with another request or by another device. */
  op_id_reused: { status: 409, retryable: false },
  /** Event results: a selection already settled with another result (a correction is not an edit). */
  result_conflict: { status: 409, retryable: false },
  /** A ticket void refused at the API: past the void window, or without a supervisor's approval. */
  void_refused: { status: 409, retryable: false },
  /** Loyalty (docs/loyalty.md): a card number already given to a member. */
  loyalty_member_exists: { status: 409, retryable: false },
  /** Loyalty: no member with this card number. */
  loyalty_member_unknown: { status: 404, retryable: false },
  /** Loyalty: points that are zero where one is needed, negative, fractional or out of range. */
  loyalty_points_invalid: { status: 400, retryable: false },
  /** Loyalty: an adjustment id already applied (nothing applied twice). */
  loyalty_adjustment_exists: { status: 409, retryable: false },
  /** Catalog: a price list or promotion names a SKU that is not in the catalog (docs/catalog-and-stock.md). */
  unknown_sku: { status: 400, retryable: false },
  /** Catalog: a price list or promotion that would end at or before now. */
  ends_in_past: { status: 400, retryable: false },
  /** E-invoicing: no fiscal bill with this op id (docs/e-invoicing.md). */
  fiscal_bill_unknown: { status: 404, retryable: false },
  /** E-invoicing: an operator action on a bill that is not rejected, or already settled. */
  fiscal_bill_not_rejected: { status: 409, retryable: false },
  rate_limited: { status: 429, retryable: true },
  overloaded: { status: 503, retryable: true },
  /** POST /v1/authorize: the server cannot decide online now (e.g. no processor configured); nothing was done. */
  online_unavailable: { status: 503, retryable: true },
  /** GET /v1/ready: the server is alive but must not get traffic now (shutting down, store unwritable or not migrated). */
  not_ready: { status: 503, retryable: true },
  internal: { status: 500, retryable: true },
  /** GET /v1/health: the storage's last write failed (disk full, read-only, I/O error) and still fails. */
  storage_unwritable: { status: 503, retryable: true },
  /** Loyalty online redemption (docs/loyalty.md): the member's balance on the server is below the points asked. */
  loyalty_insufficient_points: { status: 409, retryable: false },
  /** Loyalty: no redemption under this id for this device (never asked, or asked by another till). */
  loyalty_redemption_unknown: { status: 404, retryable: false },
  /** Loyalty: the one-time code typed is not the one sent; the message says how many tries remain. */
  loyalty_code_wrong: { status: 403, retryable: false },
  /** Loyalty: the one-time code expired before it was confirmed; ask for a new one. */
  loyalty_code_expired: { status: 410, retryable: false },
  /** Loyalty: too many wrong codes; this redemption is locked for good, ask for a new one. */
  loyalty_code_locked: { status: 423, retryable: false },
  /** Loyalty: the device's policy has no loyalty rule, so it cannot redeem online either. */
  loyalty_no_rule: { status: 409, retryable: false },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The body of every non-2xx response. */
export interface WireError {
  code: ErrorCode;
  message: string;
  /** The offending field as a path, e.g. `ops[3].body.total`. */
  field?: string;
  /** The rule the field broke, e.g. `integer >= 1`. */
  rule?: string;
  retryable: boolean;
  retryAfterMs?: number;
  /** `device_revoked` from a server that signs answers is signed: signed-answer.ts refusalAnswer. */
  serverKey?: string;
  serverSig?: string;
}

/** A value broke a schema rule. `field` is a path such as `ops[2].body.lines[0].qty`. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly field: string,
    readonly rule: string,
    readonly got: string,
  ) {
    super(`${field}: expected ${rule}, got ${got}`);
  }

  /** The same error found inside a larger value at `prefix`. */
  within(prefix: string): ValidationError {
    const field =
      this.field === '(root)'
        ? prefix
        : this.field.startsWith('[')
          ? `${prefix}${this.field}`
          : `${prefix}.${this.field}`;
    return new ValidationError(field, this.rule, this.got);
  }
}

/** A request-level protocol error with a stable code. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly field: string | undefined;
  readonly rule: string | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    context: { field?: string; rule?: string; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.field = context.field;
    this.rule = context.rule;
    this.retryAfterMs = context.retryAfterMs;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }

  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.field !== undefined) wire.field = this.field;
    if (this.rule !== undefined) wire.rule = this.rule;
    if (this.retryAfterMs !== undefined) wire.retryAfterMs = this.retryAfterMs;
    return wire;
  }

  static fromValidation(error: ValidationError, code: ErrorCode = 'invalid_request'): ProtocolError {
    return new ProtocolError(code, error.message, { field: error.field, rule: error.rule });
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
