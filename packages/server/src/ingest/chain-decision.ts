/**
 * The chain decision: what becomes of one op of a batch, from its id, seq
 * and prev against what the server holds, before anything about its kind
 * or body is read.
 *
 *   id stored, same hash ............ duplicate  (the stored result is the answer, nothing written)
 *   id stored, other hash ........... conflict   (nothing written but an alarm)
 *   seq held by another id,
 *     or at/below the high water .... fork       (nothing written but an alarm)
 *   seq > highWater + 1 ............. seq_gap    (not stored: send the earlier ops first)
 *   prev ≠ hash at highWater ........ fork       (the device's history diverged)
 *   otherwise ....................... store      (the chain advances by this op)
 *
 * Pure: `head` is the device's chain as the ops before this one in the
 * batch left it, so each op sees the effect of those before it.
 */
import type { InjectedBugs } from '@holdfast/domain';
import type { Op, StoredResult } from '@holdfast/protocol';
import type { IngestFacts } from './ingest-facts.js';
import type { DeviceUpdate } from './ingest-plan.js';

/** What becomes of an op; `store` hands it to the applier of its kind. */
export type ChainDecision =
  | { outcome: 'store' }
  | { outcome: 'duplicate'; original: StoredResult }
  | { outcome: 'conflict' | 'fork'; message: string; dedupe: string; detail: Record<string, unknown> }
  | { outcome: 'seq_gap'; expectedSeq: number; message: string }
  /** Deliberate bug `dedupe-disabled` only: a duplicate applied as if new. */
  | { outcome: 'reapply' };

/** What the decision needs of the run: the server clock and the deliberate bugs switched on. */
export interface ChainDecisionContext {
  now: number;
  bugs: InjectedBugs;
}

// The common outcome allocates nothing.
const STORE: ChainDecision = { outcome: 'store' };
const REAPPLY: ChainDecision = { outcome: 'reapply' };

export function decideChain(
  op: Op,
  facts: IngestFacts,
  head: Pick<DeviceUpdate, 'highWater' | 'headHash'>,
  context: ChainDecisionContext,
): ChainDecision {
  const device = facts.device.id;
  const known = facts.byId.get(op.id);
  if (known) {
    if (known.hash === op.hash) {
      // Deliberate bugs (the simulator's and tamper tests' worlds only) live on this branch alone.
      if (context.bugs.has('dedupe-disabled')) return REAPPLY;
      const original: StoredResult = context.bugs.has('results-not-stored')
        ? { status: 'accepted', at: context.now }
        : known.result;
      return { outcome: 'duplicate', original };
    }
    return {
      outcome: 'conflict',
      // The message goes back to the sender: it must not reveal another device's ops.
      message: `op id ${op.id} is already stored with a different hash`,
      dedupe: `${op.id}:${op.hash}`,
      detail: { storedDevice: known.device, storedSeq: known.seq, storedHash: known.hash, sentHash: op.hash },
    };
  }
  const taken = facts.bySeq.get(op.seq);
  if (taken || op.seq <= head.highWater) {
    return {
      outcome: 'fork',
      message: `seq ${op.seq} of device ${device} already holds op ${taken?.id ?? '(unknown)'}`,
      dedupe: `${device}:${op.seq}:${op.hash}`,
      detail: { storedId: taken?.id ?? null, storedHash: taken?.hash ?? null, sentHash: op.hash },
    };
  }
  if (op.seq > head.highWater + 1) {
    const expectedSeq = head.highWater + 1;
    return { outcome: 'seq_gap', expectedSeq, message: `seq ${op.seq} cannot be applied before seq ${expectedSeq}` };
  }
  if (op.prev !== head.headHash) {
    return {
      outcome: 'fork',
      message: `prev of seq ${op.seq} does not match the stored op at seq ${head.highWater}`,
      dedupe: `${device}:${op.seq}:${op.hash}`,
      detail: { storedHeadHash: head.headHash, sentPrev: op.prev, sentHash: op.hash },
    };
  }
  return STORE;
}
