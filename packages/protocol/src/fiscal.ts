/**
 * E-invoicing numbers as both ends write them (docs/e-invoicing.md). A
 * bill (an accepted sale) is first known by its provisional number, made
 * on the terminal from what it already has offline — its device id and
 * the sale's seq, unique per device for ever — and printed as provisional;
 * the tax authority's fiscal number replaces it once the server has
 * registered the bill.
 */

/** The provisional number of the bill recorded as op `seq` of `device`: `P-<device>-<seq>` (unique: one device, one seq). */
export function provisionalBillNumber(device: string, seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`seq must be a positive integer, got ${seq}`);
  return `P-${device}-${seq}`;
}

/** The idempotency key the server registers bill `opId` under: the op id alone, so every retry reuses it. */
export function fiscalKeyOf(opId: string): string {
  return `holdfast-bill-${opId}`;
}
