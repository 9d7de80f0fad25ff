/**
 * Which waiting calls the storage thread applies next (sqlite-thread-worker.ts).
 *
 * A group commit is a run of consecutive `ingest` calls from the head of the
 * queue, up to GROUP_MAX_BATCHES batches and GROUP_MAX_OPS ops: one
 * transaction, one fsync.
 *
 * The storage thread's live lane: a sale just rung up arrives as a batch of a
 * few ops, and during a reconnection storm it would otherwise wait behind
 * whole groups of 500-op backlog batches. So when the head group is large
 * (more than SMALL_BATCH_OPS × GROUP_MAX_BATCHES ops), the small batches (at
 * most SMALL_BATCH_OPS ops) among the ingests queued before any other call go
 * first, in one commit of their own, in their order — but
 * - never ahead of an earlier batch of their own device (a device's batches
 *   are applied in the order it sent them);
 * - never ahead of a call that is not an ingest (a read never overtakes a
 *   write sent before it);
 * - never two rounds running: the round after takes the head group, so a
 *   stream of small batches cannot starve a backlog.
 * Batches of different devices do not depend on each other's order (the
 * admission scheduler already runs live batches before backlog ones).
 */
import type { VerifiedBatch } from '../../model/batch.js';
import { GROUP_MAX_BATCHES, GROUP_MAX_OPS, type PackedBatch, SMALL_BATCH_OPS } from './sqlite-thread.js';

/** One call sent to the storage thread. */
export interface Call {
  id: number;
  method: string;
  args: unknown[];
}

function opsIn(call: Call): number {
  const sent = call.args[0] as VerifiedBatch | PackedBatch;
  return 'texts' in sent ? sent.texts.length : sent.ops.length;
}

const deviceOf = (call: Call) => (call.args[0] as VerifiedBatch | PackedBatch).device;

/** How many calls from the head form one group commit: consecutive ingests, within GROUP_MAX_BATCHES and GROUP_MAX_OPS. */
export function groupLength(calls: readonly Call[]): number {
  let ops = 0;
  let n = 0;
  while (n < calls.length && n < GROUP_MAX_BATCHES) {
    const call = calls[n] as Call;
    if (call.method !== 'ingest') break;
    const size = opsIn(call);
    if (n > 0 && ops + size > GROUP_MAX_OPS) break;
    ops += size;
    n++;
  }
  return n;
}

/** The small batches that go ahead of a large head group now (indexes in `calls`, ascending), or none. */
function smallAhead(calls: readonly Call[]): number[] {
  const head = groupLength(calls);
  let headOps = 0;
  for (let i = 0; i < head; i++) headOps += opsIn(calls[i] as Call);
  if (headOps <= SMALL_BATCH_OPS * GROUP_MAX_BATCHES) return [];
  const picked: number[] = [];
  const passed = new Set<string>();
  for (let i = 0; i < calls.length && picked.length < GROUP_MAX_BATCHES; i++) {
    const call = calls[i] as Call;
    if (call.method !== 'ingest') break;
    const device = deviceOf(call);
    if (opsIn(call) <= SMALL_BATCH_OPS && !passed.has(device)) picked.push(i);
    else passed.add(device);
  }
  return picked;
}

/**
 * The next group commit, for a queue whose head is an `ingest` call: the
 * indexes (ascending) of the calls it applies, and whether they are small
 * batches sent ahead (pass that back as `lastWasSmallFirst` next round).
 */
export function nextIngestRound(
  calls: readonly Call[],
  lastWasSmallFirst: boolean,
): { indexes: number[]; smallFirst: boolean } {
  const small = lastWasSmallFirst ? [] : smallAhead(calls);
  if (small.length > 0) return { indexes: small, smallFirst: true };
  return { indexes: Array.from({ length: groupLength(calls) }, (_, i) => i), smallFirst: false };
}
