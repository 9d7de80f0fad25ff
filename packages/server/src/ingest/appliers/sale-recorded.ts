/**
 * The applier of `sale.recorded`: the sale's ledger event (its one record
 * beside the op: the `sales` view reads total, cash, card and lines from
 * it), its effect on its shift, a held offline payment per card tender when
 * the terminal approved it locally, a wallet debit per wristband tender, and
 * the corrections held for it judged.
 */
import { saleFactOf, tenderSplit } from '@holdfast/domain';
import type { Op, SaleBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';

export function applySaleRecorded(op: Op, body: SaleBody, ctx: ApplyContext): void {
  const { cash, card, wristband } = tenderSplit(body);
  const shift = ctx.requireShift(op, body.shift, 'sale');
  if (shift) ctx.applyShift(op, shift, 'sale.recorded', body);
  if (op.decision.mode === 'local' && op.decision.outcome === 'approved') {
    for (let i = 0; i < body.tenders.length; i++) {
      const tender = body.tenders[i];
      if (tender?.type === 'card') ctx.offlinePayment(op, i, tender.amount, body.currency, tender);
    }
  }
  ctx.ledger(op, op.kind, body.shift, body.currency, body.total, {
    cash,
    card,
    lines: body.lines.length,
    ...(wristband > 0 ? { wristband } : {}),
  });
  for (let i = 0; i < body.tenders.length; i++) {
    const tender = body.tenders[i];
    if (tender?.type === 'wristband') ctx.walletWrite(op, 'debit', i, tender, body.currency, body.shift);
  }
  // Corrections held for this sale (recorded elsewhere, received first) are judged now (docs/corrections.md).
  ctx.addSale(saleFactOf(op.id, ctx.device.id, body), op);
  // Lines of items stocked at the device's location take their quantity off the level (docs/catalog-and-stock.md).
  ctx.stock.sale(op, body);
}
