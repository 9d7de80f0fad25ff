/**
 * The applier of `wallet.topped_up`: money loaded onto a wristband. Cash
 * paid goes into the shift's drawer (shift reducer); the chip write goes to
 * the wristband's wallet; a card payment the terminal approved offline is
 * held for forwarding, like a sale's.
 */
import type { Op, WalletToppedUpBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';

export function applyWalletToppedUp(op: Op, body: WalletToppedUpBody, ctx: ApplyContext): void {
  const shift = ctx.requireShift(op, body.shift, op.kind);
  if (shift) ctx.applyShift(op, shift, 'wallet.topped_up', body);
  ctx.ledger(op, op.kind, body.shift, body.currency, body.amount, {
    wristband: body.wristband,
    counter: body.counter,
    paid: body.paid,
  });
  ctx.walletWrite(op, 'topup', 0, body, body.currency, body.shift);
  ctx.topUps.addTopUp(op, body);
  if (body.card && op.decision.mode === 'local' && op.decision.outcome === 'approved') {
    ctx.offlinePayment(op, 0, body.amount, body.currency, body.card);
  }
}
