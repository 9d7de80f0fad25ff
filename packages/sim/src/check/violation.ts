/**
 * A broken rule, as every checker in the kit reports it: the rule's name,
 * what broke in words, and where (the terminal's label, the op, its seq).
 */

/** Every rule the kit knows, by name (rules/*.ts; `expectation` is a scenario's own). */
export const RULES = [
  'recorded-durable',
  'journal-chain',
  'lost',
  'phantom',
  'applied-once',
  'chain',
  'fork',
  'money',
  'shift-projection',
  'exception',
  'rejections-counted',
  'result-changed',
  'view-agrees',
  'dead-letter',
  'clock-offset',
  'not-drained',
  'forwarded-once',
  'double-charge',
  'decline-surfaced',
  'exposure-bound',
  'unsettled',
  'wallet-conserved',
  'wallet-once',
  'overspend-blocked',
  'staff',
  'ticket-paid-once',
  'payout-amount',
  'liability-held',
  'ticket-history',
  'void-approved',
  'points-conserved',
  'points-once',
  'points-overdrawn-flagged',
  'points-online-confirmed',
  'stale-price-reported',
  'drawer-honest',
  'fiscal-once',
  'fiscal-order',
  'refunds-within-sale',
  'sale-void-approved',
  'journal-balanced',
  'stock-conserved',
  'oversell-flagged',
  'sdk-error',
  'server-error',
  'expectation',
  'topup-reversals-within-topup',
  'cash-corrections-within-movement',
] as const;
export type Rule = (typeof RULES)[number];

export interface Violation {
  rule: Rule;
  message: string;
  /** The terminal's label. */
  device?: string;
  opId?: string;
  seq?: number;
}
