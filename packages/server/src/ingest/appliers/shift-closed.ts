/**
 * The applier of `shift.closed`: closes the shift on the clerk's blind
 * count, records what the drawer should have held and the variance, and
 * raises `cash_variance` when the count is off.
 */
import { expectedCash } from '@holdfast/domain';
import { formatMoney, type Op, type ShiftClosedBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';

export function applyShiftClosed(op: Op, body: ShiftClosedBody, ctx: ApplyContext): void {
  let expected: number | null = null;
  let variance: number | null = null;
  const shift = ctx.requireShift(op, body.shift, 'close');
  const closed = shift && ctx.applyShift(op, shift, 'shift.closed', body);
  if (closed) {
    expected = expectedCash(closed);
    variance = body.countedCash - expected;
    closed.closedAt = op.at;
    closed.expectedCash = expected;
    closed.variance = variance;
    if (variance !== 0) {
      ctx.raise(
        'cash_variance',
        'warning',
        op,
        op.id,
        `drawer ${variance < 0 ? 'short' : 'over'} by ${formatMoney(Math.abs(variance), body.currency)} at close`,
        { shift: closed.id, expected, counted: body.countedCash, variance, currency: body.currency },
      );
    }
  }
  ctx.ledger(op, op.kind, body.shift, body.currency, body.countedCash, { expected, variance });
}
