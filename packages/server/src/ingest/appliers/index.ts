/**
 * The appliers: for each op kind, what a stored op of that kind adds to the
 * ingest plan, given its parsed body. The table is typed over every OpKind,
 * so a kind added to the protocol's OP_BODY_SCHEMAS without an applier here
 * does not compile ("Property '<kind>' is missing").
 *
 * An applier runs only for an op the chain decision stored and whose body
 * parsed; it never refuses the op (a fact that breaks a rule raises an
 * exception through the context instead). What every kind shares — the
 * chain, rejection, online claims, re-evaluating local approvals — is done
 * around it by planIngest.
 */
import type { Op, OpBodies, OpKind } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';
import { applyCashCorrected } from './cash-corrected.js';
import { applyCashMoved } from './cash-moved.js';
import { applyLoyaltyPoints } from './loyalty-points.js';
import { applySaleRecorded } from './sale-recorded.js';
import { applySaleRefunded } from './sale-refunded.js';
import { applySaleVoided } from './sale-voided.js';
import { applyShiftClosed } from './shift-closed.js';
import { applyShiftOpened } from './shift-opened.js';
import { applyStockAdjusted, applyStockCounted, applyStockReceived } from './stock.js';
import { applyTicketIssued } from './ticket-issued.js';
import { applyTicketPaid } from './ticket-paid.js';
import { applyTicketVoided } from './ticket-voided.js';
import { applyWalletRefunded } from './wallet-refunded.js';
import { applyWalletToppedUp } from './wallet-topped-up.js';
import { applyWalletTopUpReversed } from './wallet-topup-reversed.js';

/** Applies one stored op of kind K, its body parsed, to the plan in `ctx`. */
export type Applier<K extends OpKind> = (op: Op, body: OpBodies[K], ctx: ApplyContext) => void;

export const APPLIERS: { readonly [K in OpKind]: Applier<K> } = {
  'shift.opened': applyShiftOpened,
  'sale.recorded': applySaleRecorded,
  'cash.moved': applyCashMoved,
  'shift.closed': applyShiftClosed,
  'ticket.issued': applyTicketIssued,
  'ticket.paid': applyTicketPaid,
  'ticket.voided': applyTicketVoided,
  'wallet.topped_up': applyWalletToppedUp,
  'wallet.refunded': applyWalletRefunded,
  'loyalty.points': applyLoyaltyPoints,
  'sale.voided': applySaleVoided,
  'sale.refunded': applySaleRefunded,
  'stock.received': applyStockReceived,
  'stock.counted': applyStockCounted,
  'stock.adjusted': applyStockAdjusted,
  'wallet.topup_reversed': applyWalletTopUpReversed,
  'cash.corrected': applyCashCorrected,
};
