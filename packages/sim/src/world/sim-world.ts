/**
 * SimWorld: one deterministic run of a fleet against a server in a hostile
 * world — the real Terminal SDK (SQLite journals) and the real
 * HoldfastService (SQLite file) in one process, on a virtual clock and
 * seeded randoms, through a SimNetwork, executing a WorldPlan:
 *
 *   back office set up an hour before trading; enroll (ENROLL_LEAD_MS before, no faults)
 *     → trading: clerks sell; partitions, lost and late messages, power
 *       cuts, server crashes, clock drift, restores — as planned
 *     → faults end → drain until every queue is empty (bounded)
 *     → the invariant checker reads the truth from disk (see invariants.ts)
 *
 * Nothing in here reads real time or Math.random: one (plan, seed) is one
 * run, event for event.
 */
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InjectedBugs, SeededRandom } from '@holdfast/domain';
import type { HoldfastService } from '@holdfast/server';
import type { RecordedOp, Terminal } from '@holdfast/terminal';
import { type FaultRates, type NetEvent, SimNetwork } from '../sim-network.js';
import { VirtualClock } from '../virtual-clock.js';
import { BettingDesk } from './betting-desk.js';
import { type CardLane, CardTraffic } from './card-traffic.js';
import { CatalogTraffic } from './catalog-traffic.js';
import { Clerk, type ClerkHost } from './clerk.js';
import { CorrectionTraffic } from './correction-traffic.js';
import { DrainTracker } from './drain-tracker.js';
import { LoyaltyTraffic } from './loyalty-traffic.js';
import { OpHistory } from './op-history.js';
import { type LaneHost, SimLane } from './sim-lane.js';
import { SimServer } from './sim-server.js';
import { SIM_STAFF, type WorldPlan } from './world-plan.js';
import type { Actor, WorldScript } from './world-script.js';

export type StorageMode = 'disk' | 'memory';

export interface SimWorldOptions {
  scenario: string;
  seed: number;
  plan: WorldPlan;
  /** 'disk' (default): a temp dir; 'memory': tmpfs (/dev/shm) when there is one. Both are real SQLite files. */
  storage?: StorageMode;
  /** Keep the data here instead of a temp dir (not removed by close()). */
  dataDir?: string;
  onProgress?: (fraction: number, label: string) => void;
  /** Sees every network event too (tests, tracing). */
  onNetEvent?: (event: NetEvent) => void;
  /** Deliberate bugs the world's terminals, server and forwarder run with (the invariant checker must catch them). */
  bugs?: InjectedBugs;
  /** Scripted actors and events (the demo), run with the plan. */
  script?: WorldScript;
}

export interface WorldCounters {
  /** Batch attempts that failed (unknown outcome or retryable error) and were retried. */
  retries: number;
  manualRetries: number;
  requeries: number;
}

/**
 * The back office sets up (policy, staff, catalog, betting limits) an hour
 * before trading: a till whose clock runs up to an hour behind still stamps
 * its first ops after its clerk was added.
 */
const SETUP_LEAD_MS = 3_600_000;
/**
 * The fleet is switched on and enrolled this long before trading (no
 * faults). Enrollment takes a few virtual seconds even for 400 terminals;
 * the rest of the lead is idle pings and the feed polls after them (every
 * 30 s a lane in most scenarios): enrolling with the back office, an hour
 * before, made ~85 % of a small seed's feed polls (docs/performance.md,
 * "Simulator"). Five minutes keeps a few idle rounds before the first sale.
 */
export const ENROLL_LEAD_MS = 5 * 60_000;
/** Bets are taken and winners paid until this long before the last session ends (the shifts close then). */
const BETS_CLOSE_MS = 10 * 60_000;
const NO_FAULTS: FaultRates = Object.freeze({ requestLoss: 0, responseLoss: 0 });

export class SimWorld {
  readonly scenario: string;
  readonly seed: number;
  readonly plan: WorldPlan;
  readonly script: WorldScript;
  readonly clock: VirtualClock;
  readonly dir: string;
  readonly history = new OpHistory();
  readonly network: SimNetwork;
  readonly server: SimServer;
  readonly lanes: SimLane[] = [];
  readonly counters: WorldCounters = { retries: 0, manualRetries: 0, requeries: 0 };
  /** Unexpected errors from the SDK or the clerks: each one is a violation. */
  readonly errors: { lane: string; at: number; error: unknown }[] = [];
  readonly drains: DrainTracker[] = [];
  /** Card traffic through the processor (null when the plan has none). */
  readonly cards: CardTraffic | null;
  /** Loyalty members earning and burning points (null when the plan has none). */
  readonly loyalty: LoyaltyTraffic | null;
  /** Catalog sales with limited stock and price changes (null when the plan has none). */
  readonly catalog: CatalogTraffic | null;
  /** Betting traffic: tickets, results, voids, payouts (null when the plan has none). */
  readonly betting: BettingDesk | null;
  /** Sale voids and refunds (null when the plan has none or no staff to approve them). */
  readonly corrections: CorrectionTraffic | null;
  /** Each closed shift's blind count minus what its till expected (the clerk's deliberate miscount; 0: honest). */
  readonly counts = new Map<string, number>();
  /** The most ops pending across the fleet at once, and on one terminal. */
  maxQueueDepth = 0;
  maxLaneQueueDepth = 0;
  /** When every queue was empty after the faults ended (null: never, within the limit). */
  drainedAt: number | null = null;
  /** When trading and faults were both over. */
  tradingEndedAt = 0;
  readonly #root: SeededRandom;
  readonly #ownDir: boolean;
  readonly #clerks: Actor[] = [];
  readonly #progress: (fraction: number, label: string) => void;
  #queued = 0;
  readonly #laneByLabel = new Map<string, SimLane>();
  /** Drain trackers still waiting for something (the event hooks only visit these). */
  #openDrains: DrainTracker[] = [];
  /** Server-side work started by a timer that must finish before the next one (exposure samples). */
  readonly #background = new Set<Promise<void>>();

  constructor(options: SimWorldOptions) {
    this.scenario = options.scenario;
    this.seed = options.seed;
    this.plan = options.plan;
    this.script = options.script ?? {};
    this.#progress = options.onProgress ?? (() => {});
    this.#root = new SeededRandom(options.seed);
    this.clock = new VirtualClock(options.plan.start - SETUP_LEAD_MS);
    this.#ownDir = options.dataDir === undefined;
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true });
      this.dir = options.dataDir;
    } else {
      this.dir = mkdtempSync(join(baseDir(options.storage ?? 'disk'), 'holdfast-sim-'));
    }
    const cardPlan = options.plan.cards;
    const cards = cardPlan
      ? new CardTraffic(cardPlan, options.plan.traffic.currency, this.dir, this.clock, this.#root.fork('cards'))
      : null;
    this.cards = cards;
    this.loyalty = cardPlan?.loyalty ? new LoyaltyTraffic(cardPlan.loyalty, this.#root.fork('loyalty')) : null;
    // Price lists reach a till by its placement's location, so catalog traffic needs the card plan's placements.
    this.catalog =
      cardPlan?.catalog !== undefined
        ? new CatalogTraffic(
            cardPlan.catalog,
            options.plan.terminals.map((t) => ({ label: t.label, zone: t.zone })),
            options.plan.traffic.currency,
            this.#root.fork('catalog'),
          )
        : null;
    this.server = new SimServer(
      join(this.dir, 'server', 'holdfast.db'),
      this.clock,
      this.#root.fork('server'),
      this.history,
      cards && cardPlan
        ? {
            processor: cards.processor,
            options: cardPlan.forwarder,
            onEvent: (event, incarnation) => cards.forwardEvent(event, incarnation),
          }
        : null,
      options.bugs,
    );
    const faults = options.plan.faults;
    this.network = new SimNetwork({
      clock: this.clock,
      random: this.#root.fork('network'),
      server: () => this.server.service,
      latencyMs: faults.latencyMs,
      faults: (t) => (t < options.plan.start || t >= faults.end ? NO_FAULTS : faults.rates(t)),
      ...(faults.capacity ? { capacity: faults.capacity } : {}),
      onEvent: (event) => {
        this.history.onNetEvent(event);
        if (event.route === 'batch' && event.type === 'response-delivered') this.#reconnected(event.client, event.at);
        options.onNetEvent?.(event);
      },
    });
    for (const p of faults.partitions) {
      this.network.partition(p.zone, Math.max(p.from, options.plan.start), Math.min(p.to, faults.end));
    }
    const laneHost: LaneHost = {
      clock: this.clock,
      network: this.network,
      history: this.history,
      plan: this.plan,
      opened: (lane, terminal) => this.#opened(lane, terminal),
      onError: (lane, error) => this.errors.push({ lane: lane.label, at: this.clock.now(), error }),
      ...(options.bugs ? { bugs: options.bugs } : {}),
      ...(cards
        ? {
            placement: (lane: SimLane) => cards.placement(lane.spec.zone),
            policyRefreshMs: cards.plan.policyRefreshMs,
          }
        : {}),
    };
    for (const spec of options.plan.terminals) {
      const lane = new SimLane(spec, join(this.dir, spec.label), this.#root.fork(spec.label), laneHost);
      this.lanes.push(lane);
      this.#laneByLabel.set(spec.label, lane);
    }
    const betting = options.plan.betting;
    this.betting = betting
      ? new BettingDesk(betting, {
          clock: this.clock,
          random: this.#root.fork('betting'),
          currency: options.plan.traffic.currency,
          staffed: cards !== null && options.plan.staff === true,
          lanes: this.lanes,
          until: Math.max(...options.plan.traffic.sessions.map((s) => s.to), options.plan.start) - BETS_CLOSE_MS,
          service: () => this.server.service,
          storage: () => (this.server.up ? this.server.storage : null),
          recorded: (lane, op, amount, shift) => this.#recorded(lane, op, amount, shift),
          track: (work) => this.#track(work),
          onError: (lane, error) => this.errors.push({ lane: lane?.label ?? 'betting', at: this.clock.now(), error }),
        })
      : null;
    const corrections = options.plan.corrections;
    this.corrections =
      corrections && cards !== null && options.plan.staff === true
        ? new CorrectionTraffic(
            corrections,
            {
              clock: this.clock,
              lanes: this.lanes,
              until: Math.max(...options.plan.traffic.sessions.map((s) => s.to), options.plan.start) - BETS_CLOSE_MS,
              recorded: (lane, op, amount, shift) => this.#recorded(lane, op, amount, shift),
              onError: (lane, error) => this.errors.push({ lane: lane.label, at: this.clock.now(), error }),
            },
            this.#root.fork('corrections'),
          )
        : null;
  }

  /** Sum of pending ops over the fleet, as the terminals' events tell it. */
  get queued(): number {
    return this.#queued;
  }

  lane(label: string): SimLane | undefined {
    return this.#laneByLabel.get(label);
  }

  /** Runs virtual time to `until`, letting the work of each event finish before the next. */
  runUntil(until: number): Promise<void> {
    return this.clock.runUntil(until, () => this.#settle());
  }

  /** Enrolls the fleet, plays the plan, then drains. */
  async run(): Promise<void> {
    await this.server.start();
    await this.#enroll();
    this.#schedule();
    const plan = this.plan;
    const lastSession = Math.max(...plan.traffic.sessions.map((s) => s.to), plan.start);
    this.tradingEndedAt = Math.max(lastSession, plan.faults.end);
    const span = this.tradingEndedAt - plan.start;
    const step = Math.max(60_000, Math.round(span / 200));
    for (let t = plan.start; t < this.tradingEndedAt; ) {
      t = Math.min(this.tradingEndedAt, t + step);
      await this.runUntil(t);
      this.#progress(
        ((t - plan.start) / span) * 0.95,
        `virtual ${formatSpan(t - plan.start)}, ${this.#queued} pending`,
      );
    }
    const deadline = this.tradingEndedAt + plan.drainLimitMs;
    while (this.clock.now() < deadline) {
      if (this.#drained()) {
        this.drainedAt = this.clock.now();
        break;
      }
      await this.runUntil(this.clock.now() + 5_000);
    }
    this.#progress(
      1,
      `drained ${this.drainedAt === null ? 'NOT ' : ''}at virtual ${formatSpan(this.clock.now() - plan.start)}`,
    );
  }

  /** Closes every terminal (time keeps running for requests in flight) and the server; removes a temp dir. */
  async close(): Promise<void> {
    let closed = false;
    const closing = Promise.all(this.lanes.map((lane) => lane.terminal?.close())).finally(() => {
      closed = true;
    });
    for (let i = 0; !closed && i < 10_000 && this.clock.nextAt() !== null; i++) {
      await this.runUntil(this.clock.now() + 1_000);
    }
    await closing.catch(() => undefined);
    await this.server.close();
    this.cards?.close();
    if (this.#ownDir) rmSync(this.dir, { recursive: true, force: true });
  }

  async #settle(): Promise<void> {
    await this.network.settle();
    const restart = this.server.restarting;
    if (restart) {
      await restart;
      await this.network.settle();
    }
    while (this.#background.size > 0) await Promise.all(this.#background);
  }

  /** Runs `work` as part of the current event: the world waits for it before the next timer. */
  #track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => {
        this.errors.push({ lane: 'server', at: this.clock.now(), error });
      })
      .finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
  }

  /** The lanes as the card traffic sees them. */
  cardLanes(): CardLane[] {
    return this.lanes.map((l) => ({
      label: l.label,
      zone: l.spec.zone,
      deviceId: l.deviceId,
      injected: l.restores.length > 0 || this.plan.faults.restores.some((r) => r.lane === l.label),
    }));
  }

  async #enroll(): Promise<void> {
    const service = this.server.service;
    if (!service) throw new Error('the server is not up');
    const cards = this.cards;
    // The operator issues the event's risk policy before the devices are set up.
    if (cards) await cards.issuePolicy(service);
    // The loyalty members are enrolled in the back office, each with a welcome balance.
    if (this.loyalty) await this.loyalty.enroll(service);
    // The catalog and each zone's first price list, before the tills are set up.
    if (this.catalog) await this.catalog.setUp(service, this.plan.start);
    // The operator sets the betting limits and the void window before the shops open.
    if (this.betting) await this.betting.configure(service);
    const staffed = cards !== undefined && this.plan.staff === true;
    if (staffed) await this.#addStaff(service);
    // Nothing runs between the back office and the fleet switched on: no timers to fire on the way.
    await this.runUntil(this.plan.start - ENROLL_LEAD_MS);
    const enrolling = this.lanes.map(async (lane) => {
      const terminal = lane.open();
      const { token } = await service.createEnrollmentToken({ label: lane.label });
      for (let attempt = 1; !terminal.enrolled; attempt++) {
        try {
          await terminal.enroll(token, lane.label);
        } catch (error) {
          if (attempt >= 5) throw error;
        }
      }
      lane.deviceId = terminal.deviceId;
      if (cards && lane.deviceId) {
        // Placed in the back office, then the till fetches its signed policy.
        await cards.place(service, lane.deviceId, lane.spec.zone);
        for (let attempt = 1; terminal.riskPolicy() === null; attempt++) {
          try {
            await terminal.refreshPolicy();
          } catch (error) {
            if (attempt >= 5) throw error;
          }
        }
        // The zone's roster comes with the device feed.
        for (
          let attempt = 1;
          (staffed && terminal.staffRoster() === null) ||
          (this.catalog !== null && terminal.catalog.priceList() === null);
          attempt++
        ) {
          try {
            await terminal.pollFeed();
          } catch (error) {
            if (attempt >= 5) throw error;
          }
        }
      }
    });
    let done = false;
    const all = Promise.all(enrolling).finally(() => {
      done = true;
    });
    while (!done && this.clock.now() < this.plan.start) await this.runUntil(this.clock.now() + 1_000);
    await all;
    await this.runUntil(this.plan.start);
    this.network.resetLoad();
  }

  /** Each lane's clerk and each zone's supervisor, on the roster of the zone's location (SIM_STAFF). */
  async #addStaff(service: HoldfastService): Promise<void> {
    const zones = new Set<string>();
    for (const lane of this.lanes) {
      zones.add(lane.spec.zone);
      const id = SIM_STAFF.clerk(lane.label);
      await service.staff.add(
        { location: lane.spec.zone, id, name: id, role: 'clerk', pin: SIM_STAFF.clerkPin },
        'sim',
      );
    }
    for (const zone of zones) {
      const id = SIM_STAFF.supervisor(zone);
      await service.staff.add(
        { location: zone, id, name: id, role: 'supervisor', pin: SIM_STAFF.supervisorPin },
        'sim',
      );
    }
  }

  #schedule(): void {
    const { clock, plan } = this;
    const at = (t: number, fn: () => void) => clock.setTimer(t - clock.now(), fn);
    for (const crash of plan.faults.terminalCrashes) {
      const lane = this.lane(crash.lane);
      if (lane && crash.at < plan.faults.end) at(crash.at, () => lane.arm(crash));
    }
    for (const crash of plan.faults.serverCrashes) {
      if (crash.at < plan.faults.end) at(crash.at, () => this.server.arm(crash));
    }
    for (const restore of plan.faults.restores) {
      const lane = this.lane(restore.lane);
      if (!lane) continue;
      at(restore.backupAt, () => lane.backup(60_000));
      at(restore.restoreAt, () => lane.restore(60_000));
    }
    at(plan.faults.end, () => {
      for (const lane of this.lanes) lane.disarm();
      this.server.disarm();
    });
    for (const heal of plan.faults.heals) {
      at(heal.at, () => {
        const lanes = this.lanes.filter((l) => heal.zones.includes('*') || heal.zones.includes(l.spec.zone));
        const tracker = new DrainTracker(heal, lanes, clock.now());
        this.drains.push(tracker);
        this.#openDrains = [...this.#openDrains.filter((d) => !d.done), tracker];
      });
    }
    const host: ClerkHost = {
      clock,
      plan,
      counters: this.counters,
      recorded: (lane, op, amount, shift) => this.#recorded(lane, op, amount, shift),
      onError: (lane, error) => this.errors.push({ lane: lane.label, at: clock.now(), error }),
      ...(this.cards ? { cards: this.cards } : {}),
      ...(this.betting ? { betting: this.betting } : {}),
      ...(this.catalog ? { catalog: this.catalog } : {}),
      ...(this.corrections ? { corrections: this.corrections } : {}),
      ...(this.loyalty
        ? {
            loyaltyScans: {
              traffic: this.loyalty,
              host: {
                service: () => this.server.service,
                recorded: (lane, op, amount, shift) => this.#recorded(lane, op, amount, shift),
                onError: (lane, error) => this.errors.push({ lane: lane.label, at: clock.now(), error }),
              },
            },
          }
        : {}),
      counted: (shift, off) => this.counts.set(shift, off),
    };
    this.betting?.start();
    const cards = this.cards;
    if (cards) {
      const { forwarder, exposureSampleMs } = cards.plan;
      const forward = () => {
        this.server.forward();
        clock.setTimer(forwarder.everyMs, forward);
      };
      at(plan.start + forwarder.everyMs, forward);
      const sample = () => {
        const service = this.server.service;
        if (service) this.#track(cards.sample(service, this.server.storage, this.cardLanes()));
        clock.setTimer(exposureSampleMs, sample);
      };
      at(plan.start, sample);
    }
    const catalog = this.catalog;
    if (catalog) {
      // Each price change is published at its time (a second later while the server is down).
      const publish = (index: number) => {
        const service = this.server.service;
        if (!service) {
          clock.setTimer(1_000, () => publish(index));
          return;
        }
        this.#track(catalog.change(service, index));
      };
      catalog.plan.changes.forEach((change, index) => {
        at(change.at, () => publish(index));
      });
    }
    for (const event of this.script.events ?? []) {
      at(event.at, () => {
        this.history.serverEvent(clock.now(), `scripted: ${event.what}`);
        try {
          event.run(this);
        } catch (error) {
          this.errors.push({ lane: 'script', at: clock.now(), error });
        }
      });
    }
    for (const lane of this.lanes) {
      const clerk = this.script.actor?.(lane, host) ?? new Clerk(lane, host);
      this.#clerks.push(clerk);
      clerk.start();
    }
  }

  /** The app saw `op` recorded on `lane` (clerks and scripted events report it). */
  recorded(lane: SimLane, op: RecordedOp, amount: number, shift: string): void {
    this.#recorded(lane, op, amount, shift);
  }

  #recorded(lane: SimLane, op: RecordedOp, amount: number, shift: string): void {
    lane.intents.push({ id: op.id, seq: op.seq, hash: op.hash, kind: op.kind, at: this.clock.now(), amount, shift });
  }

  #opened(lane: SimLane, terminal: Terminal): void {
    const status = terminal.status();
    this.#pendingDelta(lane, status.pending - lane.pending);
    lane.headSeq = status.latestSeq;
    terminal.on('recorded', (op) => {
      lane.headSeq = op.seq;
      this.#pendingDelta(lane, 1);
      // Tickets and payouts are recorded by the SDK once the server approved them (the app hears it by event).
      if (op.kind === 'ticket.issued' || op.kind === 'ticket.paid') this.#recorded(lane, op, 0, '');
    });
    const settled = (seq: number) => {
      this.#pendingDelta(lane, -1);
      for (const drain of this.#openDrains) drain.settled(lane, seq, this.clock.now());
    };
    terminal.on('confirmed', (op) => settled(op.seq));
    terminal.on('dead-letter', (letter) => settled(letter.seq));
    terminal.on('sync', (event) => {
      if (event.kind !== 'batch') return;
      if (event.outcome === 'unknown' || event.outcome === 'retryable') this.counters.retries++;
      if (event.requeued > 0) {
        this.#pendingDelta(lane, event.requeued);
        this.history.laneEvent(
          lane.label,
          this.clock.now(),
          `the server lacked ${event.requeued} confirmed ops: re-queued`,
        );
      }
    });
    for (const drain of this.#openDrains) drain.reopened(lane, terminal, this.clock.now());
  }

  /** A batch answer reached a terminal: it is back in touch with the server. */
  #reconnected(label: string, at: number): void {
    if (this.#openDrains.length === 0) return;
    const lane = this.#laneByLabel.get(label);
    if (lane) for (const drain of this.#openDrains) drain.answered(lane, at);
  }

  #pendingDelta(lane: SimLane, delta: number): void {
    if (delta === 0) return;
    lane.pending += delta;
    if (lane.pending > lane.maxPending) lane.maxPending = lane.pending;
    this.#queued += delta;
    if (lane.pending > this.maxLaneQueueDepth) this.maxLaneQueueDepth = lane.pending;
    if (this.#queued > this.maxQueueDepth) this.maxQueueDepth = this.#queued;
  }

  /** Every lane up with nothing pending (or blocked by an injected fork), every shift closed, the server up, nothing on the wire, every offline payment settled. */
  #drained(): boolean {
    if (!this.server.up || this.network.busy) return false;
    if (this.cards && this.server.unsettledPayments() > 0) return false;
    if (!this.#clerks.every((c) => c.done)) return false;
    for (const lane of this.lanes) {
      const terminal = lane.terminal;
      if (!terminal || terminal.syncState === 'sending') return false;
      const status = terminal.status();
      // A restored device's chain is blocked behind its forks until an operator acts: that is its end state.
      if (status.pending > 0 && !(lane.restores.length > 0 && status.blocked)) return false;
    }
    return true;
  }
}

/** A temp directory; under tmpfs for 'memory' when the machine has one. */
function baseDir(mode: StorageMode): string {
  if (mode === 'memory') {
    try {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    } catch {
      return tmpdir();
    }
  }
  return tmpdir();
}

export function formatSpan(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const d = Math.floor(h / 24);
  if (d > 0) return `${d}d ${h % 24}h ${String(minutes % 60).padStart(2, '0')}m`;
  if (h > 0) return `${h}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${minutes}m`;
}
