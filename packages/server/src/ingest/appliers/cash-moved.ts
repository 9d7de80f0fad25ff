/**
 * The applier of `cash.moved`: the movement's projection and ledger event,
 * and its effect on the shift's drawer. Moving out more than the drawer
 * should hold happened anyway: it is applied (overdraw allowed) and raised
 * as `insufficient_cash`.
 */
import { expectedCash } from '@holdfast/domain';
import { type CashMovedBody, formatMoney, type Op } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';

export function applyCashMoved(op: Op, body: CashMovedBody, ctx: ApplyContext): void {
  const shift = ctx.requireShift(op, body.shift, 'cash movement');
  if (shift) {
    // Read before applying: the batch's shift records change in place.
    const held = expectedCash(shift);
    const moved = ctx.applyShift(op, shift, 'cash.moved', body);
    if (moved && body.direction === 'out' && held < body.amount) {
      ctx.shiftRule(
        op,
        'insufficient_cash',
        `drawer held ${formatMoney(held, body.currency)}, ${formatMoney(body.amount, body.currency)} moved out`,
      );
    }
  }
  ctx.plan.cashMovements.push({
    opId: op.id,
    device: ctx.device.id,
    seq: op.seq,
    shiftId: body.shift,
    currency: body.currency,
    direction: body.direction,
    reason: body.reason,
    amount: body.amount,
    deviceAt: op.at,
    appliedAt: ctx.now,
  });
  ctx.ledger(op, op.kind, body.shift, body.currency, body.amount, { direction: body.direction, reason: body.reason });
  ctx.cashCorrections.addMovement(op, body);
}
