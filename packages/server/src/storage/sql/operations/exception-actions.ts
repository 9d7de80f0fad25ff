/**
 * Operators' actions on exceptions, for every backend: recording one (the
 * exception read `forUpdate`, so two operators acting at once decide one
 * after the other and the second sees the first's action; PostgreSQL's
 * partial unique index on resolving actions is the backstop), and pages of
 * exceptions with their actions and status.
 */
import { decideExceptionAction, exceptionView } from '../../../exceptions/exception-actions.js';
import type {
  ExceptionAction,
  ExceptionActionOutcome,
  ExceptionActionRequest,
  ExceptionFilter,
  ExceptionView,
} from '../../../model/exception-action.js';
import type { Page } from '../../storage.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { EXCEPTION_ACTIONS, exceptionActionOf, exceptionOf } from '../tables/exceptions.js';
import { all, lock, one, run, type SqlOperation } from '../transaction-port.js';
import { appendLedgerEvent } from './feed-writes.js';

/** Decides an action with the shared `decideExceptionAction` and stores it (see Storage.recordExceptionAction). */
export function* recordExceptionAction(
  d: SqlDialect,
  request: ExceptionActionRequest,
): SqlOperation<ExceptionActionOutcome> {
  const row = yield* one(`SELECT * FROM exceptions WHERE id = $1${d.forUpdate}`, [request.exceptionId]);
  if (!row) return { outcome: 'not_found' };
  const exception = exceptionOf(row, d);
  const actions = (yield* all('SELECT * FROM exception_actions WHERE exception_id = $1 ORDER BY pos', [
    exception.id,
  ])).map((r) => exceptionActionOf(r, d));
  const decision = decideExceptionAction(exception, actions, request);
  if (decision.outcome === 'already_resolved') {
    return { outcome: 'already_resolved', exception: exceptionView(exception, actions) };
  }
  if (decision.outcome === 'invalid') return decision;
  const a = decision.action;
  if (a.action === 'refunded' && a.reference) {
    // A shortfall refunded through the corrections flow names the refund op: it must be one.
    const refund = yield* one('SELECT kind FROM ops WHERE id = $1', [a.reference]);
    if (refund?.kind !== 'sale.refunded') {
      return {
        outcome: 'invalid',
        field: 'reference',
        rule: 'the id of a stored sale.refunded op',
        message: `no sale.refunded op ${a.reference} is stored`,
      };
    }
  }
  yield* run(insertSql(EXCEPTION_ACTIONS, d), valuesOf(EXCEPTION_ACTIONS, a, d));
  if (decision.ledger) yield* appendLedgerEvent(d, decision.ledger);
  return { outcome: 'recorded', exception: exceptionView(exception, [...actions, a]) };
}

/** A page of exceptions (pos order) with their actions; behind the feed's read lock like every feed page. */
export function* exceptionViews(d: SqlDialect, filter: ExceptionFilter): SqlOperation<Page<ExceptionView>> {
  yield* lock('feed-read');
  const exceptions = (yield* all(
    `SELECT * FROM exceptions x
       WHERE x.pos > $1 AND (CAST($2 AS TEXT) IS NULL OR x.type = $2)
         AND (CAST($3 AS TEXT) IS NULL OR (CAST($3 AS TEXT) = 'resolved') =
              EXISTS (SELECT 1 FROM exception_actions a WHERE a.exception_id = x.id AND a.resolves = TRUE))
       ORDER BY x.pos LIMIT $4`,
    [filter.after, filter.type ?? null, filter.status ?? null, filter.limit],
  )).map((r) => exceptionOf(r, d));
  const actions = yield* all(`SELECT * FROM exception_actions WHERE ${d.inList('exception_id', '$1')} ORDER BY pos`, [
    d.list(exceptions.map((x) => x.id)),
  ]);
  const byException = new Map<string, ExceptionAction[]>();
  for (const r of actions) {
    const a = exceptionActionOf(r, d);
    const list = byException.get(a.exceptionId) ?? [];
    list.push(a);
    byException.set(a.exceptionId, list);
  }
  const items = exceptions.map((x) => exceptionView(x, byException.get(x.id) ?? []));
  return { items, next: items.length === filter.limit ? (items[items.length - 1]?.pos ?? null) : null };
}
