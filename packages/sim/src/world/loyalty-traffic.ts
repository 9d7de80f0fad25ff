/**
 * Loyalty traffic (docs/loyalty.md): a crowd of members whose cards are
 * scanned on a share of the sales. Every scanned sale earns points from
 * the policy's rule; now and then the member spends points:
 *
 *   offline  within the policy's cap, against the balance the till last
 *            read for the member (none read: nothing to spend), at the
 *            shop's risk; two tills racing give a `loyalty_overdrawn`
 *   online   above the cap: the till asks the server, the member reads
 *            out the code the server "sent" (the outbox; the simulated
 *            phone), the clerk types it, and only a signed confirmation is
 *            recorded; a till that cannot reach the server records nothing
 *
 * and tills look a member's balance up online now and then (when they can).
 * Online questions travel the simulated network in virtual time: they run
 * beside the world (never as work it waits for), their failures counted.
 * The points' value is not modelled as money (a discount on the lines).
 */
import { chance, pick, type Random, randomIntBetween } from '@holdfast/domain';
import type { HoldfastService } from '@holdfast/server';
import {
  JournalClosedError,
  LoyaltyOnlineError,
  type RecordedOp,
  SimulatedCrashError,
  type Terminal,
  TerminalClosedError,
  TransportError,
} from '@holdfast/terminal';
import type { SimLane } from './sim-lane.js';
import type { LoyaltyPlan } from './world-plan.js';

export interface LoyaltyFigures {
  /** Sales a member card was scanned on (each one a `loyalty.points` op). */
  scanned: number;
  earnedPoints: number;
  offlineRedemptions: number;
  offlinePoints: number;
  /** Online redemptions confirmed with the member's code and recorded. */
  onlineRedemptions: number;
  onlinePoints: number;
  /** Online redemptions that did not happen, by why (no connection, a code mistyped past the limit, …). */
  onlineFailed: Record<string, number>;
  /** Balance look-ups answered. */
  lookups: number;
}

export interface LoyaltyHost {
  /** The server as it runs now (null while it is down): the member's phone reads its outbox. */
  service(): HoldfastService | null;
  recorded(lane: SimLane, op: RecordedOp, amount: number, shift: string): void;
  onError(lane: SimLane, error: unknown): void;
}

export class LoyaltyTraffic {
  readonly plan: LoyaltyPlan;
  readonly members: readonly string[];
  readonly figures: LoyaltyFigures = {
    scanned: 0,
    earnedPoints: 0,
    offlineRedemptions: 0,
    offlinePoints: 0,
    onlineRedemptions: 0,
    onlinePoints: 0,
    onlineFailed: {},
    lookups: 0,
  };

  /** The traffic's own stream: scans and redemptions never shift the clerks' draws. */
  readonly #random: Random;

  constructor(plan: LoyaltyPlan, random: Random) {
    this.plan = plan;
    this.#random = random;
    this.members = Array.from({ length: plan.members }, (_, i) => `SIM${String(i + 1).padStart(6, '0')}`);
  }

  /** The operator enrolls the members, each with a welcome balance (an audited adjustment). */
  async enroll(service: HoldfastService): Promise<void> {
    for (const member of this.members) {
      await service.loyalty.create(member, `Member ${member}`);
      await service.loyalty.adjust(member, { points: this.plan.welcomePoints, reason: 'welcome', id: member }, 'sim');
    }
  }

  /**
   * After a sale this clerk rang up: maybe the customer's card is scanned.
   * Synchronous parts (earn, an offline redemption) happen now, in the
   * clerk's burst; a look-up or an online redemption runs as tracked work.
   */
  afterSale(lane: SimLane, terminal: Terminal, sale: RecordedOp, total: number, host: LoyaltyHost): void {
    const random = this.#random;
    const rule = terminal.riskPolicy()?.policy.loyalty;
    const shift = terminal.currentShift();
    if (!rule || !shift || !chance(random, this.plan.scanShare)) return;
    const member = pick(random, this.members);
    const known = terminal.knownLoyaltyBalance(member)?.balance ?? null;
    if (known === null || chance(random, this.plan.lookupShare)) {
      // The answer comes over the simulated network, in virtual time: not work the world may wait for.
      void this.#lookup(lane, terminal, member, host);
    }
    const wantsOnline = known !== null && known > rule.offlineCap && chance(random, this.plan.onlineShare);
    if (wantsOnline) {
      const points = randomIntBetween(random, rule.offlineCap + 1, Math.min(known, rule.offlineCap * 3));
      void this.#redeemOnline(lane, terminal, sale, member, points, known, host);
      return;
    }
    let redeem = 0;
    if (known !== null && known > 0 && chance(random, this.plan.redeemShare)) {
      redeem = randomIntBetween(random, 1, Math.min(known, rule.offlineCap));
    }
    const earned = Math.floor(total / rule.perMinor) * rule.pointsPerUnit;
    if (earned === 0 && redeem === 0) return;
    const op = terminal.recordLoyaltyPoints({
      member,
      sale: sale.id,
      knownBalance: known ?? 0,
      ...(redeem > 0 ? { redeem } : {}),
    });
    host.recorded(lane, op, 0, shift.id);
    this.figures.scanned++;
    this.figures.earnedPoints += earned;
    if (redeem > 0) {
      this.figures.offlineRedemptions++;
      this.figures.offlinePoints += redeem;
    }
  }

  async #lookup(lane: SimLane, terminal: Terminal, member: string, host: LoyaltyHost): Promise<void> {
    try {
      await terminal.lookupLoyaltyMember(member);
      this.figures.lookups++;
    } catch (error) {
      if (!expected(error)) host.onError(lane, error);
    }
  }

  async #redeemOnline(
    lane: SimLane,
    terminal: Terminal,
    sale: RecordedOp,
    member: string,
    points: number,
    known: number,
    host: LoyaltyHost,
  ): Promise<void> {
    const random = this.#random;
    try {
      const pending = await terminal.requestLoyaltyRedemption(member, points);
      // The member reads the code off the phone (the server's outbox); now and then mistypes it once.
      const service = host.service();
      const code = service
        ? (await service.loyalty.outbox(member)).findLast((m) => m.redemption === pending.redemption)?.code
        : undefined;
      if (code === undefined) return this.#failed('no_code');
      if (chance(random, this.plan.mistypeShare)) {
        const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
        await terminal.confirmLoyaltyRedemption(pending, wrong).catch((error: unknown) => {
          if (!(error instanceof LoyaltyOnlineError && error.code === 'loyalty_code_wrong')) throw error;
        });
      }
      const confirmed = await terminal.confirmLoyaltyRedemption(pending, code);
      const shift = terminal.currentShift();
      if (lane.terminal !== terminal || !shift) return this.#failed('till_gone');
      const op = terminal.recordLoyaltyPoints({ member, sale: sale.id, knownBalance: known, online: confirmed });
      host.recorded(lane, op, 0, shift.id);
      this.figures.scanned++;
      this.figures.onlineRedemptions++;
      this.figures.onlinePoints += points;
    } catch (error) {
      if (error instanceof LoyaltyOnlineError) return this.#failed(error.code);
      if (error instanceof TransportError) return this.#failed(`transport_${error.code}`);
      if (!expected(error)) host.onError(lane, error);
    }
  }

  #failed(why: string): void {
    this.figures.onlineFailed[why] = (this.figures.onlineFailed[why] ?? 0) + 1;
  }
}

/** A till that died or closed under the call, or a server that could not be reached: not a bug. */
function expected(error: unknown): boolean {
  return (
    error instanceof SimulatedCrashError ||
    error instanceof TerminalClosedError ||
    error instanceof JournalClosedError ||
    error instanceof TransportError ||
    error instanceof LoyaltyOnlineError
  );
}
