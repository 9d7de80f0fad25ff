/**
 * Column values checked as they come back from either SQL backend (both
 * name their columns alike, snake_case); the row mappers are beside each
 * table's columns in sql/tables/.
 *
 * Integers are checked, not just converted: node-postgres returns BIGINT
 * (and COUNT, SUM) as strings, because a BIGINT may exceed 2^53. Every
 * Holdfast integer is a safe integer by the protocol's schemas, so a value
 * that is not one fails loudly instead of losing precision. SQLite returns
 * numbers, which pass through.
 */

export type Row = Record<string, unknown>;

/** An integer column (string or number) as a number; throws if it is not a safe integer. */
export function int(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`expected a safe integer from the database, got ${String(value)}`);
  return n;
}

/**
 * A running total (a shift's sales, a wallet's top-ups): exact when it is a
 * safe integer, as `int`; beyond that — a row written before ingest bounded
 * the sums (MAX_SHIFT_TOTAL), or by an older server — the nearest number,
 * not an exception. One such row must not make a listing, or every later
 * batch of its device, fail: the read shows it, the bound at ingest keeps
 * it from growing (see docs/security.md, "Disks, secrets and TLS").
 */
export function total(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n)) throw new RangeError(`expected an integer total from the database, got ${String(value)}`);
  return n;
}

export const totalOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : total(value);

export const intOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : int(value));

export const textOrNull = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);
