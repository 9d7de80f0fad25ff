/**
 * Loyalty points at the till (docs/loyalty.md): the `loyalty.points` body
 * for a sale this till recorded, from the loyalty rule of the signed risk
 * policy it holds and the member's balance it last knew. Pure: the façade
 * (Terminal.recordLoyaltyPoints) records what this returns.
 *
 * Earned points follow the rule (whole steps of the sale's total, rounded
 * down). A redemption is refused above the known balance and above the
 * rule's offline cap (that one needs the server: `loyalty_needs_online`),
 * before anything is written.
 */
import { checkPoints, LoyaltyError, pointsEarned, redemptionRoute } from '@holdfast/domain';
import type { LoyaltyPointsBody, Op, SignedPolicy } from '@holdfast/protocol';

export interface LoyaltyPointsInput {
  /** The member's card number as scanned or typed. */
  member: string;
  /** The id of the `sale.recorded` op (recorded by this till). */
  sale: string;
  /** The member's balance as this till last knew it. */
  knownBalance: number;
  /** Points to redeem on this sale (their value already given as a discount on its lines); default 0. */
  redeem?: number;
}

export function loyaltyPointsBody(
  policy: SignedPolicy | null,
  sale: Op | undefined,
  input: LoyaltyPointsInput,
): LoyaltyPointsBody {
  const rule = policy?.policy.loyalty;
  if (!rule) throw new LoyaltyError('loyalty_no_rule', 'this till holds no loyalty rule (no signed policy with one)');
  if (sale?.kind !== 'sale.recorded') {
    throw new LoyaltyError('loyalty_sale_unknown', `no sale ${input.sale} recorded on this till`);
  }
  if (!Number.isSafeInteger(input.knownBalance)) {
    throw new LoyaltyError('loyalty_points_invalid', `knownBalance must be an integer, got ${input.knownBalance}`);
  }
  const body = sale.body as { shift: string; total: number };
  const earned = pointsEarned(body.total, rule);
  const redeemed = input.redeem ?? 0;
  checkPoints(redeemed, 'redeem');
  if (redeemed > 0 && redemptionRoute(redeemed, input.knownBalance, rule) === 'online') {
    throw new LoyaltyError(
      'loyalty_needs_online',
      `redeeming ${redeemed} points is above the offline cap of ${rule.offlineCap}: it needs the server`,
    );
  }
  if (earned === 0 && redeemed === 0) {
    throw new LoyaltyError('loyalty_points_invalid', `the sale earns no points and none are redeemed`);
  }
  return {
    shift: body.shift,
    member: input.member,
    sale: sale.id,
    earned,
    redeemed,
    balanceSeen: input.knownBalance,
    ...(redeemed > 0 ? { route: 'offline' as const } : {}),
  };
}
