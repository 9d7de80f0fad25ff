/**
 * E-invoicing, the rest of the outbox (docs/e-invoicing.md): permanent
 * refusals, operators' actions on rejected bills, credit notes, and the
 * jurisdiction of each location. For every backend, each in one
 * transaction of the driver's.
 *
 * A credit note is claimable only after its bill is answered: a refund's
 * once the bill is registered (it names the bill's fiscal number), a
 * cancellation's once the bill is rejected and cancelled; and only the
 * oldest pending note of a bill, so a bill's notes reach the authority in
 * the order they were enrolled.
 */
import type { ExceptionRecord } from '../../../model/exception.js';
import type { ExceptionAction } from '../../../model/exception-action.js';
import type {
  FiscalAnswerRequest,
  FiscalBillAction,
  FiscalBillActionKind,
  FiscalBillActionRequest,
  FiscalBillActionResult,
  FiscalBillState,
  FiscalCreditNote,
  FiscalCreditReason,
  FiscalDeferRequest,
  FiscalJurisdictionSetting,
  FiscalNoteRecordResult,
  FiscalRefusalRequest,
} from '../../../model/fiscal-bill.js';
import { int, type Row } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { EXCEPTION_ACTIONS } from '../tables/exceptions.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';
import { raiseExceptions } from './feed-writes.js';
import { fiscalBillOf } from './fiscal-bills.js';

const intOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : int(v));
const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

const NOTE_COLUMNS = `n.*, b.fiscal_number AS bill_fiscal_number, b.provisional_number AS bill_provisional_number,
  b.seller_tax_id AS bill_seller_tax_id`;

export function fiscalCreditNoteOf(r: Row): FiscalCreditNote {
  return {
    opId: r.op_id as string,
    billOpId: r.bill_op_id as string,
    reason: r.reason as FiscalCreditReason,
    device: r.device as string,
    issuedAt: int(r.issued_at),
    currency: r.currency as string,
    total: int(r.total),
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
    billFiscalNumber: textOrNull(r.bill_fiscal_number),
    billProvisionalNumber: String(r.bill_provisional_number),
    billSellerTaxId: textOrNull(r.bill_seller_tax_id),
  };
}

function* noteById(opId: string): SqlOperation<FiscalCreditNote | null> {
  const row = yield* one(
    `SELECT ${NOTE_COLUMNS} FROM fiscal_credit_notes n JOIN fiscal_bills b ON b.op_id = n.bill_op_id
     WHERE n.op_id = $1`,
    [opId],
  );
  return row ? fiscalCreditNoteOf(row) : null;
}

/** Claims up to `limit` credit notes whose bill is answered as they need, each its bill's oldest pending note. */
export function* claimFiscalCreditNotes(
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
): SqlOperation<FiscalCreditNote[]> {
  const candidates = yield* all(
    `SELECT n.op_id FROM fiscal_credit_notes n JOIN fiscal_bills b ON b.op_id = n.bill_op_id
     WHERE n.state = 'pending' AND n.next_attempt_at <= $1
       AND (n.claimed_by IS NULL OR n.claim_expires_at <= $1)
       AND ((n.reason <> 'cancel' AND b.state = 'registered')
         OR (n.reason = 'cancel' AND b.state = 'rejected' AND b.resolution = 'cancelled'))
       AND NOT EXISTS (
         SELECT 1 FROM fiscal_credit_notes e WHERE e.bill_op_id = n.bill_op_id AND e.state = 'pending'
           AND (e.enrolled_at < n.enrolled_at OR (e.enrolled_at = n.enrolled_at AND e.op_id < n.op_id)))
     ORDER BY n.enrolled_at, n.op_id LIMIT $2`,
    [now, limit],
  );
  const claimed: FiscalCreditNote[] = [];
  for (const c of candidates) {
    const changed = yield* run(
      `UPDATE fiscal_credit_notes SET claimed_by = $1, claim_expires_at = $2
       WHERE op_id = $3 AND state = 'pending' AND (claimed_by IS NULL OR claim_expires_at <= $4)`,
      [owner, now + leaseMs, c.op_id, now],
    );
    if (changed !== 1) continue;
    const note = yield* noteById(c.op_id as string);
    if (note) claimed.push(note);
  }
  return claimed;
}

/** A transient failure of a credit note: backoff stored and the claim released, if `owner` still holds it. */
export function* deferFiscalCreditNote(r: FiscalDeferRequest): SqlOperation<boolean> {
  const changed = yield* run(
    `UPDATE fiscal_credit_notes SET attempts = $1, next_attempt_at = $2, last_error = $3, claimed_by = NULL,
       claim_expires_at = NULL
     WHERE op_id = $4 AND claimed_by = $5 AND state = 'pending'`,
    [r.attempts, r.nextAttemptAt, r.error, r.opId, r.owner],
  );
  return changed === 1;
}

function noteException(
  note: FiscalCreditNote,
  type: ExceptionRecord['type'],
  message: string,
  detail: Record<string, unknown>,
  id: string,
  at: number,
  dedupe: string,
): ExceptionRecord {
  return {
    id,
    type,
    severity: 'alarm',
    device: note.device,
    opId: note.opId,
    seq: null,
    message,
    detail: {
      creditNote: true,
      bill: note.billOpId,
      billProvisionalNumber: note.billProvisionalNumber,
      total: note.total,
      currency: note.currency,
      ...detail,
    },
    raisedAt: at,
    dedupeKey: `${type}:${note.opId}:${dedupe}`,
  };
}

/**
 * Records the authority's answer for a credit note, once, with the rules
 * of a bill's (recordFiscalAnswer): the same answer again changes nothing,
 * a different one keeps the first (fiscal_answer_conflict), a number
 * another document holds is not recorded, a rejection is an alarm.
 */
export function* recordFiscalCreditAnswer(d: SqlDialect, r: FiscalAnswerRequest): SqlOperation<FiscalNoteRecordResult> {
  const row = yield* one(`SELECT * FROM fiscal_credit_notes WHERE op_id = $1${d.forUpdate}`, [r.opId]);
  if (!row) return { kind: 'unknown_bill' };
  const note = (yield* noteById(r.opId)) as FiscalCreditNote;
  const { outcome } = r;
  const raise = (message: string, detail: Record<string, unknown>, dedupe: string) =>
    raiseExceptions(d, [noteException(note, 'fiscal_answer_conflict', message, detail, r.exceptionId, r.at, dedupe)]);
  if (note.state !== 'pending') {
    const same =
      outcome.status === 'registered'
        ? note.state === 'registered' && note.fiscalNumber === outcome.fiscalNumber
        : note.state === 'rejected' && note.rejectCode === outcome.rejectCode;
    if (same) return { kind: 'same', note };
    const got = outcome.status === 'registered' ? outcome.fiscalNumber : `rejected (${outcome.rejectCode})`;
    const kept = note.state === 'registered' ? (note.fiscalNumber as string) : `rejected (${note.rejectCode})`;
    yield* raise(
      `credit note ${note.opId} answered again as ${got}; kept the first answer, ${kept}`,
      { kept, got },
      got,
    );
    return { kind: 'conflict', note };
  }
  if (outcome.status === 'rejected') {
    yield* run(
      `UPDATE fiscal_credit_notes SET state = 'rejected', reject_code = $1, reject_reason = $2, registered_at = $3,
         claimed_by = NULL, claim_expires_at = NULL WHERE op_id = $4`,
      [outcome.rejectCode, outcome.reason, outcome.registeredAt, r.opId],
    );
    yield* raiseExceptions(d, [
      noteException(
        note,
        'fiscal_rejected',
        `the tax authority rejected credit note ${note.opId} for bill ${note.billProvisionalNumber}: ${outcome.reason}`,
        { rejectCode: outcome.rejectCode, reason: outcome.reason },
        r.exceptionId,
        r.at,
        'rejected',
      ),
    ]);
    return { kind: 'recorded', note: (yield* noteById(r.opId)) as FiscalCreditNote };
  }
  const holder =
    (yield* one('SELECT op_id FROM fiscal_bills WHERE fiscal_number = $1', [outcome.fiscalNumber])) ??
    (yield* one('SELECT op_id FROM fiscal_credit_notes WHERE fiscal_number = $1', [outcome.fiscalNumber]));
  if (holder) {
    yield* raise(
      `fiscal number ${outcome.fiscalNumber} answered for credit note ${note.opId} is already ${String(holder.op_id)}'s; not recorded`,
      { fiscalNumber: outcome.fiscalNumber, holder: holder.op_id },
      outcome.fiscalNumber,
    );
    return { kind: 'conflict', note };
  }
  yield* run(
    `UPDATE fiscal_credit_notes SET state = 'registered', fiscal_number = $1, fiscal_sequence = $2, registered_at = $3,
       claimed_by = NULL, claim_expires_at = NULL, last_error = NULL WHERE op_id = $4`,
    [outcome.fiscalNumber, outcome.sequence, outcome.registeredAt, r.opId],
  );
  return { kind: 'recorded', note: (yield* noteById(r.opId)) as FiscalCreditNote };
}

/**
 * A permanent refusal (the authority will never accept the document as
 * sent; nothing registered): no more retries, the document `rejected`
 * (bills: `refused`), a `fiscal_refused` alarm at once — if `owner` still
 * holds the claim. `table`: which outbox.
 */
export function* refuseFiscalDocument(
  d: SqlDialect,
  table: 'bill' | 'credit_note',
  r: FiscalRefusalRequest,
): SqlOperation<boolean> {
  const changed =
    table === 'bill'
      ? yield* run(
          `UPDATE fiscal_bills SET state = 'rejected', refused = 1, reject_code = $1, reject_reason = $2,
             last_error = $2, claimed_by = NULL, claim_expires_at = NULL
           WHERE op_id = $3 AND claimed_by = $4 AND state = 'pending'`,
          [r.code, r.reason, r.opId, r.owner],
        )
      : yield* run(
          `UPDATE fiscal_credit_notes SET state = 'rejected', reject_code = $1, reject_reason = $2,
             last_error = $2, claimed_by = NULL, claim_expires_at = NULL
           WHERE op_id = $3 AND claimed_by = $4 AND state = 'pending'`,
          [r.code, r.reason, r.opId, r.owner],
        );
  if (changed !== 1) return false;
  if (table === 'bill') {
    const bill = fiscalBillOf((yield* one('SELECT * FROM fiscal_bills WHERE op_id = $1', [r.opId])) as Row);
    yield* raiseExceptions(d, [
      {
        id: r.exceptionId,
        type: 'fiscal_refused',
        severity: 'alarm',
        device: bill.device,
        opId: bill.opId,
        seq: bill.seq,
        message: `the tax authority refused bill ${bill.provisionalNumber} for good (${r.code}): ${r.reason}; not retried`,
        detail: {
          provisionalNumber: bill.provisionalNumber,
          total: bill.total,
          currency: bill.currency,
          refusalCode: r.code,
          reason: r.reason,
          submission: bill.submission,
        },
        raisedAt: r.at,
        dedupeKey: `fiscal_refused:${bill.opId}:${bill.submission}`,
      },
    ]);
  } else {
    const note = (yield* noteById(r.opId)) as FiscalCreditNote;
    yield* raiseExceptions(d, [
      noteException(
        note,
        'fiscal_refused',
        `the tax authority refused credit note ${note.opId} for good (${r.code}): ${r.reason}; not retried`,
        { refusalCode: r.code, reason: r.reason },
        r.exceptionId,
        r.at,
        'refused',
      ),
    ]);
  }
  return true;
}

function fiscalBillActionOf(r: Row): FiscalBillAction {
  return {
    id: r.id as string,
    opId: r.op_id as string,
    action: r.action as FiscalBillActionKind,
    note: r.note as string,
    data: JSON.parse(r.data as string) as Record<string, unknown>,
    by: r.by as string,
    at: int(r.at),
  };
}

export function* listFiscalBillActions(opId: string): SqlOperation<FiscalBillAction[]> {
  const rows = yield* all('SELECT * FROM fiscal_bill_actions WHERE op_id = $1 ORDER BY at, id', [opId]);
  return rows.map(fiscalBillActionOf);
}

/**
 * An operator's action on a rejected (or refused) bill, audited with the
 * actor (fiscal_bill_actions) and resolving the bill's open
 * fiscal_rejected / fiscal_refused exceptions:
 *
 * - `resubmit`: back to `pending` under the next submission (a new key,
 *   since the request differs), with the corrected seller tax id if given;
 * - `cancel`: settled as `cancelled`, and a credit note (`cancel-<op id>`)
 *   enrolled that cancels it at the authority;
 * - `non_fiscal`: settled as `non_fiscal` (kept as a sale, never numbered).
 *
 * Refund credit notes waiting on a bill settled without a number can
 * never be sent: they are rejected (`bill_not_fiscal`) with it.
 */
export function* actOnFiscalBill(d: SqlDialect, r: FiscalBillActionRequest): SqlOperation<FiscalBillActionResult> {
  const row = yield* one(`SELECT * FROM fiscal_bills WHERE op_id = $1${d.forUpdate}`, [r.opId]);
  if (!row) return { kind: 'not_found' };
  const bill = fiscalBillOf(row);
  if (bill.state !== 'rejected' || bill.resolution !== null) return { kind: 'not_rejected', bill };
  const data = {
    rejectCode: bill.rejectCode,
    rejectReason: bill.rejectReason,
    refused: bill.refused,
    submission: bill.submission,
    ...(r.sellerTaxId === null ? {} : { sellerTaxId: r.sellerTaxId }),
  };
  let creditNote: string | null = null;
  if (r.action === 'resubmit') {
    yield* run(
      `UPDATE fiscal_bills SET state = 'pending', submission = submission + 1,
         seller_tax_id = COALESCE(CAST($1 AS TEXT), seller_tax_id), reject_code = NULL, reject_reason = NULL, refused = 0,
         registered_at = NULL, attempts = 0, next_attempt_at = $2, last_error = NULL
       WHERE op_id = $3`,
      [r.sellerTaxId, r.at, r.opId],
    );
  } else {
    const resolution = r.action === 'cancel' ? 'cancelled' : 'non_fiscal';
    yield* run('UPDATE fiscal_bills SET resolution = $1 WHERE op_id = $2', [resolution, r.opId]);
    yield* run(
      `UPDATE fiscal_credit_notes SET state = 'rejected', reject_code = 'bill_not_fiscal',
         reject_reason = 'its bill was settled without a fiscal number', claimed_by = NULL, claim_expires_at = NULL
       WHERE bill_op_id = $1 AND state = 'pending' AND reason <> 'cancel'`,
      [r.opId],
    );
    if (r.action === 'cancel') {
      creditNote = `cancel-${r.opId}`;
      yield* run(
        `${d.insertIgnoring.verb} INTO fiscal_credit_notes
           (op_id, bill_op_id, reason, device, issued_at, currency, total, enrolled_at, state)
         VALUES ($1, $2, 'cancel', $3, $4, $5, $6, $4, 'pending')${d.insertIgnoring.tail}`,
        [creditNote, r.opId, bill.device, r.at, bill.currency, bill.total],
      );
    }
  }
  yield* run(
    `INSERT INTO fiscal_bill_actions (id, op_id, action, note, data, by, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [r.id, r.opId, r.action, r.note, JSON.stringify(data), r.by, r.at],
  );
  // The bill's open rejection and refusal exceptions are resolved by this action (one resolution each).
  const open = yield* all(
    `SELECT x.id FROM exceptions x WHERE x.op_id = $1 AND x.type IN ('fiscal_rejected', 'fiscal_refused')
       AND NOT EXISTS (SELECT 1 FROM exception_actions a WHERE a.exception_id = x.id AND a.resolves = TRUE)
     ORDER BY x.id`,
    [r.opId],
  );
  for (const [i, x] of open.entries()) {
    const action: ExceptionAction = {
      id: `${r.id}-${i}`,
      exceptionId: x.id as string,
      action: 'acknowledged',
      note: `fiscal ${r.action}: ${r.note}`,
      amount: null,
      currency: null,
      by: r.by,
      at: r.at,
      resolves: true,
    };
    yield* run(insertSql(EXCEPTION_ACTIONS, d), valuesOf(EXCEPTION_ACTIONS, action, d));
  }
  const after = fiscalBillOf((yield* one('SELECT * FROM fiscal_bills WHERE op_id = $1', [r.opId])) as Row);
  return { kind: 'done', bill: after, actions: yield* listFiscalBillActions(r.opId), creditNote };
}

/** Every credit note (of one bill, or all), in enrolment order. */
export function* listFiscalCreditNotes(billOpId: string | null): SqlOperation<FiscalCreditNote[]> {
  const from = `SELECT ${NOTE_COLUMNS} FROM fiscal_credit_notes n JOIN fiscal_bills b ON b.op_id = n.bill_op_id`;
  const rows =
    billOpId === null
      ? yield* all(`${from} ORDER BY n.enrolled_at, n.op_id`)
      : yield* all(`${from} WHERE n.bill_op_id = $1 ORDER BY n.enrolled_at, n.op_id`, [billOpId]);
  return rows.map(fiscalCreditNoteOf);
}

/** Sets (or changes) a location's jurisdiction; bills enrolled from now on take its deadline. */
export function* setFiscalJurisdiction(s: FiscalJurisdictionSetting): SqlOperation<void> {
  yield* run(
    `INSERT INTO fiscal_jurisdictions (location, jurisdiction, set_by, set_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (location) DO UPDATE SET jurisdiction = excluded.jurisdiction, set_by = excluded.set_by,
       set_at = excluded.set_at`,
    [s.location, s.jurisdiction, s.setBy, s.setAt],
  );
}

export function* listFiscalJurisdictions(): SqlOperation<FiscalJurisdictionSetting[]> {
  const rows = yield* all('SELECT * FROM fiscal_jurisdictions ORDER BY location');
  return rows.map((r) => ({
    location: r.location as string,
    jurisdiction: r.jurisdiction as string,
    setBy: r.set_by as string,
    setAt: int(r.set_at),
  }));
}
