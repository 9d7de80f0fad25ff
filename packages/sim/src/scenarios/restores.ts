/**
 * Injected forks: tills put back to an old image of their disk. Off by
 * default in every scenario (parameter `restores`); the random campaigns
 * turn it on now and then, and the checker must then find the fork flagged.
 */
import { pick, type Random } from '@holdfast/domain';
import type { DeviceRestore, TerminalSpec } from '../world/world-plan.js';
import { between, MINUTE } from './plan-kit.js';

export function plannedRestores(
  count: number,
  terminals: readonly TerminalSpec[],
  from: number,
  to: number,
  random: Random,
): DeviceRestore[] {
  const out: DeviceRestore[] = [];
  const span = to - from;
  if (count <= 0 || terminals.length === 0 || span < 10 * MINUTE) return out;
  const lanes = new Set<string>();
  for (let i = 0; i < count && lanes.size < terminals.length; i++) {
    let lane = pick(random, terminals).label;
    while (lanes.has(lane)) lane = pick(random, terminals).label;
    lanes.add(lane);
    const backupAt = between(random, [from + span * 0.1, from + span * 0.5]);
    const restoreAt = between(random, [backupAt + 3 * MINUTE, Math.max(backupAt + 3 * MINUTE, from + span * 0.8)]);
    out.push({ lane, backupAt, restoreAt });
  }
  return out;
}
