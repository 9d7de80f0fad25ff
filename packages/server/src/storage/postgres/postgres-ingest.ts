/**
 * The two statements of a PostgreSQL ingest that carry data: loading the
 * facts the planner needs, and writing its plan. Each is ONE round trip
 * whatever the batch size (rows travel as arrays and are unnested), and
 * both are named, so each connection prepares them once.
 *
 * The transaction around them (postgres-storage.ts):
 *
 *   BEGIN
 *   SELECT … FROM devices WHERE id = $1 FOR UPDATE   one batch per device at a time
 *   sale locks (this file, lockSales; only a batch that records or corrects sales)
 *   facts    (this file; a new snapshot, taken after the locks: sees every batch committed before)
 *   planIngest (pure, in process)
 *   write    (this file)
 *   COMMIT
 *
 * The facts statement also takes the feed lock in shared mode, before any
 * ledger or exception row gets its `pos`; see FEED_LOCK.
 */
import { isCorrectionKind, type SaleFact, saleFactOf } from '@holdfast/domain';
import type { Op, SaleBody } from '@holdfast/protocol';
import type pg from 'pg';
import type { KnownOp } from '../../ingest/ingest-facts.js';
import { shiftRefs } from '../../ingest/ingest-facts.js';
import type { IngestPlan } from '../../ingest/ingest-plan.js';
import type { VerifiedBatch } from '../../model/batch.js';
import type { DeviceRecord } from '../../model/device.js';
import type { LedgerEvent } from '../../model/ledger-event.js';
import type { SaleCorrectionRecord, SaleFacts } from '../../model/sale-correction.js';
import type { ShiftRecord } from '../../model/shift.js';
import { canonicalTexts } from '../canonical-texts.js';
import { int, type Row } from '../rows.js';
import { insertSql, type Table, valuesOf } from '../sql/table.js';
import { DEVICE_HEAD_COLUMNS, deviceHeadValues } from '../sql/tables/devices.js';
import { EXCEPTIONS } from '../sql/tables/exceptions.js';
import { LEDGER } from '../sql/tables/ledger.js';
import { OFFLINE_PAYMENTS } from '../sql/tables/offline-payments.js';
import { OPS, type OpRow } from '../sql/tables/ops.js';
import { saleCorrectionOf } from '../sql/tables/sale-corrections.js';
import { CASH_MOVEMENTS, SHIFT_UPSERT, SHIFTS, shiftOf } from '../sql/tables/shift-projections.js';
import { postgresDialect } from './postgres-dialect.js';
import { columnArrays, type UnnestOptions, unnestInsert } from './postgres-unnest.js';

/**
 * Advisory lock key guarding the order of the feeds (ledger, exceptions).
 *
 * Identity values are handed out when rows are inserted, not when they
 * commit, so with concurrent writers a row with a smaller `pos` can become
 * visible after one with a larger `pos`, and a reader paging by `pos > after`
 * would skip it for good. Writers hold this lock SHARED from before their
 * first feed row gets a `pos` until they commit (shared holders never wait
 * for each other); a feed reader takes it EXCLUSIVE for its one query, so it
 * waits for the writers in flight to commit and holds new ones back until
 * it has its snapshot. Every `pos` allocated before that snapshot is then
 * committed (or rolled back) and visible, and every later one is larger:
 * what a reader returns is a prefix of the feed that can never grow in the
 * middle.
 *
 * (A per-row xid8 compared with the snapshot's xmin is not enough on its
 * own: a transaction with a smaller xid can allocate a larger `pos` and
 * commit first, which leaves exactly the gap above.)
 */
export const FEED_LOCK = 0x486f_6c64_6665_6564n; // "Holdfeed"

/**
 * Sale locks: a sale recorded on one device and a correction of it
 * (`sale.voided`, `sale.refunded`, `wallet.refunded`) recorded on another
 * may be ingested at the same moment; one of the two batches must see what
 * the other committed (the refund finds the sale, or the sale finds the
 * held refund: docs/corrections.md). So each batch locks the sales it
 * touches before reading them (the facts statement), and holds the locks
 * until COMMIT.
 *
 * Sale ids hash into SALE_LOCK_BUCKETS buckets, each a two-key advisory
 * lock (SALE_LOCK_CLASS, bucket). A batch takes the bucket of every sale it
 * records SHARED (sale batches never wait for each other) and the bucket of
 * every sale its corrections name EXCLUSIVE (a correction waits for the
 * batches in flight that record a sale of its bucket, and they for it), in
 * bucket order, so no two batches wait for each other in a cycle. A batch
 * holds at most SALE_LOCK_BUCKETS of these locks however many sales it
 * carries: one lock per sale id (500 per batch of sales) fills PostgreSQL's
 * shared lock table (max_locks_per_transaction × max_connections, 6,400 by
 * default) with a dozen batches in flight. Two batches recording the same
 * sale id (two devices, one op id) share the bucket; the second one's
 * insert fails on the primary key, runs again, and sees the first.
 *
 * Taken right after the device row, before the facts statement and its
 * feed lock: no transaction holds the feed lock while waiting for these.
 */
export const SALE_LOCK_BUCKETS = 64;
/** The first key of the sale bucket locks ("Hdsl"); the two-key form has its own key space. */
export const SALE_LOCK_CLASS = 0x4864_736c;

const SALE_LOCKS_SQL = `
SELECT count(CASE WHEN t.x THEN pg_advisory_xact_lock(${SALE_LOCK_CLASS}, t.b)
                  ELSE pg_advisory_xact_lock_shared(${SALE_LOCK_CLASS}, t.b) END) AS n
FROM (SELECT (hashtextextended(u.id, 11) & ${SALE_LOCK_BUCKETS - 1})::int AS b, bool_or(u.x) AS x
        FROM unnest($1::text[], $2::boolean[]) AS u(id, x)
       GROUP BY 1 ORDER BY 1) t`;

/** The sales a batch records and the sales its corrections name. */
export interface SaleLockRefs {
  recorded: string[];
  named: string[];
}

export function saleLockRefs(ops: readonly Op[]): SaleLockRefs {
  const recorded: string[] = [];
  const named: string[] = [];
  for (const op of ops) {
    if (op.kind === 'sale.recorded') recorded.push(op.id);
    else if (isCorrectionKind(op.kind) && typeof op.body.sale === 'string') named.push(op.body.sale);
  }
  return { recorded, named };
}

/** Takes the sale bucket locks of a batch (see SALE_LOCK_BUCKETS); nothing when it has no sales. */
export async function lockSales(client: pg.PoolClient, refs: SaleLockRefs): Promise<void> {
  if (refs.recorded.length === 0 && refs.named.length === 0) return;
  await client.query({
    name: 'holdfast_ingest_sale_locks',
    text: SALE_LOCKS_SQL,
    values: [
      [...refs.recorded, ...refs.named],
      [...refs.recorded.map(() => false), ...refs.named.map(() => true)],
    ],
  });
}

const FACTS_SQL = `
SELECT pg_advisory_xact_lock_shared(${FEED_LOCK}) AS feed_locked,
  (SELECT coalesce(json_agg(json_build_array(o.id, o.device, o.seq, o.hash, o.result,
            CASE WHEN o.kind = 'sale.recorded' AND o.status = 'accepted' THEN o.envelope END)), '[]'::json)
     FROM ops o WHERE o.id = ANY ($1::text[])) AS by_id,
  (SELECT coalesce(json_agg(json_build_array(o.seq, o.id, o.hash)), '[]'::json)
     FROM ops o WHERE o.device = $2 AND o.seq BETWEEN $3 AND $4) AS by_seq,
  (SELECT coalesce(json_agg(s), '[]'::json)
     FROM shifts s WHERE s.id = ANY ($5::text[]) OR (s.device = $2 AND s.status = 'open')) AS shifts,
  (SELECT coalesce(json_agg(json_build_array(o.id, o.device, o.envelope)), '[]'::json)
     FROM ops o WHERE o.id = ANY ($6::text[]) AND o.kind = 'sale.recorded' AND o.status = 'accepted') AS named_sales,
  (SELECT coalesce(json_agg(c ORDER BY c.recorded_at, c.device, c.seq), '[]'::json)
     FROM sale_corrections c WHERE c.sale_op_id = ANY ($7::text[])) AS sale_corrections`;

export interface LoadedFacts {
  byId: Map<string, KnownOp>;
  bySeq: Map<number, { id: string; hash: string }>;
  shifts: Map<string, ShiftRecord>;
  /**
   * When the batch records or corrects sales: the stored sales among them
   * and every correction stored for them (what `loadSaleFacts` in
   * sql/operations/sale-corrections.ts loads on SQLite), read after
   * `lockSales`.
   */
  sales?: SaleFacts;
}

/**
 * Loads what planIngest needs beyond the device (locked by the caller) in
 * one round trip: the ops already stored under the batch's ids and seqs,
 * the shifts it names, and, after `lockSales`, its sale facts.
 */
export async function loadFacts(
  client: pg.PoolClient,
  batch: VerifiedBatch,
  device: DeviceRecord,
  saleLocks: SaleLockRefs,
): Promise<LoadedFacts> {
  const first = (batch.ops[0] as Op).seq;
  const last = (batch.ops[batch.ops.length - 1] as Op).seq;
  const saleIds = [...new Set([...saleLocks.recorded, ...saleLocks.named])];
  const { rows } = await client.query({
    name: 'holdfast_ingest_facts',
    text: FACTS_SQL,
    values: [
      batch.ops.map((op) => op.id),
      device.id,
      first,
      last,
      shiftRefs(batch.ops),
      [...new Set(saleLocks.named)],
      saleIds,
    ],
  });
  const row = rows[0] as Row;
  const byId = new Map<string, KnownOp>();
  const sales = new Map<string, SaleFact>();
  const saleOf = (id: string, dev: string, envelope: string) =>
    sales.set(id, saleFactOf(id, dev, (JSON.parse(envelope) as { body: SaleBody }).body));
  for (const [id, dev, seq, hash, result, saleEnvelope] of row.by_id as [
    string,
    string,
    number,
    string,
    string,
    string | null,
  ][]) {
    byId.set(id, { device: dev, seq: int(seq), hash, result: JSON.parse(result) });
    if (saleEnvelope !== null) saleOf(id, dev, saleEnvelope);
  }
  const bySeq = new Map<number, { id: string; hash: string }>();
  for (const [seq, id, hash] of row.by_seq as [number, string, string][]) bySeq.set(int(seq), { id, hash });
  const shifts = new Map<string, ShiftRecord>();
  for (const s of row.shifts as Row[]) shifts.set(s.id as string, shiftOf(s));
  if (saleIds.length === 0) return { byId, bySeq, shifts };
  for (const [id, dev, envelope] of row.named_sales as [string, string, string][]) saleOf(id, dev, envelope);
  const corrections = new Map<string, SaleCorrectionRecord[]>();
  for (const r of row.sale_corrections as Row[]) {
    const c = saleCorrectionOf(r, postgresDialect);
    const list = corrections.get(c.sale) ?? [];
    list.push(c);
    corrections.set(c.sale, list);
  }
  return { byId, bySeq, shifts, sales: { sales, corrections } };
}

/** One table a plan writes: its CTE's name, how, and which rows (ops come as OpRows, built in writePlan). */
interface PlanWrite {
  name: string;
  table: Table<unknown>;
  options: UnnestOptions;
  rows: (plan: IngestPlan, ops: OpRow[]) => readonly unknown[];
}

function planWrite<R>(
  name: string,
  table: Table<R>,
  rows: (plan: IngestPlan, ops: OpRow[]) => readonly R[],
  options: UnnestOptions = {},
): PlanWrite {
  return { name, table: table as Table<unknown>, options, rows };
}

/** What a plan writes, in the order of WRITE_SQL's statements and parameters. */
const PLAN_WRITES: readonly PlanWrite[] = [
  planWrite('ins_ops', OPS, (_, ops) => ops),
  planWrite('ins_ledger', LEDGER, (p) => p.ledger, { ordered: true }),
  planWrite('ins_cash', CASH_MOVEMENTS, (p) => p.cashMovements),
  planWrite('ups_shifts', SHIFTS, (p) => p.shifts, { tail: SHIFT_UPSERT }),
  // Aggregated exceptions (a group key) are merged after this statement (PostgresStorage.ingest).
  planWrite('ins_exceptions', EXCEPTIONS, (p) => p.exceptions.filter((x) => !x.groupKey), {
    ordered: true,
    tail: 'ON CONFLICT (dedupe_key) DO NOTHING',
  }),
  planWrite('ins_offline', OFFLINE_PAYMENTS, (p) => p.offlinePayments),
];

/** The one write statement: a data-modifying CTE per table (rows as unnested arrays), then the device head. */
const WRITE_SQL = (() => {
  let next = 1;
  const ctes = PLAN_WRITES.map(({ table, name, options }) => {
    const insert = unnestInsert(table, next, options);
    next = insert.next;
    return `${name} AS (\n  ${insert.sql}\n)`;
  });
  const head = DEVICE_HEAD_COLUMNS.map((c, i) => `${c} = $${next + i}`).join(', ');
  return `WITH\n${ctes.join(',\n')}\nUPDATE devices SET ${head}\nWHERE id = $${next + DEVICE_HEAD_COLUMNS.length}`;
})();

/** Writes a plan (ops, ledger, projections, offline payments, exceptions, the device head) in one round trip. */
export async function writePlan(
  client: pg.PoolClient,
  batch: VerifiedBatch,
  plan: IngestPlan,
  deviceId: string,
  now: number,
): Promise<void> {
  const textOf = canonicalTexts(batch);
  const ops = plan.inserts.map(
    ({ op, result }): OpRow => ({
      op,
      envelope: textOf(op),
      status: result.status,
      result: JSON.stringify(result),
      receivedAt: now,
    }),
  );
  const values: unknown[] = [];
  for (const w of PLAN_WRITES) values.push(...columnArrays(w.table, w.rows(plan, ops)));
  values.push(...deviceHeadValues(plan.device), deviceId);
  await client.query({ name: 'holdfast_ingest_write', text: WRITE_SQL, values });
}

/**
 * Appends one ledger event outside ingest (settlement, operator actions,
 * unblocking), holding FEED_LOCK shared until COMMIT like every ledger
 * writer, so a feed reader never pages past it.
 */
export async function insertLedgerEvent(client: pg.PoolClient, e: LedgerEvent): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock_shared(${FEED_LOCK})`);
  await client.query(insertSql(LEDGER, postgresDialect), valuesOf(LEDGER, e, postgresDialect));
}
