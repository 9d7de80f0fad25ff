/**
 * The plain reads of the storage interface, for every backend: stored ops,
 * feed pages (ledger, exceptions), shifts, offline payments and the
 * exposure they hold. A feed page is read behind the feed's read lock
 * (PostgreSQL: FEED_LOCK exclusive, inside a transaction): the query's
 * snapshot (READ COMMITTED: taken when the query starts, after the lock)
 * then holds every row whose `pos` was allocated so far, so a page is a
 * prefix of the feed that can never grow in the middle.
 */

import type { StoredOp } from '../../../model/batch.js';
import type { ExceptionRecord } from '../../../model/exception.js';
import type { ExposureActual } from '../../../model/exposure.js';
import type { LedgerEvent } from '../../../model/ledger-event.js';
import type { LedgerRange } from '../../../model/ledger-range.js';
import type { StoredOfflinePayment } from '../../../model/offline-payment.js';
import type { ShiftRecord } from '../../../model/shift.js';
import { sortExposureActual } from '../../policy-records.js';
import { int, textOrNull } from '../../rows.js';
import type { Page } from '../../storage.js';
import type { SqlDialect } from '../dialect.js';
import { unconfirmed } from '../offline-payment-states.js';
import { exceptionOf } from '../tables/exceptions.js';
import { ledgerEventOf } from '../tables/ledger.js';
import { offlinePaymentOf } from '../tables/offline-payments.js';
import { storedOpOf } from '../tables/ops.js';
import { shiftOf } from '../tables/shift-projections.js';
import { all, lock, one, type SqlOperation } from '../transaction-port.js';

const STORED_OP = 'SELECT envelope, hash, result, received_at FROM ops';

export function* getOp(id: string): SqlOperation<StoredOp | null> {
  const row = yield* one(`${STORED_OP} WHERE id = $1`, [id]);
  return row ? storedOpOf(row) : null;
}

/** The op `device` recorded at `seq`, or null (a receipt number names one: device code + seq). */
export function* getOpAt(device: string, seq: number): SqlOperation<StoredOp | null> {
  const row = yield* one(`${STORED_OP} WHERE device = $1 AND seq = $2`, [device, seq]);
  return row ? storedOpOf(row) : null;
}

/** Stored ops of `device` among `ids` (others' ops are not revealed). */
export function* getDeviceOps(d: SqlDialect, device: string, ids: readonly string[]): SqlOperation<StoredOp[]> {
  return (yield* all(`${STORED_OP} WHERE device = $1 AND ${d.inList('id', '$2')}`, [device, d.list(ids)])).map(
    storedOpOf,
  );
}

function pageOf<T extends { pos: number }>(items: T[], limit: number): Page<T> {
  return { items, next: items.length === limit ? (items[items.length - 1]?.pos ?? null) : null };
}

export function* ledgerPage(
  d: SqlDialect,
  after: number,
  limit: number,
  range: LedgerRange | null = null,
): SqlOperation<Page<LedgerEvent & { pos: number }>> {
  yield* lock('feed-read');
  const rows =
    range === null
      ? yield* all('SELECT * FROM ledger WHERE pos > $1 ORDER BY pos LIMIT $2', [after, limit])
      : yield* all(
          'SELECT * FROM ledger WHERE pos > $1 AND applied_at >= $3 AND applied_at < $4 ORDER BY pos LIMIT $2',
          [after, limit, range.from, range.to],
        );
  return pageOf(
    rows.map((r) => ledgerEventOf(r, d)),
    limit,
  );
}

export function* exceptionsPage(
  d: SqlDialect,
  after: number,
  limit: number,
): SqlOperation<Page<ExceptionRecord & { pos: number }>> {
  yield* lock('feed-read');
  const rows = yield* all('SELECT * FROM exceptions WHERE pos > $1 ORDER BY pos LIMIT $2', [after, limit]);
  return pageOf(
    rows.map((r) => exceptionOf(r, d)),
    limit,
  );
}

/** Shifts by opening, of one device or all. */
export function* listShifts(device: string | null): SqlOperation<ShiftRecord[]> {
  const rows =
    device === null
      ? yield* all('SELECT * FROM shifts ORDER BY opened_at, id')
      : yield* all('SELECT * FROM shifts WHERE device = $1 ORDER BY opened_at, id', [device]);
  return rows.map(shiftOf);
}

/** Offline payments by device, seq, tender; of one device or all. */
export function* listOfflinePayments(device: string | null): SqlOperation<StoredOfflinePayment[]> {
  const rows =
    device === null
      ? yield* all('SELECT * FROM offline_payments ORDER BY device, seq, tender_index')
      : yield* all('SELECT * FROM offline_payments WHERE device = $1 ORDER BY seq, tender_index', [device]);
  return rows.map(offlinePaymentOf);
}

/** Unconfirmed offline payments summed per currency and the device's current placement. */
export function* exposureActual(): SqlOperation<ExposureActual[]> {
  const rows = yield* all(
    `SELECT o.currency, p.merchant, p.location, p.event, sum(o.amount) AS amount, count(*) AS n
     FROM offline_payments o LEFT JOIN device_placements p ON p.device = o.device
     WHERE ${unconfirmed('o')}
     GROUP BY o.currency, p.merchant, p.location, p.event`,
  );
  return sortExposureActual(
    rows.map((r) => ({
      currency: r.currency as string,
      merchant: textOrNull(r.merchant),
      location: textOrNull(r.location),
      event: textOrNull(r.event),
      amount: int(r.amount),
      count: int(r.n),
    })),
  );
}
