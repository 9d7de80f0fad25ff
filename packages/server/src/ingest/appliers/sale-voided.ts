/**
 * The applier of `sale.voided` (docs/corrections.md): the sale's cash
 * part back out of the drawer, a ledger event, and the void judged against
 * its sale (ApplyContext.correctSale): same device and shift, the sale's
 * exact cash and card parts, nothing corrected before, approved by someone
 * other than the clerk. A void breaking a rule raises `sale_void_invalid`;
 * one naming a sale the server has not received is held (`refund_unmatched`).
 * The fact stands either way: the money has left.
 */
import { type CorrectionProblem, correctionFactOf, expectedCash, voidTenderProblems } from '@holdfast/domain';
import { formatMoney, type Op, type SaleVoidedBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';
import { approvalProblem, approverOf } from '../approval.js';

export function applySaleVoided(op: Op, body: SaleVoidedBody, ctx: ApplyContext): void {
  const shift = ctx.requireShift(op, body.shift, 'sale void');
  if (shift) {
    const held = expectedCash(shift);
    const moved = ctx.applyShift(op, shift, 'sale.voided', body);
    if (moved && held < body.cash) {
      ctx.shiftRule(
        op,
        'insufficient_cash',
        `drawer held ${formatMoney(held, body.currency)}, ${formatMoney(body.cash, body.currency)} given back`,
      );
    }
  }
  const approver = approverOf(op);
  ctx.ledger(op, op.kind, body.shift, body.currency, body.cash + body.card, {
    sale: body.sale,
    cash: body.cash,
    card: body.card,
    approvedBy: approver,
  });
  const extra: CorrectionProblem[] = [];
  const approval = approvalProblem(op, shift?.clerk ?? null);
  if (approval) extra.push({ code: 'sale_void_invalid', message: approval });
  const sale = ctx.sale(body.sale);
  if (sale) extra.push(...voidTenderProblems(sale, body));
  ctx.correctSale(op, correctionFactOf(op.id, ctx.device.id, 'sale.voided', body), extra);
}
