/**
 * Loyalty points, as pure rules (docs/loyalty.md).
 *
 * A member earns integer points on a sale from the location's policy rule
 * and spends them (a redemption) as a discount on a sale. Terminals decide
 * against the last balance they know of (the member card's balance as the
 * server last told them), so two tills can spend the same points while
 * offline: the server's account is the sum of its entries,
 *
 *     balance = earned − redeemed + adjusted             (always, by construction)
 *
 * and a redemption that takes the balance below zero is a fact, applied and
 * reported (`overdrawn`), once per episode: until the balance is back at
 * zero or more. Every entry is keyed by the op that carried it, so applying
 * the same op twice is refused by the caller's exactly-once machinery, not
 * here.
 */

import type { LoyaltyRule } from '@holdfast/protocol';

/**
 * The rule a location earns and spends points by: the signed risk policy's
 * `loyalty` section (protocol LoyaltyRule). `perMinor` minor units earn
 * `pointsPerUnit` points (100 = per whole euro); a sale may redeem up to
 * `offlineCap` points offline, more needs the server.
 */
export type LoyaltyPolicy = LoyaltyRule;

export type LoyaltyErrorCode =
  | 'loyalty_points_invalid'
  | 'loyalty_policy_invalid'
  | 'loyalty_insufficient_points'
  /** A redemption above the policy's offline cap: it needs the server (online redemption). */
  | 'loyalty_needs_online'
  /** The till holds no loyalty rule (no signed policy with a `loyalty` section). */
  | 'loyalty_no_rule'
  /** Points for a sale this till did not record. */
  | 'loyalty_sale_unknown'
  /** An online redemption the till has recorded already (a confirmation is used once). */
  | 'loyalty_redemption_used';

/** A request the loyalty rules refuse (bad points, a bad policy, a redemption above the known balance). */
export class LoyaltyError extends Error {
  override readonly name = 'LoyaltyError';
  constructor(
    readonly code: LoyaltyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The largest number of points one op may move (keeps every sum a safe integer). */
export const MAX_POINTS = 1_000_000_000;

/** Throws loyalty_points_invalid unless `points` is an integer in 0..MAX_POINTS (`what` names the field). */
export function checkPoints(points: number, what: string): void {
  if (!Number.isSafeInteger(points) || points < 0 || points > MAX_POINTS) {
    throw new LoyaltyError(
      'loyalty_points_invalid',
      `${what} must be an integer from 0 to ${MAX_POINTS}, got ${points}`,
    );
  }
}

/** Throws loyalty_policy_invalid when a policy's numbers cannot be used. */
export function checkLoyaltyPolicy(p: LoyaltyPolicy): void {
  const bad = (field: string, rule: string): never => {
    throw new LoyaltyError('loyalty_policy_invalid', `policy.${field} must be ${rule}`);
  };
  if (!Number.isSafeInteger(p.pointsPerUnit) || p.pointsPerUnit < 0 || p.pointsPerUnit > 1_000_000)
    bad('pointsPerUnit', 'an integer from 0 to 1000000');
  if (!Number.isSafeInteger(p.perMinor) || p.perMinor < 1) bad('perMinor', 'an integer ≥ 1');
  if (!Number.isSafeInteger(p.offlineCap) || p.offlineCap < 0 || p.offlineCap > MAX_POINTS)
    bad('offlineCap', `an integer from 0 to ${MAX_POINTS}`);
}

/**
 * Points a sale of `totalMinor` earns: whole steps of `perMinor` only,
 * rounded down (a 9.99 sale at 1 point per 1.00 earns 9), so points never
 * come from a fraction of a step and two tills always agree.
 */
export function pointsEarned(totalMinor: number, policy: LoyaltyPolicy): number {
  if (!Number.isSafeInteger(totalMinor) || totalMinor < 0) {
    throw new LoyaltyError('loyalty_points_invalid', `a sale total must be an integer ≥ 0, got ${totalMinor}`);
  }
  return Math.floor(totalMinor / policy.perMinor) * policy.pointsPerUnit;
}

/** How a terminal may redeem `points`: offline within the cap, online (with a code) above it. */
export type RedemptionRoute = 'offline' | 'online';

/**
 * The route a redemption of `points` takes given the balance the terminal
 * knows. Throws loyalty_insufficient_points above that balance and
 * loyalty_points_invalid for zero, negative or fractional points.
 */
export function redemptionRoute(points: number, knownBalance: number, policy: LoyaltyPolicy): RedemptionRoute {
  checkPoints(points, 'points');
  if (points === 0) throw new LoyaltyError('loyalty_points_invalid', 'a redemption must be at least 1 point');
  if (points > knownBalance) {
    throw new LoyaltyError(
      'loyalty_insufficient_points',
      `redeeming ${points} points but the member's balance is ${knownBalance}`,
    );
  }
  return points <= policy.offlineCap ? 'offline' : 'online';
}

/** What one entry does to a member's points. */
export type LoyaltyEntryKind = 'earn' | 'redeem' | 'adjust';

/** One movement of points. `points` is ≥ 0 for earn and redeem; an adjustment is signed. */
export interface LoyaltyEntryMove {
  kind: LoyaltyEntryKind;
  points: number;
}

/** A member's account. `balance` is derived from the totals and never stored on its own. */
export interface LoyaltyTotals {
  earned: number;
  redeemed: number;
  adjusted: number;
  balance: number;
  /** The entry (op id, or adjustment id) that opened the current overdrawn episode; null while none is open. */
  overdrawnBy: string | null;
}

export const EMPTY_LOYALTY_TOTALS: LoyaltyTotals = {
  earned: 0,
  redeemed: 0,
  adjusted: 0,
  balance: 0,
  overdrawnBy: null,
};

/**
 * The totals after one entry (keyed `key`), and whether it opened an
 * overdrawn episode (the balance went below zero while none was open).
 */
export function applyLoyaltyEntry(
  totals: LoyaltyTotals,
  key: string,
  move: LoyaltyEntryMove,
): { totals: LoyaltyTotals; overdrawn: boolean } {
  if (move.kind === 'adjust') {
    if (!Number.isSafeInteger(move.points) || Math.abs(move.points) > MAX_POINTS || move.points === 0) {
      throw new LoyaltyError(
        'loyalty_points_invalid',
        `an adjustment must be a non-zero integer within ±${MAX_POINTS}, got ${move.points}`,
      );
    }
  } else {
    checkPoints(move.points, `${move.kind} points`);
  }
  const earned = totals.earned + (move.kind === 'earn' ? move.points : 0);
  const redeemed = totals.redeemed + (move.kind === 'redeem' ? move.points : 0);
  const adjusted = totals.adjusted + (move.kind === 'adjust' ? move.points : 0);
  const balance = earned - redeemed + adjusted;
  const opens = balance < 0 && totals.overdrawnBy === null;
  const overdrawnBy = balance >= 0 ? null : opens ? key : totals.overdrawnBy;
  return { totals: { earned, redeemed, adjusted, balance, overdrawnBy }, overdrawn: opens };
}
