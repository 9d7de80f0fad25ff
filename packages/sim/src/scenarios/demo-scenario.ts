/**
 * The demo: a stadium evening with scripted trouble, run in virtual time.
 *
 * N terminals (real Terminal SDK, real SQLite journals) sell to an embedded
 * server (real HoldfastService on a real SQLite file) through a simulated
 * network. The script, in minutes from the start of trading:
 *
 *    0 ──── 10 ═══════ field zone offline ═══════ 32 ── 36 ░░ lying ░░ 45 heal ──── 60 close ── drain
 *
 *  - a partial partition: the "field" lanes lose the network for 22 minutes
 *    while the "upper" lanes stay online;
 *  - a lying network: for 9 minutes a third of the responses are lost AFTER
 *    the server committed (and a few percent of messages all evening);
 *  - retry-happy clerks: while offline, field clerks press "retry" in bursts;
 *  - card payments: the terminals approve card sales offline under the
 *    event's risk policy (issued and signed by the server, fetched by every
 *    placed terminal); the server's forwarder sends them to the processor
 *    (the processor-sim, in process, losing a tenth of its answers after
 *    committing and down for three minutes); a card sale the policy sends
 *    online is paid cash instead. At the middle of the partition a field
 *    lane sells to a stolen card offline: the processor declines it later,
 *    a post-authorization decline for the operators;
 *  - wristbands: a share of the customers pay with a stored-value wristband
 *    (topped up in cash at the till when it runs low; a wristband payment
 *    the policy refuses offline is paid cash). Before the partition one
 *    wristband is topped up on the first field lane; in the middle of the
 *    partition it is cloned, and the original and the copy are spent on two
 *    field lanes, together beyond its balance. After the heal the server
 *    finds the reused counter and the negative balance (wristband_clone,
 *    wristband_overspend) and blocks the wristband through every feed;
 *  - the offline exposure actually held is sampled every minute against the
 *    bound the policy gives (GET /v1/admin/exposure);
 *  - at minute 60 every clerk closes the shift (one drawer is short), the
 *    network is healed and the queues drain, every offline payment is
 *    settled; then everything recorded on the terminals is reconciled
 *    against the server.
 *
 * Same seed, same report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pick, type Random, randomIntBetween, SeededRandom } from '@holdfast/domain';
import type { SaleLine, Tender } from '@holdfast/protocol';
import { Forwarder, HoldfastService, SqliteStorage } from '@holdfast/server';
import {
  NeedsOnlineError,
  type RecordedOp,
  SimulatedWristband,
  Terminal,
  WristbandRefusedError,
} from '@holdfast/terminal';
import { randomBasket } from '../baskets.js';
import { duplicatesApplied as countDuplicates } from '../check/rules/exactly-once.js';
import { SqliteServerReader } from '../check/sqlite/sqlite-server-reader.js';
import { SimNetwork } from '../sim-network.js';
import { VirtualClock } from '../virtual-clock.js';
import { CardPool, type SimCard } from '../world/card-pool.js';
import { type CardLane, CardTraffic } from '../world/card-traffic.js';
import type { CardPlan } from '../world/world-plan.js';

export interface DemoOptions {
  terminals?: number;
  seed?: number;
  /** Minutes of trading before the shifts close. */
  minutes?: number;
  /** Where journals and the server database go; a temp dir (removed afterwards) by default. */
  dataDir?: string;
  onProgress?: (fraction: number, label: string) => void;
}

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
  stolenCardSale: { lane: string; minute: number; amount: number; last4: string } | null;
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
    spends: { lane: string; minute: number; amount: number }[];
    /** The server's balance for it after the drain (negative: overspent). */
    serverBalance: number | null;
    blockedReason: string | null;
    /** Lanes whose terminal holds the block (from its device feed) at the end. */
    lanesKnowingBlock: number;
  };
}

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

const MIN = 60_000;
const START = Date.UTC(2026, 10, 21, 18, 0, 0);

/** The demo's card plan: generous device caps (a busy lane), a crowd with a few stolen cards. */
function demoCards(script: DemoScript, minute: (m: number) => number): CardPlan {
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
      outages: [{ from: minute(script.processorOutage[0]), to: minute(script.processorOutage[1]) }],
    },
    forwarder: { everyMs: 30_000, batchSize: 200, leaseMs: 2 * MIN, timeoutMs: 10_000 },
    exposureSampleMs: MIN,
  };
}

/** The wristband policy: floor limit 60.00; per wristband on one device 100.00, 5 uses, 3 in 10 minutes. */
const WRISTBAND_LIMITS = {
  floorLimit: 6_000,
  instrument: { maxAmount: 10_000, maxCount: 5, velocity: { count: 3, windowMs: 10 * MIN } },
};
/** Share of the customers who pay with a wristband; wristbands in the crowd; a top-up. */
const WRISTBAND_SHARE = 0.3;
const WRISTBAND_POOL = 60;
const TOP_UP = 5_000;
const CLONED_UID = '04C10E00BAD001';
const CLONE_TOP_UP = 2_000;
const CLONE_LINES: SaleLine[] = [{ sku: 'BEER-05', name: 'Beer 0.5l', qty: 2, unitPrice: 650 }];

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const count = options.terminals ?? 8;
  const seed = options.seed ?? 7;
  const minutes = options.minutes ?? 60;
  const progress = options.onProgress ?? (() => {});
  const ownDir = options.dataDir === undefined;
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'holdfast-demo-'));
  const root = new SeededRandom(seed);
  const clock = new VirtualClock(START - 2 * MIN);

  const storage = new SqliteStorage({ path: join(dir, 'server', 'holdfast.db') });
  await storage.migrate();
  const service = new HoldfastService({ storage, clock, random: root.fork('server') });

  const script = demoScript(minutes);
  const minute = (m: number) => START + Math.round(m * MIN);
  const [partitionFrom, partitionTo] = script.partition.map(minute) as [number, number];
  const [lieFrom, lieTo] = script.lyingNetwork.map(minute) as [number, number];
  const healAt = minute(script.heal);
  const closeAt = minute(script.close);
  const network = new SimNetwork({
    clock,
    random: root.fork('network'),
    service,
    latencyMs: [15, 250],
    faults: (now) =>
      now < START || now >= healAt
        ? { requestLoss: 0, responseLoss: 0 }
        : now >= lieFrom && now < lieTo
          ? { requestLoss: 0.02, responseLoss: script.lyingLossRate }
          : { requestLoss: 0.01, responseLoss: script.backgroundLossRate },
  });
  network.partition(script.partitionedZone, partitionFrom, partitionTo);
  const cards = new CardTraffic(demoCards(script, minute), 'EUR', dir, clock, root.fork('cards'));
  // The operator issues the evening's risk policy before the terminals are set up.
  // The card policy plus wristband limits: wristband payments are approved offline too.
  const draft = cards.policyDraft();
  await service.issuePolicy({
    ...draft,
    offline: { ...draft.offline, tenders: { ...draft.offline.tenders, wristband: WRISTBAND_LIMITS } },
  });
  const forwarder = new Forwarder({
    storage,
    processor: cards.processor.client(),
    clock,
    owner: 'demo-server',
    // Retry jitter and exception ids from the seed: same seed, same run.
    random: root.fork('forwarder'),
    batchSize: cards.plan.forwarder.batchSize,
    leaseMs: cards.plan.forwarder.leaseMs,
    timeoutMs: cards.plan.forwarder.timeoutMs,
    onEvent: (event) => cards.forwardEvent(event, 0),
  });
  // Exposure samples run on the server between events: the clock waits for them.
  let sampling: Promise<void> = Promise.resolve();
  const settle = async () => {
    await network.settle();
    await sampling;
  };

  interface Lane {
    label: string;
    zone: string;
    terminal: Terminal;
    random: Random;
    recordedIds: string[];
    salesTotal: number;
    maxPending: number;
    card: CardLane;
    /** Picks wristband customers (a fork of the lane's random, so baskets keep their stream). */
    wristbandRandom: Random;
  }
  const lanes: Lane[] = [];
  const counters = { retries: 0, manualRetries: 0 };
  const fieldCount = Math.ceil(count / 2);

  try {
    for (let i = 0; i < count; i++) {
      const label = `lane-${String(i + 1).padStart(2, '0')}`;
      const zone = i < fieldCount ? script.partitionedZone : 'upper';
      const random = root.fork(label);
      const terminal = Terminal.open({
        dataDir: join(dir, label),
        transport: network.transport(zone),
        clock,
        random: random.fork('jitter'),
        idRandom: random.fork('ids'),
        requestTimeoutMs: 5_000,
        batchSize: 200,
        idlePingMs: 30_000,
        offlineCardPolicy: 'enforce',
        placement: cards.placement(zone),
        policyRefreshMinIntervalMs: cards.plan.policyRefreshMs,
      });
      const lane: Lane = {
        label,
        zone,
        terminal,
        random,
        recordedIds: [],
        salesTotal: 0,
        maxPending: 0,
        card: { label, zone, deviceId: null, injected: false },
        wristbandRandom: random.fork('wristbands'),
      };
      lanes.push(lane);
      terminal.on('sync', (event) => {
        if (event.kind === 'batch' && event.outcome !== 'ok') counters.retries++;
      });
      // Enrollment happens in the back office before trading; a lost answer is
      // retried with the same token (the SDK reuses the key it stored first).
      const { token } = await service.createEnrollmentToken({ label });
      for (let attempt = 1; !terminal.enrolled; attempt++) {
        const enrolled = terminal.enroll(token, label).then(
          () => null,
          (error: unknown) => error,
        );
        await clock.runUntil(clock.now() + 6_000, settle);
        const error = await enrolled;
        if (error && attempt >= 5) throw error;
      }
      lane.card.deviceId = terminal.deviceId;
      // Placed in the back office; then the terminal fetches its signed policy.
      await cards.place(service, terminal.deviceId as string, zone);
      for (let attempt = 1; terminal.riskPolicy() === null; attempt++) {
        const fetched = terminal.refreshPolicy().then(
          () => null,
          (error: unknown) => error,
        );
        await clock.runUntil(clock.now() + 6_000, settle);
        const error = await fetched;
        if (error && attempt >= 5) throw error;
      }
    }
    const cardLanes = () => lanes.map((l) => l.card);
    const sample = () => {
      sampling = cards.sample(service, storage, cardLanes());
      clock.setTimer(cards.plan.exposureSampleMs, sample);
    };
    clock.setTimer(START - clock.now(), sample);
    const forward = () => {
      forwarder.runOnce().catch(() => undefined);
      clock.setTimer(cards.plan.forwarder.everyMs, forward);
    };
    clock.setTimer(START + cards.plan.forwarder.everyMs - clock.now(), forward);
    let stolenCardSale: DemoCards['stolenCardSale'] = null;
    const minuteNow = () => Math.round(((clock.now() - START) / MIN) * 10) / 10;

    const record = (lane: Lane, op: { id: string }) => {
      lane.recordedIds.push(op.id);
      lane.maxPending = Math.max(lane.maxPending, lane.terminal.status().pending);
    };

    // Wristbands in the crowd (blank until topped up), and the one to be cloned.
    const wristbands = {
      sales: 0,
      salesTotal: 0,
      topUps: 0,
      topUpsTotal: 0,
      refused: {} as Record<string, number>,
    };
    const crowdBands = Array.from(
      { length: WRISTBAND_POOL },
      (_, i) => new SimulatedWristband(`04D3A0${i.toString(16).toUpperCase().padStart(8, '0')}`, 'EUR'),
    );
    const clonedBand = new SimulatedWristband(CLONED_UID, 'EUR');
    const cloneSpends: DemoWristbands['clone']['spends'] = [];
    const refused = (error: unknown): boolean => {
      const code =
        error instanceof WristbandRefusedError ? error.code : error instanceof NeedsOnlineError ? error.rule : null;
      if (code === null) return false;
      wristbands.refused[code] = (wristbands.refused[code] ?? 0) + 1;
      return true;
    };
    const topUp = (lane: Lane, band: SimulatedWristband, amount: number): boolean => {
      try {
        record(lane, lane.terminal.topUpWristband({ reader: band, amount, paid: 'cash' }).op);
        wristbands.topUps++;
        wristbands.topUpsTotal += amount;
        return true;
      } catch (error) {
        if (!refused(error)) throw error;
        return false;
      }
    };
    /** Pays a basket with a wristband; false if refused (nothing recorded, the clerk takes cash). */
    const payByWristband = (
      lane: Lane,
      band: SimulatedWristband,
      lines: SaleLine[],
      total: number,
    ): RecordedOp | null => {
      try {
        const receipt = lane.terminal.payWithWristband({ lines, reader: band });
        wristbands.sales++;
        wristbands.salesTotal += total;
        return receipt.op;
      } catch (error) {
        if (!refused(error)) throw error;
        return null;
      }
    };

    /** Rings up a sale; a card the policy sends online is paid cash (the online card path is not in the demo). */
    const sell = (lane: Lane, card: SimCard | null): RecordedOp => {
      const sale = randomBasket(lane.random);
      lane.salesTotal += sale.total;
      if (card === null && lane.wristbandRandom.float() < WRISTBAND_SHARE) {
        const band = pick(lane.wristbandRandom, crowdBands);
        if (band.image().balance >= sale.total || topUp(lane, band, TOP_UP * Math.ceil(sale.total / TOP_UP))) {
          const op = payByWristband(lane, band, sale.lines, sale.total);
          if (op) return op;
        }
      }
      const paidBy = card ?? (sale.tenders[0]?.type === 'card' ? cards.pool.draw(lane.random) : null);
      if (paidBy) {
        const tenders: Tender[] = [CardPool.tender(paidBy, sale.total)];
        try {
          const op = lane.terminal.recordSale({ lines: sale.lines, tenders });
          cards.approved(lane.card, op.id, 'EUR', tenders);
          if (card) stolenCardSale = { lane: lane.label, minute: minuteNow(), amount: sale.total, last4: card.last4 };
          return op;
        } catch (error) {
          if (!(error instanceof NeedsOnlineError)) throw error;
          cards.needsOnline(error.rule, 'cash');
        }
      }
      const cash: Tender[] = [{ type: 'cash', amount: sale.total, tendered: Math.ceil(sale.total / 500) * 500 }];
      return lane.terminal.recordSale({ lines: sale.lines, tenders: cash });
    };

    // The scripted clone: topped up online on the first field lane, then, cut off, spent
    // there and (a copy of the chip) on the next field lane, together beyond its balance.
    const field = lanes.filter((l) => l.zone === script.partitionedZone);
    const cloneLanes = [field[0] ?? lanes[0], field[1] ?? field[0] ?? lanes[0]] as [Lane, Lane];
    clock.setTimer(minute(script.cloneTopUpAt) - clock.now(), () => {
      if (cloneLanes[0].terminal.currentShift()) topUp(cloneLanes[0], clonedBand, CLONE_TOP_UP);
    });
    clock.setTimer(minute(script.cloneSpendAt) - clock.now(), () => {
      const copy = clonedBand.clone();
      const total = CLONE_LINES.reduce((sum, l) => sum + l.qty * l.unitPrice, 0);
      for (const [lane, band] of [
        [cloneLanes[0], clonedBand],
        [cloneLanes[1], copy],
      ] as const) {
        if (!lane.terminal.currentShift()) continue;
        const op = payByWristband(lane, band, CLONE_LINES, total);
        if (!op) continue;
        lane.salesTotal += total;
        record(lane, op);
        cloneSpends.push({ lane: lane.label, minute: minuteNow(), amount: total });
      }
    });

    for (const lane of lanes) {
      const { terminal, random } = lane;
      clock.setTimer(START - clock.now() + randomIntBetween(random, 0, 60_000), () => {
        record(lane, terminal.openShift({ clerk: `clerk-${lane.label}`, currency: 'EUR', openingFloat: 20_000 }));
      });
      // Sales: exponential inter-arrival times, mean 15 s, until closing time.
      const scheduleSale = (at: number) => {
        if (at >= closeAt) return;
        clock.setTimer(at - clock.now(), () => {
          record(lane, sell(lane, null));
          scheduleSale(clock.now() + Math.max(1_000, Math.round(-Math.log(1 - random.float()) * 15_000)));
        });
      };
      scheduleSale(START + 90_000 + randomIntBetween(random, 0, 15_000));
      // The stolen card, sold offline on the first field lane while it is cut off.
      const stolen = cards.pool.first('blocked');
      if (lane === lanes[0] && stolen) {
        clock.setTimer(minute(script.stolenCardAt) - clock.now(), () => {
          if (terminal.currentShift()) record(lane, sell(lane, stolen));
        });
      }
      // A safe drop every 20 minutes when the drawer holds more than 300.00.
      for (let m = 20; m < minutes; m += 20) {
        clock.setTimer(START + m * MIN + randomIntBetween(random, 0, 30_000) - clock.now(), () => {
          const shift = terminal.currentShift();
          if (!shift) return;
          const inDrawer = shift.openingFloat + shift.cashSales + shift.cashIn - shift.cashOut;
          if (inDrawer > 30_000) {
            record(
              lane,
              terminal.recordCashMovement({ direction: 'out', reason: 'safe_drop', amount: inDrawer - 20_000 }),
            );
          }
        });
      }
      // Retry-happy clerks on offline lanes: bursts of presses every 2 minutes.
      if (lane.zone === script.partitionedZone) {
        for (let t = partitionFrom + MIN; t < partitionTo; t += 2 * MIN) {
          clock.setTimer(t + randomIntBetween(random, 0, 20_000) - clock.now(), () => {
            for (let k = 0; k < 5; k++) {
              counters.manualRetries++;
              void terminal.syncNow().catch(() => {});
            }
          });
        }
      }
      // Closing: count the drawer (lane 3's clerk is 5.00 short), close the shift.
      clock.setTimer(closeAt + randomIntBetween(random, 0, 120_000) - clock.now(), () => {
        const shift = terminal.currentShift();
        if (!shift) return;
        const expected = shift.openingFloat + shift.cashSales + shift.cashIn - shift.cashOut;
        const short = lane.label === 'lane-03' ? 500 : 0;
        record(lane, terminal.closeShift({ countedCash: Math.max(0, expected - short) }));
      });
    }

    // Run the evening, then drain: until every queue is empty (at most 30 more virtual minutes).
    const end = closeAt + 3 * MIN;
    const deadline = end + 30 * MIN;
    let maxQueueDepth = 0;
    let drainedAt: number | null = null;
    let partitionDrainedAt: number | null = null;
    const pendingNow = () => lanes.reduce((sum, l) => sum + l.terminal.status().pending, 0);
    const unsettledNow = () =>
      Number(
        storage.query<{ n: number }>('SELECT COUNT(*) AS n FROM offline_payments WHERE settled_at IS NULL')[0]?.n ?? 0,
      );
    for (let t = clock.now(); t < deadline; t += 10_000) {
      await clock.runUntil(t + 10_000, settle);
      const pending = pendingNow();
      maxQueueDepth = Math.max(maxQueueDepth, pending);
      for (const lane of lanes) lane.maxPending = Math.max(lane.maxPending, lane.terminal.status().pending);
      if (pending === 0 && clock.now() >= partitionTo) partitionDrainedAt ??= clock.now();
      if (pending === 0 && clock.now() >= healAt) drainedAt ??= clock.now();
      progress(
        Math.min(1, Math.max(0, (clock.now() - START) / (end - START))),
        `virtual ${Math.round((clock.now() - START) / MIN)} min, ${pending} pending`,
      );
      if (clock.now() >= end && pending === 0 && unsettledNow() === 0) break;
    }

    // Every terminal reads its device feed once more (as after any sync): the block reaches all of them.
    const polls = lanes.map((lane) => lane.terminal.pollFeed().catch(() => null));
    await clock.runUntil(clock.now() + 10_000, settle);
    await Promise.all(polls);

    // Reconcile terminals against the server.
    const appliedIds = new Set(
      storage.query<{ id: string }>("SELECT id FROM ops WHERE status = 'accepted'").map((r) => r.id),
    );
    const duplicatesApplied = countDuplicates(new SqliteServerReader(storage).readNow());
    const summary = await storage.summary();
    let recorded = 0;
    let lost = 0;
    const perTerminal: TerminalReport[] = lanes.map((lane) => {
      const status = lane.terminal.status();
      recorded += lane.recordedIds.length;
      for (const id of lane.recordedIds) {
        if (!appliedIds.has(id)) lost++;
      }
      return {
        label: lane.label,
        zone: lane.zone,
        recorded: lane.recordedIds.length,
        confirmed: status.confirmed,
        pending: status.pending,
        deadLetters: status.deadLetters,
        maxPending: lane.maxPending,
        salesTotal: lane.salesTotal,
      };
    });
    const eur = summary.sales.find((s) => s.currency === 'EUR');
    const wallets = storage.query<{ n: number; blocked: number }>(
      'SELECT COUNT(*) AS n, COUNT(blocked_reason) AS blocked FROM wallet_accounts',
    )[0];
    const cloned = storage.query<{ balance: number; blocked_reason: string | null }>(
      'SELECT balance, blocked_reason FROM wallet_accounts WHERE wristband = ?',
      CLONED_UID,
    )[0];
    return {
      seed,
      terminals: count,
      recorded,
      applied: appliedIds.size,
      duplicatesApplied,
      lost,
      conflicts: summary.exceptions.conflict ?? 0,
      forks: summary.exceptions.fork ?? 0,
      deadLetters: perTerminal.reduce((s, t) => s + t.deadLetters, 0),
      retries: counters.retries,
      duplicatesAnswered: service.counters.duplicate,
      manualRetries: counters.manualRetries,
      sales: {
        count: eur?.sales ?? 0,
        recordedTotal: lanes.reduce((s, l) => s + l.salesTotal, 0),
        settledTotal: eur?.total ?? 0,
        currency: 'EUR',
      },
      maxQueueDepth,
      partitionDrainSeconds: partitionDrainedAt === null ? null : Math.round((partitionDrainedAt - partitionTo) / 1000),
      drainSeconds: drainedAt === null ? null : Math.round((drainedAt - healAt) / 1000),
      pendingAfterDrain: pendingNow(),
      network: { ...network.stats },
      exceptions: summary.exceptions,
      postAuthDeclines: summary.exceptions.post_auth_decline ?? 0,
      exposureBound: cards.figures.exposure.bound,
      exposureMax: cards.figures.exposure.max,
      overspends: summary.exceptions.wristband_overspend ?? 0,
      wristbands: {
        ...wristbands,
        wallets: Number(wallets?.n ?? 0),
        blocked: Number(wallets?.blocked ?? 0),
        clone: {
          wristband: CLONED_UID,
          toppedUp: CLONE_TOP_UP,
          spends: cloneSpends,
          serverBalance: cloned ? Number(cloned.balance) : null,
          blockedReason: cloned?.blocked_reason ?? null,
          lanesKnowingBlock: lanes.filter((l) => l.terminal.blockedWristbands().some((b) => b.wristband === CLONED_UID))
            .length,
        },
      },
      cards: {
        offline: cards.figures.offlineApproved,
        offlineTotal: cards.figures.offlineApprovedTotal,
        cashFallbacks: cards.figures.cashFallbacks,
        approved: cards.figures.forwarded.approved,
        declined: cards.figures.forwarded.declined,
        recoveredByKey: cards.figures.forwarded.recovered,
        processorAuthorizations: cards.processor.storage.stats().authorizations,
        exposureBreaches: cards.breaches.length,
        stolenCardSale,
      },
      perTerminal,
      virtualMinutes: Math.round((clock.now() - START) / MIN),
      script,
    };
  } finally {
    // close() waits for a request in flight (an idle ping, say), which only a virtual
    // timer (its answer or its timeout) can finish: keep time running until all are closed.
    let closed = false;
    const closing = Promise.all(lanes.map((lane) => lane.terminal.close()));
    const done = () => {
      closed = true;
    };
    void closing.then(done, done);
    while (!closed && clock.nextAt() !== null) await clock.runUntil(clock.now() + 1_000, settle);
    await closing;
    await forwarder.stop();
    await storage.close();
    cards.close();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  }
}
