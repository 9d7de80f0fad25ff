/**
 * The chaos schedule: when the proxy changes mode and when a till or the
 * server is SIGKILLed, drawn from a seed before the run starts. The plan is
 * pure (one seed, one plan); the run that follows it is real-time and real
 * processes, so its interleavings are not replayable, only its script.
 *
 *   0 ─ fault ─ pass ─ fault ─ pass ─ …  ─┐ 92 % of the window: pass until the end
 *        ↑ kill till i (restart after r)   ↑ kill server (restart after r)
 */
import { pick, type Random, randomIntBetween } from '@holdfast/domain';
import type { ProxyMode } from '@holdfast/sim';

export type ChaosAction =
  | { kind: 'mode'; mode: ProxyMode }
  | { kind: 'kill-till'; till: number; restartAfterMs: number }
  /**
   * `onBatch`: wait (briefly) for the next batch to reach the server and
   * SIGKILL it `afterMs` later (0: at once), so a batch dies mid-ingest,
   * before or after its commit; otherwise at the planned moment.
   */
  | { kind: 'kill-server'; restartAfterMs: number; onBatch: boolean; afterMs: number };

export interface ChaosStep {
  /** Milliseconds after the start of the chaos window. */
  atMs: number;
  action: ChaosAction;
}

/** The proxy's fault modes, each played in turn (shuffled) between spells of `pass`. */
export const FAULT_MODES: readonly ProxyMode[] = ['drop', 'delay', 'cut-response', 'blackhole', 'mix'];

const FAULT_SPELL_MS = [2000, 5000] as const;
const PASS_SPELL_MS = [1500, 4000] as const;
const TILL_RESTART_MS = [200, 3000] as const;
const SERVER_RESTART_MS = [200, 2500] as const;
/** Faults stop here (fraction of the window): the tail is for the last restarts to settle. */
const FAULTS_END = 0.92;

export interface ChaosPlanOptions {
  seconds: number;
  terminals: number;
}

/** Till kills in a window: one per 10 s, at least 2. */
export const tillKillsFor = (seconds: number) => Math.max(2, Math.round(seconds / 10));
/** Server kills in a window: one per 20 s, at least 2. */
export const serverKillsFor = (seconds: number) => Math.max(2, Math.round(seconds / 20));

export function planChaos(random: Random, options: ChaosPlanOptions): ChaosStep[] {
  const windowMs = options.seconds * 1000;
  const between = (range: readonly [number, number]) => randomIntBetween(random, range[0], range[1]);
  const steps: ChaosStep[] = [];

  // Proxy modes: every fault mode once per round, in a shuffled order, each followed by a spell of pass.
  let at = between(PASS_SPELL_MS) / 2;
  while (at < windowMs * FAULTS_END) {
    for (const mode of shuffled(random, FAULT_MODES)) {
      if (at >= windowMs * FAULTS_END) break;
      steps.push({ atMs: at, action: { kind: 'mode', mode } });
      at += between(FAULT_SPELL_MS);
      steps.push({ atMs: Math.min(at, windowMs * FAULTS_END), action: { kind: 'mode', mode: 'pass' } });
      at += between(PASS_SPELL_MS);
    }
  }

  // Till kills: anywhere in the window, any till.
  for (let i = 0; i < tillKillsFor(options.seconds); i++) {
    steps.push({
      atMs: randomIntBetween(random, Math.round(windowMs * 0.05), Math.round(windowMs * 0.85)),
      action: {
        kind: 'kill-till',
        till: pick(random, range(options.terminals)),
        restartAfterMs: between(TILL_RESTART_MS),
      },
    });
  }

  // Server kills: one in each equal slot of the window's middle, so they are spread out;
  // every other one (the first included) on a batch in flight.
  const serverKills = serverKillsFor(options.seconds);
  const from = windowMs * 0.1;
  const slot = (windowMs * 0.75) / serverKills;
  for (let i = 0; i < serverKills; i++) {
    steps.push({
      atMs: Math.round(from + slot * i + random.float() * slot * 0.8),
      action: {
        kind: 'kill-server',
        restartAfterMs: between(SERVER_RESTART_MS),
        onBatch: i % 2 === 0,
        afterMs: randomIntBetween(random, 0, 5),
      },
    });
  }

  // Stable: a kill planned at the same instant as a mode switch comes after it.
  return steps
    .map((step, i) => ({ step, i }))
    .sort((a, b) => a.step.atMs - b.step.atMs || a.i - b.i)
    .map((s) => s.step);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random.float() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
