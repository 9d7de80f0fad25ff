/**
 * The invariant checker: after faults stop and queues drain, the truth is
 * read from disk — every terminal's journal, and the server's SQLite file —
 * and held against the rules that make Holdfast worth having:
 *
 *   recorded-durable  every op the app saw recorded is in its journal, as recorded
 *   journal-chain     each journal holds seqs 1..n, each op linking to the one before
 *   lost              every journal op is stored on the server (same device, seq, hash)
 *   phantom           nothing is stored or applied that no terminal recorded
 *   applied-once      every stored op has exactly one ledger event
 *   chain             each device's chain on the server is complete: 1..n, no gap, head = journal head
 *   fork              no fork or conflict unless one was injected, and an injected one is flagged
 *   money             per device and shift, the ledger holds what the journals recorded
 *   shift-projection  the server's shift projections agree with the journals
 *   exception         the only exceptions raised are the drawer variances the clerks caused
 *   result-changed    a stored result never changes, in any answer, nor on disk
 *   view-agrees       each terminal's view of each op (confirmed, dead) agrees with the server
 *   dead-letter       every dead letter has a reason, and none exist without an injected cause
 *   clock-offset      the server's clock-offset estimate is the injected drift within the batch's latency
 *   not-drained       every queue is empty once the faults are over
 *   forwarded-once    every offline-approved card payment reached the processor exactly once
 *   double-charge     per card, the processor captured what was settled as approved, no more
 *   decline-surfaced  every post-authorization decline is an exception and a ledger event
 *   exposure-bound    the actual offline exposure never passed the bound (every sampling tick)
 *   unsettled         every offline payment is settled after the final drain
 *                     (these five: card-audit.ts, against the processor-sim's own records)
 *   wallet-conserved  per wallet, totals == Σ entries and balance == toppedUp − debited + refunded
 *   wallet-once       the wallet entries are exactly the chip writes of the accepted ops, once each
 *   overspend-blocked a wallet below zero with no counter hole has its wristband_overspend and is blocked
 *                     (these three: wallet-audit.ts)
 *   sdk-error         no unexpected error in the SDK or from a clerk action
 *   server-error      no internal server error
 *
 * Scenarios may add expectations of their own (e.g. mass-reconnect checks
 * that jitter spread the reconnect).
 */
import { checkCards } from './card-audit.js';
import { checkLane } from './journal-audit.js';
import { checkBooks, checkClockOffsets, checkExceptions, checkResults } from './server-audit.js';
import type { JournalBooks } from './shift-books.js';
import type { SimLane } from './sim-lane.js';
import type { SimWorld } from './sim-world.js';
import { checkWallets } from './wallet-audit.js';

export const RULES = [
  'recorded-durable',
  'journal-chain',
  'lost',
  'phantom',
  'applied-once',
  'chain',
  'fork',
  'money',
  'shift-projection',
  'exception',
  'result-changed',
  'view-agrees',
  'dead-letter',
  'clock-offset',
  'not-drained',
  'forwarded-once',
  'double-charge',
  'decline-surfaced',
  'exposure-bound',
  'unsettled',
  'wallet-conserved',
  'wallet-once',
  'overspend-blocked',
  'sdk-error',
  'server-error',
  'expectation',
] as const;
export type Rule = (typeof RULES)[number];

export interface Violation {
  rule: Rule;
  message: string;
  /** The terminal's label. */
  device?: string;
  opId?: string;
  seq?: number;
}

/** An op as the server stores it (the columns the checker reads). */
export interface ServerOp {
  device: string;
  seq: number;
  hash: string;
  status: string;
  result: string;
}

/**
 * SQL: ledger row `l` is op `o`'s own event (its kind, or its rejection), not
 * an event that follows it, such as the settlement of its card payment.
 */
export const OWN_EVENT = "(l.type = o.kind OR l.type = 'op.rejected')";

/** Ledger events that apply an op more than once (the same count as the `applied-once` rule). */
export const DUPLICATES_APPLIED_SQL = `SELECT COUNT(*) - COUNT(DISTINCT l.op_id) AS n FROM ledger l JOIN ops o ON o.id = l.op_id WHERE ${OWN_EVENT}`;

/** Checks every rule against the world's disks; an empty list means the run is clean. */
export function checkInvariants(world: SimWorld): Violation[] {
  const out: Violation[] = [];
  const storage = world.server.storage;
  const serverOps = new Map(
    storage
      .query<ServerOp & { id: string }>('SELECT id, device, seq, hash, status, result FROM ops')
      .map((r) => [r.id, r]),
  );
  const recordedIds = new Set<string>();
  const labelOf = new Map(world.lanes.map((l) => [l.deviceId ?? '', l.label]));
  const books = new Map<SimLane, JournalBooks>();

  for (const lane of world.lanes) books.set(lane, checkLane(lane, storage, serverOps, recordedIds, out));

  for (const [id, op] of serverOps) {
    if (!recordedIds.has(id)) {
      out.push({
        rule: 'phantom',
        device: labelOf.get(op.device) ?? op.device,
        opId: id,
        seq: op.seq,
        message: `the server stores op ${id} (seq ${op.seq}) that no terminal recorded`,
      });
    }
  }
  // An op's own event is the one of its kind (or its rejection); settlement events follow it (card-audit.ts).
  for (const r of storage.query<{ op_id: string; n: number }>(
    `SELECT l.op_id, COUNT(*) AS n FROM ledger l JOIN ops o ON o.id = l.op_id
      WHERE ${OWN_EVENT} GROUP BY l.op_id HAVING n <> 1`,
  )) {
    out.push({ rule: 'applied-once', opId: r.op_id, message: `op ${r.op_id} has ${r.n} ledger events, not 1` });
  }
  for (const r of storage.query<{ op_id: string }>(
    'SELECT l.op_id FROM ledger l LEFT JOIN ops o ON o.id = l.op_id WHERE o.id IS NULL',
  )) {
    out.push({
      rule: 'phantom',
      opId: r.op_id,
      message: `the ledger applies op ${r.op_id}, which the server never stored`,
    });
  }
  for (const r of storage.query<{ id: string; seq: number; device: string }>(
    `SELECT o.id, o.seq, o.device FROM ops o LEFT JOIN ledger l ON l.op_id = o.id AND ${OWN_EVENT} WHERE l.op_id IS NULL`,
  )) {
    out.push({
      rule: 'applied-once',
      device: labelOf.get(r.device) ?? r.device,
      opId: r.id,
      seq: r.seq,
      message: `op ${r.id} is stored but has no ledger event`,
    });
  }

  checkResults(world, serverOps, out);
  checkBooks(world, books, storage, out);
  checkExceptions(world, storage, out);
  checkClockOffsets(world, storage, out);
  checkCards(world, storage, out);
  checkWallets(storage, out);

  for (const e of world.errors.slice(0, 20)) {
    out.push({ rule: 'sdk-error', device: e.lane, message: `unexpected error: ${describe(e.error)}` });
  }
  for (const error of world.network.internalErrors.slice(0, 20)) {
    out.push({ rule: 'server-error', message: `internal server error: ${describe(error)}` });
  }
  if (world.drainedAt === null) {
    out.push({
      rule: 'not-drained',
      message: `queues were not empty ${Math.round(world.plan.drainLimitMs / 60_000)} virtual minutes after the faults ended (${world.queued} ops pending)`,
    });
  }
  return out;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
