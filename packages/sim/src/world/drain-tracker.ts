/**
 * How long the backlog of an outage takes to drain after the heal: at the
 * heal, each affected terminal's newest seq is the target; the terminal is
 * drained once the op at that seq is settled (confirmed or dead-lettered).
 * Settling goes in seq order (a batch is the lowest pending run and the
 * server applies strictly in order), so that op settled means everything
 * recorded before the heal is settled. Also when each terminal with a
 * backlog first heard an answer to a batch after the heal (seen on the
 * network, so a power cut while settling it does not hide it): the spread of
 * those instants shows whether jitter kept the fleet from returning as one
 * wave.
 */
import type { Terminal } from '@holdfast/terminal';
import type { SimLane } from './sim-lane.js';
import type { Heal } from './world-plan.js';

export interface HealFigures {
  label: string;
  at: number;
  lanes: number;
  /** Ops pending on those lanes at the heal. */
  backlog: number;
  /** Virtual seconds until the last of them drained (null: not within the run). */
  drainSeconds: number | null;
  /** Seconds between the first and the last backlogged terminal's first successful batch after the heal. */
  reconnectSpreadSeconds: number | null;
}

export class DrainTracker {
  readonly heal: Heal;
  readonly #waiting = new Map<SimLane, number>();
  readonly #firstOk = new Map<SimLane, number>();
  readonly #lanes: ReadonlySet<SimLane>;
  /** Lanes with ops pending at the heal: the ones that reconnect to drain. */
  readonly #backlogged = new Set<SimLane>();
  readonly #backlog: number;
  #doneAt: number | null = null;

  constructor(heal: Heal, lanes: readonly SimLane[], now: number) {
    this.heal = heal;
    this.#lanes = new Set(lanes);
    let backlog = 0;
    for (const lane of lanes) {
      backlog += lane.pending;
      if (lane.headSeq === 0 || lane.pending === 0) continue;
      this.#backlogged.add(lane);
      if (lane.terminal && settledAt(lane.terminal, lane.headSeq)) continue;
      this.#waiting.set(lane, lane.headSeq);
    }
    this.#backlog = backlog;
    if (this.#waiting.size === 0) this.#doneAt = now;
  }

  /** True once every terminal's backlog drained and each backlogged one got a batch through. */
  get done(): boolean {
    return this.#doneAt !== null && this.#firstOk.size >= this.#backlogged.size;
  }

  /** An op of `lane` was settled. */
  settled(lane: SimLane, seq: number, now: number): void {
    const target = this.#waiting.get(lane);
    if (target === undefined || seq < target) return;
    this.#waiting.delete(lane);
    if (this.#waiting.size === 0) this.#doneAt ??= now;
  }

  /** A terminal came back: ask its journal whether the target op is settled. */
  reopened(lane: SimLane, terminal: Terminal, now: number): void {
    const target = this.#waiting.get(lane);
    if (target === undefined) return;
    if (settledAt(terminal, target)) this.settled(lane, target, now);
  }

  /** An answer to a batch of `lane` reached it at true time `at`. */
  answered(lane: SimLane, at: number): void {
    if (at >= this.heal.at && this.#backlogged.has(lane) && !this.#firstOk.has(lane)) this.#firstOk.set(lane, at);
  }

  get figures(): HealFigures {
    const firsts = [...this.#firstOk.values()];
    return {
      label: this.heal.label,
      at: this.heal.at,
      lanes: this.#lanes.size,
      backlog: this.#backlog,
      drainSeconds: this.#doneAt === null ? null : Math.round((this.#doneAt - this.heal.at) / 100) / 10,
      reconnectSpreadSeconds:
        firsts.length < 2 ? null : Math.round((Math.max(...firsts) - Math.min(...firsts)) / 100) / 10,
    };
  }
}

/** Whether the op at `seq` is settled in the terminal's journal. */
function settledAt(terminal: Terminal, seq: number): boolean {
  const op = terminal.ops({ afterSeq: seq - 1, limit: 1 })[0];
  return op !== undefined && op.seq === seq && op.state !== 'pending';
}
