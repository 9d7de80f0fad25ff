/**
 * The applier of `loyalty.points`: points a member earned and/or redeemed
 * on a sale. Each is an entry on the member's account, keyed by the op, so
 * it is applied once. The till decided against the balance it knew; a
 * redemption that takes the server's balance below zero (two tills racing
 * offline) is applied all the same and raises `loyalty_overdrawn` once per
 * episode. Points for a member the server does not know are not applied:
 * `loyalty_unknown_member` names the op (the op itself is stored).
 *
 * Checked, never refused (the fact stands, an exception says what broke):
 * an online redemption needs the redemption the server confirmed with the
 * member's code for this very op (`loyalty_online_unverified`); an offline
 * redemption stays within the offline cap, and earned points within the
 * earn rule, of the policy the op's decision names (`loyalty_rule_breach`).
 */
import { pointsEarned } from '@holdfast/domain';
import type { LoyaltyPointsBody, Op } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';

/** Why an online redemption does not match what the server confirmed, or null. */
function onlineRedemptionProblem(op: Op, body: LoyaltyPointsBody, ctx: ApplyContext): string | null {
  const r = ctx.loyaltyRedemption(op.id);
  if (!r) return `no online redemption was asked for op ${op.id}`;
  if (r.id !== body.approval) return `op carries approval ${body.approval}, the server's redemption is ${r.id}`;
  if (r.device !== ctx.device.id) return `redemption ${r.id} was asked by another device`;
  if (r.status !== 'confirmed') return `redemption ${r.id} is ${r.status}, never confirmed with the member's code`;
  if (r.member !== body.member || r.points !== body.redeemed) {
    return `redemption ${r.id} confirmed ${r.points} points of ${r.member}, the op redeems ${body.redeemed} of ${body.member}`;
  }
  return null;
}

/** Each way the op broke the loyalty rule of the policy it names (none: it kept to it). */
function ruleBreaches(op: Op, body: LoyaltyPointsBody, ctx: ApplyContext): { rule: string; message: string }[] {
  const ref = op.decision.policy;
  const rule = ref === null ? undefined : ctx.loyaltyRule(ref);
  if (!rule) {
    const why =
      ref === null
        ? 'names no policy'
        : rule === null
          ? `names policy ${ref}, which has no loyalty rule`
          : `names policy ${ref}, which the server never issued`;
    return [
      { rule: 'no_rule', message: `points recorded offline ${why}: earned and redeemed points cannot be checked` },
    ];
  }
  const out: { rule: string; message: string }[] = [];
  if (body.route === 'offline' && body.redeemed > rule.offlineCap) {
    out.push({
      rule: 'offline_cap',
      message: `redeemed ${body.redeemed} points offline, above the offline cap of ${rule.offlineCap} of policy ${ref}`,
    });
  }
  if (body.earned > 0) {
    const sale = ctx.saleTotal(body.sale);
    if (!sale) {
      out.push({
        rule: 'sale_unknown',
        message: `earned ${body.earned} points on sale ${body.sale}, which the server has not stored`,
      });
    } else {
      const allowed = pointsEarned(sale.total, rule);
      if (body.earned > allowed) {
        out.push({
          rule: 'earn_rule',
          message: `earned ${body.earned} points on a sale of ${sale.total} minor units; the rule of policy ${ref} gives ${allowed}`,
        });
      }
    }
  }
  return out;
}

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
  if (body.route === 'online') {
    const problem = onlineRedemptionProblem(op, body, ctx);
    if (problem !== null) {
      ctx.raise('loyalty_online_unverified', 'alarm', op, `${op.id}:online`, problem, {
        member: body.member,
        sale: body.sale,
        redeemed: body.redeemed,
        approval: body.approval ?? null,
      });
    }
  }
  for (const b of ruleBreaches(op, body, ctx)) {
    ctx.raise('loyalty_rule_breach', 'warning', op, `${op.id}:${b.rule}`, b.message, {
      rule: b.rule,
      policy: op.decision.policy,
      member: body.member,
      sale: body.sale,
      earned: body.earned,
      redeemed: body.redeemed,
    });
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
