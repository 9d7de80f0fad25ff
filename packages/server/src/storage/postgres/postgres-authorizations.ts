/**
 * Online authorizations on PostgreSQL (storage/authorizations.ts).
 *
 * A ticket is decided in one READ COMMITTED transaction:
 *
 *   INSERT the row as pending ... ON CONFLICT (op_id) DO NOTHING
 *       └─ conflict: the op id is taken (a concurrent request with the same
 *          op id waits here until the other commits) → return the stored row
 *   INSERT the selections' liability rows if absent, in selectionKey order
 *   SELECT ... FOR UPDATE those rows, in the same order (no deadlock)
 *   decide (pure), UPDATE the row to final, add the liability
 *   COMMIT
 *
 * Two terminals selling on one selection at once queue on its row lock; the
 * second decides against the first's committed liability, so the cap holds.
 */
import type pg from 'pg';
import type { BettingConfig } from '../../authorize/betting-config.js';
import { selectionKey, ticketSelections } from '../../authorize/ticket-rules.js';
import type { AuthorizationFinish, AuthorizationRecord, AuthorizationSlot } from '../../model/authorization.js';
import {
  acceptedTicketOf,
  authorizationValues,
  type BettingConfigRecord,
  decidePendingTicket,
  type SelectionLiability,
  toAuthorization,
} from '../authorizations.js';
import { int, type Row } from '../rows.js';
import { insertAcceptedTicket } from '../sql/operations/tickets.js';
import { postgresDialect } from './postgres-dialect.js';
import { PostgresDriver } from './postgres-driver.js';

type Tx = <T>(fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

const INSERT = `INSERT INTO online_authorizations (op_id, device, kind, request_hash, request, status, authorization_id,
    reason, message, amount, currency, potential_payout, processor_id, created_at, decided_at)
  VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
  ON CONFLICT (op_id) DO NOTHING RETURNING op_id`;

export class PostgresAuthorizations {
  readonly #tx: Tx;
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool, tx: Tx) {
    this.#pool = pool;
    this.#tx = tx;
  }

  begin(pending: AuthorizationRecord): Promise<AuthorizationSlot> {
    return this.#tx(async (client) => {
      const inserted = await client.query(INSERT, authorizationValues(pending));
      if (inserted.rowCount === 1) return { record: pending, created: true };
      return { record: await this.#stored(client, pending.opId), created: false };
    });
  }

  finish(opId: string, f: AuthorizationFinish): Promise<AuthorizationRecord | null> {
    return this.#tx(async (client) => {
      await client.query(
        `UPDATE online_authorizations SET status = $1, reason = $2, message = $3, processor_id = $4, decided_at = $5
         WHERE op_id = $6 AND status = 'pending'`,
        [f.status, f.reason, f.message, f.processorId, f.decidedAt, opId],
      );
      const { rows } = await client.query('SELECT * FROM online_authorizations WHERE op_id = $1', [opId]);
      return rows[0] ? toAuthorization(rows[0] as Row) : null;
    });
  }

  authorizeTicket(pending: AuthorizationRecord, now: number): Promise<AuthorizationSlot> {
    return this.#tx(async (client) => {
      if (pending.request.kind !== 'ticket') throw new Error('authorizeTicket: not a ticket request');
      const inserted = await client.query(INSERT, authorizationValues(pending));
      if (inserted.rowCount !== 1) return { record: await this.#stored(client, pending.opId), created: false };
      const refs = ticketSelections(pending.request);
      const cols = [refs.map((r) => r.currency), refs.map((r) => r.event), refs.map((r) => r.market)];
      const sels = refs.map((r) => r.selection);
      await client.query(
        `INSERT INTO selection_liability (currency, event, market, selection, liability, tickets)
         SELECT t.c, t.e, t.m, t.s, 0, 0 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
           WITH ORDINALITY AS t(c, e, m, s, n)
         ORDER BY t.n
         ON CONFLICT DO NOTHING`,
        [...cols, sels],
      );
      const held = new Map<string, number>();
      // One statement per row, in selectionKey order: the lock order is the same for every ticket.
      for (const ref of refs) {
        const { rows } = await client.query(
          `SELECT liability FROM selection_liability
           WHERE currency = $1 AND event = $2 AND market = $3 AND selection = $4 FOR UPDATE`,
          [ref.currency, ref.event, ref.market, ref.selection],
        );
        held.set(selectionKey(ref), int((rows[0] as Row).liability));
      }
      const config = await this.#config(client);
      const decided = decidePendingTicket(pending, config?.config ?? null, held, now);
      const r = decided.record;
      await client.query(
        `UPDATE online_authorizations SET status = $1, reason = $2, message = $3, potential_payout = $4, decided_at = $5
         WHERE op_id = $6`,
        [r.status, r.reason, r.message, r.potentialPayout, r.decidedAt, r.opId],
      );
      for (const { ref, amount } of decided.adds) {
        await client.query(
          `UPDATE selection_liability SET liability = liability + $5, tickets = tickets + 1
           WHERE currency = $1 AND event = $2 AND market = $3 AND selection = $4`,
          [ref.currency, ref.event, ref.market, ref.selection, amount],
        );
      }
      if (r.status === 'approved') {
        await PostgresDriver.run(
          client,
          insertAcceptedTicket(postgresDialect, acceptedTicketOf(r, now), pending.createdAt),
        );
      }
      return { record: r, created: true };
    });
  }

  async get(opIds: readonly string[]): Promise<AuthorizationRecord[]> {
    if (opIds.length === 0) return [];
    const { rows } = await this.#pool.query('SELECT * FROM online_authorizations WHERE op_id = ANY ($1::text[])', [
      [...opIds],
    ]);
    return (rows as Row[]).map(toAuthorization);
  }

  /** Inside an ingest transaction: the authorizations the batch's ops claim, as facts for the planner. */
  static async load(client: pg.PoolClient, opIds: readonly string[]): Promise<AuthorizationRecord[]> {
    if (opIds.length === 0) return [];
    const { rows } = await client.query('SELECT * FROM online_authorizations WHERE op_id = ANY ($1::text[])', [
      [...opIds],
    ]);
    return (rows as Row[]).map(toAuthorization);
  }

  setConfig(config: BettingConfig, now: number): Promise<BettingConfigRecord> {
    return this.#tx(async (client) => {
      // Concurrent setters: the primary key makes one of them fail and #transaction runs it again.
      const version = ((await this.#config(client))?.version ?? 0) + 1;
      await client.query('INSERT INTO betting_configs (version, config, updated_at) VALUES ($1, $2::jsonb, $3)', [
        version,
        JSON.stringify(config),
        now,
      ]);
      return { version, config, updatedAt: now };
    });
  }

  async getConfig(): Promise<BettingConfigRecord | null> {
    const client = await this.#pool.connect();
    try {
      return await this.#config(client);
    } finally {
      client.release();
    }
  }

  async #config(client: pg.PoolClient): Promise<BettingConfigRecord | null> {
    const { rows } = await client.query('SELECT * FROM betting_configs ORDER BY version DESC LIMIT 1');
    const row = rows[0] as Row | undefined;
    return row
      ? { version: int(row.version), config: row.config as BettingConfig, updatedAt: int(row.updated_at) }
      : null;
  }

  async #stored(client: pg.PoolClient, opId: string): Promise<AuthorizationRecord> {
    const { rows } = await client.query('SELECT * FROM online_authorizations WHERE op_id = $1', [opId]);
    return toAuthorization(rows[0] as Row);
  }

  async liabilities(): Promise<SelectionLiability[]> {
    const { rows } = await this.#pool.query(
      'SELECT * FROM selection_liability WHERE tickets > 0 ORDER BY currency, event, market, selection',
    );
    return (rows as Row[]).map((r) => ({
      currency: r.currency as string,
      event: r.event as string,
      market: r.market as string,
      selection: r.selection as string,
      liability: int(r.liability),
      tickets: int(r.tickets),
    }));
  }
}
