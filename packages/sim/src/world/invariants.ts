/**
 * The simulator's invariant checker: after faults stop and queues drain, the
 * world's truth is read from disk (world-truth.ts) and held against every
 * rule of the checking kit (../check/rules):
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
 *   wallet-conserved  per wallet, totals == Σ entries and balance == toppedUp − debited + refunded
 *   wallet-once       the wallet entries are exactly the chip writes of the accepted ops, once each
 *   overspend-blocked a wallet below zero with no counter hole has its wristband_overspend and is blocked
 *   sdk-error         no unexpected error in the SDK or from a clerk action
 *   server-error      no internal server error
 *
 * Scenarios may add expectations of their own (e.g. mass-reconnect checks
 * that jitter spread the reconnect).
 */
import { checkTruth } from '../check/check-truth.js';
import type { Violation } from '../check/violation.js';
import type { SimWorld } from './sim-world.js';
import { worldTruth } from './world-truth.js';

export { RULES, type Rule, type Violation } from '../check/violation.js';

/** Checks every rule against the world's disks; an empty list means the run is clean. */
export function checkInvariants(world: SimWorld): Violation[] {
  return checkTruth(worldTruth(world));
}
