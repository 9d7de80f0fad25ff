/**
 * The applier of `ticket.issued`: a ledger event. A ticket names the shift
 * it was sold in but moves no drawer cash (its shift effect is `none`), so
 * the shift is only checked: known to the device, and open.
 */
import type { Op, TicketIssuedBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';

export function applyTicketIssued(op: Op, body: TicketIssuedBody, ctx: ApplyContext): void {
  const shift = ctx.requireShift(op, body.shift, 'ticket');
  if (shift && shift.status !== 'open') {
    ctx.shiftRule(op, 'shift_not_open', `ticket sold on shift ${body.shift}, which was closed`);
  }
  ctx.ledger(op, op.kind, body.shift, body.currency, body.stake, {
    potentialPayout: body.potentialPayout,
    authorization: body.authorization,
    selections: body.selections.length,
  });
}
