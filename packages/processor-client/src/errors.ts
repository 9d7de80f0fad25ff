/**
 * What a call to the processor can end in besides an answer: a refusal
 * (nothing was done) or an unknown outcome (a charge may exist).
 */

export type UnknownReason = 'timeout' | 'network' | 'bad_response' | 'server_error';

/** No usable answer: the request may or may not have taken effect. */
export class ProcessorOutcomeUnknownError extends Error {
  override readonly name = 'ProcessorOutcomeUnknownError';
  constructor(
    readonly reason: UnknownReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The processor answered with an error: nothing was done. `retryable` says whether trying later can succeed. */
export class ProcessorRefusedError extends Error {
  override readonly name = 'ProcessorRefusedError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly field?: string,
  ) {
    super(`HTTP ${status} ${code}: ${message}`);
  }
}
