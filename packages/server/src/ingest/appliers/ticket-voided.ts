/**
 * The applier of `ticket.voided`: the refunded stake is cash out of the
 * drawer, a ledger event, and the void checked (docs/betting.md): the
 * ticket accepted and not settled, the whole stake refunded, within the
 * configuration's void window after acceptance and before any of its
 * events starts, approved by someone other than the clerk
 * (ingest/approval.ts). A void breaking any rule raises `void_invalid`.
 *
 * Acceptance and event starts are server times; the void's `at` is the
 * till's clock. The void is placed on the server's clock with the device's
 * estimated offset (`clockOffsetMs`: server time − the signed `sentAt` of
 * this batch when fresh, else the last one recorded; 0 when never known),
 * so an honest void on a till whose clock is minutes off is judged right
 * (docs/betting.md §9).
 *
 * An accepted ticket whose whole stake was refunded is voided whatever
 * else was wrong (the customer has the money back: it must not also pay
 * out), its liability released; a void of a settled or paid ticket changes
 * nothing but the drawer and is raised.
 */
import { expectedCash } from '@holdfast/domain';
import { formatMoney, type Op, type TicketVoidedBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';
import { approvalProblem, approverOf } from '../approval.js';

export function applyTicketVoided(op: Op, body: TicketVoidedBody, ctx: ApplyContext): void {
  const shift = ctx.requireShift(op, body.shift, 'ticket void');
  if (shift) {
    const held = expectedCash(shift);
    const moved = ctx.applyShift(op, shift, 'ticket.voided', body);
    if (moved && held < body.amount) {
      ctx.shiftRule(
        op,
        'insufficient_cash',
        `drawer held ${formatMoney(held, body.currency)}, ${formatMoney(body.amount, body.currency)} refunded`,
      );
    }
  }
  const approver = approverOf(op);
  ctx.ledger(op, op.kind, body.shift, body.currency, body.amount, { ticket: body.ticket, approvedBy: approver });
  const problems: string[] = [];
  const approval = approvalProblem(op, shift?.clerk ?? null);
  if (approval) problems.push(approval);
  const fact = ctx.ticket(body.ticket);
  let voids = false;
  const voidedAt = op.at + (ctx.plan.device.clockOffsetMs ?? 0);
  if (!fact) {
    problems.push(`ticket ${body.ticket} was never accepted by the server`);
  } else {
    const t = fact.ticket;
    if (t.state !== 'accepted')
      problems.push(`ticket ${t.ticketId} is ${t.state}: only an unsettled ticket can be voided`);
    if (body.amount !== t.stake || body.currency !== t.currency) {
      problems.push(`refunded ${body.amount} ${body.currency}, the stake is ${t.stake} ${t.currency}`);
    }
    voids = t.state === 'accepted' && body.amount === t.stake && body.currency === t.currency;
    const window = ctx.bettingConfig?.voidWindowMinutes;
    if (window === undefined) problems.push('no void window is configured: tickets cannot be voided');
    else if (voidedAt - t.acceptedAt > window * 60_000) {
      problems.push(
        `voided ${Math.floor((voidedAt - t.acceptedAt) / 60_000)} min after acceptance; the window is ${window} min`,
      );
    }
    const starts = new Map((ctx.bettingConfig?.eventStarts ?? []).map((e) => [e.event, e.startsAt]));
    for (const x of t.selections) {
      const startsAt = starts.get(x.event);
      if (startsAt !== undefined && voidedAt >= startsAt)
        problems.push(`event ${x.event} had started when the ticket was voided`);
    }
  }
  if (problems.length > 0) {
    ctx.raise('void_invalid', 'alarm', op, op.id, `ticket void outside the rules: ${problems.join('; ')}`, {
      ticket: body.ticket,
      amount: body.amount,
      currency: body.currency,
      approvedBy: approver,
      problems,
    });
  }
  if (!fact || !voids) return;
  ctx.changeTicket({
    ticketId: body.ticket,
    from: 'accepted',
    event: {
      ticketId: body.ticket,
      state: 'voided',
      at: ctx.now,
      source: op.id,
      amount: body.amount,
      detail: { device: ctx.device.id, approvedBy: approver, deviceAt: op.at },
    },
    payout: null,
    release: {
      currency: fact.ticket.currency,
      selections: fact.ticket.selections,
      amount: fact.ticket.potentialPayout,
    },
  });
}
