/**
 * Which waiting calls the storage thread applies next (sqlite-thread-worker.ts).
 *
 * A group commit is a run of consecutive `ingest` calls from the head of the
 * queue, up to GROUP_MAX_BATCHES batches and GROUP_MAX_OPS ops: one
 * transaction, one fsync.
 *
 * The storage thread's live lane: a sale just rung up arrives as a batch of a
 * few ops, and during a reconnection storm it would otherwise wait behind
 * whole groups of 500-op backlog batches, or behind a long read (the outage
 * sweep's pages). So when the head of the queue is a large group (more than
 * SMALL_BATCH_OPS × GROUP_MAX_BATCHES ops) or a call that is not an ingest,
 * the small batches (at most SMALL_BATCH_OPS ops) queued anywhere behind it
 * go first, in one commit of their own, in their order — but
 * - never ahead of an earlier batch of their own device (a device's batches
 *   are applied in the order it sent them);
 * - never two rounds running: the round after takes the head, so a stream of
 *   small batches cannot starve a backlog or a read.
 * Calls that wait here together were all sent before any of them was
 * answered, so no caller can depend on their order; only a device's own
 * batches carry one (and the admission scheduler already runs live batches
 * at once).
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

/**
 * Whether a group in progress ends before its next large batch when this
 * call arrives: a small batch (a sale just rung up), so that it waits for
 * one batch of the group at most, not for all of it (docs/performance.md,
 * round five). The group's remaining batches stay at the head of the queue.
 */
export function endsGroup(call: Call): boolean {
  return call.method === 'ingest' && opsIn(call) <= SMALL_BATCH_OPS;
}

/** Calls that read and write nothing, so no order binds them: `ping`, the health check's (docs/operations.md). */
const UNORDERED = new Set(['ping']);

/**
 * Takes the unordered calls out of the queue (in their order) to be answered
 * before the next round: a health check waits for the commit in progress
 * at most, not for every group queued ahead of it (seconds in a storm,
 * longer than a load balancer's liveness timeout).
 */
export function takeUnordered(calls: Call[]): Call[] {
  const taken: Call[] = [];
  for (let i = 0; i < calls.length; ) {
    if (UNORDERED.has((calls[i] as Call).method)) taken.push(...calls.splice(i, 1));
    else i++;
  }
  return taken;
}

/** Whether the head of the queue would hold small batches up: a large group, or a call that is not an ingest. */
function headBlocks(calls: readonly Call[]): boolean {
  const head = calls[0];
  if (!head) return false;
  if (head.method !== 'ingest') return true;
  const length = groupLength(calls);
  let ops = 0;
  for (let i = 0; i < length; i++) ops += opsIn(calls[i] as Call);
  return ops > SMALL_BATCH_OPS * GROUP_MAX_BATCHES;
}

/** The small batches that go ahead of the head now (indexes in `calls`, ascending), or none. */
function smallAhead(calls: readonly Call[]): number[] {
  if (!headBlocks(calls)) return [];
  const picked: number[] = [];
  const passed = new Set<string>();
  for (let i = 0; i < calls.length && picked.length < GROUP_MAX_BATCHES; i++) {
    const call = calls[i] as Call;
    if (call.method !== 'ingest') continue;
    const device = deviceOf(call);
    if (opsIn(call) <= SMALL_BATCH_OPS && !passed.has(device)) picked.push(i);
    else passed.add(device);
  }
  return picked;
}

/** The storage thread's next round: a group commit of `indexes` (ascending), or the head call alone. */
export type Round = { group: true; indexes: number[]; smallFirst: boolean } | { group: false; smallFirst: false };

/**
 * The next round for a non-empty queue: small batches sent ahead (pass
 * `smallFirst` back as `lastWasSmallFirst` next round), else the head's
 * group commit when the head is an ingest, else the head call alone.
 */
export function nextRound(calls: readonly Call[], lastWasSmallFirst: boolean): Round {
  const small = lastWasSmallFirst ? [] : smallAhead(calls);
  if (small.length > 0) return { group: true, indexes: small, smallFirst: true };
  if (calls[0]?.method === 'ingest') {
    return { group: true, indexes: Array.from({ length: groupLength(calls) }, (_, i) => i), smallFirst: false };
  }
  return { group: false, smallFirst: false };
}
