/**
 * The person at a simulated till: opens a shift when a trading session
 * starts, rings up sales (and pays out winning tickets, drops cash in the
 * safe), counts the drawer blind and closes the shift when it ends. A
 * retry-happy clerk hammers "retry" while anything is pending, and now and
 * then asks the server about pending ops.
 *
 * Traffic is coarse-grained: every `tickMs` the clerk rings up that tick's
 * sales (a Poisson draw) in one go, so a three-day festival needs one timer
 * per terminal per tick, not one per sale. With `groupBursts`, a burst rung
 * up while the sync loop is idle is recorded with the loop paused (stop/
 * start, public SDK calls), so it leaves as one batch as it would if the
 * sales had been rung up within the same instant; otherwise the first sale
 * would leave alone and the rest behind it.
 *
 * A power cut in the middle of a burst (SimulatedCrashError) ends it: the
 * till is dark until the power comes back, and the op whose record call
 * died was not seen by the clerk.
 */
import { chance, DomainError, expectedCash, pick, type Random, randomIntBetween, type Shift } from '@holdfast/domain';
import type { SaleLine, Tender } from '@holdfast/protocol';
import {
  NeedsOnlineError,
  type RecordedOp,
  SimulatedCrashError,
  type Terminal,
  WristbandRefusedError,
} from '@holdfast/terminal';
import { SimulatedWristband } from '@holdfast/terminal/testing';
import { randomBasket } from '../baskets.js';
import type { VirtualClock } from '../virtual-clock.js';
import type { BettingDesk } from './betting-desk.js';
import { CardPool } from './card-pool.js';
import type { CardTraffic } from './card-traffic.js';
import type { CatalogTraffic } from './catalog-traffic.js';
import type { CorrectionTraffic } from './correction-traffic.js';
import type { LoyaltyHost, LoyaltyTraffic } from './loyalty-traffic.js';
import type { SimLane } from './sim-lane.js';
import { type Session, SIM_STAFF, type WorldPlan } from './world-plan.js';

export interface ClerkHost {
  clock: VirtualClock;
  plan: WorldPlan;
  counters: { manualRetries: number; requeries: number };
  recorded(lane: SimLane, op: RecordedOp, amount: number, shift: string): void;
  /** Something the clerk did failed unexpectedly (a bug: reported as a violation). */
  onError(lane: SimLane, error: unknown): void;
  /** Card traffic: cards come from its pool, offline approvals are reported to it. */
  cards?: CardTraffic;
  /** Betting shops: each sale is a ticket sold through the desk (world/betting-desk.ts). */
  betting?: BettingDesk;
  /** Loyalty: a member card scanned on a share of the sales (world/loyalty-traffic.ts). */
  loyaltyScans?: { traffic: LoyaltyTraffic; host: LoyaltyHost };
  /** Catalog: stock received by each zone's first lane, a share of the sales ring a catalog line. */
  catalog?: CatalogTraffic;
  /** Sale corrections: some cash sales voided at once, some refunded later (world/correction-traffic.ts). */
  corrections?: CorrectionTraffic;
  /** A shift was closed with a blind count `off` from what the clerk's till expected (0: an honest count). */
  counted?(shift: string, off: number): void;
}

export class Clerk {
  readonly #lane: SimLane;
  readonly #host: ClerkHost;
  readonly #random: Random;
  readonly #sessions: readonly Session[];
  readonly #lastEnd: number;
  /** True once trading is over and the last shift is closed. */
  done = false;

  constructor(lane: SimLane, host: ClerkHost) {
    this.#lane = lane;
    this.#host = host;
    this.#random = lane.clerkRandom;
    this.#sessions = [...host.plan.traffic.sessions].sort((a, b) => a.from - b.from);
    this.#lastEnd = this.#sessions.at(-1)?.to ?? host.plan.start;
  }

  /** This lane's customers' wristbands (created on first use; the chips outlive terminal restarts). */
  #wristbands: SimulatedWristband[] | null = null;

  start(): void {
    const { clock, plan } = this.#host;
    const first = (this.#sessions[0]?.from ?? plan.start) + randomIntBetween(this.#random, 0, plan.traffic.tickMs);
    clock.setTimer(first - clock.now(), () => this.#tick());
    if (this.#lane.spec.retryHappy) this.#scheduleRetry();
  }

  #tick(): void {
    const { clock } = this.#host;
    const now = clock.now();
    const terminal = this.#lane.terminal;
    if (terminal) {
      try {
        this.#work(terminal, now);
      } catch (error) {
        if (!(error instanceof SimulatedCrashError)) this.#host.onError(this.#lane, error);
      }
    }
    const open = this.#lane.terminal?.currentShift() ?? null;
    this.done = now >= this.#lastEnd && this.#lane.terminal !== null && open === null;
    if (!this.done) clock.setTimer(this.#nextTickAt(now, open !== null) - now, () => this.#tick());
  }

  /**
   * The next tick: a tick later, but at a session's end (plus a minute or
   * two) if that comes first, so the shift closes on time; and not before
   * the next session while the till is closed for the night.
   */
  #nextTickAt(now: number, shiftOpen: boolean): number {
    const tick = now + this.#host.plan.traffic.tickMs;
    const jitter = () => randomIntBetween(this.#random, 0, 120_000);
    const current = this.#sessions.find((s) => now >= s.from && now < s.to);
    if (current) return Math.min(tick, current.to + jitter());
    const next = this.#sessions.find((s) => s.from > now);
    if (next && !shiftOpen && this.#lane.terminal !== null) return Math.max(tick, next.from + jitter());
    return tick;
  }

  #work(terminal: Terminal, now: number): void {
    const traffic = this.#host.plan.traffic;
    const session = this.#sessions.find((s) => now >= s.from && now < s.to);
    const shift = terminal.currentShift();
    this.#signIn(terminal);
    if (!session) {
      if (shift) this.#close(terminal, shift);
      return;
    }
    if (!shift) {
      const op = terminal.openShift({
        clerk: `clerk-${this.#lane.label}`,
        currency: traffic.currency,
        openingFloat: traffic.openingFloat,
      });
      this.#host.recorded(this.#lane, op, traffic.openingFloat, op.id);
    }
    const opened = terminal.currentShift();
    if (opened) {
      this.#host.catalog?.receive(terminal, { label: this.#lane.label, zone: this.#lane.spec.zone }, (op) =>
        this.#host.recorded(this.#lane, op, 0, opened.id),
      );
    }
    const mean = (this.#lane.spec.salesPerMinute * traffic.intensity(now) * traffic.tickMs) / 60_000;
    const sales = poisson(this.#random, mean);
    if (sales === 0) return;
    const pause = this.#host.plan.groupBursts && sales > 1 && terminal.syncState === 'idle';
    if (pause) terminal.stop();
    try {
      for (let i = 0; i < sales && this.#lane.terminal === terminal; i++) this.#sell(terminal);
      if (this.#lane.terminal === terminal) this.#safeDrop(terminal);
    } finally {
      if (pause && this.#lane.terminal === terminal) terminal.start();
    }
  }

  #sell(terminal: Terminal): void {
    const traffic = this.#host.plan.traffic;
    const betting = this.#host.betting;
    if (betting && chance(this.#random, betting.plan.ticketShare)) {
      betting.sell(this.#lane, terminal);
      return;
    }
    const basket = randomBasket(this.#random, traffic.menu, traffic.cardShare);
    const catalogLine = this.#host.catalog?.line(terminal);
    if (catalogLine) {
      // One catalog line priced by the till, paid the way the basket would have been.
      basket.lines = [catalogLine];
      basket.total = catalogLine.qty * catalogLine.unitPrice;
      basket.tenders =
        basket.tenders[0]?.type === 'card'
          ? [{ ...basket.tenders[0], amount: basket.total }]
          : [{ type: 'cash', amount: basket.total, tendered: Math.ceil(basket.total / 500) * 500 }];
    }
    const banded = this.#wristbandSale(terminal, basket.lines, basket.total);
    const op = banded ?? this.#ring(terminal, basket.lines, basket.tenders, basket.total);
    const shift = terminal.currentShift();
    if (!op || !shift) return;
    this.#host.recorded(this.#lane, op, basket.total, shift.id);
    if (!banded && basket.tenders.every((t) => t.type === 'cash')) {
      this.#host.corrections?.afterSale(this.#lane, terminal, op, basket.total);
    }
    const loyalty = this.#host.loyaltyScans;
    if (loyalty && op.kind === 'sale.recorded') {
      loyalty.traffic.afterSale(this.#lane, terminal, op, basket.total, loyalty.host);
    }
    if (traffic.payoutShare > 0 && this.#random.float() < traffic.payoutShare) {
      // A winning ticket paid from the drawer; a till refuses to pay out more than it holds.
      const amount = Math.min(expectedCash(shift), randomIntBetween(this.#random, 5, 200) * 100);
      if (amount > 0) this.#move(terminal, 'paid_out', amount, shift.id);
    }
  }

  /**
   * Records a sale. With card traffic, the customer's card comes from the
   * pool and the terminal decides it under its risk policy; if the policy
   * sends it online (NeedsOnlineError: the online card path is not in the
   * simulation), the clerk asks for cash, or the customer walks away (null).
   */
  #ring(
    terminal: Terminal,
    lines: Parameters<Terminal['recordSale']>[0]['lines'],
    tenders: Tender[],
    total: number,
  ): RecordedOp | null {
    const cards = this.#host.cards;
    if (!cards || tenders[0]?.type !== 'card') return terminal.recordSale({ lines, tenders });
    const card = [CardPool.tender(cards.pool.draw(this.#random), total)];
    try {
      const op = terminal.recordSale({ lines, tenders: card });
      cards.approved(this.#lane.cardLane, op.id, this.#host.plan.traffic.currency, card);
      return op;
    } catch (error) {
      if (!(error instanceof NeedsOnlineError)) throw error;
      if (!chance(this.#random, cards.plan.cashFallbackShare)) {
        cards.needsOnline(error.rule, 'dropped');
        return null;
      }
      cards.needsOnline(error.rule, 'cash');
      return terminal.recordSale({
        lines,
        tenders: [{ type: 'cash', amount: total, tendered: Math.ceil(total / 500) * 500 }],
      });
    }
  }

  /**
   * With wristband traffic, a share of the customers pay with their
   * wristband (one of this lane's crowd), topped up in cash first when it
   * holds too little. Null when the customer pays otherwise, or the
   * terminal refused the wristband (outside the policy, blocked): the
   * basket is then rung up as usual.
   */
  #wristbandSale(terminal: Terminal, lines: SaleLine[], total: number): RecordedOp | null {
    const cards = this.#host.cards;
    const plan = cards?.plan.wristbands;
    if (!cards || !plan || !chance(this.#random, plan.share)) return null;
    const currency = this.#host.plan.traffic.currency;
    this.#wristbands ??= Array.from({ length: plan.perLane }, (_, i) => {
      const label = Buffer.from(this.#lane.label.slice(-29)).toString('hex').toUpperCase();
      return new SimulatedWristband(`04${label}${i.toString(16).toUpperCase().padStart(2, '0')}`, currency);
    });
    const band = pick(this.#random, this.#wristbands);
    const figures = cards.figures.wristbands;
    try {
      if (band.image().balance < total) {
        const amount = plan.topUp * Math.ceil(total / plan.topUp);
        const receipt = terminal.topUpWristband({ reader: band, amount, paid: 'cash' });
        figures.topUps++;
        figures.topUpsTotal += amount;
        const shift = terminal.currentShift();
        if (shift) this.#host.recorded(this.#lane, receipt.op, amount, shift.id);
      }
      const receipt = terminal.payWithWristband({ lines, reader: band });
      figures.sales++;
      figures.salesTotal += total;
      return receipt.op;
    } catch (error) {
      if (error instanceof SimulatedCrashError) {
        const crash = this.#lane.crashes.at(-1);
        if (crash) crash.inWristbandCall = true;
      }
      const code =
        error instanceof WristbandRefusedError ? error.code : error instanceof NeedsOnlineError ? error.rule : null;
      if (code === null) throw error;
      figures.refused[code] = (figures.refused[code] ?? 0) + 1;
      return null;
    }
  }

  /** With staff at the till: the lane's clerk signs in (again after a restart, which signs them out). */
  #signIn(terminal: Terminal): void {
    if (!this.#host.plan.staff || terminal.currentStaff() !== null || terminal.staffRoster() === null) return;
    terminal.signIn({ staff: SIM_STAFF.clerk(this.#lane.label) }, SIM_STAFF.clerkPin);
  }

  #safeDrop(terminal: Terminal): void {
    const traffic = this.#host.plan.traffic;
    const shift = terminal.currentShift();
    if (!shift || traffic.safeDropAbove <= 0) return;
    // Cash promised to a customer waiting for a payout's confirmation stays in the drawer: the till records
    // an approved payout even when its drawer no longer covers it (its drawer then goes below zero, and the
    // server raises insufficient_cash).
    const owed = terminal
      .pendingConfirmations()
      .reduce((sum, x) => sum + (x.opKind === 'ticket.paid' && 'amount' in x.request ? x.request.amount : 0), 0);
    const inDrawer = expectedCash(shift) - owed;
    if (inDrawer > traffic.safeDropAbove) this.#move(terminal, 'safe_drop', inDrawer - traffic.openingFloat, shift.id);
  }

  #move(terminal: Terminal, reason: 'paid_out' | 'safe_drop', amount: number, shift: string): void {
    if (reason === 'paid_out' && this.#host.plan.staff && terminal.staffRoster() !== null) {
      // The zone's supervisor approves this one paid-out with their PIN (domain STAFF_RULES).
      const body = { shift, currency: this.#host.plan.traffic.currency, direction: 'out', reason, amount } as const;
      terminal.approve(
        { kind: 'cash.moved', body },
        { staff: SIM_STAFF.supervisor(this.#lane.spec.zone) },
        SIM_STAFF.supervisorPin,
      );
    }
    const op = terminal.recordCashMovement({ direction: 'out', reason, amount });
    this.#host.recorded(this.#lane, op, amount, shift);
  }

  #close(terminal: Terminal, shift: Shift): void {
    const traffic = this.#host.plan.traffic;
    // A ticket or payout still waiting for the server's answer would land in the drawer after the count:
    // the clerk serves the waiting customer first and closes at a later tick.
    if (terminal.pendingConfirmations().length > 0) return;
    const expected = expectedCash(shift);
    const off =
      this.#random.float() < traffic.miscountShare
        ? randomIntBetween(this.#random, 1, 40) * 50 * (this.#random.float() < 0.5 ? -1 : 1)
        : 0;
    const countedCash = Math.max(0, expected + off);
    try {
      const op = terminal.closeShift({ countedCash });
      this.#host.recorded(this.#lane, op, countedCash, shift.id);
      this.#host.counted?.(shift.id, countedCash - expected);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      this.#host.onError(this.#lane, error);
    }
  }

  #scheduleRetry(): void {
    const { clock, plan } = this.#host;
    const [min, max] = plan.traffic.retry.everyMs;
    clock.setTimer(randomIntBetween(this.#random, min, max), () => {
      if (clock.now() >= this.#lastEnd) return;
      const terminal = this.#lane.terminal;
      if (terminal && this.#lane.pending > 0) this.#press(terminal);
      this.#scheduleRetry();
    });
  }

  /** "Press again until it works": never creates an op, and the SDK throttles it. */
  #press(terminal: Terminal): void {
    const { counters, plan } = this.#host;
    const [min, max] = plan.traffic.retry.presses;
    const presses = randomIntBetween(this.#random, min, max);
    for (let i = 0; i < presses; i++) {
      counters.manualRetries++;
      terminal.syncNow().catch(() => undefined);
    }
    if (this.#random.float() < plan.traffic.retry.requeryShare) {
      counters.requeries++;
      terminal.requery().catch(() => undefined);
    }
  }
}

/** A Poisson-distributed count with the given mean (normal approximation above 30). */
export function poisson(random: Random, mean: number): number {
  if (!(mean > 0)) return 0;
  if (mean > 30) {
    const u = 1 - random.float();
    const v = random.float();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random.float();
  while (p > limit) {
    k++;
    p *= random.float();
  }
  return k;
}
