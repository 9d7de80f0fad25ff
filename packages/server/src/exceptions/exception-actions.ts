/**
 * Operator actions on exceptions: the rules, as pure functions shared by
 * every backend. Operators never edit an exception; they append actions,
 * and its status is derived from them:
 *
 *   open ──contacted──▶ open
 *     │ acknowledged | written_off | recovered (see money below)
 *     ▼
 *   resolved ── any further action is refused (already_resolved)
 *
 * Money exceptions (`post_auth_decline`, `payment_refused`: a payment whose
 * money was never collected) resolve only when written_off + recovered
 * account for the whole amount: each such action takes an `amount` (default:
 * what is still outstanding, never more), appends a ledger event
 * (`payment.written_off` / `payment.recovered`), and the action that brings
 * the outstanding amount to zero resolves the exception. `acknowledged` is
 * refused for them: money is not made to disappear by a click.
 */
import { formatMoney, SKU_PATTERN, UUID_PATTERN } from '@holdfast/protocol';
import type { ExceptionRecord } from '../model/exception.js';
import {
  type ExceptionAction,
  type ExceptionActionKind,
  type ExceptionActionRequest,
  type ExceptionView,
  STOCK_SHORTFALL_ACTIONS,
} from '../model/exception-action.js';
import type { LedgerEvent } from '../model/ledger-event.js';

/** Exception types whose detail carries money (amount, currency) that was never collected. */
export const MONEY_EXCEPTION_TYPES: readonly string[] = Object.freeze(['post_auth_decline', 'payment_refused']);

export type ActionDecision =
  | { outcome: 'record'; action: ExceptionAction; ledger: LedgerEvent | null }
  | { outcome: 'already_resolved' }
  | { outcome: 'invalid'; field: string; rule: string; message: string };

/** The money of a money exception: its amount, currency and what is still outstanding after `actions`. */
export function outstandingOf(
  exception: ExceptionRecord,
  actions: readonly ExceptionAction[],
): { amount: number; currency: string; outstanding: number } | null {
  if (!MONEY_EXCEPTION_TYPES.includes(exception.type)) return null;
  const { amount, currency } = exception.detail;
  if (typeof amount !== 'number' || typeof currency !== 'string') return null;
  let settled = 0;
  for (const a of actions) {
    if ((a.action === 'written_off' || a.action === 'recovered') && a.amount !== null) settled += a.amount;
  }
  return { amount, currency, outstanding: amount - settled };
}

/** An exception with its actions (in order) and the status they derive. */
export function exceptionView(
  exception: ExceptionRecord & { pos: number },
  actions: readonly ExceptionAction[],
): ExceptionView {
  // The group key is storage's (it finds a group's open row); the view shows the group in `detail`.
  const { groupKey: _groupKey, ...shown } = exception;
  return {
    ...shown,
    count: exception.count ?? 1,
    firstSeenAt: exception.raisedAt,
    lastSeenAt: exception.lastSeenAt ?? exception.raisedAt,
    status: actions.some((a) => a.resolves) ? 'resolved' : 'open',
    actions: [...actions],
  };
}

const MONEY_ACTIONS: readonly ExceptionActionKind[] = ['written_off', 'recovered'];

/** The actions a `stock_shortfall` takes: `contacted` keeps it open, each other is the decision that resolves it. */
const SHORTFALL_ACTIONS: readonly ExceptionActionKind[] = ['contacted', 'written_off', ...STOCK_SHORTFALL_ACTIONS];

/**
 * A `stock_shortfall`'s resolution (docs/catalog-and-stock.md): backordered,
 * substituted, refunded (through the corrections flow: `reference` names the
 * `sale.refunded` op, checked by storage) or written_off; no amount. The
 * stock-only actions on any other exception are refused. Null: not a stock
 * question, the general rules apply.
 */
function decideStockShortfallAction(
  exception: ExceptionRecord,
  request: ExceptionActionRequest,
): ActionDecision | null {
  const stockAction = STOCK_SHORTFALL_ACTIONS.includes(request.action);
  if (exception.type !== 'stock_shortfall') {
    if (!stockAction) return null;
    return {
      outcome: 'invalid',
      field: 'action',
      rule: 'backordered, substituted and refunded only for stock_shortfall',
      message: `${request.action} is not an action on a ${exception.type} exception`,
    };
  }
  if (!SHORTFALL_ACTIONS.includes(request.action)) {
    return {
      outcome: 'invalid',
      field: 'action',
      rule: SHORTFALL_ACTIONS.join(', '),
      message: `a stock shortfall is resolved by a decision (${STOCK_SHORTFALL_ACTIONS.join(', ')}, written_off), not ${request.action}`,
    };
  }
  if (request.amount !== null) {
    return {
      outcome: 'invalid',
      field: 'amount',
      rule: 'no amount on a stock_shortfall',
      message: 'a stock shortfall counts goods, not money: amount is not taken',
    };
  }
  const reference = request.reference ?? null;
  if (reference !== null && request.action === 'contacted') {
    return {
      outcome: 'invalid',
      field: 'reference',
      rule: 'with backordered, substituted, refunded or written_off',
      message: 'contacted takes no reference',
    };
  }
  if (request.action === 'refunded' && reference !== null && !UUID_PATTERN.test(reference)) {
    return {
      outcome: 'invalid',
      field: 'reference',
      rule: 'the id (UUID) of the sale.refunded op',
      message: 'reference of a refund must be the id of its sale.refunded op',
    };
  }
  if (request.action === 'substituted' && reference !== null && !SKU_PATTERN.test(reference)) {
    return {
      outcome: 'invalid',
      field: 'reference',
      rule: 'the SKU given instead',
      message: 'reference of a substitution must be the SKU given instead',
    };
  }
  return {
    outcome: 'record',
    action: {
      id: request.id,
      exceptionId: exception.id,
      action: request.action,
      note: request.note,
      amount: null,
      currency: null,
      by: request.by,
      at: request.at,
      resolves: request.action !== 'contacted',
      reference,
    },
    ledger: null,
  };
}

/** Decides an operator's action on `exception`, given the actions recorded so far. */
export function decideExceptionAction(
  exception: ExceptionRecord,
  actions: readonly ExceptionAction[],
  request: ExceptionActionRequest,
): ActionDecision {
  if (actions.some((a) => a.resolves)) return { outcome: 'already_resolved' };
  const stock = decideStockShortfallAction(exception, request);
  if (stock) return stock;
  const money = outstandingOf(exception, actions);
  const isMoneyAction = MONEY_ACTIONS.includes(request.action);
  const base = {
    id: request.id,
    exceptionId: exception.id,
    action: request.action,
    note: request.note,
    by: request.by,
    at: request.at,
    reference: null,
  };
  if (request.reference !== undefined && request.reference !== null) {
    return {
      outcome: 'invalid',
      field: 'reference',
      rule: 'only with an action on a stock_shortfall',
      message: `reference is not taken for a ${exception.type} exception`,
    };
  }
  if (!money) {
    if (request.amount !== null) {
      return {
        outcome: 'invalid',
        field: 'amount',
        rule: `only with written_off or recovered of ${MONEY_EXCEPTION_TYPES.join(' or ')}`,
        message: `amount is not taken for a ${exception.type} exception`,
      };
    }
    const resolves = request.action !== 'contacted';
    return { outcome: 'record', action: { ...base, amount: null, currency: null, resolves }, ledger: null };
  }
  if (!isMoneyAction) {
    if (request.amount !== null) {
      return {
        outcome: 'invalid',
        field: 'amount',
        rule: 'only with written_off or recovered',
        message: `amount is not taken for ${request.action}`,
      };
    }
    if (request.action === 'acknowledged') {
      return {
        outcome: 'invalid',
        field: 'action',
        rule: 'written_off or recovered for a money exception (contacted keeps it open)',
        message: `a ${exception.type} exception is resolved by accounting for its money: ${formatMoney(money.outstanding, money.currency)} outstanding`,
      };
    }
    return { outcome: 'record', action: { ...base, amount: null, currency: null, resolves: false }, ledger: null };
  }
  const amount = request.amount ?? money.outstanding;
  if (!Number.isSafeInteger(amount) || amount < 1 || amount > money.outstanding) {
    return {
      outcome: 'invalid',
      field: 'amount',
      rule: `integer 1..${money.outstanding}`,
      message: `amount (minor units) must be at most what is outstanding: ${money.outstanding} (${formatMoney(money.outstanding, money.currency)}) of ${formatMoney(money.amount, money.currency)}`,
    };
  }
  const action: ExceptionAction = {
    ...base,
    amount,
    currency: money.currency,
    resolves: amount === money.outstanding,
  };
  return { outcome: 'record', action, ledger: moneyLedgerEvent(exception, action) };
}

/** The ledger event of money written off or recovered: the audit trail of a decline's money. */
function moneyLedgerEvent(exception: ExceptionRecord, action: ExceptionAction): LedgerEvent | null {
  if (exception.opId === null || exception.seq === null) return null;
  const { detail } = exception;
  return {
    opId: exception.opId,
    device: exception.device,
    seq: exception.seq,
    type: action.action === 'written_off' ? 'payment.written_off' : 'payment.recovered',
    shiftId: typeof detail.shift === 'string' ? detail.shift : null,
    currency: action.currency,
    amount: action.amount,
    data: {
      tenderIndex: typeof detail.tenderIndex === 'number' ? detail.tenderIndex : 0,
      exceptionId: exception.id,
      exceptionType: exception.type,
      actionId: action.id,
      by: action.by,
      note: action.note,
    },
    // No device time exists for an operator's action: the server's is recorded for both.
    deviceAt: action.at,
    appliedAt: action.at,
  };
}
