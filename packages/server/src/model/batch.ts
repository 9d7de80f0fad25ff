/**
 * A verified batch of ops, and ops as stored with their results.
 */
import type { Op, OpResult, StoredResult } from '@holdfast/protocol';

/** A batch whose envelope, hashes, chain links and signature were verified. */
export interface VerifiedBatch {
  device: string;
  ops: Op[];
  /** Each op's canonical text (what its hash covers), if the verifier kept it; computed otherwise. */
  canonical?: readonly string[];
  sentAt: number;
  latestSeq: number;
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
