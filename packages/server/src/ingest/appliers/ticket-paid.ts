/**
 * The applier of `ticket.paid`: cash out of the paying shift's drawer, a
 * ledger event, and the payout checked against the ticket (docs/betting.md).
 *
 *   online (decision online/approved): the server stored this payout when
 *     it approved it (POST /v1/authorize, kind payout); the op must be that
 *     payout (same op id, device, amount, authorization) or it raises
 *     `online_unverified`.
 *   offline (any other decision): the shop paid at its own risk. A payout
 *     of a ticket that is unknown, not settled, lost, voided, or for another
 *     amount raises `payout_invalid`; of a ticket paid already,
 *     `ticket_paid_twice` (with the first payout's receipt). A valid one
 *     pays the ticket now (a later payout anywhere is refused), and one
 *     above the configuration's `offlinePayoutLimit` also raises
 *     `payout_invalid`: it was paid, against the policy.
 *
 * An offline op under the op id of a payout the server approved online (the
 * terminal's answer was lost, it fell back to offline with the same id) is
 * that payout: nothing more.
 *
 * The fact stands either way: the cash left the drawer.
 */
import { expectedCash } from '@holdfast/domain';
import { formatMoney, type Op, type TicketPaidBody } from '@holdfast/protocol';
import { payoutProblem, receiptOf } from '../../model/ticket.js';
import type { ApplyContext } from '../apply-context.js';

export function applyTicketPaid(op: Op, body: TicketPaidBody, ctx: ApplyContext): void {
  const shift = ctx.requireShift(op, body.shift, 'payout');
  if (shift) {
    const held = expectedCash(shift);
    const moved = ctx.applyShift(op, shift, 'ticket.paid', body);
    if (moved && held < body.amount) {
      ctx.shiftRule(
        op,
        'insufficient_cash',
        `drawer held ${formatMoney(held, body.currency)}, ${formatMoney(body.amount, body.currency)} paid out`,
      );
    }
  }
  const online = op.decision.mode === 'online' && op.decision.outcome === 'approved';
  ctx.ledger(op, op.kind, body.shift, body.currency, body.amount, {
    ticket: body.ticket,
    authorization: body.authorization,
    mode: online ? 'online' : 'offline',
  });
  const fact = ctx.ticket(body.ticket);
  const detail = { ticket: body.ticket, amount: body.amount, currency: body.currency };
  if (online) {
    const stored = fact?.payout;
    let problem: string | null = null;
    if (!stored || stored.opId !== op.id)
      problem = `payout op ${op.id} claims an online approval the server never gave`;
    else if (stored.device !== ctx.device.id) problem = `the payout of op id ${op.id} was approved for another device`;
    else if (stored.amount !== body.amount || stored.currency !== body.currency) {
      problem = `payout op ${op.id} records ${body.amount} ${body.currency}, the server approved ${stored.amount} ${stored.currency}`;
    } else if (stored.authorizationId !== body.authorization) {
      problem = `payout carries authorization ${body.authorization}, the server approved ${stored.authorizationId}`;
    }
    if (problem) ctx.raise('online_unverified', 'alarm', op, op.id, problem, { ...detail, kind: op.kind });
    return;
  }
  if (!fact) {
    ctx.raise(
      'payout_invalid',
      'alarm',
      op,
      op.id,
      `offline payout of ticket ${body.ticket}, which the server never accepted`,
      {
        ...detail,
        reason: 'unknown_ticket',
      },
    );
    return;
  }
  const problem = payoutProblem(fact.ticket, body.amount, body.currency);
  if (problem?.reason === 'ticket_paid' && fact.payout) {
    const first = receiptOf(fact.payout);
    ctx.raise(
      'ticket_paid_twice',
      'alarm',
      op,
      op.id,
      `ticket ${body.ticket} paid again offline; first paid ${formatMoney(first.amount, first.currency)} by device ${first.device} (op ${first.opId})`,
      { ...detail, firstPayout: first },
    );
    return;
  }
  if (problem) {
    ctx.raise('payout_invalid', 'alarm', op, op.id, `offline payout refused by the rules: ${problem.message}`, {
      ...detail,
      reason: problem.reason,
    });
    return;
  }
  const limit = ctx.bettingConfig?.limits.find((l) => l.currency === body.currency)?.offlinePayoutLimit;
  if (limit === undefined || body.amount > limit) {
    const allowed =
      limit === undefined
        ? 'no offline payouts are allowed'
        : `the offline limit is ${formatMoney(limit, body.currency)}`;
    ctx.raise(
      'payout_invalid',
      'alarm',
      op,
      op.id,
      `ticket ${body.ticket} paid ${formatMoney(body.amount, body.currency)} offline; ${allowed}`,
      { ...detail, reason: 'offline_limit', limit: limit ?? null },
    );
  }
  ctx.changeTicket({
    ticketId: body.ticket,
    from: fact.ticket.state,
    event: {
      ticketId: body.ticket,
      state: 'paid',
      at: ctx.now,
      source: op.id,
      amount: body.amount,
      detail: { device: ctx.device.id, mode: 'offline', deviceAt: op.at },
    },
    payout: {
      opId: op.id,
      ticketId: body.ticket,
      device: ctx.device.id,
      amount: body.amount,
      currency: body.currency,
      mode: 'offline',
      authorizationId: null,
      at: ctx.now,
    },
    release: null,
  });
}
