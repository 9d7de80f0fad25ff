/**
 * A verified batch of ops, and ops as stored with their results.
 */
import type { DeviceReport, Op, OpResult, StoredResult } from '@holdfast/protocol';

/** A batch whose envelope, hashes, chain links and signature were verified. */
export interface VerifiedBatch {
  device: string;
  ops: Op[];
  /** Each op's canonical text (what its hash covers), if the verifier kept it; computed otherwise. */
  canonical?: readonly string[];
  /**
   * Each op's body checked against its kind's schema by the verifier (on the
   * main thread, so the storage thread need not): null when the body is
   * valid (and `op.body` is then the parsed body), the schema's refusal when
   * not. Absent: the planner parses every body itself. Unknown kinds: null.
   */
  bodies?: readonly (BodyRefusal | null)[];
  sentAt: number;
  latestSeq: number;
  /**
   * How far the server may believe `sentAt` and `latestSeq` (docs/protocol.md §4.2):
   * `fresh`: signed by the device (batch signature v2) and `sentAt` within
   * BATCH_FRESHNESS_MS of the server clock: both are recorded;
   * `stale`: signed, but `sentAt` is outside the window (a till with a wrong
   * clock, or a request replayed later): `latestSeq` is recorded, nothing
   * derived from `sentAt` (`lastSeenAt`, `clockOffsetMs`) is;
   * `unsigned`: a v1 signature, which covers the ops only: neither is recorded.
   */
  trust: BatchTrust;
}

export type BatchTrust = 'fresh' | 'stale' | 'unsigned';

/** Why an op's body broke its kind's schema: a ValidationError's parts (it cannot cross threads as itself). */
export interface BodyRefusal {
  field: string;
  rule: string;
  got: string;
}

export interface IngestOutcome {
  results: OpResult[];
  highWater: number;
}

/** An op as stored, with its stored result. */
export interface StoredOp {
  op: Op;
  result: StoredResult;
  receivedAt: number;
}

/** A verified batch with the request's signature, which the signed answer is bound to (HoldfastService.verifyBatch). */
export type SignedBatch = VerifiedBatch & {
  sig: string;
  /** The device's report (protocol device-report.ts), when the batch carried one. */
  report?: DeviceReport;
};
