/**
 * Drawers (docs/betting.md §7), from the server's shift projections and
 * what the run saw each clerk count:
 *
 *   drawer-honest  a shift closed by a clerk who counted exactly what the
 *                  till expected has no variance on the server, and a
 *                  deliberate miscount shows as exactly that variance: the
 *                  server's expected cash (float, sales, stakes in, payouts
 *                  and refunded stakes out) agrees with the till's, so no
 *                  honest clerk is flagged short or over
 *
 * Needs the run's observations (a simulated run); a shift of a terminal
 * restored from an old image (an injected fault) is left out.
 */
import type { Truth } from '../truth.js';
import { indexTruth } from '../truth-index.js';
import type { Violation } from '../violation.js';

export function drawerRules(truth: Truth): Violation[] {
  const counts = truth.run?.counts;
  if (!counts || counts.size === 0) return [];
  const index = indexTruth(truth);
  const out: Violation[] = [];
  for (const shift of truth.server.shifts) {
    const off = counts.get(shift.id);
    if (off === undefined || shift.variance === null || index.injectedDevices.has(shift.device)) continue;
    if (shift.variance !== off) {
      out.push({
        rule: 'drawer-honest',
        device: index.labelOf(shift.device),
        opId: shift.id,
        message:
          off === 0
            ? `shift ${shift.id} was counted honestly but closed with a variance of ${shift.variance}`
            : `shift ${shift.id} was miscounted by ${off} but closed with a variance of ${shift.variance}`,
      });
    }
  }
  return out;
}

/** Shifts whose server variance differs from what their clerk meant (a false variance), from `drawerRules`. */
export function falseVariances(truth: Truth): number {
  return drawerRules(truth).length;
}
