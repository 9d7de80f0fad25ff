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
import type { IngestPlan, KnownOp } from '../../ingest/plan-ingest.js';
import { shiftRefs } from '../../ingest/plan-ingest.js';
import type { VerifiedBatch } from '../../model/batch.js';
import type { DeviceRecord } from '../../model/device.js';
import type { LedgerEvent } from '../../model/ledger-event.js';
import type { ShiftRecord } from '../../model/shift.js';
import { canonicalTexts } from '../canonical-texts.js';
import { int, type Row, toShift } from './postgres-rows.js';

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
  for (const s of row.shifts as Row[]) shifts.set(s.id as string, toShift(s));
  return { byId, bySeq, shifts };
}

const WRITE_SQL = `
WITH
ins_ops AS (
  INSERT INTO ops (id, device, seq, hash, kind, envelope, status, result, received_at)
  SELECT t.*, $9::bigint
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
    AS t(id, device, seq, hash, kind, envelope, status, result)
),
ins_ledger AS (
  INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
  SELECT t.op_id, t.device, t.seq, t.type, t.shift_id, t.currency, t.amount, t.data, t.device_at, t.applied_at
  FROM unnest($10::text[], $11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[], $16::bigint[],
              $17::jsonb[], $18::bigint[], $19::bigint[])
    WITH ORDINALITY AS t(op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at, n)
  ORDER BY t.n
),
ins_sales AS (
  INSERT INTO sales (op_id, device, seq, shift_id, currency, total, cash, card, lines, device_at, applied_at)
  SELECT * FROM unnest($20::text[], $21::text[], $22::bigint[], $23::text[], $24::text[], $25::bigint[],
                       $26::bigint[], $27::bigint[], $28::int[], $29::bigint[], $30::bigint[])
),
ins_cash AS (
  INSERT INTO cash_movements (op_id, device, seq, shift_id, currency, direction, reason, amount, device_at, applied_at)
  SELECT * FROM unnest($31::text[], $32::text[], $33::bigint[], $34::text[], $35::text[], $36::text[], $37::text[],
                       $38::bigint[], $39::bigint[], $40::bigint[])
),
ups_shifts AS (
  INSERT INTO shifts (id, device, clerk, currency, status, opening_float, sales, sales_total, cash_sales, card_sales,
                      cash_in, cash_out, counted_cash, opened_at, closed_at, expected_cash, variance)
  SELECT * FROM unnest($41::text[], $42::text[], $43::text[], $44::text[], $45::text[], $46::bigint[], $47::bigint[],
                       $48::bigint[], $49::bigint[], $50::bigint[], $51::bigint[], $52::bigint[], $53::bigint[],
                       $54::bigint[], $55::bigint[], $56::bigint[], $57::bigint[])
  ON CONFLICT (id) DO UPDATE SET
    status = excluded.status, sales = excluded.sales, sales_total = excluded.sales_total,
    cash_sales = excluded.cash_sales, card_sales = excluded.card_sales, cash_in = excluded.cash_in,
    cash_out = excluded.cash_out, counted_cash = excluded.counted_cash, closed_at = excluded.closed_at,
    expected_cash = excluded.expected_cash, variance = excluded.variance
),
ins_exceptions AS (
  INSERT INTO exceptions (id, type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key)
  SELECT t.id, t.type, t.severity, t.device, t.op_id, t.seq, t.message, t.detail, t.raised_at, t.dedupe_key
  FROM unnest($58::text[], $59::text[], $60::text[], $61::text[], $62::text[], $63::bigint[], $64::text[],
              $65::jsonb[], $66::bigint[], $67::text[])
    WITH ORDINALITY AS t(id, type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key, n)
  ORDER BY t.n
  ON CONFLICT (dedupe_key) DO NOTHING
),
ins_offline AS (
  INSERT INTO offline_payments (op_id, tender_index, device, seq, tender, amount, currency, brand, last4, token,
                                policy, approved_at, received_at)
  SELECT * FROM unnest($76::text[], $77::int[], $78::text[], $79::bigint[], $80::text[], $81::bigint[], $82::text[],
                       $83::text[], $84::text[], $85::text[], $86::text[], $87::bigint[], $88::bigint[])
)
UPDATE devices SET high_water = $68, head_hash = $69, latest_seq = $70, gap_from = $71, gap_to = $72,
                   last_seen_at = $73, clock_offset_ms = $74
WHERE id = $75`;

/** Columns of `rows`, one array per field, in the order given. */
function columns<T>(rows: readonly T[], ...fields: ((row: T) => unknown)[]): unknown[][] {
  return fields.map((field) => rows.map(field));
}

/** Writes a plan (ops, ledger, projections, offline payments, exceptions, the device head) in one round trip. */
export async function writePlan(
  client: pg.PoolClient,
  batch: VerifiedBatch,
  plan: IngestPlan,
  deviceId: string,
  now: number,
): Promise<void> {
  const textOf = canonicalTexts(batch);
  const json = (value: unknown) => JSON.stringify(value);
  const d = plan.device;
  await client.query({
    name: 'holdfast_ingest_write',
    text: WRITE_SQL,
    values: [
      ...columns(
        plan.inserts,
        (x) => x.op.id,
        (x) => x.op.device,
        (x) => x.op.seq,
        (x) => x.op.hash,
        (x) => x.op.kind,
        (x) => textOf(x.op),
        (x) => x.result.status,
        (x) => json(x.result),
      ),
      now,
      ...columns(
        plan.ledger,
        (e) => e.opId,
        (e) => e.device,
        (e) => e.seq,
        (e) => e.type,
        (e) => e.shiftId,
        (e) => e.currency,
        (e) => e.amount,
        (e) => json(e.data),
        (e) => e.deviceAt,
        (e) => e.appliedAt,
      ),
      ...columns(
        plan.sales,
        (x) => x.opId,
        (x) => x.device,
        (x) => x.seq,
        (x) => x.shiftId,
        (x) => x.currency,
        (x) => x.total,
        (x) => x.cash,
        (x) => x.card,
        (x) => x.lines,
        (x) => x.deviceAt,
        (x) => x.appliedAt,
      ),
      ...columns(
        plan.cashMovements,
        (m) => m.opId,
        (m) => m.device,
        (m) => m.seq,
        (m) => m.shiftId,
        (m) => m.currency,
        (m) => m.direction,
        (m) => m.reason,
        (m) => m.amount,
        (m) => m.deviceAt,
        (m) => m.appliedAt,
      ),
      ...columns(
        plan.shifts,
        (s) => s.id,
        (s) => s.device,
        (s) => s.clerk,
        (s) => s.currency,
        (s) => s.status,
        (s) => s.openingFloat,
        (s) => s.sales,
        (s) => s.salesTotal,
        (s) => s.cashSales,
        (s) => s.cardSales,
        (s) => s.cashIn,
        (s) => s.cashOut,
        (s) => s.countedCash,
        (s) => s.openedAt,
        (s) => s.closedAt,
        (s) => s.expectedCash,
        (s) => s.variance,
      ),
      ...columns(
        plan.exceptions,
        (x) => x.id,
        (x) => x.type,
        (x) => x.severity,
        (x) => x.device,
        (x) => x.opId,
        (x) => x.seq,
        (x) => x.message,
        (x) => json(x.detail),
        (x) => x.raisedAt,
        (x) => x.dedupeKey,
      ),
      d.highWater,
      d.headHash,
      d.latestSeq,
      d.gapFrom,
      d.gapTo,
      d.lastSeenAt,
      d.clockOffsetMs,
      deviceId,
      ...columns(
        plan.offlinePayments,
        (p) => p.opId,
        (p) => p.tenderIndex,
        (p) => p.device,
        (p) => p.seq,
        (p) => p.tender,
        (p) => p.amount,
        (p) => p.currency,
        (p) => p.brand,
        (p) => p.last4,
        (p) => p.token,
        (p) => p.policy,
        (p) => p.approvedAt,
        (p) => p.receivedAt,
      ),
    ],
  });
}

/**
 * Appends one ledger event outside ingest (settlement, operator actions,
 * unblocking), holding FEED_LOCK shared until COMMIT like every ledger
 * writer, so a feed reader never pages past it.
 */
export async function insertLedgerEvent(client: pg.PoolClient, e: LedgerEvent): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock_shared(${FEED_LOCK})`);
  await client.query(
    `INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [e.opId, e.device, e.seq, e.type, e.shiftId, e.currency, e.amount, JSON.stringify(e.data), e.deviceAt, e.appliedAt],
  );
}
