/**
 * The `exceptions` table (what an operator must look at, deduplicated by
 * `dedupe_key`, paged by `pos`) and `exception_actions` (what operators did
 * about them, append-only). Their columns and row mappers, for every backend.
 */
import type { ExceptionRecord } from '../../../model/exception.js';
import type { ExceptionAction } from '../../../model/exception-action.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { defineTable } from '../table.js';

export const EXCEPTIONS = defineTable<ExceptionRecord>(
  'exceptions',
  {
    id: ['text', (x) => x.id],
    type: ['text', (x) => x.type],
    severity: ['text', (x) => x.severity],
    device: ['text', (x) => x.device],
    op_id: ['text', (x) => x.opId],
    seq: ['bigint', (x) => x.seq],
    message: ['text', (x) => x.message],
    detail: ['jsonb', (x) => JSON.stringify(x.detail)],
    raised_at: ['bigint', (x) => x.raisedAt],
    dedupe_key: ['text', (x) => x.dedupeKey],
    occurrences: ['bigint', (x) => x.count ?? 1],
    last_seen_at: ['bigint', (x) => x.lastSeenAt ?? x.raisedAt],
    group_key: ['text', (x) => x.groupKey ?? null],
  },
  ['pos'],
);

/** An exceptions row as an exception record with its position. */
export function exceptionOf(r: Row, dialect: SqlDialect): ExceptionRecord & { pos: number } {
  return {
    pos: int(r.pos),
    id: r.id as string,
    type: r.type as ExceptionRecord['type'],
    severity: r.severity as ExceptionRecord['severity'],
    device: r.device as string,
    opId: textOrNull(r.op_id),
    seq: intOrNull(r.seq),
    message: r.message as string,
    detail: dialect.readJson(r.detail) as Record<string, unknown>,
    raisedAt: int(r.raised_at),
    dedupeKey: r.dedupe_key as string,
    count: r.occurrences === null || r.occurrences === undefined ? 1 : int(r.occurrences),
    // Rows raised before aggregation existed have no last_seen_at: seen once, when raised.
    lastSeenAt: r.last_seen_at === null || r.last_seen_at === undefined ? int(r.raised_at) : int(r.last_seen_at),
    groupKey: textOrNull(r.group_key),
  };
}

export const EXCEPTION_ACTIONS = defineTable<ExceptionAction>(
  'exception_actions',
  {
    id: ['text', (a) => a.id],
    exception_id: ['text', (a) => a.exceptionId],
    action: ['text', (a) => a.action],
    note: ['text', (a) => a.note],
    amount: ['bigint', (a) => a.amount],
    currency: ['text', (a) => a.currency],
    by: ['text', (a) => a.by],
    at: ['bigint', (a) => a.at],
    resolves: ['boolean', (a) => a.resolves],
    reference: ['text', (a) => a.reference ?? null],
  },
  ['pos'],
);

export function exceptionActionOf(r: Row, dialect: SqlDialect): ExceptionAction {
  return {
    id: r.id as string,
    exceptionId: r.exception_id as string,
    action: r.action as ExceptionAction['action'],
    note: r.note as string,
    amount: intOrNull(r.amount),
    currency: textOrNull(r.currency),
    by: r.by as string,
    at: int(r.at),
    resolves: dialect.readBoolean(r.resolves),
    reference: textOrNull(r.reference),
  };
}
