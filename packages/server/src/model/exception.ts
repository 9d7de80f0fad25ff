/**
 * Exceptions: what an operator must look at, raised once each (by dedupe key).
 */
import type { Op } from '@holdfast/protocol';

export const EXCEPTION_TYPES = [
  'conflict',
  'fork',
  'op_rejected',
  'shift_rule',
  'cash_variance',
  // Raised by settlement (storage/offline-settlement.ts), not by the planner.
  'post_auth_decline',
  // A local approval that broke the policy it names (ingest/reevaluate-approval.ts).
  'policy_breach',
  // An op claiming an online approval the server never gave (authorize/online-verification.ts).
  'online_unverified',
  // Wallet rules (wallets/wallet-plan.ts): each blocks the wristband.
  'wristband_overspend',
  'wristband_clone',
  // Raised by the forwarder (forwarding/forwarding-deadline.ts, storage/offline-settlement.ts).
  'forwarding_deadline',
  'payment_refused',
  // Staff at the till (ingest/staff-check.ts): who recorded or approved an op, checked against the roster history.
  'staff_unknown',
  'staff_removed',
  'staff_not_at_location',
  'staff_missing',
  'approval_missing',
  'approval_role_missing',
  // Betting tickets (ingest/appliers/ticket-paid.ts, ticket-voided.ts; docs/betting.md).
  'payout_invalid',
  'ticket_paid_twice',
  'void_invalid',
  // Loyalty points (ingest/appliers/loyalty-points.ts; docs/loyalty.md).
  'loyalty_overdrawn',
  'loyalty_unknown_member',
  // Catalog sale lines (ingest/catalog-check.ts; docs/catalog-and-stock.md).
  'catalog_unknown',
  'stale_price',
  // E-invoicing (fiscal/fiscal-submitter.ts, storage/sql/operations/fiscal-bills.ts; docs/e-invoicing.md).
  'fiscal_rejected',
  'fiscal_answer_conflict',
  'fiscal_out_of_order',
  'fiscal_deadline',
  // Sale corrections (ingest/apply-context.ts correctSale; docs/corrections.md).
  'refund_unmatched',
  'refund_over_sale',
  'refund_invalid',
  'sale_void_invalid',
  // One per outage, after the lanes it cut off have synced (services/report-desk.ts; docs/reports.md).
  'outage',
  // E-invoicing: a bill or credit note the authority refused for good (fiscal/fiscal-submitter.ts).
  'fiscal_refused',
  // Card refunds at the processor (storage/sql/operations/card-refunds.ts; docs/corrections.md).
  'card_refund_declined',
  // Stock (ingest/appliers/stock.ts; docs/catalog-and-stock.md).
  'stock_shortfall',
  'stock_unapplied',
  // Loyalty ingest checks (ingest/appliers/loyalty-points.ts; docs/loyalty.md): an op that broke the
  // loyalty rule of the policy it names (offline cap, earn rule), or an online redemption the server never confirmed.
  'loyalty_rule_breach',
  'loyalty_online_unverified',
  // Wristband top-up reversals (ingest/topup-reversal-plan.ts; docs/wristbands.md).
  'topup_reversal_invalid',
  'topup_reversal_over',
  // Cash corrections (ingest/cash-correction-plan.ts; docs/corrections.md).
  'cash_correction_invalid',
  'cash_correction_over',
] as const;

export type ExceptionType = (typeof EXCEPTION_TYPES)[number];

/** Something an operator must look at. Raised once: `dedupeKey` is unique. */
export interface ExceptionRecord {
  id: string;
  type: ExceptionType;
  severity: 'alarm' | 'warning' | 'info';
  device: string;
  opId: string | null;
  seq: number | null;
  message: string;
  detail: Record<string, unknown>;
  raisedAt: number;
  dedupeKey: string;
  /**
   * Aggregated types only (today `op_rejected`): the occurrences this row
   * stands for (default 1), when the last was seen (server clock; default
   * `raisedAt`), and the group it aggregates (`<type>:<device>:<cause>`):
   * later occurrences of the group update the group's open row instead of
   * raising a new one (storage/sql/operations/exception-groups.ts).
   */
  count?: number;
  lastSeenAt?: number;
  groupKey?: string | null;
}

/** How many op ids an aggregated exception keeps as a sample (the first ones). */
export const EXCEPTION_SAMPLE_SIZE = 20;

/** How a planner raises an exception (ApplyContext.raise, handed to the stock and correction planners): returns its id. */
export type RaiseException = (
  type: ExceptionType,
  severity: ExceptionRecord['severity'],
  op: Op,
  dedupe: string,
  message: string,
  detail: Record<string, unknown>,
) => string;
