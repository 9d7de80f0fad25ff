/**
 * The shift reducer: which shift rule (shift.ts) each op kind runs, in one
 * table shared by the terminal, which refuses an op its shift rules reject,
 * and the server, which projects shifts from facts already recorded.
 *
 *   effect   kinds                                       the shift after the op
 *   opens .. shift.opened .............................. a new open shift, named by the op's id
 *   within . sale.recorded, cash.moved,
 *            wallet.topped_up, wallet.refunded,
 *            ticket.issued, ticket.paid, ticket.voided,
 *            sale.voided, sale.refunded,
 *            wallet.topup_reversed, cash.corrected ...... the op's shift with its money applied
 *   closes . shift.closed .............................. the op's shift, closed on the counted cash
 *   none ... loyalty.points ............................ unchanged (points are not money)
 *   none ... stock.received, stock.counted, stock.adjusted .. unchanged (goods, not money)
 *
 * A ticket's stake is cash into the drawer of the shift it was sold in; a
 * payout and a void's refunded stake are cash out of the drawer that paid
 * (docs/betting.md, "The drawer").
 *
 * Finding the op's shift is the caller's, and so is what to do when there
 * is none or when another shift is still open: the terminal has one current
 * shift and refuses the op, the server looks the shift up by the op's
 * `shift` and raises an exception for a fact that broke the rules.
 */
import type { OpBodies, OpKind } from '@holdfast/protocol';
import { DomainError } from './errors.js';
import {
  applyCashCorrection,
  applyCashMovement,
  applySale,
  applySaleRefund,
  applySaleVoid,
  applyTicketCashOut,
  applyTicketStake,
  applyTopUp,
  applyTopUpReversal,
  applyWalletRefund,
  closeShift,
  openShift,
  type Shift,
} from './shift.js';

/** What an op of some kind does to a shift (see the table above). */
export type ShiftEffect = 'opens' | 'within' | 'closes' | 'none';

/** Options of the shift rules: the server passes `allowOverdraw` (see applyCashMovement). */
export interface ShiftRuleOptions {
  allowOverdraw?: boolean;
}

/** The rule an op kind runs on a shift: how it starts one, changes one, or that it leaves shifts alone. */
export type ShiftRule<K extends OpKind> =
  | { effect: 'opens'; open: (id: string, body: OpBodies[K]) => Shift }
  | { effect: 'within' | 'closes'; apply: (shift: Shift, body: OpBodies[K], options: ShiftRuleOptions) => Shift }
  | { effect: 'none' };

/** Every op kind's shift rule; a kind added to the protocol without one here does not compile. */
export const SHIFT_RULES: { readonly [K in OpKind]: ShiftRule<K> } = {
  'shift.opened': { effect: 'opens', open: openShift },
  'sale.recorded': { effect: 'within', apply: applySale },
  'cash.moved': { effect: 'within', apply: applyCashMovement },
  'wallet.topped_up': { effect: 'within', apply: applyTopUp },
  'wallet.refunded': { effect: 'within', apply: applyWalletRefund },
  'shift.closed': { effect: 'closes', apply: closeShift },
  'ticket.issued': { effect: 'within', apply: applyTicketStake },
  'ticket.paid': { effect: 'within', apply: applyTicketCashOut },
  'ticket.voided': { effect: 'within', apply: applyTicketCashOut },
  // Points are not money: the sale carries the discount a redemption gave (docs/loyalty.md).
  'loyalty.points': { effect: 'none' },
  'sale.voided': { effect: 'within', apply: applySaleVoid },
  'sale.refunded': { effect: 'within', apply: applySaleRefund },
  // Stock counts goods, not money: no shift effect (docs/catalog-and-stock.md).
  'stock.received': { effect: 'none' },
  'stock.counted': { effect: 'none' },
  'stock.adjusted': { effect: 'none' },
  // A cash top-up reversed: the cash goes back out of the drawer (docs/wristbands.md, "Top-up reversal").
  'wallet.topup_reversed': { effect: 'within', apply: applyTopUpReversal },
  // A cash movement corrected: cash moved back the opposite way in the open shift (docs/corrections.md).
  'cash.corrected': { effect: 'within', apply: applyCashCorrection },
};

const NO_OPTIONS: ShiftRuleOptions = {};

/**
 * The shift after the op `id` of kind `kind` with `body`, given `shift`, the
 * shift the op belongs to as the caller found it (not read for `opens` and
 * `none`). Returns null for a kind that leaves shifts alone. Throws
 * DomainError when the rules refuse the op (shift_mismatch, shift_not_open,
 * currency_mismatch, insufficient_cash), and no_open_shift when an op that
 * needs a shift is given none: callers look for it first, and word that
 * error for their reader.
 */
export function reduceShift<K extends OpKind>(
  shift: Shift | null,
  id: string,
  kind: K,
  body: OpBodies[K],
  options: ShiftRuleOptions = NO_OPTIONS,
): Shift | null {
  const rule: ShiftRule<K> = SHIFT_RULES[kind];
  switch (rule.effect) {
    case 'none':
      return null;
    case 'opens':
      return rule.open(id, body);
    default:
      if (shift === null) throw new DomainError('no_open_shift', `${kind} ${id} needs the shift it belongs to`);
      return rule.apply(shift, body, options);
  }
}
