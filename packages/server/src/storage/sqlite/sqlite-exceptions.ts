/**
 * SQLite: exceptions raised outside ingest (deduplicated) and operators'
 * actions on them. Every method runs inside the one connection's
 * `BEGIN IMMEDIATE` transactions, so a decision and its write are never
 * interleaved with another's.
 */
import type Database from 'better-sqlite3';
import { decideExceptionAction, exceptionView } from '../../exceptions/exception-actions.js';
import type { ExceptionRecord } from '../../model/exception.js';
import type {
  ExceptionAction,
  ExceptionActionOutcome,
  ExceptionActionRequest,
  ExceptionFilter,
  ExceptionView,
} from '../../model/exception-action.js';
import type { LedgerEvent } from '../../model/ledger-event.js';
import { int, intOrNull, type Row, textOrNull } from '../rows.js';
import type { Page } from '../storage.js';

export function toExceptionRow(r: Row): ExceptionRecord & { pos: number } {
  return {
    pos: int(r.pos),
    id: r.id as string,
    type: r.type as ExceptionRecord['type'],
    severity: r.severity as ExceptionRecord['severity'],
    device: r.device as string,
    opId: textOrNull(r.op_id),
    seq: intOrNull(r.seq),
    message: r.message as string,
    detail: JSON.parse(r.detail as string),
    raisedAt: int(r.raised_at),
    dedupeKey: r.dedupe_key as string,
  };
}

export function toExceptionAction(r: Row): ExceptionAction {
  return {
    id: r.id as string,
    exceptionId: r.exception_id as string,
    action: r.action as ExceptionAction['action'],
    note: r.note as string,
    amount: intOrNull(r.amount),
    currency: textOrNull(r.currency),
    by: r.by as string,
    at: int(r.at),
    resolves: r.resolves === true || Number(r.resolves) === 1,
  };
}

export class SqliteExceptions {
  readonly #db: Database.Database;
  readonly #statements;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#statements = {
      insertException: db.prepare(
        `INSERT OR IGNORE INTO exceptions (id, type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      exceptionById: db.prepare('SELECT * FROM exceptions WHERE id = ?'),
      actionsOf: db.prepare('SELECT * FROM exception_actions WHERE exception_id = ? ORDER BY pos'),
      actionsOfMany: db.prepare(
        'SELECT * FROM exception_actions WHERE exception_id IN (SELECT value FROM json_each(?)) ORDER BY pos',
      ),
      insertAction: db.prepare(
        `INSERT INTO exception_actions (id, exception_id, action, note, amount, currency, by, at, resolves)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      insertLedger: db.prepare(
        `INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      views: db.prepare(
        `SELECT * FROM exceptions x
         WHERE x.pos > @after AND (@type IS NULL OR x.type = @type)
           AND (@status IS NULL OR (@status = 'resolved') =
                EXISTS (SELECT 1 FROM exception_actions a WHERE a.exception_id = x.id AND a.resolves = 1))
         ORDER BY x.pos LIMIT @limit`,
      ),
    };
  }

  /** Inserts each exception unless its dedupe key (or id) is taken; inside the caller's transaction or alone. */
  insert(records: readonly ExceptionRecord[]): number {
    let added = 0;
    for (const x of records) {
      const values: unknown[] = [];
      exceptionValues(x, values);
      added += this.#statements.insertException.run(...values).changes;
    }
    return added;
  }

  recordAction(request: ExceptionActionRequest): ExceptionActionOutcome {
    const s = this.#statements;
    return this.#db
      .transaction((): ExceptionActionOutcome => {
        const row = s.exceptionById.get(request.exceptionId) as Row | undefined;
        if (!row) return { outcome: 'not_found' };
        const exception = toExceptionRow(row);
        const actions = (s.actionsOf.all(exception.id) as Row[]).map(toExceptionAction);
        const decision = decideExceptionAction(exception, actions, request);
        if (decision.outcome === 'already_resolved') {
          return { outcome: 'already_resolved', exception: exceptionView(exception, actions) };
        }
        if (decision.outcome === 'invalid') return decision;
        const a = decision.action;
        s.insertAction.run(a.id, a.exceptionId, a.action, a.note, a.amount, a.currency, a.by, a.at, a.resolves ? 1 : 0);
        if (decision.ledger) this.#insertLedger(decision.ledger);
        return { outcome: 'recorded', exception: exceptionView(exception, [...actions, a]) };
      })
      .immediate();
  }

  views(filter: ExceptionFilter): Page<ExceptionView> {
    const rows = (
      this.#statements.views.all({
        after: filter.after,
        limit: filter.limit,
        type: filter.type ?? null,
        status: filter.status ?? null,
      }) as Row[]
    ).map(toExceptionRow);
    const byException = new Map<string, ExceptionAction[]>();
    for (const r of this.#statements.actionsOfMany.all(JSON.stringify(rows.map((x) => x.id))) as Row[]) {
      const a = toExceptionAction(r);
      const list = byException.get(a.exceptionId) ?? [];
      list.push(a);
      byException.set(a.exceptionId, list);
    }
    const items = rows.map((x) => exceptionView(x, byException.get(x.id) ?? []));
    return { items, next: items.length === filter.limit ? (items[items.length - 1]?.pos ?? null) : null };
  }

  #insertLedger(e: LedgerEvent): void {
    this.#statements.insertLedger.run(
      e.opId,
      e.device,
      e.seq,
      e.type,
      e.shiftId,
      e.currency,
      e.amount,
      JSON.stringify(e.data),
      e.deviceAt,
      e.appliedAt,
    );
  }
}

/** An exception's column values, in the order of the exceptions INSERTs (here and sqlite-storage.ts). */
export function exceptionValues(x: ExceptionRecord, out: unknown[]): void {
  out.push(
    x.id,
    x.type,
    x.severity,
    x.device,
    x.opId,
    x.seq,
    x.message,
    JSON.stringify(x.detail),
    x.raisedAt,
    x.dedupeKey,
  );
}
