/**
 * The applier of `sale.refunded` (docs/corrections.md): a cash refund out
 * of the drawer (a card refund leaves the drawer alone), a ledger event,
 * and the refund judged against its sale across every device
 * (ApplyContext.correctSale): never more than the sale's total across all
 * its corrections, never more units of a line than were sold, approved by
 * someone other than the clerk. Over the sale raises `refund_over_sale`,
 * another broken rule `refund_invalid`; a refund naming a sale the server
 * has not received is held (`refund_unmatched`) and judged when it lands.
 */
import { type CorrectionProblem, correctionFactOf, expectedCash } from '@holdfast/domain';
import { formatMoney, type Op, type SaleRefundedBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';
import { approvalProblem, approverOf } from '../approval.js';

export function applySaleRefunded(op: Op, body: SaleRefundedBody, ctx: ApplyContext): void {
  const shift = ctx.requireShift(op, body.shift, 'refund');
  if (shift) {
    const held = expectedCash(shift);
    const moved = ctx.applyShift(op, shift, 'sale.refunded', body);
    if (moved && body.tender === 'cash' && held < body.amount) {
      ctx.shiftRule(
        op,
        'insufficient_cash',
        `drawer held ${formatMoney(held, body.currency)}, ${formatMoney(body.amount, body.currency)} refunded`,
      );
    }
  }
  ctx.ledger(op, op.kind, body.shift, body.currency, body.amount, {
    sale: body.sale,
    tender: body.tender,
    ...(body.lines ? { lines: body.lines } : {}),
    ...(body.card ? { brand: body.card.brand, last4: body.card.last4 } : {}),
    approvedBy: approverOf(op),
  });
  const extra: CorrectionProblem[] = [];
  const approval = approvalProblem(op, shift?.clerk ?? null);
  if (approval) extra.push({ code: 'refund_invalid', message: approval });
  ctx.correctSale(op, correctionFactOf(op.id, ctx.device.id, 'sale.refunded', body), extra);
}
