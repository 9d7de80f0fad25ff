/**
 * E-invoicing (docs/e-invoicing.md): a bill (an accepted sale) is known
 * offline by its receipt number (domain's receiptNumber: device code and
 * seq), printed as provisional; the tax authority's fiscal number replaces
 * it once the server has registered the bill under this key.
 */

/** The idempotency key the server registers bill `opId` under: the op id alone, so every retry reuses it. */
export function fiscalKeyOf(opId: string): string {
  return `holdfast-bill-${opId}`;
}

/**
 * The key of submission `submission` of bill `opId`: the first (0) is
 * fiscalKeyOf's; an operator's resubmission after a rejection (corrected
 * data, so another request) gets the next suffix, itself stable across
 * retries.
 */
export function fiscalSubmissionKey(opId: string, submission: number): string {
  return submission === 0 ? fiscalKeyOf(opId) : `${fiscalKeyOf(opId)}-r${submission}`;
}

/** The idempotency key of credit note `opId` (a refund or void op's id, or `cancel-<bill op id>`). */
export function fiscalCreditKeyOf(opId: string): string {
  return `holdfast-credit-${opId}`;
}
