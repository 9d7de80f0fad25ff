/**
 * The applier of `loyalty.points`: points a member earned and/or redeemed
 * on a sale. Each is an entry on the member's account, keyed by the op, so
 * it is applied once. The till decided against the balance it knew; a
 * redemption that takes the server's balance below zero (two tills racing
 * offline) is applied all the same and raises `loyalty_overdrawn` once per
 * episode. Points for a member the server does not know are not applied:
 * `loyalty_unknown_member` names the op (the op itself is stored).
 */
import type { LoyaltyPointsBody, Op } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';

export function applyLoyaltyPoints(op: Op, body: LoyaltyPointsBody, ctx: ApplyContext): void {
  ctx.ledger(op, op.kind, body.shift, null, null, {
    member: body.member,
    sale: body.sale,
    earned: body.earned,
    redeemed: body.redeemed,
    balanceSeen: body.balanceSeen,
    route: body.route ?? null,
  });
  if (!ctx.loyaltyMember(body.member)) {
    ctx.raise(
      'loyalty_unknown_member',
      'warning',
      op,
      op.id,
      `points for unknown member ${body.member} (earned ${body.earned}, redeemed ${body.redeemed}) not applied`,
      { member: body.member, sale: body.sale, earned: body.earned, redeemed: body.redeemed },
    );
    return;
  }
  if (body.earned > 0) ctx.loyaltyEntry(op, body, 'earn', body.earned);
  if (body.redeemed > 0) {
    const after = ctx.loyaltyEntry(op, body, 'redeem', body.redeemed);
    if (after.overdrawn) {
      ctx.raise(
        'loyalty_overdrawn',
        'alarm',
        op,
        `${body.member}:${op.id}`,
        `member ${body.member} redeemed ${body.redeemed} points (till saw ${body.balanceSeen}); balance now ${after.balance}`,
        {
          member: body.member,
          sale: body.sale,
          redeemed: body.redeemed,
          balanceSeen: body.balanceSeen,
          balance: after.balance,
        },
      );
    }
  }
}
