/**
 * The SQL conditions of an offline payment's states, written once for
 * both backends and named after `OfflinePaymentState`
 * (model/offline-payment.ts, whose `offlinePaymentState(row)` is the same
 * reading in process):
 *
 *   ingest ──► unsettled ──settle──► settled        (outcome approved | declined)
 *                 │  ▲
 *         refuse  │  └── defer: backing off until next_attempt_at
 *                 ▼
 *              refused                              (never forwarded again)
 *
 * "Unconfirmed" (`settled_at IS NULL`) is unsettled or refused: money the
 * processor has not confirmed, which is what exposure and the approval
 * rules count. "Unsettled" in the state type's sense is the narrower
 * `forwardable`: not settled and not refused.
 *
 * Each function takes the row's alias (`o`, or '' for an unaliased table)
 * and, where time matters, the SQL expression of now (`@now`, `$2`).
 */

const column = (alias: string, name: string) => (alias ? `${alias}.${name}` : name);

/** Not settled: state unsettled or refused (the money is not confirmed). */
export function unconfirmed(alias = ''): string {
  return `${column(alias, 'settled_at')} IS NULL`;
}

/** Settled: the processor answered (approved or declined). */
export function settled(alias = ''): string {
  return `${column(alias, 'settled_at')} IS NOT NULL`;
}

/** State unsettled: neither settled nor refused, so the forwarder still owes the processor a request. */
export function forwardable(alias = ''): string {
  return `(${unconfirmed(alias)} AND ${column(alias, 'refused_at')} IS NULL)`;
}

/** Forwardable and free to claim at `now`: no live claim, and no backoff still running. */
export function due(alias: string, now: string): string {
  const claimExpires = column(alias, 'claim_expires_at');
  const nextAttempt = column(alias, 'next_attempt_at');
  return `(${forwardable(alias)}
    AND (${claimExpires} IS NULL OR ${claimExpires} <= ${now})
    AND (${nextAttempt} IS NULL OR ${nextAttempt} <= ${now}))`;
}

/**
 * Forwardable but held at `now` (claimed by a live lease, or backing off):
 * it holds back every later payment of its device, so they reach the
 * processor in seq order.
 */
export function holdingBack(alias: string, now: string): string {
  return `(${forwardable(alias)} AND (${column(alias, 'claim_expires_at')} > ${now} OR ${column(alias, 'next_attempt_at')} > ${now}))`;
}
