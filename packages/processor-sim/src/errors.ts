/**
 * Errors of the processor simulator: the in-process error class that
 * carries the stable codes it answers with (the codes and the wire body are
 * @holdfast/processor-client's; mapped to HTTP in http.ts).
 */
import { PROCESSOR_ERROR_CODES, type ProcessorErrorCode, type ProcessorWireError } from '@holdfast/processor-client';
import { ValidationError } from '@holdfast/protocol';

/** An error the processor answers with: a stable code, and the field and rule it is about. */
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
