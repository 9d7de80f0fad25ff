/**
 * The simulated server process: the real HoldfastService on a real SQLite
 * file, which can die in the middle of a batch and be started again on what
 * is on disk.
 *
 *   up ──(armed crash point reached by a batch)──▶ down ──(downMs)──▶ up again
 *                                                   (new SqliteStorage + service
 *                                                    on the same file)
 *
 * SQLite runs with synchronous=OFF: a simulated crash is a process death
 * (the connection is dropped), which OFF survives; only an OS crash would
 * need FULL, and the terminal journals are the ones that model power loss.
 */
import { type InjectedBugs, NO_INJECTED_BUGS, type SeededRandom } from '@holdfast/domain';
import {
  type ForwardEvent,
  Forwarder,
  HoldfastService,
  type IngestCounters,
  SqliteStorage,
  type StoreSummary,
} from '@holdfast/server';
import type { ServerCrashPoint } from '@holdfast/server/testing';
import type { VirtualClock } from '../virtual-clock.js';
import { writeEmptyServerDatabase } from './empty-databases.js';
import type { OpHistory } from './op-history.js';
import type { SimProcessor } from './sim-processor.js';
import type { CardPlan, ServerCrash } from './world-plan.js';

/** The forwarding worker of the server process, if the world has card traffic. */
export interface ServerForwarding {
  processor: SimProcessor;
  options: CardPlan['forwarder'];
  onEvent(event: ForwardEvent, incarnation: number): void;
}

export interface ServerCrashRecord {
  at: number;
  point: ServerCrashPoint;
  downMs: number;
}

export class SimServer {
  readonly path: string;
  readonly crashes: ServerCrashRecord[] = [];
  #service: HoldfastService | null = null;
  #storage: SqliteStorage | null = null;
  #incarnation = 0;
  #armed: ServerCrash | null = null;
  #restarting: Promise<void> | null = null;
  readonly #clock: VirtualClock;
  readonly #random: SeededRandom;
  readonly #history: OpHistory;
  readonly #totals: IngestCounters = { batches: 0, accepted: 0, duplicate: 0, conflict: 0, fork: 0, rejected: 0 };
  readonly #forwarding: ServerForwarding | null;
  /** Deliberate server bugs every incarnation runs with. */
  readonly #bugs: InjectedBugs;
  #forwarder: Forwarder | null = null;
  /** Forwarding rounds started (with something unsettled to claim) and how many failed. */
  readonly rounds = { started: 0, failed: 0 };
  /** Rounds that failed for another reason than the process dying under them (each one a violation). */
  readonly roundErrors: { at: number; error: unknown }[] = [];

  constructor(
    path: string,
    clock: VirtualClock,
    random: SeededRandom,
    history: OpHistory,
    forwarding: ServerForwarding | null = null,
    bugs: InjectedBugs = NO_INJECTED_BUGS,
  ) {
    this.path = path;
    this.#clock = clock;
    this.#random = random;
    this.#history = history;
    this.#forwarding = forwarding;
    this.#bugs = bugs;
  }

  /**
   * Starts a forwarding round in this process if it is up and none is
   * running (the real Forwarder against the processor; its waits are
   * virtual timers, so the world does not await it). A round cut by a
   * server crash fails on the dead connection: that is the crash.
   */
  forward(): void {
    const forwarder = this.#forwarder;
    // A round with nothing unsettled claims nothing and does nothing: skip it (a cheap indexed probe).
    if (!forwarder || !this.#anyUnsettled()) return;
    const incarnation = this.#incarnation;
    this.rounds.started++;
    forwarder.runOnce().catch((error: unknown) => {
      this.rounds.failed++;
      if (this.#incarnation === incarnation && this.#service) this.roundErrors.push({ at: this.#clock.now(), error });
    });
  }

  #anyUnsettled(): boolean {
    const storage = this.#storage;
    if (!storage) return false;
    const [row] = storage.query<{ any: number }>(
      'SELECT EXISTS (SELECT 1 FROM offline_payments WHERE settled_at IS NULL) AS any',
    );
    return row?.any === 1;
  }

  /** Offline payments not yet settled (0 while the server is down: nothing to say). */
  unsettledPayments(): number {
    if (!this.#storage) return 0;
    return Number(
      this.#storage.query<{ n: number }>('SELECT COUNT(*) AS n FROM offline_payments WHERE settled_at IS NULL')[0]?.n ??
        0,
    );
  }

  /** The running service, or null while the server is down. */
  get service(): HoldfastService | null {
    return this.#service;
  }

  /** The storage of the running server (for the checker, after the run). */
  get storage(): SqliteStorage {
    if (!this.#storage) throw new Error('the server is down');
    return this.#storage;
  }

  get up(): boolean {
    return this.#service !== null;
  }

  /** Ingest counters summed over every incarnation. */
  get counters(): IngestCounters {
    const now = this.#service?.counters;
    const sum = { ...this.#totals };
    if (now) for (const key of Object.keys(sum) as (keyof IngestCounters)[]) sum[key] += now[key];
    return sum;
  }

  async start(): Promise<void> {
    // The first start migrates a copy of an empty database (empty-databases.ts); a restart opens what is on disk.
    if (this.#incarnation === 0) await writeEmptyServerDatabase(this.path);
    const storage = new SqliteStorage({
      path: this.path,
      synchronous: 'OFF',
      crashHook: (point) => this.#crashHook(point),
      bugs: this.#bugs,
    });
    await storage.migrate();
    this.#storage = storage;
    const incarnation = this.#incarnation++;
    this.#service = new HoldfastService({
      storage,
      clock: this.#clock,
      random: this.#random.fork(`incarnation-${incarnation}`),
      bugs: this.#bugs,
    });
    const f = this.#forwarding;
    this.#forwarder = f
      ? new Forwarder({
          storage,
          processor: f.processor.client(),
          clock: this.#clock,
          owner: `sim-server-${incarnation}`,
          // Retry jitter and exception ids from the seed: same seed, same run.
          random: this.#random.fork(`forwarder-${incarnation}`),
          batchSize: f.options.batchSize,
          leaseMs: f.options.leaseMs,
          timeoutMs: f.options.timeoutMs,
          onEvent: (event) => f.onEvent(event, incarnation),
          bugs: this.#bugs,
        })
      : null;
  }

  /** From `crash.at` on, the next batch that reaches `crash.point` kills the server. */
  arm(crash: ServerCrash): void {
    if (this.#service) this.#armed = crash;
  }

  /** Faults are over: an armed crash that no batch reached will not happen. */
  disarm(): void {
    this.#armed = null;
  }

  /** A restart in progress (the world waits for it between events). */
  get restarting(): Promise<void> | null {
    return this.#restarting;
  }

  async summary(): Promise<StoreSummary> {
    return this.storage.summary();
  }

  async close(): Promise<void> {
    await this.#restarting;
    this.#forwarder = null;
    await this.#storage?.close();
    this.#service = null;
  }

  #crashHook(point: ServerCrashPoint): boolean {
    const armed = this.#armed;
    if (!armed || armed.point !== point) return false;
    this.#armed = null;
    const at = this.#clock.now();
    this.crashes.push({ at, point, downMs: armed.downMs });
    this.#history.serverEvent(at, `crashed at ${point}; down for ${Math.round(armed.downMs / 1000)} s`);
    if (this.#service) {
      for (const key of Object.keys(this.#totals) as (keyof IngestCounters)[]) {
        this.#totals[key] += this.#service.counters[key];
      }
    }
    // The storage drops its own connection when it throws; the process is gone.
    this.#service = null;
    this.#storage = null;
    this.#forwarder = null;
    this.#clock.setTimer(armed.downMs, () => {
      this.#restarting = this.start().then(() => {
        this.#restarting = null;
        this.#history.serverEvent(this.#clock.now(), 'restarted on the same database file');
      });
    });
    return true;
  }
}
