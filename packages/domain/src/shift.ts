/**
 * A till shift and its cash drawer, as pure rules.
 *
 *    shift.opened ──▶ open ──(sales, cash.moved)──▶ open ──shift.closed──▶ closed
 *
 * Expected cash at close = opening float + cash taken in sales + cash moved
 * in − cash moved out. The variance is what the clerk counted minus that.
 * The terminal uses these rules to refuse an op that cannot belong to its
 * shift; the server uses them to project shifts and flag variances.
 */
import {
  type CashCorrectedBody,
  type CashMovedBody,
  formatMoney,
  MAX_AMOUNT,
  type SaleBody,
  type SaleRefundedBody,
  type SaleVoidedBody,
  type ShiftClosedBody,
  type ShiftOpenedBody,
  type TicketIssuedBody,
  type TicketPaidBody,
  type TicketVoidedBody,
  type WalletRefundedBody,
  type WalletToppedUpBody,
  type WalletTopUpReversedBody,
} from '@holdfast/protocol';
import { DomainError } from './errors.js';

/**
 * The bound of every running total of a shift (sales total, cash and card
 * sales, cash in, cash out): 1000 times the largest single amount, 10^15
 * minor units. Each op's amount is bounded by MAX_AMOUNT, but a device could
 * record thousands of maximal ops in one shift; unbounded, a total passes
 * 2^53 and stops being an exact number (and the expected cash, the sum of
 * four totals, must stay exact too: 4 × 10^15 < 2^53). An op that would take
 * a total past it breaks the rule `total_out_of_range`: the terminal refuses
 * to record it, the server records the fact and raises a shift_rule
 * exception, leaving the shift's totals as they were.
 */
export const MAX_SHIFT_TOTAL = 1_000 * MAX_AMOUNT;

/** `total + amount`, refused (total_out_of_range) if it leaves ±MAX_SHIFT_TOTAL. */
function addToTotal(shift: Shift, name: string, total: number, amount: number): number {
  const next = total + amount;
  if (!(Math.abs(next) <= MAX_SHIFT_TOTAL)) {
    throw new DomainError(
      'total_out_of_range',
      `shift ${shift.id}: ${name} ${total} + ${amount} would pass the bound of ${MAX_SHIFT_TOTAL} per shift`,
    );
  }
  return next;
}

export interface Shift {
  id: string;
  clerk: string;
  currency: string;
  status: 'open' | 'closed';
  openingFloat: number;
  sales: number;
  salesTotal: number;
  cashSales: number;
  cardSales: number;
  cashIn: number;
  cashOut: number;
  countedCash: number | null;
}

export function openShift(id: string, body: ShiftOpenedBody): Shift {
  return {
    id,
    clerk: body.clerk,
    currency: body.currency,
    status: 'open',
    openingFloat: body.openingFloat,
    sales: 0,
    salesTotal: 0,
    cashSales: 0,
    cardSales: 0,
    cashIn: 0,
    cashOut: 0,
    countedCash: null,
  };
}

/** How a sale's total was paid: cash, card and wristband amounts. */
export function tenderSplit(sale: SaleBody): { cash: number; card: number; wristband: number } {
  let cash = 0;
  let card = 0;
  let wristband = 0;
  for (const t of sale.tenders) {
    if (t.type === 'cash') cash += t.amount;
    else if (t.type === 'card') card += t.amount;
    else wristband += t.amount;
  }
  return { cash, card, wristband };
}

function requireOpen(shift: Shift, ref: string, currency: string): void {
  if (shift.id !== ref) throw new DomainError('shift_mismatch', `op refers to shift ${ref}, not ${shift.id}`);
  if (shift.status !== 'open') throw new DomainError('shift_not_open', `shift ${shift.id} is closed`);
  if (shift.currency !== currency) {
    throw new DomainError('currency_mismatch', `shift ${shift.id} is in ${shift.currency}, op is in ${currency}`);
  }
}

export function applySale(shift: Shift, sale: SaleBody): Shift {
  requireOpen(shift, sale.shift, sale.currency);
  const { cash, card } = tenderSplit(sale);
  return {
    ...shift,
    sales: shift.sales + 1,
    salesTotal: addToTotal(shift, 'salesTotal', shift.salesTotal, sale.total),
    cashSales: addToTotal(shift, 'cashSales', shift.cashSales, cash),
    cardSales: addToTotal(shift, 'cardSales', shift.cardSales, card),
  };
}

/**
 * Moves cash in or out of the drawer. A terminal refuses to move out more
 * than the drawer should hold; the server, which receives facts that already
 * happened, passes `allowOverdraw` and flags the shortfall instead.
 */
export function applyCashMovement(shift: Shift, move: CashMovedBody, options: { allowOverdraw?: boolean } = {}): Shift {
  requireOpen(shift, move.shift, move.currency);
  if (!options.allowOverdraw && move.direction === 'out' && move.amount > expectedCash(shift)) {
    throw new DomainError(
      'insufficient_cash',
      `drawer holds ${formatMoney(expectedCash(shift), move.currency)}, cannot move out ${formatMoney(move.amount, move.currency)}`,
    );
  }
  return move.direction === 'in'
    ? { ...shift, cashIn: addToTotal(shift, 'cashIn', shift.cashIn, move.amount) }
    : { ...shift, cashOut: addToTotal(shift, 'cashOut', shift.cashOut, move.amount) };
}

/** A betting ticket sold at this till: its stake is paid in cash, into the drawer. */
export function applyTicketStake(shift: Shift, ticket: TicketIssuedBody): Shift {
  requireOpen(shift, ticket.shift, ticket.currency);
  return { ...shift, cashIn: shift.cashIn + ticket.stake };
}

/**
 * A ticket paid out (ticket.paid) or voided with its stake refunded
 * (ticket.voided): cash out of the drawer. The terminal refuses to pay
 * more than the drawer should hold; the server (`allowOverdraw`) applies
 * the fact and flags it.
 */
export function applyTicketCashOut(
  shift: Shift,
  out: TicketPaidBody | TicketVoidedBody,
  options: { allowOverdraw?: boolean } = {},
): Shift {
  requireOpen(shift, out.shift, out.currency);
  if (!options.allowOverdraw && out.amount > expectedCash(shift)) {
    throw new DomainError(
      'insufficient_cash',
      `drawer holds ${formatMoney(expectedCash(shift), out.currency)}, cannot pay out ${formatMoney(out.amount, out.currency)}`,
    );
  }
  return { ...shift, cashOut: shift.cashOut + out.amount };
}

/**
 * A wristband top-up taken at this till. Cash paid for it is in the drawer,
 * so it counts as cash in (expected cash at close includes it); a card
 * top-up leaves the drawer as it is.
 */
export function applyTopUp(shift: Shift, topUp: WalletToppedUpBody): Shift {
  requireOpen(shift, topUp.shift, topUp.currency);
  return topUp.paid === 'cash'
    ? { ...shift, cashIn: addToTotal(shift, 'cashIn', shift.cashIn, topUp.amount) }
    : { ...shift };
}

/** A refund credited back onto a wristband: no cash moves, but it belongs to an open shift. */
export function applyWalletRefund(shift: Shift, refund: WalletRefundedBody): Shift {
  requireOpen(shift, refund.shift, refund.currency);
  return { ...shift };
}

/**
 * Cash given back out of the drawer by a correction (docs/corrections.md):
 * a void's cash part, a cash refund's amount. The terminal refuses to give
 * back more than the drawer should hold; the server (`allowOverdraw`)
 * applies the fact and flags it.
 */
function correctionCashOut(
  shift: Shift,
  ref: string,
  currency: string,
  cash: number,
  options: { allowOverdraw?: boolean },
): Shift {
  requireOpen(shift, ref, currency);
  if (!options.allowOverdraw && cash > expectedCash(shift)) {
    throw new DomainError(
      'insufficient_cash',
      `drawer holds ${formatMoney(expectedCash(shift), currency)}, cannot give back ${formatMoney(cash, currency)}`,
    );
  }
  return cash === 0 ? { ...shift } : { ...shift, cashOut: addToTotal(shift, 'cashOut', shift.cashOut, cash) };
}

/** A sale voided (sale.voided): its cash part goes back out of the drawer; its card part is refunded to the card. */
export function applySaleVoid(shift: Shift, body: SaleVoidedBody, options: { allowOverdraw?: boolean } = {}): Shift {
  return correctionCashOut(shift, body.shift, body.currency, body.cash, options);
}

/** A refund against a sale (sale.refunded): cash out of the drawer, or nothing in the drawer for a card refund. */
export function applySaleRefund(
  shift: Shift,
  body: SaleRefundedBody,
  options: { allowOverdraw?: boolean } = {},
): Shift {
  return correctionCashOut(shift, body.shift, body.currency, body.tender === 'cash' ? body.amount : 0, options);
}

/**
 * A top-up reversed (wallet.topup_reversed): the money taken off the
 * wristband goes back to the customer in cash, out of the drawer; a card
 * top-up's (`tender: 'card'`) goes back to the card at the processor,
 * nothing out of the drawer.
 */
export function applyTopUpReversal(
  shift: Shift,
  body: WalletTopUpReversedBody,
  options: { allowOverdraw?: boolean } = {},
): Shift {
  return correctionCashOut(shift, body.shift, body.currency, body.tender === 'card' ? 0 : body.amount, options);
}

/**
 * A cash movement corrected (cash.corrected, docs/corrections.md): cash
 * moved the opposite way of the movement it corrects, in the shift open
 * now, counted with the shift's cash in or out like a movement. The
 * terminal refuses to move out more than the drawer should hold; the
 * server (`allowOverdraw`) applies the fact and flags it.
 */
export function applyCashCorrection(
  shift: Shift,
  body: CashCorrectedBody,
  options: { allowOverdraw?: boolean } = {},
): Shift {
  requireOpen(shift, body.shift, body.currency);
  if (body.direction === 'in') return { ...shift, cashIn: addToTotal(shift, 'cashIn', shift.cashIn, body.amount) };
  return correctionCashOut(shift, body.shift, body.currency, body.amount, options);
}

export function closeShift(shift: Shift, close: ShiftClosedBody): Shift {
  requireOpen(shift, close.shift, close.currency);
  return { ...shift, status: 'closed', countedCash: close.countedCash };
}

/** Cash the drawer should hold now. */
export function expectedCash(shift: Shift): number {
  return shift.openingFloat + shift.cashSales + shift.cashIn - shift.cashOut;
}

/** Counted minus expected at close (negative: cash short), or null while open. */
export function cashVariance(shift: Shift): number | null {
  return shift.countedCash === null ? null : shift.countedCash - expectedCash(shift);
}
