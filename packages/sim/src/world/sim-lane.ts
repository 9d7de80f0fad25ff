/**
 * One simulated till: the real Terminal SDK on a real SQLite journal, whose
 * power can fail at any journal write or at any moment, and which comes
 * back by opening the same directory again.
 *
 *   up ──kill() at a random moment──────────────┐
 *   up ──armed crash point reached by a write───┼──▶ down ──(downMs)──▶ up (generation + 1)
 *   up ──restore from an old disk image─────────┘
 *
 * Each incarnation (generation) has its own transport endpoint: answers to
 * a dead incarnation are dropped by the network, as a dead process would
 * never read them. The lane remembers what the app saw recorded (intents):
 * an op whose record call died in a power cut was NOT seen, even if it
 * reached the disk (record:after-commit), so the checker takes the journal,
 * not the intents, as the truth of what was recorded.
 */
import { cpSync, rmSync } from 'node:fs';
import type { InjectedBugs, SeededRandom } from '@holdfast/domain';
import { type CrashPoint, Journal, Terminal, type TerminalPlacement } from '@holdfast/terminal';
import type { SimNetwork } from '../sim-network.js';
import type { VirtualClock } from '../virtual-clock.js';
import type { CardLane } from './card-traffic.js';
import { DriftingClock } from './drifting-clock.js';
import { writeEmptyJournal } from './empty-databases.js';
import type { OpHistory } from './op-history.js';
import type { TerminalCrash, TerminalSpec, WorldPlan } from './world-plan.js';

/** An op the app saw recorded (record* returned). */
export interface Intent {
  id: string;
  seq: number;
  hash: string;
  kind: string;
  /** True virtual time. */
  at: number;
  /** The money it moves: a sale's total, a movement's amount, a close's count, an opening float. */
  amount: number;
  shift: string;
}

export interface LaneCrash {
  at: number;
  /** `kill` (a random moment) or the crash point where the power failed. */
  how: 'kill' | CrashPoint | 'backup' | 'restore';
  generation: number;
  downMs: number;
  /**
   * The power failed inside a wristband call (top-up or payment): its op may
   * be committed already when a later journal write of the same call (the
   * chip write marked done) is cut, so the app never saw it recorded.
   */
  inWristbandCall?: boolean;
}

/** A device put back to an old image of its disk (an injected fork). */
export interface RestoreRecord {
  backupAt: number;
  restoredAt: number;
  /** The newest seq in the image. */
  backupSeq: number;
  /** Ops the device held at the restore that the image lacked: lost with the device. */
  discarded: { id: string; seq: number; hash: string }[];
}

/** What the world gives a lane. */
export interface LaneHost {
  clock: VirtualClock;
  network: SimNetwork;
  history: OpHistory;
  plan: WorldPlan;
  /** Called after each incarnation opens (subscribe to its events, resync counters). */
  opened(lane: SimLane, terminal: Terminal): void;
  onError(lane: SimLane, error: unknown): void;
  /** With card traffic: where the device is placed; its terminal enforces the offline card policy. */
  placement?(lane: SimLane): TerminalPlacement;
  /** With card traffic: background policy refreshes at most this often, ms. */
  policyRefreshMs?: number;
  /** Deliberate terminal bugs each incarnation runs with. */
  bugs?: InjectedBugs;
}

/** A crash point armed but never reached within this long becomes a plain kill. */
const ARM_WINDOW_MS = 15 * 60_000;

export class SimLane {
  readonly spec: TerminalSpec;
  readonly dir: string;
  readonly random: SeededRandom;
  readonly clerkRandom: SeededRandom;
  readonly clock: DriftingClock;
  readonly intents: Intent[] = [];
  readonly crashes: LaneCrash[] = [];
  readonly restores: RestoreRecord[] = [];
  terminal: Terminal | null = null;
  generation = 0;
  deviceId: string | null = null;
  /** Pending ops, kept by the world from the terminal's events (resynced at every open). */
  pending = 0;
  /** The newest seq this lane recorded (resynced at every open). */
  headSeq = 0;
  maxPending = 0;
  #armed: TerminalCrash | null = null;
  #recovery: { cancel(): void } | null = null;
  #backup: { dir: string; at: number } | null = null;
  readonly #host: LaneHost;

  constructor(spec: TerminalSpec, dir: string, random: SeededRandom, host: LaneHost) {
    this.spec = spec;
    this.dir = dir;
    this.random = random;
    this.clerkRandom = random.fork('clerk');
    this.#host = host;
    this.clock = new DriftingClock(host.clock, spec.clock, host.plan.start);
  }

  get label(): string {
    return this.spec.label;
  }

  get up(): boolean {
    return this.terminal !== null;
  }

  /** The lane as card traffic sees it. */
  get cardLane(): CardLane {
    return { label: this.label, zone: this.spec.zone, deviceId: this.deviceId, injected: this.restores.length > 0 };
  }

  /** Opens the next incarnation on the journal directory. */
  open(): Terminal {
    const plan = this.#host.plan;
    const generation = ++this.generation;
    // The first power-on finds an empty journal on the disk (empty-databases.ts); later ones, what the last one left.
    if (generation === 1) writeEmptyJournal(this.dir);
    const placement = this.#host.placement?.(this);
    const terminal = Terminal.open({
      dataDir: this.dir,
      // Without card traffic (no placement) baskets pay by card with no policy issued: recorded as before the policy existed.
      offlineCardPolicy: 'off',
      transport: this.#host.network.transport(this.spec.zone, {
        client: this.label,
        alive: () => this.generation === generation && this.terminal !== null,
      }),
      clock: this.clock,
      // Each incarnation gets its own streams: a restarted till must not repeat op ids.
      random: this.random.fork(`jitter-${generation}`),
      idRandom: this.random.fork(`ids-${generation}`),
      requestTimeoutMs: plan.requestTimeoutMs,
      batchSize: plan.batchSize,
      idlePingMs: plan.idlePingMs,
      probeIntervalMs: plan.probeIntervalMs,
      journalSync: 'OFF',
      crashHook: (point) => this.#crashHook(point),
      onError: (error) => this.#host.onError(this, error),
      ...(placement ? { offlineCardPolicy: 'enforce' as const, placement } : {}),
      ...(this.#host.policyRefreshMs !== undefined ? { policyRefreshMinIntervalMs: this.#host.policyRefreshMs } : {}),
      ...(this.#host.bugs ? { bugs: this.#host.bugs } : {}),
      ...(plan.betting ? { betting: { voidWindowMinutes: plan.betting.voidWindowMinutes } } : {}),
    });
    this.terminal = terminal;
    this.deviceId = terminal.deviceId;
    this.#host.opened(this, terminal);
    return terminal;
  }

  /** Arms a power cut: at once (`kill`) or at the next write reaching a crash point. */
  arm(crash: TerminalCrash): void {
    if (!this.terminal) return;
    if (crash.mode === 'kill') {
      this.#powerOff('kill', crash.downMs);
      return;
    }
    this.#armed = crash;
    this.#host.clock.setTimer(ARM_WINDOW_MS, () => {
      if (this.#armed === crash) {
        this.#armed = null;
        this.#powerOff('kill', crash.downMs);
      }
    });
  }

  /** Faults are over: a crash point armed but not reached will not cut the power any more. */
  disarm(): void {
    this.#armed = null;
  }

  /** Images the device's disk (powering it off for `downMs` while the technician works). */
  backup(downMs: number): void {
    this.#powerOff('backup', downMs);
    const dir = `${this.dir}.backup`;
    rmSync(dir, { recursive: true, force: true });
    cpSync(this.dir, dir, { recursive: true });
    this.#backup = { dir, at: this.#host.clock.now() };
  }

  /** Puts the image back: everything the device recorded since is gone from it. */
  restore(downMs: number): void {
    const backup = this.#backup;
    if (!backup) return;
    this.#powerOff('restore', downMs);
    const backupSeq = readJournal(backup.dir, (j) => j.head.seq);
    const discarded = readJournal(this.dir, (j) => {
      const out: RestoreRecord['discarded'] = [];
      for (let after = backupSeq; ; ) {
        const page = j.ops(after, 1000);
        const last = page.at(-1);
        if (!last) return out;
        for (const e of page) out.push({ id: e.id, seq: e.seq, hash: e.hash });
        after = last.seq;
      }
    });
    rmSync(this.dir, { recursive: true, force: true });
    cpSync(backup.dir, this.dir, { recursive: true });
    this.restores.push({ backupAt: backup.at, restoredAt: this.#host.clock.now(), backupSeq, discarded });
    this.#host.history.laneEvent(
      this.label,
      this.#host.clock.now(),
      `restored from the disk image of ${new Date(backup.at).toISOString()}: seqs above ${backupSeq} (${discarded.length} ops) are gone from the device`,
    );
  }

  #crashHook(point: CrashPoint): boolean {
    const armed = this.#armed;
    if (!armed || armed.mode !== point) return false;
    this.#armed = null;
    this.#down(point, armed.downMs);
    return true;
  }

  /** Cuts the power now (if it is on) and schedules it back after `downMs`. */
  #powerOff(how: LaneCrash['how'], downMs: number): void {
    const terminal = this.terminal;
    if (terminal) {
      terminal.kill();
      this.#down(how, downMs);
    } else if (how === 'restore') {
      // Already down: come back on the restored image when the power returns as planned.
      this.#host.history.laneEvent(this.label, this.#host.clock.now(), 'restored while powered off');
    }
  }

  #down(how: LaneCrash['how'], downMs: number): void {
    const at = this.#host.clock.now();
    this.crashes.push({ at, how, generation: this.generation, downMs });
    this.terminal = null;
    this.#armed = null;
    const what =
      how === 'kill'
        ? 'power cut at a random moment'
        : how === 'backup' || how === 'restore'
          ? `powered off for a disk ${how}`
          : `power cut at journal write ${how}`;
    this.#host.history.laneEvent(
      this.label,
      at,
      `${what} (generation ${this.generation}); back in ${Math.round(downMs / 1000)} s`,
    );
    this.#recovery?.cancel();
    this.#recovery = this.#host.clock.setTimer(downMs, () => {
      this.#recovery = null;
      const terminal = this.open();
      const status = terminal.status();
      this.#host.history.laneEvent(
        this.label,
        this.#host.clock.now(),
        `power back: journal reopened (generation ${this.generation}), ${status.latestSeq} ops, ${status.pending} pending`,
      );
    });
  }
}

function readJournal<T>(dir: string, fn: (journal: Journal) => T): T {
  const journal = Journal.open(dir, { synchronous: 'OFF' });
  try {
    return fn(journal);
  } finally {
    journal.close();
  }
}
