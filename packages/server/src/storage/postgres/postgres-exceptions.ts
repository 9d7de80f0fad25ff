/**
 * PostgreSQL: exceptions raised outside ingest (deduplicated by their
 * unique key) and operators' actions on them. An action locks its exception
 * row (`FOR UPDATE`), so two operators acting at once, in any processes,
 * decide one after the other and the second sees the first's action; the
 * partial unique index on resolving actions is the backstop.
 */
import type pg from 'pg';
import { decideExceptionAction, exceptionView } from '../../exceptions/exception-actions.js';
import type { ExceptionRecord } from '../../model/exception.js';
import type {
  ExceptionAction,
  ExceptionActionOutcome,
  ExceptionActionRequest,
  ExceptionFilter,
  ExceptionView,
} from '../../model/exception-action.js';
import type { Page } from '../storage.js';
import { FEED_LOCK, insertLedgerEvent } from './postgres-ingest.js';
import { int, intOrNull, type Row, textOrNull, toException } from './postgres-rows.js';

export type Transaction = <T>(fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

function toAction(r: Row): ExceptionAction {
  return {
    id: r.id as string,
    exceptionId: r.exception_id as string,
    action: r.action as ExceptionAction['action'],
    note: r.note as string,
    amount: intOrNull(r.amount),
    currency: textOrNull(r.currency),
    by: r.by as string,
    at: int(r.at),
    resolves: r.resolves === true,
  };
}

/** Inserts exceptions inside `client`'s transaction, skipping taken dedupe keys; holds the feed lock shared. */
export async function insertExceptions(client: pg.PoolClient, records: readonly ExceptionRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  await client.query(`SELECT pg_advisory_xact_lock_shared(${FEED_LOCK})`);
  let added = 0;
  for (const x of records) {
    const res = await client.query(
      `INSERT INTO exceptions (id, type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
      [x.id, x.type, x.severity, x.device, x.opId, x.seq, x.message, JSON.stringify(x.detail), x.raisedAt, x.dedupeKey],
    );
    added += res.rowCount ?? 0;
  }
  return added;
}

export class PostgresExceptions {
  readonly #tx: Transaction;

  constructor(tx: Transaction) {
    this.#tx = tx;
  }

  recordAction(request: ExceptionActionRequest): Promise<ExceptionActionOutcome> {
    return this.#tx(async (client): Promise<ExceptionActionOutcome> => {
      const found = await client.query('SELECT * FROM exceptions WHERE id = $1 FOR UPDATE', [request.exceptionId]);
      const row = found.rows[0] as Row | undefined;
      if (!row) return { outcome: 'not_found' };
      const exception = toException(row);
      const actions = (
        await client.query('SELECT * FROM exception_actions WHERE exception_id = $1 ORDER BY pos', [exception.id])
      ).rows.map(toAction);
      const decision = decideExceptionAction(exception, actions, request);
      if (decision.outcome === 'already_resolved') {
        return { outcome: 'already_resolved', exception: exceptionView(exception, actions) };
      }
      if (decision.outcome === 'invalid') return decision;
      const a = decision.action;
      await client.query(
        `INSERT INTO exception_actions (id, exception_id, action, note, amount, currency, by, at, resolves)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [a.id, a.exceptionId, a.action, a.note, a.amount, a.currency, a.by, a.at, a.resolves],
      );
      if (decision.ledger) await insertLedgerEvent(client, decision.ledger);
      return { outcome: 'recorded', exception: exceptionView(exception, [...actions, a]) };
    });
  }

  /** A page of exceptions with their actions; read behind the feed lock like every feed page (pos order). */
  views(filter: ExceptionFilter): Promise<Page<ExceptionView>> {
    return this.#tx(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${FEED_LOCK})`);
      const { rows } = await client.query(
        `SELECT * FROM exceptions x
         WHERE x.pos > $1 AND ($3::text IS NULL OR x.type = $3)
           AND ($4::text IS NULL OR ($4 = 'resolved') =
                EXISTS (SELECT 1 FROM exception_actions a WHERE a.exception_id = x.id AND a.resolves))
         ORDER BY x.pos LIMIT $2`,
        [filter.after, filter.limit, filter.type ?? null, filter.status ?? null],
      );
      const exceptions = rows.map(toException);
      const actions = (
        await client.query('SELECT * FROM exception_actions WHERE exception_id = ANY ($1::text[]) ORDER BY pos', [
          exceptions.map((x) => x.id),
        ])
      ).rows.map(toAction);
      const byException = new Map<string, ExceptionAction[]>();
      for (const a of actions) byException.set(a.exceptionId, [...(byException.get(a.exceptionId) ?? []), a]);
      const items = exceptions.map((x) => exceptionView(x, byException.get(x.id) ?? []));
      return { items, next: items.length === filter.limit ? (items[items.length - 1]?.pos ?? null) : null };
    });
  }
}
