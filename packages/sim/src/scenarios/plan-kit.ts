/**
 * Building blocks for scenario plans: fleets with drifting clocks, power
 * cuts at random crash points, server crashes, traffic defaults.
 */
import { pick, type Random, randomIntBetween } from '@holdfast/domain';
import type { ServerCrashPoint } from '@holdfast/server/testing';
import type { CrashPoint } from '@holdfast/terminal';
import { VENUE_MENU } from '../baskets.js';
import type { ClockFaults, ClockJump } from '../world/drifting-clock.js';
import type {
  CardPlan,
  CatalogPlan,
  ServerCrash,
  TerminalCrash,
  TerminalSpec,
  TrafficPlan,
} from '../world/world-plan.js';

export const SECOND = 1_000;
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Every crash point of every kind of journal write. */
export const TERMINAL_CRASH_POINTS: readonly CrashPoint[] = (
  ['record', 'attempt-start', 'settle', 'attempt-end', 'meta'] as const
).flatMap((label) => [`${label}:before-commit` as const, `${label}:after-commit` as const]);

export const SERVER_CRASH_POINTS: readonly ServerCrashPoint[] = ['ingest:before-commit', 'ingest:after-commit'];

export function between(random: Random, range: readonly [number, number]): number {
  return randomIntBetween(random, Math.round(range[0]), Math.round(range[1]));
}

export interface ClockOptions {
  /** Drift uniform in ±maxPpm. */
  maxPpm: number;
  /** Share of devices whose clock jumps once during [from, to). */
  jumpShare: number;
  /** Size of a jump, ms (either direction). */
  jumpMs: readonly [number, number];
  from: number;
  to: number;
}

export function clockFaults(random: Random, o: ClockOptions): ClockFaults {
  const driftPpm = Math.round((random.float() * 2 - 1) * o.maxPpm);
  const jumps: ClockJump[] = [];
  if (random.float() < o.jumpShare) {
    const byMs = between(random, o.jumpMs) * (random.float() < 0.5 ? -1 : 1);
    jumps.push({ at: between(random, [o.from, o.to]), byMs });
  }
  return { driftPpm, jumps };
}

export interface FleetOptions {
  prefix: string;
  zone(index: number): string;
  salesPerMinute: number;
  retryHappyShare: number;
  clock: ClockOptions;
}

export function fleet(count: number, o: FleetOptions, random: Random): TerminalSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    label: `${o.prefix}-${String(i + 1).padStart(count >= 100 ? 3 : 2, '0')}`,
    zone: o.zone(i),
    // Some tills are busier than others: ±40% around the mean.
    salesPerMinute: o.salesPerMinute * (0.6 + 0.8 * random.float()),
    retryHappy: random.float() < o.retryHappyShare,
    clock: clockFaults(random, o.clock),
  }));
}

export interface CrashOptions {
  /** Mean power cuts per terminal per hour, over [from, to). */
  perTerminalPerHour: number;
  from: number;
  to: number;
  downMs: readonly [number, number];
  /** Share of cuts at a random moment; the rest at a random journal crash point. */
  killShare: number;
}

/** Power cuts as a Poisson process per terminal, each at a random moment or crash point. */
export function terminalCrashes(terminals: readonly TerminalSpec[], o: CrashOptions, random: Random): TerminalCrash[] {
  const crashes: TerminalCrash[] = [];
  if (o.perTerminalPerHour <= 0) return crashes;
  const meanGap = HOUR / o.perTerminalPerHour;
  for (const t of terminals) {
    for (let at = o.from + exponential(random, meanGap); at < o.to; at += exponential(random, meanGap)) {
      const mode = random.float() < o.killShare ? 'kill' : pick(random, TERMINAL_CRASH_POINTS);
      crashes.push({ lane: t.label, at: Math.round(at), mode, downMs: between(random, o.downMs) });
    }
  }
  return crashes.sort((a, b) => a.at - b.at);
}

/** `count` server crashes at random times in [from, to) (or at the given instants). */
export function serverCrashes(
  count: number,
  o: { from: number; to: number; downMs: readonly [number, number]; at?: readonly number[] },
  random: Random,
): ServerCrash[] {
  return Array.from({ length: count }, (_, i) => ({
    at: o.at?.[i] ?? between(random, [o.from, o.to - 1]),
    point: pick(random, SERVER_CRASH_POINTS),
    downMs: between(random, o.downMs),
  })).sort((a, b) => a.at - b.at);
}

export function exponential(random: Random, mean: number): number {
  return -Math.log(1 - random.float()) * mean;
}

/** Traffic defaults: a venue selling food and drink by card and cash. */
export function traffic(overrides: Partial<TrafficPlan> & Pick<TrafficPlan, 'sessions'>): TrafficPlan {
  return {
    intensity: () => 1,
    tickMs: MINUTE,
    menu: VENUE_MENU,
    cardShare: 0.65,
    payoutShare: 0,
    safeDropAbove: 40_000,
    miscountShare: 0.1,
    openingFloat: 20_000,
    currency: 'EUR',
    retry: { everyMs: [20 * SECOND, 90 * SECOND], presses: [2, 6], requeryShare: 0.1 },
    ...overrides,
  };
}

/** Parameter value as a share (percent parameters keep the CLI integer-friendly). */
export function percent(value: number): number {
  return value / 100;
}

export interface CardTrafficOptions {
  /** The event the devices are placed at (the scenario's name). */
  event: string;
  terminals: number;
  /** Trading, in which the processor's outages fall. */
  from: number;
  to: number;
  /** Processor outages (each 2–10 minutes) during trading. */
  processorOutages: number;
  /** Share of new authorizations whose answer is lost after the processor committed. */
  lostAnswerRate: number;
  /** Largest offline approval, minor units (the festival's rounds are dearer). */
  floorLimit?: number;
  /** Exposure sampling interval, ms. */
  exposureSampleMs?: number;
  /** Loyalty members earning and burning points (docs/loyalty.md); default none. */
  loyalty?: { members: number; welcomePoints?: number };
  /** Catalog sales with limited stock and price changes (docs/catalog-and-stock.md); default none. */
  catalog?: CatalogPlan;
}

/**
 * Card traffic for a scenario: a policy for the event (floor limit 100.00,
 * a device holds at most 60 payments or 1,500.00 unsettled, a card at most
 * 6 payments or 200.00 per device and 3 in 10 minutes, no offline approval
 * 45 minutes after the last server contact), a crowd of cards (3% blocked,
 * 10% with 25.00 left), terminals refreshing the policy at most every 5
 * minutes, a processor losing some answers after commit with a few outages,
 * and the forwarder running every 30 s. A fifth of the sales are paid by
 * wristband (six per lane, topped up 50.00 in cash when low; floor limit
 * 60% of the cards', per wristband and device at most the card floor limit,
 * 5 payments, 3 in 10 minutes).
 */
export function cardTraffic(random: Random, o: CardTrafficOptions): CardPlan {
  const floorLimit = o.floorLimit ?? 10_000;
  const outages = Array.from({ length: o.processorOutages }, () => {
    const from = between(random, [o.from, Math.max(o.from, o.to - 10 * MINUTE)]);
    return { from, to: from + between(random, [2 * MINUTE, 10 * MINUTE]) };
  }).sort((a, b) => a.from - b.from);
  return {
    merchant: 'holdfast-sim',
    event: o.event,
    policy: {
      floorLimit,
      device: { maxAmount: 15 * floorLimit, maxCount: 60 },
      card: { maxAmount: 2 * floorLimit, maxCount: 6, velocity: { count: 3, windowMs: 10 * MINUTE } },
      maxOfflineMs: 45 * MINUTE,
      lifetimeMs: 7 * DAY,
    },
    pool: { size: Math.max(40, o.terminals * 10), blockedShare: 0.03, lowBalanceShare: 0.1, lowBalance: 2_500 },
    policyRefreshMs: 5 * MINUTE,
    cashFallbackShare: 0.8,
    processor: { latencyMs: [40, 600], lostAnswerRate: o.lostAnswerRate, outages },
    forwarder: { everyMs: 30 * SECOND, batchSize: 200, leaseMs: 2 * MINUTE, timeoutMs: 10 * SECOND },
    exposureSampleMs: o.exposureSampleMs ?? 2 * MINUTE,
    wristbands: {
      floorLimit: Math.round(floorLimit * 0.6),
      instrument: { maxAmount: floorLimit, maxCount: 5, velocity: { count: 3, windowMs: 10 * MINUTE } },
      share: 0.2,
      perLane: 6,
      topUp: 5_000,
    },
    ...(o.loyalty
      ? {
          loyalty: {
            // 1 point per 1.00; up to 100 points offline per sale, more online with the member's code.
            rule: { pointsPerUnit: 1, perMinor: 100, offlineCap: 100 },
            members: o.loyalty.members,
            welcomePoints: o.loyalty.welcomePoints ?? 150,
            scanShare: 0.3,
            lookupShare: 0.2,
            redeemShare: 0.15,
            onlineShare: 0.3,
            mistypeShare: 0.2,
          },
        }
      : {}),
    ...(o.catalog ? { catalog: o.catalog } : {}),
  };
}
