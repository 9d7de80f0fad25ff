/**
 * Appending to the feeds (ledger, exceptions) outside ingest — settling,
 * refusing, deadline sweeps, operator actions, unblocking — holding the
 * feed lock until commit like every feed writer, so a feed reader never
 * pages past a row that commits later (see FEED_LOCK, postgres-ingest.ts).
 */
import type { ExceptionRecord } from '../../../model/exception.js';
import type { LedgerEvent } from '../../../model/ledger-event.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { EXCEPTIONS } from '../tables/exceptions.js';
import { LEDGER } from '../tables/ledger.js';
import { lock, run, type SqlOperation } from '../transaction-port.js';

/** Appends one ledger event. */
export function* appendLedgerEvent(d: SqlDialect, e: LedgerEvent): SqlOperation<void> {
  yield* lock('feed');
  yield* run(insertSql(LEDGER, d), valuesOf(LEDGER, e, d));
}

/** Stores each exception unless its dedupe key (or id) is taken; how many were new. */
export function* raiseExceptions(d: SqlDialect, records: readonly ExceptionRecord[]): SqlOperation<number> {
  if (records.length === 0) return 0;
  yield* lock('feed');
  const sql = insertSql(EXCEPTIONS, d, { ignoring: true });
  let added = 0;
  for (const x of records) added += yield* run(sql, valuesOf(EXCEPTIONS, x, d));
  return added;
}
