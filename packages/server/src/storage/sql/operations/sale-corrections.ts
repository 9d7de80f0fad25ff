/**
 * Sale corrections inside the ingest transaction (docs/corrections.md):
 * the facts a batch needs about the sales its corrections name and the
 * held corrections of the sales it records, and writing what the plan
 * decided. Written once for both backends.
 *
 * Cross-device order: a refund recorded on device B may reach the server
 * before the sale device A recorded. Both batches take a lock per sale id
 * (the dialect's `keyLocks`: PostgreSQL advisory locks; SQLite's one
 * writer) before reading, so of two concurrent batches, one sees what the
 * other committed: the refund finds the sale, or the sale finds the held
 * refund. Neither can miss the other. (PostgreSQL's ingest loads these
 * facts in its one facts statement after bucketed sale locks instead:
 * `lockSales` and `loadFacts` in postgres-ingest.ts.)
 */
import { type SaleFact, saleFactOf } from '@holdfast/domain';
import type { SaleBody } from '@holdfast/protocol';
import type { SaleCorrectionJudged, SaleCorrectionRecord, SaleFacts } from '../../../model/sale-correction.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { EXCEPTION_ACTIONS } from '../tables/exceptions.js';
import { SALE_CORRECTIONS, saleCorrectionOf } from '../tables/sale-corrections.js';
import { all, run, type SqlOperation } from '../transaction-port.js';

/** The name the server's own exception actions carry. */
export const SERVER_ACTOR = 'holdfast';

/** Stored sales a caller already read in the same transaction: `sales`, those stored among `ids` (after the locks, where the dialect has them). */
export interface KnownSales {
  ids: ReadonlySet<string>;
  sales: ReadonlyMap<string, SaleFact>;
}

/**
 * Locks the sale ids `ids` and loads the stored sales among them and every
 * correction stored for them (held or counted, in record order). Ids in
 * `known.ids` are not read again: ingest has already read the ops under the
 * batch's own ids (the sales it records), so only the sales its corrections
 * name are looked up here, none for a batch of new sales alone.
 */
export function* loadSaleFacts(d: SqlDialect, ids: readonly string[], known?: KnownSales): SqlOperation<SaleFacts> {
  const sorted = [...new Set(ids)].sort();
  if (d.keyLocks !== null) yield* all(d.keyLocks, [sorted.map((id) => `sale:${id}`)]);
  const sales = new Map<string, SaleFact>();
  const unknown: string[] = [];
  for (const id of sorted) {
    if (!known?.ids.has(id)) unknown.push(id);
    else {
      const sale = known.sales.get(id);
      if (sale) sales.set(id, sale);
    }
  }
  const rows =
    unknown.length === 0
      ? []
      : yield* all(
          `SELECT id, device, envelope FROM ops WHERE kind = 'sale.recorded' AND status = 'accepted' AND ${d.inList('id', '$1')}`,
          [d.list(unknown)],
        );
  for (const r of rows)
    sales.set(r.id as string, storedSaleOf(r.id as string, r.device as string, r.envelope as string));
  const corrections = new Map<string, SaleCorrectionRecord[]>();
  const stored = yield* all(
    `SELECT * FROM sale_corrections WHERE ${d.inList('sale_op_id', '$1')} ORDER BY recorded_at, device, seq`,
    [d.list(sorted)],
  );
  for (const r of stored) {
    const c = saleCorrectionOf(r, d);
    const list = corrections.get(c.sale) ?? [];
    list.push(c);
    corrections.set(c.sale, list);
  }
  return { sales, corrections };
}

/** The sale fact of a stored sale.recorded op from its envelope text. */
export function storedSaleOf(id: string, device: string, envelope: string): SaleFact {
  return saleFactOf(id, device, (JSON.parse(envelope) as { body: SaleBody }).body);
}

/** Every correction stored for the sale `saleId`, held or counted, in record order. */
export function* getSaleCorrections(d: SqlDialect, saleId: string): SqlOperation<SaleCorrectionRecord[]> {
  return (yield* all('SELECT * FROM sale_corrections WHERE sale_op_id = $1 ORDER BY recorded_at, device, seq', [
    saleId,
  ])).map((r) => saleCorrectionOf(r, d));
}

/**
 * Writes the plan's corrections: new rows, then the held ones judged now
 * that their sale arrived, each resolving its `refund_unmatched` exception
 * with an action by the server.
 */
export function* writeSaleCorrections(
  d: SqlDialect,
  inserts: readonly SaleCorrectionRecord[],
  judged: readonly SaleCorrectionJudged[],
  newId: () => string,
): SqlOperation<void> {
  for (const c of inserts) yield* run(insertSql(SALE_CORRECTIONS, d), valuesOf(SALE_CORRECTIONS, c, d));
  for (const j of judged) {
    yield* run(
      `UPDATE sale_corrections SET state = 'counted', judged_at = $1, held_exception = NULL WHERE op_id = $2 AND state = 'held'`,
      [j.judgedAt, j.opId],
    );
    if (j.heldException === null) continue;
    // An operator may have resolved it already (e.g. acknowledged that the sale would never come).
    const resolved = yield* all('SELECT 1 AS x FROM exception_actions WHERE exception_id = $1 AND resolves = TRUE', [
      j.heldException,
    ]);
    if (resolved.length > 0) continue;
    yield* run(
      insertSql(EXCEPTION_ACTIONS, d),
      valuesOf(
        EXCEPTION_ACTIONS,
        {
          id: newId(),
          exceptionId: j.heldException,
          action: 'acknowledged',
          note: `sale ${j.saleOp} arrived; the refund was judged against it`,
          amount: null,
          currency: null,
          by: SERVER_ACTOR,
          at: j.judgedAt,
          resolves: true,
        },
        d,
      ),
    );
  }
}
