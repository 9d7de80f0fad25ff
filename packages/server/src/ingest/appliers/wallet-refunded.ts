/**
 * The applier of `wallet.refunded`: a sale's refund credited back onto the
 * wristband that paid it. It belongs to an open shift but moves no drawer
 * cash; the chip write goes to the wristband's wallet. It is a correction
 * of the sale it names, judged with the sale's others (docs/corrections.md).
 */
import { correctionFactOf } from '@holdfast/domain';
import type { Op, WalletRefundedBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';

export function applyWalletRefunded(op: Op, body: WalletRefundedBody, ctx: ApplyContext): void {
  const shift = ctx.requireShift(op, body.shift, op.kind);
  if (shift) ctx.applyShift(op, shift, 'wallet.refunded', body);
  ctx.ledger(op, op.kind, body.shift, body.currency, body.amount, {
    wristband: body.wristband,
    counter: body.counter,
    sale: body.sale,
  });
  ctx.walletWrite(op, 'refund', 0, body, body.currency, body.shift);
  // Counted with the sale's other corrections: never more than the sale across all of them (docs/corrections.md).
  ctx.correctSale(op, correctionFactOf(op.id, ctx.device.id, 'wallet.refunded', body), []);
}
