/** Errors of the domain rules: a rule a requested op would break. */

export const DOMAIN_ERROR_CODES = [
  'shift_mismatch',
  'shift_not_open',
  'shift_already_open',
  'no_open_shift',
  'currency_mismatch',
  'insufficient_cash',
  /** A shift's running total would leave ±MAX_SHIFT_TOTAL (shift.ts). */
  'total_out_of_range',
] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
  }
}
