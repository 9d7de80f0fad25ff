/**
 * The applier of `wallet.topup_reversed`: a top-up given back. The cash
 * leaves the shift's drawer (shift reducer; a card top-up's reversal,
 * `tender: 'card'`, moves no cash: the card refunder gives it back to the
 * card at the processor); the chip write takes the
 * amount off the wristband's wallet (a `debit` entry: money off the chip);
 * the reversal is judged against its top-up and the reversals before it
 * (docs/wristbands.md, "Top-up reversal"), and its approval (a supervisor,
 * not the shift's clerk). What it breaks is raised; the fact stands.
 */
import { expectedCash } from '@holdfast/domain';
import { formatMoney, type Op, type WalletTopUpReversedBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';
import { approvalProblem, approverOf } from '../approval.js';

export function applyWalletTopUpReversed(op: Op, body: WalletTopUpReversedBody, ctx: ApplyContext): void {
  const shift = ctx.requireShift(op, body.shift, op.kind);
  if (shift) {
    const held = expectedCash(shift);
    const moved = ctx.applyShift(op, shift, 'wallet.topup_reversed', body);
    if (moved && body.tender !== 'card' && held < body.amount) {
      ctx.shiftRule(
        op,
        'insufficient_cash',
        `drawer held ${formatMoney(held, body.currency)}, ${formatMoney(body.amount, body.currency)} given back`,
      );
    }
  }
  ctx.ledger(op, op.kind, body.shift, body.currency, body.amount, {
    wristband: body.wristband,
    counter: body.counter,
    topup: body.topup,
    tender: body.tender ?? 'cash',
    approvedBy: approverOf(op),
  });
  const balance = ctx.walletBalance(body.wristband);
  ctx.walletWrite(op, 'debit', 0, body, body.currency, body.shift);
  const approval = approvalProblem(op, shift?.clerk ?? null);
  ctx.topUps.reverse(op, body, balance, approval === null ? [] : [approval]);
}
