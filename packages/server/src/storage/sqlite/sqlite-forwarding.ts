/**
 * SQLite: the forwarder's bookkeeping beside claim and settle — backoff
 * after a transient failure, a permanent refusal, the deadline sweep's
 * candidates — and the decline-rate report.
 */
import type Database from 'better-sqlite3';
import type { DeclineReportRow } from '../../model/decline-report.js';
import type {
  DeadlineCandidate,
  DeadlineNotice,
  DeadlineQuery,
  DeferRequest,
  RefuseRequest,
} from '../../model/payment-forwarding.js';
import { DECLINE_REPORT_GROUP, DECLINE_REPORT_SELECT, declineReportRows } from '../decline-report.js';
import { refusalException, type SaleContext, saleContextOf } from '../offline-settlement.js';
import { type Row, toOfflinePayment } from '../rows.js';
import type { SqliteExceptions } from './sqlite-exceptions.js';

export class SqliteForwarding {
  readonly #db: Database.Database;
  readonly #exceptions: SqliteExceptions;
  readonly #statements;

  constructor(db: Database.Database, exceptions: SqliteExceptions) {
    this.#db = db;
    this.#exceptions = exceptions;
    this.#statements = {
      defer: db.prepare(
        `UPDATE offline_payments SET attempts = @attempts, next_attempt_at = @nextAttemptAt, last_error = @error,
           claimed_by = NULL, claim_expires_at = NULL
         WHERE op_id = @opId AND tender_index = @tenderIndex AND claimed_by = @owner
           AND settled_at IS NULL AND refused_at IS NULL`,
      ),
      paymentByKey: db.prepare('SELECT * FROM offline_payments WHERE op_id = ? AND tender_index = ?'),
      refuse: db.prepare(
        `UPDATE offline_payments SET refused_at = ?, refusal_code = ?, last_error = ?, claimed_by = NULL,
           claim_expires_at = NULL
         WHERE op_id = ? AND tender_index = ?`,
      ),
      envelope: db.prepare('SELECT envelope FROM ops WHERE id = ?'),
      // The stage each unsettled, unrefused payment is due for, unless it was reported already.
      deadlineCandidates: db.prepare(
        `SELECT o.*,
           CASE WHEN min(o.approved_at, o.received_at) <= @now - @deadlineMs THEN 'missed' ELSE 'warning' END AS stage
         FROM offline_payments o
         WHERE o.settled_at IS NULL AND o.refused_at IS NULL
           AND min(o.approved_at, o.received_at) <= @now - @warnAfterMs
           AND (o.deadline_stage IS NULL
                OR (o.deadline_stage = 'warning' AND min(o.approved_at, o.received_at) <= @now - @deadlineMs))
         ORDER BY min(o.approved_at, o.received_at), o.op_id, o.tender_index LIMIT @limit`,
      ),
      // Never back from missed to warning.
      markDeadline: db.prepare(
        `UPDATE offline_payments SET deadline_stage = @stage
         WHERE op_id = @opId AND tender_index = @tenderIndex AND (deadline_stage IS NULL OR @stage = 'missed')`,
      ),
      declineReport: db.prepare(
        `SELECT ${DECLINE_REPORT_SELECT}
         WHERE o.settled_at IS NOT NULL AND o.settled_at >= ? AND o.settled_at < ?
         ${DECLINE_REPORT_GROUP}`,
      ),
    };
  }

  /** The sale context of an op (shift, customer), read from its stored envelope. */
  saleContext(opId: string): SaleContext {
    return saleContextOf((this.#statements.envelope.get(opId) as Row | undefined)?.envelope as string | undefined);
  }

  defer(r: DeferRequest): boolean {
    return (
      this.#statements.defer.run({
        attempts: r.attempts,
        nextAttemptAt: r.nextAttemptAt,
        error: r.error,
        opId: r.payment.opId,
        tenderIndex: r.payment.tenderIndex,
        owner: r.owner,
      }).changes === 1
    );
  }

  refuse(r: RefuseRequest): boolean {
    const s = this.#statements;
    return this.#db
      .transaction((): boolean => {
        const row = s.paymentByKey.get(r.payment.opId, r.payment.tenderIndex) as Row | undefined;
        if (!row || row.settled_at !== null || row.refused_at !== null || row.claimed_by !== r.owner) return false;
        s.refuse.run(
          r.at,
          r.code,
          `refused: HTTP ${r.status} ${r.code}: ${r.message}`,
          r.payment.opId,
          r.payment.tenderIndex,
        );
        this.#exceptions.insert([refusalException(toOfflinePayment(row), r, this.saleContext(r.payment.opId))]);
        return true;
      })
      .immediate();
  }

  deadlineCandidates(q: DeadlineQuery): DeadlineCandidate[] {
    const rows = this.#statements.deadlineCandidates.all({
      now: q.now,
      deadlineMs: q.deadlineMs,
      warnAfterMs: q.warnAfterMs,
      limit: q.limit,
    }) as Row[];
    return rows.map((r) => ({ payment: toOfflinePayment(r), stage: r.stage as DeadlineCandidate['stage'] }));
  }

  raiseDeadlineExceptions(notices: readonly DeadlineNotice[]): number {
    return this.#db
      .transaction(() => {
        for (const n of notices) {
          this.#statements.markDeadline.run({
            stage: n.stage,
            opId: n.payment.opId,
            tenderIndex: n.payment.tenderIndex,
          });
        }
        return this.#exceptions.insert(notices.map((n) => n.exception));
      })
      .immediate();
  }

  declineReport(from: number, to: number): DeclineReportRow[] {
    return declineReportRows(this.#statements.declineReport.all(from, to) as Row[]);
  }
}
