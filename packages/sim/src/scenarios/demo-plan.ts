/**
 * The demo's evening as a WorldPlan: eight lanes (half of them in the
 * "field" zone), the scripted trouble on the network, and card and
 * wristband traffic through the processor. The times scale with the length
 * of the evening (demoScript).
 */
import { VENUE_MENU } from '../baskets.js';
import { NO_CLOCK_FAULTS } from '../world/drifting-clock.js';
import type { CardPlan, TerminalSpec, WorldPlan } from '../world/world-plan.js';

export const MIN = 60_000;
/** Trading starts at 18:00 UTC on the evening of the event. */
export const DEMO_START = Date.UTC(2026, 10, 21, 18, 0, 0);

/**
 * The trouble, in minutes from the start of trading. For the default 60
 * minutes: the field zone offline 10–32, responses lost 36–45, heal at 45;
 * a shorter or longer evening scales every instant in proportion.
 */
export interface DemoScript {
  partitionedZone: string;
  partition: readonly [number, number];
  lyingNetwork: readonly [number, number];
  /** The processor refuses every request (an acquirer outage). */
  processorOutage: readonly [number, number];
  /** Share of new authorizations whose answer is lost after the processor committed. */
  processorLossRate: number;
  /** A stolen card is sold offline on the first field lane. */
  stolenCardAt: number;
  /** The wristband to be cloned is topped up on the first field lane (online). */
  cloneTopUpAt: number;
  /** It is cloned, and original and copy are spent on two field lanes (offline). */
  cloneSpendAt: number;
  /** Share of responses lost after commit while the network lies. */
  lyingLossRate: number;
  /** Share of responses lost after commit the rest of the evening, until the heal. */
  backgroundLossRate: number;
  heal: number;
  close: number;
}

export function demoScript(minutes: number): DemoScript {
  const at = (m: number) => Math.round((m / 60) * minutes * 10) / 10;
  return {
    partitionedZone: 'field',
    partition: [at(10), at(32)],
    lyingNetwork: [at(36), at(45)],
    processorOutage: [at(50), at(53)],
    processorLossRate: 0.1,
    stolenCardAt: at(21),
    cloneTopUpAt: at(4),
    cloneSpendAt: at(18),
    lyingLossRate: 0.35,
    backgroundLossRate: 0.03,
    heal: at(45),
    close: minutes,
  };
}

/** A minute of the script as a true virtual time. */
export const minuteAt = (m: number): number => DEMO_START + Math.round(m * MIN);

/** The wristband policy: floor limit 60.00; per wristband on one device 100.00, 5 uses, 3 in 10 minutes. */
const WRISTBAND_LIMITS = {
  floorLimit: 6_000,
  instrument: { maxAmount: 10_000, maxCount: 5, velocity: { count: 3, windowMs: 10 * MIN } },
};
/** Share of the customers who pay with a wristband; wristbands in the crowd; a top-up. */
export const WRISTBAND_SHARE = 0.3;
export const WRISTBAND_POOL = 60;
export const TOP_UP = 5_000;

/** The demo's card plan: generous device caps (a busy lane), a crowd with a few stolen cards. */
function demoCards(script: DemoScript): CardPlan {
  return {
    merchant: 'holdfast-demo',
    event: 'stadium-evening',
    policy: {
      floorLimit: 10_000,
      device: { maxAmount: 400_000, maxCount: 300 },
      card: { maxAmount: 20_000, maxCount: 6, velocity: { count: 3, windowMs: 10 * MIN } },
      maxOfflineMs: 45 * MIN,
      lifetimeMs: 24 * 60 * MIN,
    },
    pool: { size: 400, blockedShare: 0.005, lowBalanceShare: 0.01, lowBalance: 2_500 },
    policyRefreshMs: MIN,
    cashFallbackShare: 1,
    processor: {
      latencyMs: [40, 600],
      lostAnswerRate: script.processorLossRate,
      outages: [{ from: minuteAt(script.processorOutage[0]), to: minuteAt(script.processorOutage[1]) }],
    },
    forwarder: { everyMs: 30_000, batchSize: 200, leaseMs: 2 * MIN, timeoutMs: 10_000 },
    exposureSampleMs: MIN,
    // The policy's wristband limits; the demo's clerks (demo-clerk.ts) pick the wristband customers.
    wristbands: { ...WRISTBAND_LIMITS, share: WRISTBAND_SHARE, perLane: WRISTBAND_POOL, topUp: TOP_UP },
    // Season-ticket holders with points: balances large enough that the evening never overdraws one.
    loyalty: {
      rule: { pointsPerUnit: 1, perMinor: 100, offlineCap: 100 },
      members: 40,
      welcomePoints: 5_000,
      scanShare: 0.25,
      lookupShare: 0.2,
      redeemShare: 0.15,
      onlineShare: 0.2,
      mistypeShare: 0.2,
    },
    // A share of the sales ring catalog items: hot dogs in limited stock at each stand, and mid-partition
    // beer goes up and the pretzel promotion ends early, so the field lanes sell at superseded prices.
    catalog: {
      items: [
        { sku: 'BEER-05', name: 'Beer 0.5l', price: 650 },
        { sku: 'HOTDOG', name: 'Hot dog', price: 450 },
        { sku: 'PRETZEL', name: 'Pretzel', price: 350 },
      ],
      promotions: [{ sku: 'PRETZEL', price: 300, until: minuteAt(script.close) + 60 * MIN }],
      changes: [
        { at: minuteAt((script.partition[0] + script.partition[1]) / 2), prices: [{ sku: 'BEER-05', price: 700 }] },
      ],
      stock: { HOTDOG: 30 },
      share: 0.3,
    },
  };
}

/** The evening as a plan for SimWorld: `count` lanes, half in the field, trading for `minutes`. */
export function demoPlan(count: number, script: DemoScript): WorldPlan {
  const fieldCount = Math.ceil(count / 2);
  const terminals: TerminalSpec[] = Array.from({ length: count }, (_, i) => ({
    label: `lane-${String(i + 1).padStart(2, '0')}`,
    zone: i < fieldCount ? script.partitionedZone : 'upper',
    // The demo's clerks sell at their own pace (demo-clerk.ts) and press retry on their own.
    salesPerMinute: 4,
    retryHappy: false,
    clock: NO_CLOCK_FAULTS,
  }));
  const [partitionFrom, partitionTo] = script.partition.map(minuteAt) as [number, number];
  const [lieFrom, lieTo] = script.lyingNetwork.map(minuteAt) as [number, number];
  const healAt = minuteAt(script.heal);
  return {
    start: DEMO_START,
    terminals,
    traffic: {
      sessions: [{ from: DEMO_START, to: minuteAt(script.close) }],
      intensity: () => 1,
      tickMs: MIN,
      menu: VENUE_MENU,
      cardShare: 0.6,
      payoutShare: 0,
      safeDropAbove: 30_000,
      miscountShare: 0,
      openingFloat: 20_000,
      currency: 'EUR',
      retry: { everyMs: [2 * MIN, 2 * MIN], presses: [5, 5], requeryShare: 0 },
    },
    faults: {
      latencyMs: [15, 250],
      partitions: [{ zone: script.partitionedZone, from: partitionFrom, to: partitionTo }],
      rates: (t) =>
        t >= lieFrom && t < lieTo
          ? { requestLoss: 0.02, responseLoss: script.lyingLossRate }
          : { requestLoss: 0.01, responseLoss: script.backgroundLossRate },
      terminalCrashes: [],
      serverCrashes: [],
      restores: [],
      heals: [
        { at: partitionTo, zones: [script.partitionedZone], label: 'partition' },
        { at: healAt, zones: ['*'], label: 'heal' },
      ],
      end: healAt,
    },
    requestTimeoutMs: 5_000,
    batchSize: 200,
    idlePingMs: 30_000,
    probeIntervalMs: 20_000,
    groupBursts: false,
    drainLimitMs: 30 * MIN,
    cards: demoCards(script),
  };
}
