/**
 * The demo's report: what the evening recorded and settled, the trouble it
 * went through, the card payments and wristbands, and every violation of
 * the simulator's invariants (none, on a good day). Built from the world
 * after the drain and from the truth the checker read.
 */
import { checkTruth } from '../check/check-truth.js';
import { duplicatesApplied } from '../check/rules/exactly-once.js';
import { billsRegisteredTwice } from '../check/rules/fiscal.js';
import type { Truth } from '../check/truth.js';
import type { Violation } from '../check/violation.js';
import type { SimNetwork } from '../sim-network.js';
import type { LoyaltyFigures } from '../world/loyalty-traffic.js';
import type { SimWorld } from '../world/sim-world.js';
import { worldTruth } from '../world/world-truth.js';
import { CLONE_TOP_UP, CLONED_UID, type CloneSpend, type DemoEvening, type StolenCardSale } from './demo-evening.js';
import type { DemoInvoices } from './demo-fiscal.js';
import { DEMO_START, type DemoScript, MIN } from './demo-plan.js';

export interface TerminalReport {
  label: string;
  zone: string;
  recorded: number;
  confirmed: number;
  pending: number;
  deadLetters: number;
  maxPending: number;
  salesTotal: number;
}

export interface DemoReport {
  seed: number;
  terminals: number;
  /** Ops recorded on terminals. */
  recorded: number;
  /** Distinct ops applied on the server. */
  applied: number;
  /** Ledger effects beyond one per op: must be 0. */
  duplicatesApplied: number;
  /** Recorded on a terminal, never applied on the server: must be 0. */
  lost: number;
  conflicts: number;
  forks: number;
  deadLetters: number;
  /** Sync attempts that failed (timeout, lost message, partition) and were retried. */
  retries: number;
  /** Duplicate results the server returned (each one a retry made harmless). */
  duplicatesAnswered: number;
  /** Clerk presses of "retry". */
  manualRetries: number;
  sales: { count: number; recordedTotal: number; settledTotal: number; currency: string };
  maxQueueDepth: number;
  /** Virtual seconds from the end of the partition until every queue was first empty. */
  partitionDrainSeconds: number | null;
  /** Virtual seconds from the final heal until every queue was first empty. */
  drainSeconds: number | null;
  pendingAfterDrain: number;
  network: SimNetwork['stats'];
  exceptions: Record<string, number>;
  /** Card payments approved offline and declined by the processor when forwarded (each one an exception). */
  postAuthDeclines: number;
  /** The worst-case offline exposure the policy allows the fleet (Σ over placements of worstAmount), minor units. */
  exposureBound: number;
  /** The most the fleet really held approved offline and unsettled at any sampling tick, minor units. */
  exposureMax: number;
  /** `wristband_overspend` exceptions: wristbands spent beyond their balance (the scripted clone). */
  overspends: number;
  cards: DemoCards;
  wristbands: DemoWristbands;
  perTerminal: TerminalReport[];
  virtualMinutes: number;
  /** When the trouble happened, in minutes from the start of trading. */
  script: DemoScript;
  /** Every invariant of the simulator, checked after the drain: must be empty. */
  violations: Violation[];
  /** Bills registered with the simulated tax authority after the evening (demo-fiscal.ts). */
  invoicesIssued: number;
  /** Bills the authority registered more than once: must be 0. */
  invoicesTwice: number;
  /** Oversell episodes the server flagged (`stock_shortfall`, one per episode; docs/catalog-and-stock.md). */
  stockShortfalls: number;
  /** Sales honoured at a superseded price (`stale_price`, one per sale). */
  stalePriceSales: number;
  /** Loyalty traffic of the evening: scans, points earned, redemptions offline and online (with a code). */
  loyalty: LoyaltyFigures | null;
  /** No loyalty rule broken (points-conserved, -once, -overdrawn-flagged, -online-confirmed): must be true. */
  pointsConserved: boolean;
}

export interface DemoCards {
  /** Card sales approved offline by the terminals (sum in `offlineTotal`). */
  offline: number;
  offlineTotal: number;
  /** Card sales the policy sent online, paid cash instead. */
  cashFallbacks: number;
  /** What the forwarder settled with the processor. */
  approved: number;
  declined: number;
  /** Answers lost after the processor committed, found again by idempotency key. */
  recoveredByKey: number;
  /** Authorizations the processor holds (one per offline payment). */
  processorAuthorizations: number;
  /** Sampling ticks at which an actual exposure was above its bound: must be 0. */
  exposureBreaches: number;
  /** The stolen card's sale, approved offline during the partition (null if the policy refused it). */
  stolenCardSale: StolenCardSale | null;
}

export interface DemoWristbands {
  /** Sales paid by a wristband (sum in `salesTotal`). */
  sales: number;
  salesTotal: number;
  /** Cash top-ups at the tills (sum in `topUpsTotal`). */
  topUps: number;
  topUpsTotal: number;
  /** Wristband payments refused before recording (by code or policy rule), paid cash instead. */
  refused: Record<string, number>;
  /** Wallet accounts on the server, and how many are blocked. */
  wallets: number;
  blocked: number;
  /** The scripted clone: its uid, its balance before the partition, the two offline spends. */
  clone: {
    wristband: string;
    toppedUp: number;
    spends: CloneSpend[];
    /** The server's balance for it after the drain (negative: overspent). */
    serverBalance: number | null;
    blockedReason: string | null;
    /** Lanes whose terminal holds the block (from its device feed) at the end. */
    lanesKnowingBlock: number;
  };
}

/** Reads the truth of the drained world, checks every invariant, and reports the evening. */
export async function demoReport(
  world: SimWorld,
  evening: DemoEvening,
  script: DemoScript,
  invoices: DemoInvoices | null = null,
): Promise<DemoReport> {
  // With the authority's records, fiscal-once and fiscal-order judge the evening's bills too.
  const truth: Truth = { ...worldTruth(world), ...(invoices ? { fiscal: invoices.records } : {}) };
  const violations = checkTruth(truth);
  const summary = await world.server.summary();
  const cards = world.cards;
  if (!cards) throw new Error('the demo runs with card traffic');
  const applied = new Set(truth.server.ops.filter((o) => o.status === 'accepted').map((o) => o.id));
  let recorded = 0;
  let lost = 0;
  const perTerminal: TerminalReport[] = world.lanes.map((lane) => {
    const status = lane.terminal?.status();
    recorded += lane.intents.length;
    for (const intent of lane.intents) if (!applied.has(intent.id)) lost++;
    return {
      label: lane.label,
      zone: lane.spec.zone,
      recorded: lane.intents.length,
      confirmed: status?.confirmed ?? 0,
      pending: status?.pending ?? lane.pending,
      deadLetters: status?.deadLetters ?? 0,
      maxPending: lane.maxPending,
      salesTotal: evening.salesTotal.get(lane.label) ?? 0,
    };
  });
  const eur = summary.sales.find((s) => s.currency === 'EUR');
  /** Whole seconds from a heal until its backlog drained (null: it never did). */
  const drain = (label: string) => {
    const seconds = world.drains.find((d) => d.heal.label === label)?.figures.drainSeconds ?? null;
    return seconds === null ? null : Math.round(seconds);
  };
  return {
    seed: world.seed,
    terminals: world.lanes.length,
    recorded,
    applied: applied.size,
    duplicatesApplied: duplicatesApplied(truth.server),
    lost,
    conflicts: summary.exceptions.conflict ?? 0,
    forks: summary.exceptions.fork ?? 0,
    deadLetters: perTerminal.reduce((s, t) => s + t.deadLetters, 0),
    retries: world.counters.retries,
    duplicatesAnswered: world.server.counters.duplicate,
    manualRetries: world.counters.manualRetries,
    sales: {
      count: eur?.sales ?? 0,
      recordedTotal: perTerminal.reduce((s, t) => s + t.salesTotal, 0),
      settledTotal: eur?.total ?? 0,
      currency: 'EUR',
    },
    maxQueueDepth: world.maxQueueDepth,
    partitionDrainSeconds: drain('partition'),
    drainSeconds: drain('heal'),
    pendingAfterDrain: perTerminal.reduce((s, t) => s + t.pending, 0),
    network: { ...world.network.stats },
    exceptions: summary.exceptions,
    postAuthDeclines: summary.exceptions.post_auth_decline ?? 0,
    exposureBound: cards.figures.exposure.bound,
    exposureMax: cards.figures.exposure.max,
    overspends: summary.exceptions.wristband_overspend ?? 0,
    wristbands: wristbandReport(world, truth, evening),
    cards: {
      offline: cards.figures.offlineApproved,
      offlineTotal: cards.figures.offlineApprovedTotal,
      cashFallbacks: cards.figures.cashFallbacks,
      approved: cards.figures.forwarded.approved,
      declined: cards.figures.forwarded.declined,
      recoveredByKey: cards.figures.forwarded.recovered,
      processorAuthorizations: cards.processor.storage.stats().authorizations,
      exposureBreaches: cards.breaches.length,
      stolenCardSale: evening.stolenCardSale,
    },
    perTerminal,
    virtualMinutes: Math.round((world.clock.now() - DEMO_START) / MIN),
    script,
    violations,
    invoicesIssued: invoices?.issued ?? 0,
    invoicesTwice: billsRegisteredTwice(truth),
    stockShortfalls: truth.server.exceptions.filter((x) => x.type === 'stock_shortfall').length,
    stalePriceSales: truth.server.exceptions.filter((x) => x.type === 'stale_price').length,
    loyalty: world.loyalty ? structuredClone(world.loyalty.figures) : null,
    pointsConserved: !violations.some((v) => v.rule.startsWith('points-')),
  };
}

function wristbandReport(world: SimWorld, truth: Truth, evening: DemoEvening): DemoWristbands {
  const figures = world.cards?.figures.wristbands ?? {
    sales: 0,
    salesTotal: 0,
    topUps: 0,
    topUpsTotal: 0,
    refused: {},
  };
  const wallets = truth.server.walletAccounts;
  const cloned = wallets.find((w) => w.wristband === CLONED_UID);
  return {
    sales: figures.sales,
    salesTotal: figures.salesTotal,
    topUps: figures.topUps,
    topUpsTotal: figures.topUpsTotal,
    refused: { ...figures.refused },
    wallets: wallets.length,
    blocked: wallets.filter((w) => w.blockedReason !== null).length,
    clone: {
      wristband: CLONED_UID,
      toppedUp: CLONE_TOP_UP,
      spends: evening.cloneSpends,
      serverBalance: cloned ? cloned.balance : null,
      blockedReason: cloned?.blockedReason ?? null,
      lanesKnowingBlock: world.lanes.filter((l) =>
        l.terminal?.blockedWristbands().some((b) => b.wristband === CLONED_UID),
      ).length,
    },
  };
}
