/**
 * Outbox: which ops go next, and what the server's answers do to them.
 *
 * The journal stores; the outbox decides. Every answer is applied in ONE
 * journal transaction, so a crash leaves either the whole answer applied or
 * none of it (and a retry of the same bytes gets the same stored results).
 *
 * The server keeps each device's chain without holes. When it answers
 * `seq_gap` with an `expectedSeq` lower than what we sent, it lacks ops we
 * hold (it was restored from a backup): ops we had as confirmed go back to
 * pending and are sent again. If the op it expects is dead here, nothing we
 * hold can fill the hole: the chain is BLOCKED until an operator acts.
 */
import {
  BATCH_MAX_BYTES,
  type IngestResponse,
  type Op,
  type OpResult,
  type OpStatus,
  settlementOf,
} from '@holdfast/protocol';
import type { Journal } from './journal.js';
import { META } from './journal-schema.js';
import type { DeadLetter } from './journal-types.js';

/** An op the server settled for good. */
export interface ConfirmedOp {
  id: string;
  seq: number;
  kind: string;
  result: OpResult;
}

/** The server cannot take any later op until the op at `seq` is resolved. */
export interface Blocked {
  seq: number;
  reason: string;
}

export interface Settled {
  confirmed: ConfirmedOp[];
  dead: DeadLetter[];
  /** Ops that stay pending (seq_gap). */
  retry: number;
  /** Ops the server lost, put back to pending: seqs [from, to]. */
  requeued: { from: number; to: number; count: number } | null;
  blocked: Blocked | null;
}

/** Room for a batch's members besides its ops (device, sentAt, latestSeq, sig), bytes, generously. */
const BATCH_ENVELOPE_BYTES = 512;

const UTF8 = new TextEncoder();

export class Outbox {
  readonly #journal: Journal;

  constructor(journal: Journal) {
    this.#journal = journal;
  }

  /** The next batch: pending ops with the lowest seqs, contiguous, at most `limit`. */
  /**
   * The next run of pending ops to send: at most `limit` ops and, always but
   * for a single op, a batch body of at most `maxBytes` (a body over the
   * server's limit is refused before it is read and the connection closed,
   * which looks like a network error and would be resent forever).
   */
  nextBatch(limit: number, maxBytes: number = BATCH_MAX_BYTES): Op[] {
    const ops = this.#journal.pendingRun(limit);
    let bytes = BATCH_ENVELOPE_BYTES;
    for (let i = 0; i < ops.length; i++) {
      // UTF-8 length through TextEncoder, not Buffer: the outbox also runs in a browser worker.
      bytes += UTF8.encode(JSON.stringify(ops[i])).length + 1;
      if (bytes > maxBytes && i > 0) return ops.slice(0, i);
    }
    return ops;
  }

  /**
   * Why `response` cannot be the answer to `ops` (null when it can). A
   * mismatched answer tells us nothing reliable: the outcome stays unknown.
   */
  mismatch(ops: readonly Op[], response: IngestResponse): string | null {
    const first = ops[0];
    if (first && response.device !== first.device) return `response is for device ${String(response.device)}`;
    if (!Array.isArray(response.results) || response.results.length !== ops.length) {
      return `expected ${ops.length} results, got ${Array.isArray(response.results) ? response.results.length : 'none'}`;
    }
    for (const [i, op] of ops.entries()) {
      const result = response.results[i];
      if (!result || result.id !== op.id || result.seq !== op.seq) return `result ${i} is not for op ${op.seq}`;
    }
    return null;
  }

  /** Applies one result per op (already checked by `mismatch`) in one transaction. */
  settleIngest(ops: readonly Op[], results: readonly OpResult[], at: number): Settled {
    const firstSeq = ops[0]?.seq ?? 0;
    return this.#journal.transaction(() => {
      const settled: Settled = { confirmed: [], dead: [], retry: 0, requeued: null, blocked: null };
      let gap: number | null = null;
      for (const [i, result] of results.entries()) {
        const kind = ops[i]?.kind ?? '';
        if (result.status === 'rejected' && result.reason === 'seq_gap') {
          settled.retry++;
          gap = gap === null ? result.expectedSeq : Math.min(gap, result.expectedSeq);
        } else {
          this.#apply(result, kind, at, settled);
        }
      }
      if (gap !== null) this.#handleGap(gap, firstSeq, settled);
      return settled;
    }, 'settle');
  }

  /** Applies what a status query learnt (requery): stored ops settle as a batch answer would. */
  settleStatuses(statuses: readonly OpStatus[], at: number): Settled {
    return this.#journal.transaction(() => {
      const settled: Settled = { confirmed: [], dead: [], retry: 0, requeued: null, blocked: null };
      for (const status of statuses) {
        if (!status.found) continue;
        const local = this.#journal.getOp(status.id);
        if (local?.state !== 'pending') continue;
        if (status.hash !== local.hash) {
          const result: OpResult = {
            id: status.id,
            seq: local.seq,
            status: 'conflict',
            message: `the server holds op ${status.id} with hash ${status.hash}, this terminal recorded ${local.hash}`,
          };
          this.#apply(result, local.kind, at, settled);
        } else {
          this.#apply({ ...status.result, id: status.id, seq: status.seq }, local.kind, at, settled);
        }
      }
      return settled;
    }, 'settle');
  }

  /**
   * The server says it holds this device's chain up to `highWater` (a status
   * query's answer). Ops we hold as confirmed above it were lost by the
   * server (restored from a backup): they go back to pending, in one
   * transaction, to be sent again. Returns what was requeued, or null.
   */
  reconcileHighWater(highWater: number): Settled['requeued'] {
    return this.#journal.transaction(() => {
      const last = this.#journal.lastConfirmed();
      if (!last || last.seq <= highWater) return null;
      const count = this.#journal.requeue(highWater + 1, last.seq);
      return count > 0 ? { from: highWater + 1, to: last.seq, count } : null;
    }, 'settle');
  }

  /** Dead-letters the given ops with a request-level error (retrying the same bytes cannot succeed). */
  deadLetterOps(ops: readonly Op[], reason: string, message: string, at: number): DeadLetter[] {
    return this.#journal.transaction(() => {
      const dead: DeadLetter[] = [];
      for (const op of ops) {
        const letter = this.#journal.deadLetter(op.seq, reason, message, null, at);
        if (letter) dead.push(letter);
      }
      return dead;
    }, 'settle');
  }

  /** Marks the device revoked and dead-letters every pending op, in one transaction; returns how many. */
  revoke(code: string, message: string, at: number): number {
    return this.#journal.transaction(() => {
      this.#journal.setMeta({
        [META.revokedAt]: String(at),
        [META.revokedCode]: code,
        [META.revokedMessage]: message,
      });
      return this.#journal.deadLetterAllPending(code, message, at);
    }, 'settle');
  }

  #apply(result: OpResult, kind: string, at: number, settled: Settled): void {
    switch (settlementOf(result)) {
      case 'confirmed':
        if (this.#journal.confirm(result.seq, result, at)) {
          settled.confirmed.push({ id: result.id, seq: result.seq, kind, result });
        }
        return;
      case 'dead': {
        const { reason, message } = deadReason(result);
        const letter = this.#journal.deadLetter(result.seq, reason, message, result, at);
        if (letter) settled.dead.push(letter);
        return;
      }
      case 'retry':
        settled.retry++;
        return;
    }
  }

  #handleGap(expected: number, firstSeq: number, settled: Settled): void {
    const local = this.#journal.stateAt(expected);
    if (!local) {
      settled.blocked = {
        seq: expected,
        reason: `the server expects seq ${expected}, which this terminal never recorded`,
      };
      return;
    }
    if (local.state === 'dead') {
      const letter = this.#journal.deadLetterAt(expected);
      const why = letter ? `${letter.reason}: ${letter.message}` : 'dead';
      settled.blocked = {
        seq: expected,
        reason: `op ${expected} needs attention (${why}); the server cannot accept later ops until it is resolved`,
      };
      return;
    }
    if (local.state === 'confirmed' && expected < firstSeq) {
      const count = this.#journal.requeue(expected, firstSeq - 1);
      settled.requeued = { from: expected, to: firstSeq - 1, count };
    }
  }
}

function deadReason(result: OpResult): { reason: string; message: string } {
  switch (result.status) {
    case 'conflict':
    case 'fork':
      return { reason: result.status, message: result.message };
    case 'rejected':
      return { reason: result.reason, message: result.message };
    case 'duplicate':
      return result.original.status === 'rejected'
        ? { reason: result.original.reason, message: result.original.message }
        : { reason: 'duplicate', message: 'duplicate' };
    case 'accepted':
      return { reason: 'accepted', message: 'accepted' };
  }
}
