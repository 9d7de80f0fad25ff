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
  /**
   * A redemption the server confirmed with the member's one-time code
   * (LoyaltyOnline.confirmRedemption): its points are redeemed online,
   * the op takes its op id and carries it as `approval`. Not with `redeem`.
   */
  online?: { opId: string; redemption: string; member: string; points: number };
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
  const online = input.online;
  if (online) {
    if (input.redeem !== undefined) {
      throw new LoyaltyError('loyalty_points_invalid', 'give either redeem (offline) or online (confirmed), not both');
    }
    if (online.member !== input.member) {
      throw new LoyaltyError(
        'loyalty_points_invalid',
        `the confirmed redemption is for member ${online.member}, not ${input.member}`,
      );
    }
    checkPoints(online.points, 'online.points');
    // Confirmed by the server against its balance in real time: no offline cap, no known-balance check.
    return {
      shift: body.shift,
      member: input.member,
      sale: sale.id,
      earned,
      redeemed: online.points,
      balanceSeen: input.knownBalance,
      route: 'online',
      approval: online.redemption,
    };
  }
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
