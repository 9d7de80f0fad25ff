/**
 * Cash corrections (docs/corrections.md, "Cash corrections"), from what the
 * server holds:
 *
 *   cash-corrections-within-movement  the corrections of a `cash.moved`
 *                                     never move back more than it moved,
 *                                     and each names a movement the server
 *                                     holds, of its own device, moves cash
 *                                     the opposite way and names an
 *                                     approver, unless the server raised
 *                                     `cash_correction_over` or
 *                                     `cash_correction_invalid` about one of
 *                                     them: a broken correction recorded
 *                                     offline is a fact, but never an
 *                                     unnoticed one
 */
import type { Truth } from '../truth.js';
import type { Violation } from '../violation.js';

export function cashCorrectionRules(truth: Truth): Violation[] {
  const out: Violation[] = [];
  const s = truth.server;
  const accepted = new Set(s.ops.filter((o) => o.status === 'accepted').map((o) => o.id));
  const movements = new Map<string, { amount: number; device: string; direction: unknown }>();
  const corrected = new Map<string, { amount: number; ops: string[]; broken: string[] }>();
  for (const e of s.ledger) {
    if (!accepted.has(e.opId)) continue;
    if (e.type === 'cash.moved') {
      movements.set(e.opId, { amount: e.amount ?? 0, device: e.device, direction: e.data.direction });
    }
  }
  for (const e of s.ledger) {
    if (!accepted.has(e.opId) || e.type !== 'cash.corrected') continue;
    const movement = String(e.data.movement);
    const entry = corrected.get(movement) ?? { amount: 0, ops: [], broken: [] };
    entry.amount += e.amount ?? 0;
    entry.ops.push(e.opId);
    const moved = movements.get(movement);
    if (!(typeof e.data.approvedBy === 'string' && e.data.approvedBy)) entry.broken.push('names no approver');
    if (moved && moved.device !== e.device) entry.broken.push(`was recorded on ${e.device}, not ${moved.device}`);
    if (moved && moved.direction === e.data.direction)
      entry.broken.push(`moves cash ${String(e.data.direction)} again`);
    corrected.set(movement, entry);
  }
  const raised = new Set(
    s.exceptions
      .filter((x) => x.type === 'cash_correction_over' || x.type === 'cash_correction_invalid')
      .map((x) => x.opId),
  );
  for (const [movement, { amount, ops, broken }] of corrected) {
    if (ops.some((op) => raised.has(op))) continue;
    const moved = movements.get(movement);
    const last = ops[ops.length - 1] as string;
    let problem: string | null = null;
    if (moved === undefined) problem = `cash movement ${movement} is not held by the server`;
    else if (amount > moved.amount) problem = `cash movement ${movement} of ${moved.amount} had ${amount} corrected`;
    else if (broken.length > 0) problem = `a correction of cash movement ${movement} ${broken.join(', ')}`;
    if (problem === null) continue;
    out.push({
      rule: 'cash-corrections-within-movement',
      opId: last,
      message: `${problem} (${ops.length} corrections) and no cash_correction_over or cash_correction_invalid was raised`,
    });
  }
  return out;
}
