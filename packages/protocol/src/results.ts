/**
 * Per-op results of ingest: what the server did with each op of a batch.
 *
 *   accepted   applied now: ledger events appended, projections updated.
 *   duplicate  this id was stored before with the same hash; nothing changed;
 *              `original` is the stored result, identical on every retry.
 *   conflict   this id was stored before with a different hash; nothing
 *              changed; operators are alerted (a terminal bug or tampering).
 *   fork       the device's chain diverged: another op holds this seq, or
 *              `prev` does not match the server's op at seq - 1; nothing
 *              changed; operators are alerted (a cloned or restored device).
 *   rejected   with a reason. `seq_gap` is not stored and means "send the
 *              ops from `expectedSeq` first". Every other reason is stored:
 *              the op takes its place in the chain (so later ops can follow)
 *              but has no effect, and retries return the same rejection.
 */
import type { WireError } from './errors.js';

export const RESULT_STATUSES = ['accepted', 'duplicate', 'conflict', 'fork', 'rejected'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

/**
 * Why an op was rejected.
 * - `seq_gap`: the server lacks earlier ops of this device; retryable, not stored.
 * - `invalid_body`: the body breaks its kind's schema (`field` and `rule` say how); stored.
 * - `unknown_kind`: the server does not know this kind; stored.
 */
export const REJECT_REASONS = ['seq_gap', 'invalid_body', 'unknown_kind'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** The result the server stored when it first took an op into the chain. Never changes. */
export type StoredResult =
  | { status: 'accepted'; at: number }
  | {
      status: 'rejected';
      reason: Exclude<RejectReason, 'seq_gap'>;
      message: string;
      field?: string;
      rule?: string;
      at: number;
    };

/**
 * The stored result as every later answer shows it (`original` of a
 * duplicate, `result` of POST /v1/ops/query): exactly the result the op got
 * when it was first taken into the chain, `id` and `seq` included.
 */
export type StoredAnswer = { id: string; seq: number } & StoredResult;

export type OpResult =
  | ({ id: string; seq: number } & StoredResult)
  | { id: string; seq: number; status: 'duplicate'; original: StoredAnswer }
  | { id: string; seq: number; status: 'conflict'; message: string }
  | { id: string; seq: number; status: 'fork'; message: string }
  | { id: string; seq: number; status: 'rejected'; reason: 'seq_gap'; message: string; expectedSeq: number };

/** What the terminal should do with an op after a result. */
export type Settlement = 'confirmed' | 'dead' | 'retry';

/**
 * Maps a result to the terminal's next step: confirmed (settled, nothing more
 * to do), dead (needs attention, goes to the dead-letter table) or retry
 * (stays pending).
 */
export function settlementOf(result: OpResult): Settlement {
  switch (result.status) {
    case 'accepted':
      return 'confirmed';
    case 'duplicate':
      return result.original.status === 'accepted' ? 'confirmed' : 'dead';
    case 'conflict':
    case 'fork':
      return 'dead';
    case 'rejected':
      return result.reason === 'seq_gap' ? 'retry' : 'dead';
  }
}

/** Request-level errors that mean the device itself can no longer deliver (dead-letter its ops). */
export const DEVICE_TERMINAL_ERRORS: ReadonlySet<WireError['code']> = new Set(['device_revoked', 'unknown_device']);
