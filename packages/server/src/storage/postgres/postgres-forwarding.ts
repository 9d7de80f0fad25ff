/**
 * PostgreSQL: the forwarder's bookkeeping beside claim and settle — backoff
 * after a transient failure, a permanent refusal, the deadline sweep's
 * candidates — and the decline-rate report. See the SQLite twin.
 */
import type pg from 'pg';
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
import { insertExceptions, type Transaction } from './postgres-exceptions.js';
import { type Row, toOfflinePayment } from './postgres-rows.js';

/** The sale context of an op (shift, customer), from its stored envelope, inside `client`'s transaction. */
export async function saleContext(client: pg.PoolClient, opId: string): Promise<SaleContext> {
  const { rows } = await client.query('SELECT envelope FROM ops WHERE id = $1', [opId]);
  return saleContextOf((rows[0] as Row | undefined)?.envelope as string | undefined);
}

export class PostgresForwarding {
  readonly #pool: pg.Pool;
  readonly #tx: Transaction;

  constructor(pool: pg.Pool, tx: Transaction) {
    this.#pool = pool;
    this.#tx = tx;
  }

  async defer(r: DeferRequest): Promise<boolean> {
    const res = await this.#pool.query(
      `UPDATE offline_payments SET attempts = $1, next_attempt_at = $2, last_error = $3,
         claimed_by = NULL, claim_expires_at = NULL
       WHERE op_id = $4 AND tender_index = $5 AND claimed_by = $6 AND settled_at IS NULL AND refused_at IS NULL`,
      [r.attempts, r.nextAttemptAt, r.error, r.payment.opId, r.payment.tenderIndex, r.owner],
    );
    return res.rowCount === 1;
  }

  refuse(r: RefuseRequest): Promise<boolean> {
    return this.#tx(async (client) => {
      const { rows } = await client.query(
        'SELECT * FROM offline_payments WHERE op_id = $1 AND tender_index = $2 FOR UPDATE',
        [r.payment.opId, r.payment.tenderIndex],
      );
      const row = rows[0] as Row | undefined;
      if (!row || row.settled_at !== null || row.refused_at !== null || row.claimed_by !== r.owner) return false;
      await client.query(
        `UPDATE offline_payments SET refused_at = $1, refusal_code = $2, last_error = $3, claimed_by = NULL,
           claim_expires_at = NULL
         WHERE op_id = $4 AND tender_index = $5`,
        [r.at, r.code, `refused: HTTP ${r.status} ${r.code}: ${r.message}`, r.payment.opId, r.payment.tenderIndex],
      );
      const exception = refusalException(toOfflinePayment(row), r, await saleContext(client, r.payment.opId));
      await insertExceptions(client, [exception]);
      return true;
    });
  }

  async deadlineCandidates(q: DeadlineQuery): Promise<DeadlineCandidate[]> {
    const { rows } = await this.#pool.query(
      `SELECT o.*,
         CASE WHEN least(o.approved_at, o.received_at) <= $1::bigint - $2::bigint THEN 'missed' ELSE 'warning' END
           AS stage
       FROM offline_payments o
       WHERE o.settled_at IS NULL AND o.refused_at IS NULL
         AND least(o.approved_at, o.received_at) <= $1::bigint - $3::bigint
         AND (o.deadline_stage IS NULL
              OR (o.deadline_stage = 'warning' AND least(o.approved_at, o.received_at) <= $1::bigint - $2::bigint))
       ORDER BY least(o.approved_at, o.received_at), o.op_id, o.tender_index LIMIT $4`,
      [q.now, q.deadlineMs, q.warnAfterMs, q.limit],
    );
    return rows.map((r: Row) => ({ payment: toOfflinePayment(r), stage: r.stage as DeadlineCandidate['stage'] }));
  }

  raiseDeadlineExceptions(notices: readonly DeadlineNotice[]): Promise<number> {
    if (notices.length === 0) return Promise.resolve(0);
    return this.#tx(async (client) => {
      for (const n of notices) {
        // Never back from missed to warning.
        await client.query(
          `UPDATE offline_payments SET deadline_stage = $1
           WHERE op_id = $2 AND tender_index = $3 AND (deadline_stage IS NULL OR $1 = 'missed')`,
          [n.stage, n.payment.opId, n.payment.tenderIndex],
        );
      }
      return insertExceptions(
        client,
        notices.map((n) => n.exception),
      );
    });
  }

  async declineReport(from: number, to: number): Promise<DeclineReportRow[]> {
    const { rows } = await this.#pool.query(
      `SELECT ${DECLINE_REPORT_SELECT}
       WHERE o.settled_at IS NOT NULL AND o.settled_at >= $1 AND o.settled_at < $2
       ${DECLINE_REPORT_GROUP}`,
      [from, to],
    );
    return declineReportRows(rows as Row[]);
  }
}
