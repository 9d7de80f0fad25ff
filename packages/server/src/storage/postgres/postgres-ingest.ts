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
 *   facts    (this file; a new snapshot, taken after the lock: sees every batch committed before)
 *   planIngest (pure, in process)
 *   write    (this file)
 *   COMMIT
 *
 * The facts statement also takes the feed lock in shared mode, before any
 * ledger or exception row gets its `pos`; see FEED_LOCK.
 */
import type { Op } from '@holdfast/protocol';
import type pg from 'pg';
import type { KnownOp } from '../../ingest/ingest-facts.js';
import { shiftRefs } from '../../ingest/ingest-facts.js';
import type { IngestPlan } from '../../ingest/ingest-plan.js';
import type { VerifiedBatch } from '../../model/batch.js';
import type { DeviceRecord } from '../../model/device.js';
import type { LedgerEvent } from '../../model/ledger-event.js';
import type { ShiftRecord } from '../../model/shift.js';
import { canonicalTexts } from '../canonical-texts.js';
import { int, type Row } from '../rows.js';
import { insertSql, type Table, valuesOf } from '../sql/table.js';
import { DEVICE_HEAD_COLUMNS, deviceHeadValues } from '../sql/tables/devices.js';
import { EXCEPTIONS } from '../sql/tables/exceptions.js';
import { LEDGER } from '../sql/tables/ledger.js';
import { OFFLINE_PAYMENTS } from '../sql/tables/offline-payments.js';
import { OPS, type OpRow } from '../sql/tables/ops.js';
import { CASH_MOVEMENTS, SALES, SHIFT_UPSERT, SHIFTS, shiftOf } from '../sql/tables/shift-projections.js';
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

const FACTS_SQL = `
SELECT pg_advisory_xact_lock_shared(${FEED_LOCK}) AS feed_locked,
  (SELECT coalesce(json_agg(json_build_array(o.id, o.device, o.seq, o.hash, o.result)), '[]'::json)
     FROM ops o WHERE o.id = ANY ($1::text[])) AS by_id,
  (SELECT coalesce(json_agg(json_build_array(o.seq, o.id, o.hash)), '[]'::json)
     FROM ops o WHERE o.device = $2 AND o.seq BETWEEN $3 AND $4) AS by_seq,
  (SELECT coalesce(json_agg(s), '[]'::json)
     FROM shifts s WHERE s.id = ANY ($5::text[]) OR (s.device = $2 AND s.status = 'open')) AS shifts`;

export interface LoadedFacts {
  byId: Map<string, KnownOp>;
  bySeq: Map<number, { id: string; hash: string }>;
  shifts: Map<string, ShiftRecord>;
}

/** Loads what planIngest needs beyond the device (locked by the caller), in one round trip. */
export async function loadFacts(
  client: pg.PoolClient,
  batch: VerifiedBatch,
  device: DeviceRecord,
): Promise<LoadedFacts> {
  const first = (batch.ops[0] as Op).seq;
  const last = (batch.ops[batch.ops.length - 1] as Op).seq;
  const { rows } = await client.query({
    name: 'holdfast_ingest_facts',
    text: FACTS_SQL,
    values: [batch.ops.map((op) => op.id), device.id, first, last, shiftRefs(batch.ops)],
  });
  const row = rows[0] as Row;
  const byId = new Map<string, KnownOp>();
  for (const [id, dev, seq, hash, result] of row.by_id as [string, string, number, string, string][]) {
    byId.set(id, { device: dev, seq: int(seq), hash, result: JSON.parse(result) });
  }
  const bySeq = new Map<number, { id: string; hash: string }>();
  for (const [seq, id, hash] of row.by_seq as [number, string, string][]) bySeq.set(int(seq), { id, hash });
  const shifts = new Map<string, ShiftRecord>();
  for (const s of row.shifts as Row[]) shifts.set(s.id as string, shiftOf(s));
  return { byId, bySeq, shifts };
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
  planWrite('ins_sales', SALES, (p) => p.sales),
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
