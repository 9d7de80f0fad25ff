/**
 * One device's ops as stored, newest first, paged by seq (the console's
 * device page: its recent ops, and the ones the server rejected). Served by
 * the ops table's UNIQUE (device, seq) index.
 */
import type { StoredOp } from '../../../model/batch.js';
import type { DeviceOpsQuery, Page } from '../../storage.js';
import { storedOpOf } from '../tables/ops.js';
import { all, type SqlOperation } from '../transaction-port.js';

export function* listDeviceOps(device: string, q: DeviceOpsQuery): SqlOperation<Page<StoredOp>> {
  const rows = yield* all(
    `SELECT seq, hash, envelope, result, received_at FROM ops
     WHERE device = $1 AND (CAST($2 AS BIGINT) IS NULL OR seq < $2) AND (CAST($3 AS TEXT) IS NULL OR status = $3)
     ORDER BY seq DESC LIMIT $4`,
    [device, q.before, q.status, q.limit + 1],
  );
  const items = rows.slice(0, q.limit).map(storedOpOf);
  const last = items.at(-1);
  return { items, next: rows.length > q.limit && last ? last.op.seq : null };
}
