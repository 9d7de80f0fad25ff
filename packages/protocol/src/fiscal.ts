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
