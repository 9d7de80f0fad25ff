/**
 * A script for a world: who stands at the tills instead of the plan's
 * clerks, and events at fixed virtual times (a stolen card presented, a
 * wristband cloned). SimWorld runs it with everything else it runs — the
 * network's faults, the forwarder, the exposure samples, the drain, and
 * every invariant afterwards — so a scripted evening (the demo) is held to
 * the same rules as every simulated one.
 */
import type { RecordedOp } from '@holdfast/terminal';
import type { VirtualClock } from '../virtual-clock.js';
import type { CardTraffic } from './card-traffic.js';
import type { ClerkHost } from './clerk.js';
import type { SimLane } from './sim-lane.js';

/** Someone at a till: started once the fleet is enrolled; done once their last shift is closed. */
export interface Actor {
  start(): void;
  readonly done: boolean;
}

/** What a scripted event may touch. */
export interface ScriptHost {
  readonly clock: VirtualClock;
  readonly lanes: readonly SimLane[];
  readonly cards: CardTraffic | null;
  /** The app saw `op` recorded (as a clerk reports it). */
  recorded(lane: SimLane, op: RecordedOp, amount: number, shift: string): void;
}

export interface ScriptedEvent {
  /** True virtual time. */
  at: number;
  /** What happens, for the run's history. */
  what: string;
  run(host: ScriptHost): void;
}

export interface WorldScript {
  /** The person at each till, instead of a Clerk of the plan's traffic. */
  actor?(lane: SimLane, host: ClerkHost): Actor;
  events?: readonly ScriptedEvent[];
  /**
   * Wristbands the script clones on purpose (an injected fault): their
   * wristband_clone and wristband_overspend exceptions are expected.
   */
  clonedWristbands?: readonly string[];
}
