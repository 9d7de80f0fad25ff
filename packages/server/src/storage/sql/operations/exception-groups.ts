/**
 * Aggregated exceptions (today `op_rejected`): one OPEN row per group
 * (`<type>:<device>:<cause>`). Ingest hands over one record per group and
 * batch (ApplyContext.raiseAggregated) and this adds it to the group's open
 * row — occurrences, last seen, last op, sample — or, when the group has
 * none (never raised, or its latest row resolved), inserts it as a new row.
 *
 * Concurrency. A group belongs to one device, and ingest holds its device
 * (PostgreSQL: the device row `FOR UPDATE`; SQLite: the one writer), so two
 * batches never merge into one group at once and the count is the number
 * of ops rejected. An operator resolving the row at the same time locks it
 * too (operations/exception-actions.ts): the group's latest row is read
 * `forUpdate`, and only then, in a statement of its own (a fresh snapshot
 * under READ COMMITTED), are its resolving actions read — so an ingest that
 * waited for a resolution sees it and opens a new row, and a resolution
 * that waited for an ingest resolves the row with its count.
 */
import { EXCEPTION_SAMPLE_SIZE, type ExceptionRecord } from '../../../model/exception.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { EXCEPTIONS } from '../tables/exceptions.js';
import { lock, one, run, type SqlOperation } from '../transaction-port.js';

/** Adds each aggregated record (one per group) to its group's open row, or opens one; how many rows were opened. */
export function* mergeAggregatedExceptions(d: SqlDialect, records: readonly ExceptionRecord[]): SqlOperation<number> {
  if (records.length === 0) return 0;
  yield* lock('feed');
  let opened = 0;
  for (const x of records) {
    if (!x.groupKey) throw new Error(`exception ${x.dedupeKey} is not aggregated (no group key)`);
    const latest = yield* one(
      `SELECT id, detail FROM exceptions WHERE group_key = $1 ORDER BY pos DESC LIMIT 1${d.forUpdate}`,
      [x.groupKey],
    );
    const resolved =
      latest !== undefined &&
      (yield* one('SELECT 1 AS resolved FROM exception_actions WHERE exception_id = $1 AND resolves = TRUE LIMIT 1', [
        latest.id,
      ])) !== undefined;
    if (latest === undefined || resolved) {
      opened += yield* run(insertSql(EXCEPTIONS, d, { ignoring: true }), valuesOf(EXCEPTIONS, x, d));
      continue;
    }
    const detail = mergedDetail(d.readJson(latest.detail) as Record<string, unknown>, x.detail);
    yield* run('UPDATE exceptions SET occurrences = occurrences + $2, last_seen_at = $3, detail = $4 WHERE id = $1', [
      latest.id,
      x.count ?? 1,
      x.lastSeenAt ?? x.raisedAt,
      JSON.stringify(detail),
    ]);
  }
  return opened;
}

/** The open row's detail after `added` (a later batch's record of the same group): the last op and the sample move on. */
function mergedDetail(stored: Record<string, unknown>, added: Record<string, unknown>): Record<string, unknown> {
  const sample = [
    ...((stored.sample as string[] | undefined) ?? []),
    ...((added.sample as string[] | undefined) ?? []),
  ];
  return {
    ...stored,
    lastOpId: added.lastOpId,
    lastSeq: added.lastSeq,
    sample: sample.slice(0, EXCEPTION_SAMPLE_SIZE),
  };
}
