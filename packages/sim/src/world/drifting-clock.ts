/**
 * A device's clock: the true (virtual) time plus a drift that grows
 * steadily (parts per million since `origin`) and scheduled jumps (an NTP
 * correction, a wrong time zone, a dead RTC battery). `now()` is what the
 * terminal believes; timers run in true virtual time, as a quartz oscillator
 * that runs slow still counts real seconds for a timeout.
 */
import type { Clock, TimerHandle } from '@holdfast/domain';
import type { VirtualClock } from '../virtual-clock.js';

export interface ClockJump {
  /** True virtual time of the jump. */
  at: number;
  /** How far the device clock jumps (negative: backwards), ms. */
  byMs: number;
}

export interface ClockFaults {
  /** Drift in parts per million: +100 gains 8.6 s a day. */
  driftPpm: number;
  jumps: readonly ClockJump[];
}

export const NO_CLOCK_FAULTS: ClockFaults = Object.freeze({ driftPpm: 0, jumps: Object.freeze([]) });

export class DriftingClock implements Clock {
  readonly #base: VirtualClock;
  readonly #origin: number;
  readonly #ppm: number;
  readonly #jumps: readonly ClockJump[];

  constructor(base: VirtualClock, faults: ClockFaults, origin: number = base.now()) {
    this.#base = base;
    this.#origin = origin;
    this.#ppm = faults.driftPpm;
    this.#jumps = [...faults.jumps].sort((a, b) => a.at - b.at);
  }

  /** How far this device's clock is ahead of true time at true time `t` (negative: behind), ms. */
  offsetAt(t: number): number {
    let offset = Math.round(((t - this.#origin) * this.#ppm) / 1e6);
    for (const jump of this.#jumps) {
      if (jump.at > t) break;
      offset += jump.byMs;
    }
    return offset;
  }

  now(): number {
    const t = this.#base.now();
    return t + this.offsetAt(t);
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    return this.#base.setTimer(ms, fn);
  }
}
