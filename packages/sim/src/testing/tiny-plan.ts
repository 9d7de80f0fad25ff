/**
 * A small world plan for tests: a few tills in two zones selling for a
 * quarter of an hour with no faults, to which a test adds exactly the
 * faults it is about.
 */
import { VENUE_MENU } from '../baskets.js';
import type { FaultRates } from '../sim-network.js';
import type { FaultPlan, TerminalSpec, TrafficPlan, WorldPlan } from '../world/world-plan.js';

export const TINY_START = Date.UTC(2026, 5, 1, 12, 0, 0);
const MINUTE = 60_000;

export interface TinyPlanOptions {
  terminals?: number;
  minutes?: number;
  salesPerMinute?: number;
  retryHappy?: boolean;
  terminal?: (index: number) => Partial<TerminalSpec>;
  traffic?: Partial<TrafficPlan>;
  faults?: Partial<Omit<FaultPlan, 'rates'>> & { rates?: FaultRates | ((t: number) => FaultRates) };
  plan?: Partial<Omit<WorldPlan, 'traffic' | 'faults' | 'terminals'>>;
}

export function tinyPlan(o: TinyPlanOptions = {}): WorldPlan {
  const minutes = o.minutes ?? 15;
  const end = TINY_START + minutes * MINUTE;
  const terminals: TerminalSpec[] = Array.from({ length: o.terminals ?? 3 }, (_, i) => ({
    label: `till-${i + 1}`,
    zone: i % 2 === 0 ? 'north' : 'south',
    salesPerMinute: o.salesPerMinute ?? 2,
    retryHappy: o.retryHappy ?? false,
    clock: { driftPpm: 0, jumps: [] },
    ...o.terminal?.(i),
  }));
  const rates = o.faults?.rates ?? { requestLoss: 0, responseLoss: 0 };
  return {
    start: TINY_START,
    terminals,
    traffic: {
      sessions: [{ from: TINY_START, to: end }],
      intensity: () => 1,
      tickMs: MINUTE,
      menu: VENUE_MENU,
      cardShare: 0.5,
      payoutShare: 0,
      safeDropAbove: 30_000,
      miscountShare: 0,
      openingFloat: 20_000,
      currency: 'EUR',
      retry: { everyMs: [10_000, 30_000], presses: [2, 4], requeryShare: 0.2 },
      ...o.traffic,
    },
    faults: {
      latencyMs: [20, 200],
      partitions: [],
      terminalCrashes: [],
      serverCrashes: [],
      restores: [],
      heals: [],
      end,
      ...o.faults,
      rates: typeof rates === 'function' ? rates : () => rates,
    },
    requestTimeoutMs: 5_000,
    batchSize: 100,
    idlePingMs: 30_000,
    probeIntervalMs: 20_000,
    groupBursts: true,
    drainLimitMs: 30 * MINUTE,
    ...o.plan,
  };
}
