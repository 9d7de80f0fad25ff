/**
 * The forwarder's writes on offline payments, for every backend: settling
 * (the processor's answer, once), backing off after a transient failure,
 * a permanent refusal, and recording deadline stages. Each runs in one
 * transaction of the driver's; the payment row is read `forUpdate`, so in
 * PostgreSQL two processes settling or refusing one payment decide one
 * after the other.
 */
import type { InjectedBugs } from '@holdfast/domain';
import type { DeclineReportRow } from '../../../model/decline-report.js';
import { offlinePaymentState } from '../../../model/offline-payment.js';
import type {
  DeadlineCandidate,
  DeadlineNotice,
  DeadlineQuery,
  DeferRequest,
  RefuseRequest,
  SettleOutcome,
  SettleRequest,
} from '../../../model/payment-forwarding.js';
import { DECLINE_REPORT_GROUP, DECLINE_REPORT_SELECT, declineReportRows } from '../../decline-report.js';
import {
  refusalException,
  type SaleContext,
  saleContextOf,
  settlementWrites,
  storedSettlement,
} from '../../offline-settlement.js';
import type { SqlDialect } from '../dialect.js';
import { forwardable, settled, unconfirmed } from '../offline-payment-states.js';
import { offlinePaymentOf, settlementColumnsOf } from '../tables/offline-payments.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';
import { appendLedgerEvent, raiseExceptions } from './feed-writes.js';

const PAYMENT_BY_KEY = 'SELECT * FROM offline_payments WHERE op_id = $1 AND tender_index = $2';

/** The sale context of an op (shift, customer), read from its stored envelope. */
export function* saleContext(opId: string): SqlOperation<SaleContext> {
  const row = yield* one('SELECT envelope FROM ops WHERE id = $1', [opId]);
  return saleContextOf(row?.envelope as string | undefined);
}

/** Records the processor's answer once (see Storage.settleOfflinePayment). */
export function* settleOfflinePayment(
  d: SqlDialect,
  request: SettleRequest,
  bugs: InjectedBugs,
): SqlOperation<SettleOutcome | null> {
  const { opId, tenderIndex } = request.payment;
  const row = yield* one(`${PAYMENT_BY_KEY}${d.forUpdate}`, [opId, tenderIndex]);
  if (!row) return null;
  const stored = storedSettlement(settlementColumnsOf(row));
  if (stored) return { settlement: stored, settledNow: false };
  const { settlement } = request;
  yield* run(
    `UPDATE offline_payments SET settled_at = $1, outcome = $2, processor_id = $3, decline_code = $4, settled_by = $5,
       claimed_by = NULL, claim_expires_at = NULL
     WHERE op_id = $6 AND tender_index = $7 AND ${unconfirmed()}`,
    [
      settlement.at,
      settlement.status,
      settlement.processorId,
      settlement.declineCode ?? null,
      request.owner,
      opId,
      tenderIndex,
    ],
  );
  const sale = yield* saleContext(opId);
  const { ledger, exception } = settlementWrites(offlinePaymentOf(row), request, sale, bugs);
  yield* appendLedgerEvent(d, ledger);
  if (exception) yield* raiseExceptions(d, [exception]);
  return { settlement, settledNow: true };
}

/** A transient failure: backoff stored and the claim released, if `owner` holds it (see Storage.deferOfflinePayment). */
export function* deferOfflinePayment(r: DeferRequest): SqlOperation<boolean> {
  const changed = yield* run(
    `UPDATE offline_payments SET attempts = $1, next_attempt_at = $2, last_error = $3,
       claimed_by = NULL, claim_expires_at = NULL
     WHERE op_id = $4 AND tender_index = $5 AND claimed_by = $6 AND ${forwardable()}`,
    [r.attempts, r.nextAttemptAt, r.error, r.payment.opId, r.payment.tenderIndex, r.owner],
  );
  return changed === 1;
}

/** A permanent refusal, once, with its alarm (see Storage.refuseOfflinePayment). */
export function* refuseOfflinePayment(d: SqlDialect, r: RefuseRequest): SqlOperation<boolean> {
  const { opId, tenderIndex } = r.payment;
  const row = yield* one(`${PAYMENT_BY_KEY}${d.forUpdate}`, [opId, tenderIndex]);
  if (!row || row.claimed_by !== r.owner) return false;
  const payment = offlinePaymentOf(row);
  if (offlinePaymentState(payment).state !== 'unsettled') return false;
  yield* run(
    `UPDATE offline_payments SET refused_at = $1, refusal_code = $2, last_error = $3, claimed_by = NULL,
       claim_expires_at = NULL
     WHERE op_id = $4 AND tender_index = $5`,
    [r.at, r.code, `refused: HTTP ${r.status} ${r.code}: ${r.message}`, opId, tenderIndex],
  );
  yield* raiseExceptions(d, [refusalException(payment, r, yield* saleContext(opId))]);
  return true;
}

/** Deadline stages recorded and their exceptions raised (see Storage.raiseDeadlineExceptions). */
export function* raiseDeadlineExceptions(d: SqlDialect, notices: readonly DeadlineNotice[]): SqlOperation<number> {
  for (const n of notices) {
    // Never back from missed to warning.
    yield* run(
      `UPDATE offline_payments SET deadline_stage = $1
       WHERE op_id = $2 AND tender_index = $3 AND (deadline_stage IS NULL OR CAST($4 AS TEXT) = 'missed')`,
      [n.stage, n.payment.opId, n.payment.tenderIndex, n.stage],
    );
  }
  return yield* raiseExceptions(
    d,
    notices.map((n) => n.exception),
  );
}

/**
 * Unsettled, unrefused payments due for a deadline stage not recorded on
 * them yet, oldest first; the age counts from the earlier of device time
 * and receipt (see Storage.listDeadlineCandidates).
 */
export function* deadlineCandidates(d: SqlDialect, q: DeadlineQuery): SqlOperation<DeadlineCandidate[]> {
  const base = d.least('o.approved_at', 'o.received_at');
  const missedBy = 'CAST($1 AS BIGINT) - CAST($2 AS BIGINT)';
  const rows = yield* all(
    `SELECT o.*, CASE WHEN ${base} <= ${missedBy} THEN 'missed' ELSE 'warning' END AS stage
     FROM offline_payments o
     WHERE ${forwardable('o')}
       AND ${base} <= CAST($1 AS BIGINT) - CAST($3 AS BIGINT)
       AND (o.deadline_stage IS NULL OR (o.deadline_stage = 'warning' AND ${base} <= ${missedBy}))
     ORDER BY ${base}, o.op_id, o.tender_index LIMIT $4`,
    [q.now, q.deadlineMs, q.warnAfterMs, q.limit],
  );
  return rows.map((r) => ({ payment: offlinePaymentOf(r), stage: r.stage as DeadlineCandidate['stage'] }));
}

/** Settled payments with `from <= settledAt < to`, per UTC day, placement and currency. */
export function* declineReport(from: number, to: number): SqlOperation<DeclineReportRow[]> {
  const rows = yield* all(
    `SELECT ${DECLINE_REPORT_SELECT}
     WHERE ${settled('o')} AND o.settled_at >= $1 AND o.settled_at < $2
     ${DECLINE_REPORT_GROUP}`,
    [from, to],
  );
  return declineReportRows(rows);
}
