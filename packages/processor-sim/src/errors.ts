/**
 * Errors of the processor simulator: the stable codes it answers with, and
 * the in-process error class that carries them (mapped to HTTP in http.ts).
 *
 * Every error answer means nothing was stored, except that a
 * `idempotency_key_reused` answer leaves the first request's authorization
 * as it was.
 */
import { ValidationError } from '@holdfast/protocol';

export const PROCESSOR_ERROR_CODES = {
  malformed_json: { status: 400, retryable: false },
  invalid_request: { status: 400, retryable: false },
  unsupported_media_type: { status: 415, retryable: false },
  body_too_large: { status: 413, retryable: false },
  unauthorized: { status: 401, retryable: false },
  not_found: { status: 404, retryable: false },
  idempotency_key_reused: { status: 422, retryable: false },
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

export class ProcessorError extends Error {
  override readonly name = 'ProcessorError';
  readonly field: string | undefined;
  readonly rule: string | undefined;

  constructor(
    readonly code: ProcessorErrorCode,
    message: string,
    context: { field?: string; rule?: string } = {},
  ) {
    super(message);
    this.field = context.field;
    this.rule = context.rule;
  }

  get status(): number {
    return PROCESSOR_ERROR_CODES[this.code].status;
  }

  toWire(): ProcessorWireError {
    const wire: ProcessorWireError = {
      code: this.code,
      message: this.message,
      retryable: PROCESSOR_ERROR_CODES[this.code].retryable,
    };
    if (this.field !== undefined) wire.field = this.field;
    if (this.rule !== undefined) wire.rule = this.rule;
    return wire;
  }

  /** A schema failure as a 400 naming the field; the body's root is called `body`. */
  static fromValidation(error: ValidationError): ProcessorError {
    const field = error.field === '(root)' ? 'body' : error.field;
    return new ProcessorError('invalid_request', `${field}: expected ${error.rule}, got ${error.got}`, {
      field,
      rule: error.rule,
    });
  }
}

/** Runs `parse`, turning a ValidationError into a 400 ProcessorError. */
export function validated<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ValidationError) throw ProcessorError.fromValidation(error);
    throw error;
  }
}
