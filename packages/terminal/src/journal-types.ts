/**
 * The journal's records as the rest of the SDK sees them, and the SQLite
 * rows they are read from.
 */
import type { Actor, Decision, Op } from '@holdfast/protocol';

export type OpState = 'pending' | 'confirmed' | 'dead';

/** One op as the journal holds it: the envelope plus its delivery state. */
export interface JournalEntry {
  seq: number;
  id: string;
  kind: string;
  hash: string;
  recordedAt: number;
  state: OpState;
  attempts: number;
  lastAttemptAt: number | null;
  lastError: string | null;
  /** The server's result for the op (an `OpResult`), once settled. */
  result: unknown;
  settledAt: number | null;
  /** The sealed op exactly as recorded and sent. */
  op: Op;
}

/** An op that needs attention: the server will never confirm it as it stands. */
export interface DeadLetter {
  seq: number;
  id: string;
  kind: string;
  /** A result status (`conflict`, `fork`), a reject reason (`invalid_body`), or a request error code. */
  reason: string;
  message: string;
  result: unknown;
  at: number;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

export interface OpCounts {
  pending: number;
  confirmed: number;
  dead: number;
}

export interface AppendInput {
  id: string;
  device: string;
  kind: string;
  body: Record<string, unknown>;
  at: number;
  decision: Decision;
  /** Who recorded (and approved) the op, when staff are signed in (staff.ts). */
  actor?: Actor;
  /** meta entries to write in the same transaction (null deletes). */
  meta?: Readonly<Record<string, string | null>>;
  /** JSON of the shift after this op, when it changed it: stored in the op's row (JournalCore.latestShift). */
  shift?: string;
}

export interface SyncAttempt {
  id: number;
  startedAt: number;
  finishedAt: number | null;
  firstSeq: number | null;
  lastSeq: number | null;
  ops: number;
  outcome: string | null;
  httpStatus: number | null;
  error: string | null;
}

export interface AttemptEnd {
  finishedAt: number;
  outcome: string;
  httpStatus: number | null;
  error: string | null;
}

export interface OpRow {
  seq: number;
  id: string;
  kind: string;
  envelope: string;
  hash: string;
  recorded_at: number;
  state: OpState;
  attempts: number;
  last_attempt_at: number | null;
  last_error: string | null;
  result: string | null;
  settled_at: number | null;
}

export interface DeadRow {
  seq: number;
  id: string;
  kind: string;
  reason: string;
  message: string;
  result: string | null;
  at: number;
}

export const parseJson = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

export function toJournalEntry(row: OpRow): JournalEntry {
  return {
    seq: row.seq,
    id: row.id,
    kind: row.kind,
    hash: row.hash,
    recordedAt: row.recorded_at,
    state: row.state,
    attempts: row.attempts,
    lastAttemptAt: row.last_attempt_at,
    lastError: row.last_error,
    result: parseJson(row.result),
    settledAt: row.settled_at,
    op: JSON.parse(row.envelope) as Op,
  };
}

export function toDeadLetter(row: DeadRow): DeadLetter {
  return {
    seq: row.seq,
    id: row.id,
    kind: row.kind,
    reason: row.reason,
    message: row.message,
    result: parseJson(row.result),
    at: row.at,
  };
}
