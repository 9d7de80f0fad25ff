/**
 * The applier of `ticket.issued`: the stake is cash into the drawer of the
 * shift the ticket was sold in (SHIFT_RULES: within), and a ledger event.
 * The ticket itself (its state, liability) was recorded when the server
 * approved it online (storage/sql/operations/tickets.ts).
 */
import type { Op, TicketIssuedBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';

export function applyTicketIssued(op: Op, body: TicketIssuedBody, ctx: ApplyContext): void {
  const shift = ctx.requireShift(op, body.shift, 'ticket');
  if (shift) ctx.applyShift(op, shift, 'ticket.issued', body);
  ctx.ledger(op, op.kind, body.shift, body.currency, body.stake, {
    potentialPayout: body.potentialPayout,
    authorization: body.authorization,
    selections: body.selections.length,
  });
}
