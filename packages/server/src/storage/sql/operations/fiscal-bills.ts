/**
 * The fiscal outbox (docs/e-invoicing.md), for every backend: enrolling
 * accepted sales as bills, claiming each device's next bill, recording the
 * authority's answer once, backing off. Each runs in one transaction of
 * the driver's.
 *
 * Order per device: only a device's lowest pending bill is ever claimable
 * (`NOT EXISTS` an earlier pending one), so its bills reach the authority
 * one after the other, in seq order, whichever process holds the lease.
 * The claim is a conditional UPDATE (unclaimed or lease expired): in
 * PostgreSQL two processes claiming one bill at once re-check the
 * condition on the locked row, and one of them changes nothing.
 */
import { receiptNumber } from '@holdfast/domain';
import type { ExceptionRecord } from '../../../model/exception.js';
import type {
  FiscalAnswerRequest,
  FiscalBill,
  FiscalBillState,
  FiscalDeadlineQuery,
  FiscalDeferRequest,
  FiscalRecordResult,
  FiscalResolution,
} from '../../../model/fiscal-bill.js';
import { FISCAL_JURISDICTIONS } from '../../../model/fiscal-bill.js';
import { FEED_BILL_TYPE } from '../../device-feed.js';
import { int, type Row } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';
import { appendLedgerEvent, raiseExceptions } from './feed-writes.js';

const intOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : int(v));
const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function fiscalBillOf(r: Row): FiscalBill {
  return {
    opId: r.op_id as string,
    device: r.device as string,
    seq: int(r.seq),
    issuedAt: int(r.issued_at),
    currency: r.currency as string,
    total: int(r.total),
    lines: int(r.lines),
    provisionalNumber: r.provisional_number as string,
    enrolledAt: int(r.enrolled_at),
    state: r.state as FiscalBillState,
    attempts: int(r.attempts),
    nextAttemptAt: int(r.next_attempt_at),
    lastError: textOrNull(r.last_error),
    claimedBy: textOrNull(r.claimed_by),
    claimExpiresAt: intOrNull(r.claim_expires_at),
    fiscalNumber: textOrNull(r.fiscal_number),
    fiscalSequence: intOrNull(r.fiscal_sequence),
    registeredAt: intOrNull(r.registered_at),
    rejectCode: textOrNull(r.reject_code),
    rejectReason: textOrNull(r.reject_reason),
    deadlineStage: textOrNull(r.deadline_stage) as FiscalBill['deadlineStage'],
    jurisdiction: textOrNull(r.jurisdiction),
    deadlineMs: intOrNull(r.deadline_ms),
    submission: int(r.submission ?? 0),
    sellerTaxId: textOrNull(r.seller_tax_id),
    refused: int(r.refused ?? 0) === 1,
    resolution: textOrNull(r.resolution) as FiscalResolution | null,
  };
}

interface SaleEnvelope {
  at: number;
  body: { currency: string; total: number; lines: unknown[] };
}

/**
 * Makes a bill of each accepted sale that has none yet (oldest devices'
 * seqs first, at most `limit`); returns how many it made. A bill exists
 * once per op (primary key): enrolling twice, or two processes at once,
 * makes one.
 */
export function* enrollFiscalBills(d: SqlDialect, now: number, limit: number): SqlOperation<number> {
  // The jurisdiction of the device's location (fiscal_jurisdictions), its deadline stored on the bill.
  const rows = yield* all(
    `SELECT o.id, o.device, o.seq, o.envelope, j.jurisdiction FROM ops o
     LEFT JOIN device_placements p ON p.device = o.device
     LEFT JOIN fiscal_jurisdictions j ON j.location = p.location
     WHERE o.kind = 'sale.recorded' AND o.status = 'accepted'
       AND NOT EXISTS (SELECT 1 FROM fiscal_bills b WHERE b.op_id = o.id)
     ORDER BY o.device, o.seq LIMIT $1`,
    [limit],
  );
  let made = 0;
  for (const r of rows) {
    const envelope = JSON.parse(r.envelope as string) as SaleEnvelope;
    const device = r.device as string;
    const seq = int(r.seq);
    const jurisdiction = textOrNull(r.jurisdiction);
    const hours = jurisdiction === null ? undefined : FISCAL_JURISDICTIONS[jurisdiction]?.deadlineHours;
    made += yield* run(
      `${d.insertIgnoring.verb} INTO fiscal_bills
         (op_id, device, seq, issued_at, currency, total, lines, provisional_number, enrolled_at, state,
          jurisdiction, deadline_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11)${d.insertIgnoring.tail}`,
      [
        r.id,
        device,
        seq,
        envelope.at,
        envelope.body.currency,
        envelope.body.total,
        envelope.body.lines.length,
        receiptNumber(device, seq),
        now,
        hours === undefined ? null : jurisdiction,
        hours === undefined ? null : hours * 3_600_000,
      ],
    );
  }
  return made + (yield* enrollFiscalCreditNotes(d, now, limit));
}

/**
 * Makes a credit note of each counted refund or void (sale_corrections)
 * of a sale that is a bill not settled otherwise (no resolution), once
 * (primary key: the correction's op id).
 */
function* enrollFiscalCreditNotes(d: SqlDialect, now: number, limit: number): SqlOperation<number> {
  const rows = yield* all(
    `SELECT c.op_id, c.sale_op_id, c.kind, c.device, c.device_at, c.currency, c.amount FROM sale_corrections c
     JOIN fiscal_bills b ON b.op_id = c.sale_op_id
     WHERE c.state = 'counted' AND c.amount > 0 AND b.resolution IS NULL
       AND NOT EXISTS (SELECT 1 FROM fiscal_credit_notes n WHERE n.op_id = c.op_id)
     ORDER BY c.recorded_at, c.op_id LIMIT $1`,
    [limit],
  );
  let made = 0;
  for (const r of rows) {
    made += yield* run(
      `${d.insertIgnoring.verb} INTO fiscal_credit_notes
         (op_id, bill_op_id, reason, device, issued_at, currency, total, enrolled_at, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')${d.insertIgnoring.tail}`,
      [r.op_id, r.sale_op_id, r.kind, r.device, int(r.device_at), r.currency, int(r.amount), now],
    );
  }
  return made;
}

/** Claims up to `limit` bills, each the lowest pending bill of its device, due and not leased by another. */
export function* claimFiscalBills(
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
): SqlOperation<FiscalBill[]> {
  const candidates = yield* all(
    `SELECT b.op_id FROM fiscal_bills b
     WHERE b.state = 'pending' AND b.next_attempt_at <= $1
       AND (b.claimed_by IS NULL OR b.claim_expires_at <= $1)
       AND NOT EXISTS (
         SELECT 1 FROM fiscal_bills e WHERE e.device = b.device AND e.state = 'pending' AND e.seq < b.seq)
     ORDER BY b.enrolled_at, b.device, b.seq LIMIT $2`,
    [now, limit],
  );
  const claimed: FiscalBill[] = [];
  for (const c of candidates) {
    const changed = yield* run(
      `UPDATE fiscal_bills SET claimed_by = $1, claim_expires_at = $2
       WHERE op_id = $3 AND state = 'pending' AND (claimed_by IS NULL OR claim_expires_at <= $4)`,
      [owner, now + leaseMs, c.op_id, now],
    );
    if (changed !== 1) continue;
    const row = yield* one('SELECT * FROM fiscal_bills WHERE op_id = $1', [c.op_id]);
    if (row) claimed.push(fiscalBillOf(row));
  }
  return claimed;
}

/** A transient failure: backoff stored and the claim released, if `owner` still holds it. */
export function* deferFiscalBill(r: FiscalDeferRequest): SqlOperation<boolean> {
  const changed = yield* run(
    `UPDATE fiscal_bills SET attempts = $1, next_attempt_at = $2, last_error = $3, claimed_by = NULL,
       claim_expires_at = NULL
     WHERE op_id = $4 AND claimed_by = $5 AND state = 'pending'`,
    [r.attempts, r.nextAttemptAt, r.error, r.opId, r.owner],
  );
  return changed === 1;
}

function exception(
  bill: FiscalBill,
  type: ExceptionRecord['type'],
  severity: ExceptionRecord['severity'],
  message: string,
  detail: Record<string, unknown>,
  r: FiscalAnswerRequest,
  dedupe: string,
): ExceptionRecord {
  return {
    id: r.exceptionId,
    type,
    severity,
    device: bill.device,
    opId: bill.opId,
    seq: bill.seq,
    message,
    detail: { provisionalNumber: bill.provisionalNumber, total: bill.total, currency: bill.currency, ...detail },
    raisedAt: r.at,
    dedupeKey: `${type}:${bill.opId}:${dedupe}`,
  };
}

/**
 * Records the authority's answer for a bill, once. A first answer sets
 * the state (registered: the fiscal number; rejected: a `fiscal_rejected`
 * alarm). The same answer again changes nothing. A different answer for
 * an answered bill keeps the first and raises `fiscal_answer_conflict`:
 * a bill never has two numbers. A fiscal number lower than one an earlier
 * bill of the device got is recorded with a `fiscal_out_of_order` warning.
 */
export function* recordFiscalAnswer(d: SqlDialect, r: FiscalAnswerRequest): SqlOperation<FiscalRecordResult> {
  const row = yield* one(`SELECT * FROM fiscal_bills WHERE op_id = $1${d.forUpdate}`, [r.opId]);
  if (!row) return { kind: 'unknown_bill' };
  const bill = fiscalBillOf(row);
  const { outcome } = r;
  if (bill.state !== 'pending') {
    const same =
      outcome.status === 'registered'
        ? bill.state === 'registered' && bill.fiscalNumber === outcome.fiscalNumber
        : bill.state === 'rejected' && bill.rejectCode === outcome.rejectCode;
    if (same) return { kind: 'same', bill };
    const got = outcome.status === 'registered' ? outcome.fiscalNumber : `rejected (${outcome.rejectCode})`;
    const kept = bill.state === 'registered' ? (bill.fiscalNumber as string) : `rejected (${bill.rejectCode})`;
    yield* raiseExceptions(d, [
      exception(
        bill,
        'fiscal_answer_conflict',
        'alarm',
        `bill ${bill.provisionalNumber} answered again as ${got}; kept the first answer, ${kept}`,
        { kept, ignored: got },
        r,
        got,
      ),
    ]);
    return { kind: 'conflict', bill };
  }
  if (outcome.status === 'rejected') {
    yield* run(
      `UPDATE fiscal_bills SET state = 'rejected', reject_code = $1, reject_reason = $2, registered_at = $3,
         claimed_by = NULL, claim_expires_at = NULL
       WHERE op_id = $4`,
      [outcome.rejectCode, outcome.reason, outcome.registeredAt, r.opId],
    );
    yield* raiseExceptions(d, [
      exception(
        bill,
        'fiscal_rejected',
        'alarm',
        `the tax authority rejected bill ${bill.provisionalNumber}: ${outcome.reason}`,
        { rejectCode: outcome.rejectCode, reason: outcome.reason, submission: bill.submission },
        r,
        bill.submission === 0 ? 'rejected' : `rejected-${bill.submission}`,
      ),
    ]);
    const after = yield* one('SELECT * FROM fiscal_bills WHERE op_id = $1', [r.opId]);
    return { kind: 'recorded', bill: fiscalBillOf(after as Row), outOfOrder: false };
  }
  // A number taken already (by another bill) is a conflict too: never two bills with one number.
  const holder =
    (yield* one('SELECT op_id FROM fiscal_bills WHERE fiscal_number = $1', [outcome.fiscalNumber])) ??
    (yield* one('SELECT op_id FROM fiscal_credit_notes WHERE fiscal_number = $1', [outcome.fiscalNumber]));
  if (holder) {
    yield* raiseExceptions(d, [
      exception(
        bill,
        'fiscal_answer_conflict',
        'alarm',
        `fiscal number ${outcome.fiscalNumber} answered for bill ${bill.provisionalNumber} is already bill ${String(holder.op_id)}'s; not recorded`,
        { fiscalNumber: outcome.fiscalNumber, holder: holder.op_id },
        r,
        outcome.fiscalNumber,
      ),
    ]);
    return { kind: 'conflict', bill };
  }
  const earlier = yield* one(
    `SELECT max(fiscal_sequence) AS s FROM fiscal_bills WHERE device = $1 AND seq < $2 AND state = 'registered'`,
    [bill.device, bill.seq],
  );
  const highest = intOrNull(earlier?.s);
  const outOfOrder = highest !== null && outcome.sequence <= highest;
  yield* run(
    `UPDATE fiscal_bills SET state = 'registered', fiscal_number = $1, fiscal_sequence = $2, registered_at = $3,
       claimed_by = NULL, claim_expires_at = NULL, last_error = NULL
     WHERE op_id = $4`,
    [outcome.fiscalNumber, outcome.sequence, outcome.registeredAt, r.opId],
  );
  // The fiscal number goes back to the terminal in its device feed (storage/device-feed.ts: FEED_BILL_TYPE).
  yield* appendLedgerEvent(d, {
    opId: bill.opId,
    device: bill.device,
    seq: bill.seq,
    type: FEED_BILL_TYPE,
    shiftId: null,
    currency: null,
    amount: null,
    data: {
      fiscalNumber: outcome.fiscalNumber,
      provisionalNumber: bill.provisionalNumber,
      registeredAt: outcome.registeredAt,
    },
    deviceAt: bill.issuedAt,
    appliedAt: r.at,
  });
  if (outOfOrder) {
    yield* raiseExceptions(d, [
      exception(
        bill,
        'fiscal_out_of_order',
        'warning',
        `bill ${bill.provisionalNumber} got fiscal number ${outcome.fiscalNumber}, not after its device's earlier bills (sequence ${String(highest)})`,
        { fiscalNumber: outcome.fiscalNumber, sequence: outcome.sequence, earlierSequence: highest },
        r,
        'order',
      ),
    ]);
  }
  const after = yield* one('SELECT * FROM fiscal_bills WHERE op_id = $1', [r.opId]);
  return { kind: 'recorded', bill: fiscalBillOf(after as Row), outOfOrder };
}

/** Every bill (of one device, or all), by device and seq. */
export function* listFiscalBills(device: string | null): SqlOperation<FiscalBill[]> {
  const rows =
    device === null
      ? yield* all('SELECT * FROM fiscal_bills ORDER BY device, seq')
      : yield* all('SELECT * FROM fiscal_bills WHERE device = $1 ORDER BY seq', [device]);
  return rows.map(fiscalBillOf);
}

/**
 * The deadline watch: each pending bill past `warnAfterMs` of its
 * jurisdiction's deadline gets a `fiscal_deadline` warning, and past the
 * deadline an alarm, each once (the stage is stored on the bill, never back
 * from missed to warning). The age counts from the earlier of the device's
 * clock and the server's enrolment. Returns how many exceptions it raised.
 */
export function* raiseFiscalDeadlines(d: SqlDialect, q: FiscalDeadlineQuery): SqlOperation<number> {
  const base = d.least('b.issued_at', 'b.enrolled_at');
  // Each bill's own deadline (its jurisdiction's, stored at enrolment) or the default; its warning at the same share.
  const deadline = 'COALESCE(b.deadline_ms, CAST($2 AS BIGINT))';
  const warnAfter = `(${deadline} * CAST($3 AS BIGINT) / CAST($2 AS BIGINT))`;
  const missedBy = `CAST($1 AS BIGINT) - ${deadline}`;
  const rows = yield* all(
    `SELECT b.*, CASE WHEN ${base} <= ${missedBy} THEN 'missed' ELSE 'warning' END AS stage
     FROM fiscal_bills b
     WHERE b.state = 'pending' AND ${base} <= CAST($1 AS BIGINT) - ${warnAfter}
       AND (b.deadline_stage IS NULL OR (b.deadline_stage = 'warning' AND ${base} <= ${missedBy}))
     ORDER BY ${base}, b.op_id LIMIT $4`,
    [q.now, q.deadlineMs, q.warnAfterMs, q.exceptionIds.length],
  );
  const records: ExceptionRecord[] = [];
  for (const [i, r] of rows.entries()) {
    const bill = fiscalBillOf(r);
    const stage = r.stage as 'warning' | 'missed';
    yield* run('UPDATE fiscal_bills SET deadline_stage = $1 WHERE op_id = $2', [stage, bill.opId]);
    const billDeadlineMs = bill.deadlineMs ?? q.deadlineMs;
    const hours = Math.round(billDeadlineMs / 3_600_000);
    const where = bill.jurisdiction === null ? '' : ` (${bill.jurisdiction})`;
    records.push({
      id: q.exceptionIds[i] as string,
      type: 'fiscal_deadline',
      severity: stage === 'missed' ? 'alarm' : 'warning',
      device: bill.device,
      opId: bill.opId,
      seq: bill.seq,
      message:
        stage === 'missed'
          ? `bill ${bill.provisionalNumber} is still not registered, past its ${hours} h registration deadline${where}`
          : `bill ${bill.provisionalNumber} is not registered yet and nears its ${hours} h registration deadline${where}`,
      detail: {
        provisionalNumber: bill.provisionalNumber,
        total: bill.total,
        currency: bill.currency,
        stage,
        deadlineHours: billDeadlineMs / 3_600_000,
        jurisdiction: bill.jurisdiction,
        attempts: bill.attempts,
        lastError: bill.lastError,
      },
      raisedAt: q.now,
      dedupeKey: `fiscal_deadline:${bill.opId}:${stage}`,
    });
  }
  return yield* raiseExceptions(d, records);
}
