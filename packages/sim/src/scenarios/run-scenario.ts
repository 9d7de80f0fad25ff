/**
 * Runs one scenario with one seed: builds the plan, plays the world, drains,
 * checks every invariant, and reports the key figures. The same (scenario,
 * size, overrides, seed) replays the same result (apart from wall time).
 */
import { type InjectableBug, injectedBugs, SeededRandom } from '@holdfast/domain';
import { checkTruth } from '../check/check-truth.js';
import { duplicatesApplied } from '../check/rules/exactly-once.js';
import type { Violation } from '../check/violation.js';
import type { FaultStats, NetworkStats, ServerLoad } from '../sim-network.js';
import type { BettingFigures } from '../world/betting-desk.js';
import type { CardFigures } from '../world/card-traffic.js';
import type { CorrectionFigures } from '../world/correction-traffic.js';
import type { HealFigures } from '../world/drain-tracker.js';
import { explain } from '../world/explain.js';
import type { LoyaltyFigures } from '../world/loyalty-traffic.js';
import type { ProcessorFigures } from '../world/sim-processor.js';
import { SimWorld, type StorageMode } from '../world/sim-world.js';
import { worldTruth } from '../world/world-truth.js';
import { findScenario, pickRandomVariant } from './registry.js';
import { type Params, resolveParams, type ScenarioDefinition } from './scenario.js';

export interface RunOptions {
  /** 'default' (the seeds' numbers) or 'small' (same shape, CI-sized). */
  size?: 'default' | 'small';
  overrides?: Params;
  storage?: StorageMode;
  onProgress?: (fraction: number, label: string) => void;
  /** How many violations get a full explanation (default 10). */
  explain?: number;
  /**
   * Deliberate bugs to switch on for this run (a process started with
   * HOLDFAST_INJECT_BUGS=1 only): proof that the checker catches them.
   */
  bugs?: readonly InjectableBug[];
}

export interface ScenarioFigures {
  terminals: number;
  virtualHours: number;
  /** Ops recorded on the terminals (journals, plus ops a restore took away). */
  ops: number;
  sales: { count: number; total: number; currency: string };
  /** Batch attempts whose outcome was unknown or that the server asked to retry. */
  retries: number;
  manualRetries: number;
  requeries: number;
  maxQueueDepth: number;
  maxLaneQueueDepth: number;
  /** Worst heal → backlog drained, virtual seconds (null: never drained). */
  drainSeconds: number | null;
  /** End of faults → every queue empty, virtual seconds. */
  finalDrainSeconds: number | null;
  /** The heal with the most terminals: how spread their first successful batches were. */
  reconnectSpreadSeconds: number | null;
  heals: HealFigures[];
  peakServerLoad: ServerLoad;
  crashes: { terminal: number; terminalBy: Record<string, number>; server: number; serverBy: Record<string, number> };
  /** Results the server returned as duplicates: retries made harmless. */
  duplicatesAnswered: number;
  network: NetworkStats & FaultStats;
  clock: { maxDriftMs: number; maxEstimateErrorMs: number };
  exceptions: Record<string, number>;
  deadLetters: number;
  /** Card traffic through the processor (null: the plan has none). */
  cards: CardRunFigures | null;
  injected: { lane: string; restoredAt: number; backupSeq: number; discarded: number; forks: number }[];
  /** Betting traffic as the counters saw it (null: the plan has none); what happened is in the server's tables. */
  betting: BettingFigures | null;
  /** Sale voids and refunds the counters attempted (world/correction-traffic.ts). */
  corrections: CorrectionFigures | null;
  /** Loyalty traffic (world/loyalty-traffic.ts): scans, points earned, redemptions offline and online. */
  loyalty: LoyaltyFigures | null;
}

export interface CardRunFigures extends CardFigures {
  processor: ProcessorFigures;
  /** Forwarding rounds started (and failed, e.g. cut by a server crash). */
  rounds: number;
  roundsFailed: number;
  postAuthDeclines: number;
}

export interface ScenarioResult {
  scenario: string;
  /** For `random`: the scenario it picked. */
  variant: string;
  seed: number;
  size: 'default' | 'small';
  params: Record<string, number>;
  ok: boolean;
  violations: (Violation & { explanation?: string })[];
  recorded: number;
  applied: number;
  duplicatesApplied: number;
  lost: number;
  drainSeconds: number | null;
  figures: ScenarioFigures;
  replay: string;
  wallSeconds: number;
}

/** The command that replays a run. */
export function replayCommand(
  name: string,
  seed: number,
  size: 'default' | 'small',
  overrides: Params = {},
  bugs: readonly InjectableBug[] = [],
): string {
  const set = Object.entries(overrides).map(([k, v]) => `${k}=${v}`);
  return [
    ...(bugs.length > 0 ? ['HOLDFAST_INJECT_BUGS=1'] : []),
    `holdfast simulate --scenario ${name} --seed ${seed}`,
    ...(size === 'small' && name !== 'random' ? ['--small'] : []),
    ...(set.length > 0 ? [`--set ${set.join(',')}`] : []),
    ...bugs.map((b) => `--inject-bug ${b}`),
  ].join(' ');
}

export async function runScenario(name: string, seed: number, options: RunOptions = {}): Promise<ScenarioResult> {
  const started = performance.now();
  const size = options.size ?? 'default';
  const overrides = options.overrides ?? {};
  let scenario: ScenarioDefinition;
  let params: Record<string, number>;
  if (name === 'random') {
    ({ scenario, params } = pickRandomVariant(seed));
  } else {
    scenario = findScenario(name);
    params = resolveParams(scenario, size, overrides);
  }
  const bugs = options.bugs ?? [];
  const replay = replayCommand(
    name,
    seed,
    name === 'random' ? 'small' : size,
    name === 'random' ? {} : overrides,
    bugs,
  );
  const plan = scenario.build(params, new SeededRandom(seed).fork(`plan:${scenario.name}`));
  const world = new SimWorld({
    scenario: name,
    seed,
    plan,
    ...(options.storage ? { storage: options.storage } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(bugs.length > 0 ? { bugs: injectedBugs(bugs) } : {}),
  });
  try {
    await world.run();
    const truth = worldTruth(world);
    const violations: ScenarioResult['violations'] = checkTruth(truth);
    violations.push(...(scenario.expect?.(world, params) ?? []));
    const shown = options.explain ?? 10;
    violations.forEach((v, i) => {
      if (i < shown) v.explanation = explain(world, v, replay);
    });
    const figures = await collectFigures(world);
    return {
      scenario: name,
      variant: scenario.name,
      seed,
      size: name === 'random' ? 'small' : size,
      params,
      ok: violations.length === 0,
      violations,
      recorded: figures.ops,
      applied: truth.server.ops.filter((o) => o.status === 'accepted').length,
      duplicatesApplied: duplicatesApplied(truth.server),
      lost: violations.filter((v) => v.rule === 'lost' || v.rule === 'recorded-durable').length,
      drainSeconds: figures.drainSeconds,
      figures,
      replay,
      wallSeconds: Math.round((performance.now() - started) / 10) / 100,
    };
  } finally {
    await world.close();
  }
}

async function collectFigures(world: SimWorld): Promise<ScenarioFigures> {
  const summary = await world.server.summary();
  const sales = summary.sales[0];
  const heals = world.drains.map((d) => d.figures);
  const drains = heals.map((h) => h.drainSeconds);
  const biggest = heals.reduce<HealFigures | null>((a, h) => (a === null || h.lanes > a.lanes ? h : a), null);
  const tally = (keys: string[]) => {
    const out: Record<string, number> = {};
    for (const k of keys) out[k] = (out[k] ?? 0) + 1;
    return out;
  };
  const laneCrashes = world.lanes.flatMap((l) => l.crashes);
  let maxDriftMs = 0;
  let maxEstimateErrorMs = 0;
  const storage = world.server.storage;
  for (const lane of world.lanes) {
    maxDriftMs = Math.max(maxDriftMs, Math.abs(lane.clock.offsetAt(world.clock.now())));
    const delivery = lane.deviceId ? world.history.lastDelivery.get(lane.deviceId) : undefined;
    const [row] = storage.query<{ o: number | null }>('SELECT clock_offset_ms AS o FROM devices WHERE id = ?', [
      lane.deviceId,
    ]);
    if (delivery && row?.o != null) {
      maxEstimateErrorMs = Math.max(maxEstimateErrorMs, Math.abs(row.o + lane.clock.offsetAt(delivery.trueSentAt)));
    }
  }
  let ops = 0;
  let deadLetters = 0;
  for (const lane of world.lanes) {
    const status = lane.terminal?.status();
    ops += (status?.latestSeq ?? lane.headSeq) + lane.restores.reduce((s, r) => s + r.discarded.length, 0);
    deadLetters += status?.deadLetters ?? 0;
  }
  return {
    terminals: world.lanes.length,
    virtualHours: Math.round((world.clock.now() - world.plan.start) / 36_000) / 100,
    ops,
    sales: {
      count: sales?.sales ?? 0,
      total: sales?.total ?? 0,
      currency: sales?.currency ?? world.plan.traffic.currency,
    },
    retries: world.counters.retries,
    manualRetries: world.counters.manualRetries,
    requeries: world.counters.requeries,
    maxQueueDepth: world.maxQueueDepth,
    maxLaneQueueDepth: world.maxLaneQueueDepth,
    drainSeconds: drains.some((d) => d === null) ? null : Math.max(0, ...(drains as number[])),
    finalDrainSeconds: world.drainedAt === null ? null : Math.round((world.drainedAt - world.tradingEndedAt) / 1000),
    reconnectSpreadSeconds: biggest?.reconnectSpreadSeconds ?? null,
    heals,
    peakServerLoad: { ...world.network.load },
    crashes: {
      terminal: laneCrashes.length,
      terminalBy: tally(laneCrashes.map((c) => c.how)),
      server: world.server.crashes.length,
      serverBy: tally(world.server.crashes.map((c) => c.point)),
    },
    duplicatesAnswered: world.server.counters.duplicate,
    network: { ...world.network.stats, ...world.network.faultStats },
    clock: { maxDriftMs, maxEstimateErrorMs },
    exceptions: summary.exceptions,
    deadLetters,
    cards: world.cards
      ? {
          ...structuredClone(world.cards.figures),
          processor: { ...world.cards.processor.figures },
          rounds: world.server.rounds.started,
          roundsFailed: world.server.rounds.failed,
          postAuthDeclines: summary.exceptions.post_auth_decline ?? 0,
        }
      : null,
    betting: world.betting ? structuredClone(world.betting.figures) : null,
    corrections: world.corrections ? structuredClone(world.corrections.figures) : null,
    loyalty: world.loyalty ? structuredClone(world.loyalty.figures) : null,
    injected: world.lanes.flatMap((lane) =>
      lane.restores.map((r) => ({
        lane: lane.label,
        restoredAt: r.restoredAt,
        backupSeq: r.backupSeq,
        discarded: r.discarded.length,
        forks: Number(
          storage.query<{ n: number }>("SELECT COUNT(*) AS n FROM exceptions WHERE device = ? AND type = 'fork'", [
            lane.deviceId,
          ])[0]?.n ?? 0,
        ),
      })),
    ),
  };
}
