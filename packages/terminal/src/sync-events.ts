/**
 * The sync loop's vocabulary: what one exchange with the server looked like
 * (`SyncEvent`), what one run of the loop achieved (`SyncReport`), and the
 * events the loop emits through the Terminal.
 */
import type { KeyObject } from 'node:crypto';
import { TransportError } from './errors.js';
import type { DeadLetter } from './journal-types.js';
import type { ConfirmedOp } from './outbox.js';

/** The device's identity for signing. */
export interface Credentials {
  deviceId: string;
  key: KeyObject;
}

/**
 * One exchange with the server.
 *   ok         the server answered 2xx (a batch's ops may still be dead-lettered by their results)
 *   unknown    timeout, network failure, unreadable or inconsistent answer: ops stay pending
 *   retryable  the server answered an error worth retrying (429, 503, 5xx)
 *   rejected   the server answered a non-retryable error
 *   revoked    the device is revoked or unknown
 */
export interface SyncEvent {
  kind: 'batch' | 'ping' | 'query';
  outcome: 'ok' | 'unknown' | 'retryable' | 'rejected' | 'revoked';
  /** Clock reading when the request started. */
  at: number;
  durationMs: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Ops in the batch, or ids in the query. */
  ops: number;
  httpStatus: number | null;
  error: string | null;
  confirmed: number;
  dead: number;
  /** Ops left pending by a seq_gap answer. */
  retry: number;
  /** Confirmed ops put back to pending because the server lost them. */
  requeued: number;
}

/**
 * How a run of the loop (from the first batch until nothing more can be sent now) ended.
 *   idle          nothing pending
 *   backoff       waiting after a failure (nextAttemptAt says until when)
 *   blocked       the server cannot accept the next op until one that needs attention is resolved
 *   revoked       the device is revoked; nothing will be sent again
 *   throttled     syncNow() pressed too soon after the last attempt; the retry was moved up instead
 *   stopped       stop() or close() was called
 *   not_enrolled  nothing can be sent before enrollment
 */
export type SyncOutcome = 'idle' | 'backoff' | 'blocked' | 'revoked' | 'throttled' | 'stopped' | 'not_enrolled';

export interface SyncReport {
  outcome: SyncOutcome;
  /** Batches sent in this run. */
  attempts: number;
  confirmed: number;
  dead: number;
  /** Ops still pending when the run ended. */
  pending: number;
  nextAttemptAt: number | null;
}

export interface SyncEvents {
  confirmed: ConfirmedOp;
  'dead-letter': DeadLetter;
  sync: SyncEvent;
}

export function newSyncEvent(
  kind: SyncEvent['kind'],
  at: number,
  firstSeq: number | null,
  lastSeq: number | null,
  ops: number,
): SyncEvent {
  return {
    kind,
    outcome: 'ok',
    at,
    durationMs: 0,
    firstSeq,
    lastSeq,
    ops,
    httpStatus: null,
    error: null,
    confirmed: 0,
    dead: 0,
    retry: 0,
    requeued: 0,
  };
}

/** One line for status and logs: a TransportError's code, else the message. */
export function describeError(error: unknown): string {
  if (error instanceof TransportError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
