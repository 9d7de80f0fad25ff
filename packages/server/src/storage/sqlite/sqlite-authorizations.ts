/**
 * Online authorizations on SQLite (storage/authorizations.ts). One writer:
 * each method runs in one `BEGIN IMMEDIATE` transaction, so a ticket's
 * liability check and update can never interleave with another's.
 */
import type Database from 'better-sqlite3';
import type { BettingConfig } from '../../authorize/betting-config.js';
import { selectionKey } from '../../authorize/ticket-rules.js';
import type { AuthorizationFinish, AuthorizationRecord, AuthorizationSlot } from '../../model/authorization.js';
import {
  acceptedTicketOf,
  authorizationValues,
  type BettingConfigRecord,
  decidePendingTicket,
  type SelectionLiability,
  toAuthorization,
} from '../authorizations.js';
import { insertAcceptedTicket } from '../sql/operations/tickets.js';
import { sqliteDialect } from './sqlite-dialect.js';
import { SqliteDriver } from './sqlite-driver.js';

type Row = Record<string, unknown>;

export class SqliteAuthorizations {
  readonly #db: Database.Database;
  readonly #statements;
  readonly #driver: SqliteDriver;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#driver = new SqliteDriver(db);
    this.#statements = {
      insert: db.prepare(
        `INSERT INTO online_authorizations (op_id, device, kind, request_hash, request, status, authorization_id, reason,
           message, amount, currency, potential_payout, processor_id, created_at, decided_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      byId: db.prepare('SELECT * FROM online_authorizations WHERE op_id = ?'),
      byIds: db.prepare('SELECT * FROM online_authorizations WHERE op_id IN (SELECT value FROM json_each(?))'),
      finish: db.prepare(
        `UPDATE online_authorizations SET status = ?, reason = ?, message = ?, processor_id = ?, decided_at = ?
         WHERE op_id = ? AND status = 'pending'`,
      ),
      latestConfig: db.prepare('SELECT * FROM betting_configs ORDER BY version DESC LIMIT 1'),
      insertConfig: db.prepare('INSERT INTO betting_configs (version, config, updated_at) VALUES (?, ?, ?)'),
      liability: db.prepare(
        'SELECT liability FROM selection_liability WHERE currency = ? AND event = ? AND market = ? AND selection = ?',
      ),
      addLiability: db.prepare(
        `INSERT INTO selection_liability (currency, event, market, selection, liability, tickets) VALUES (?, ?, ?, ?, ?, 1)
         ON CONFLICT (currency, event, market, selection)
         DO UPDATE SET liability = liability + excluded.liability, tickets = tickets + 1`,
      ),
      liabilities: db.prepare(
        'SELECT * FROM selection_liability WHERE tickets > 0 ORDER BY currency, event, market, selection',
      ),
    };
  }

  begin(pending: AuthorizationRecord): AuthorizationSlot {
    return this.#db
      .transaction((): AuthorizationSlot => {
        const stored = this.#statements.byId.get(pending.opId) as Row | undefined;
        if (stored) return { record: toAuthorization(stored), created: false };
        this.#statements.insert.run(...authorizationValues(pending));
        return { record: pending, created: true };
      })
      .immediate();
  }

  finish(opId: string, f: AuthorizationFinish): AuthorizationRecord | null {
    return this.#db
      .transaction((): AuthorizationRecord | null => {
        this.#statements.finish.run(f.status, f.reason, f.message, f.processorId, f.decidedAt, opId);
        const row = this.#statements.byId.get(opId) as Row | undefined;
        return row ? toAuthorization(row) : null;
      })
      .immediate();
  }

  authorizeTicket(pending: AuthorizationRecord, now: number): AuthorizationSlot {
    return this.#db
      .transaction((): AuthorizationSlot => {
        const stored = this.#statements.byId.get(pending.opId) as Row | undefined;
        if (stored) return { record: toAuthorization(stored), created: false };
        if (pending.request.kind !== 'ticket') throw new Error('authorizeTicket: not a ticket request');
        const held = new Map<string, number>();
        const { currency, selections } = pending.request;
        for (const x of selections) {
          const row = this.#statements.liability.get(currency, x.event, x.market, x.selection) as Row | undefined;
          const ref = { currency, event: x.event, market: x.market, selection: x.selection };
          held.set(selectionKey(ref), row ? Number(row.liability) : 0);
        }
        const decided = decidePendingTicket(pending, this.#config()?.config ?? null, held, now);
        this.#statements.insert.run(...authorizationValues(decided.record));
        for (const { ref, amount } of decided.adds) {
          this.#statements.addLiability.run(ref.currency, ref.event, ref.market, ref.selection, amount);
        }
        if (decided.record.status === 'approved') {
          const ticket = acceptedTicketOf(decided.record, now);
          this.#driver.autocommit(insertAcceptedTicket(sqliteDialect, ticket, pending.createdAt));
        }
        return { record: decided.record, created: true };
      })
      .immediate();
  }

  get(opIds: readonly string[]): AuthorizationRecord[] {
    if (opIds.length === 0) return [];
    return (this.#statements.byIds.all(JSON.stringify(opIds)) as Row[]).map(toAuthorization);
  }

  setConfig(config: BettingConfig, now: number): BettingConfigRecord {
    return this.#db
      .transaction((): BettingConfigRecord => {
        const version = (this.#config()?.version ?? 0) + 1;
        this.#statements.insertConfig.run(version, JSON.stringify(config), now);
        return { version, config, updatedAt: now };
      })
      .immediate();
  }

  getConfig(): BettingConfigRecord | null {
    return this.#config();
  }

  #config(): BettingConfigRecord | null {
    const row = this.#statements.latestConfig.get() as Row | undefined;
    return row
      ? { version: Number(row.version), config: JSON.parse(row.config as string), updatedAt: Number(row.updated_at) }
      : null;
  }

  liabilities(): SelectionLiability[] {
    return (this.#statements.liabilities.all() as Row[]).map((r) => ({
      currency: r.currency as string,
      event: r.event as string,
      market: r.market as string,
      selection: r.selection as string,
      liability: Number(r.liability),
      tickets: Number(r.tickets),
    }));
  }
}
