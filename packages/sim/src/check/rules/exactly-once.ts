/**
 * Exactly once, on the server side:
 *
 *   phantom       nothing is stored or applied that no terminal recorded
 *   applied-once  every stored op has exactly one ledger event of its own
 *
 * An op's own event is the one of its kind (or its rejection); events that
 * follow it, such as the settlement of its card payment, are not (cards.ts).
 */

import type { LedgerRow, ServerOpRow, ServerTruth, Truth } from '../truth.js';
import { indexTruth } from '../truth-index.js';
import type { Violation } from '../violation.js';

/** Ledger row `l` is op `o`'s own event: its kind, or its rejection. */
export const isOwnEvent = (l: LedgerRow, o: ServerOpRow): boolean => l.type === o.kind || l.type === 'op.rejected';

/** Own ledger events per stored op id (0 for an op with none). */
function ownEvents(server: ServerTruth): Map<string, number> {
  const byId = new Map(server.ops.map((o) => [o.id, o]));
  const counts = new Map<string, number>(server.ops.map((o) => [o.id, 0]));
  for (const l of server.ledger) {
    const o = byId.get(l.opId);
    if (o && isOwnEvent(l, o)) counts.set(l.opId, (counts.get(l.opId) ?? 0) + 1);
  }
  return counts;
}

/** Ledger events that apply an op more than once (what `applied-once` counts as duplicates). */
export function duplicatesApplied(server: ServerTruth): number {
  let n = 0;
  for (const count of ownEvents(server).values()) if (count > 1) n += count - 1;
  return n;
}

export function exactlyOnceRules(truth: Truth): Violation[] {
  const out: Violation[] = [];
  const index = indexTruth(truth);
  for (const op of truth.server.ops) {
    if (!index.recordedIds.has(op.id)) {
      out.push({
        rule: 'phantom',
        device: index.labelOf(op.device),
        opId: op.id,
        seq: op.seq,
        message: `the server stores op ${op.id} (seq ${op.seq}) that no terminal recorded`,
      });
    }
  }
  const counts = ownEvents(truth.server);
  for (const [opId, n] of [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (n > 1) out.push({ rule: 'applied-once', opId, message: `op ${opId} has ${n} ledger events, not 1` });
  }
  for (const l of truth.server.ledger) {
    if (!index.opsById.has(l.opId)) {
      out.push({
        rule: 'phantom',
        opId: l.opId,
        message: `the ledger applies op ${l.opId}, which the server never stored`,
      });
    }
  }
  for (const op of truth.server.ops) {
    if (counts.get(op.id) === 0) {
      out.push({
        rule: 'applied-once',
        device: index.labelOf(op.device),
        opId: op.id,
        seq: op.seq,
        message: `op ${op.id} is stored but has no ledger event`,
      });
    }
  }
  return out;
}
