/**
 * The processor's own records in SQLite (better-sqlite3): every
 * authorization it ever decided, and the cards it knows.
 *
 * An authorization is stored once per idempotency key (UNIQUE), with the
 * SHA-256 of its canonical request, so a replay is told from a reused key;
 * deciding, storing and charging the card happen in one `BEGIN IMMEDIATE`
 * transaction, so two requests with one key — in this process or in another
 * on the same file — cannot both create. Authorizations are append-only
 * (triggers refuse UPDATE and DELETE): a decision is final. WAL with
 * synchronous=FULL by default: nothing is answered before it is durable.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Authorization, DeclineCode, StoredStats } from '@holdfast/processor-client';
import { canonicalJson } from '@holdfast/protocol';
import Database from 'better-sqlite3';
import type { AuthorizationRequest } from './authorization.js';
import type { CardProfile, CardState } from './knobs.js';

export const SCHEMA_VERSION = 2;

/**
 * Version 2: refunds of approved authorizations (docs/corrections.md), one
 * per idempotency key, append-only; the sum per authorization never above
 * its amount (checked in the refund's transaction).
 */
const REFUNDS_SCHEMA = `
CREATE TABLE refunds (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  idempotency_key TEXT NOT NULL UNIQUE,
  authorization_id TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX refunds_authorization ON refunds (authorization_id);
CREATE TRIGGER refunds_no_update BEFORE UPDATE ON refunds BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
CREATE TRIGGER refunds_no_delete BEFORE DELETE ON refunds BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
`;

/** A refund as stored. */
export interface StoredRefund {
  id: string;
  idempotencyKey: string;
  authorizationId: string;
  amount: number;
  currency: string;
  createdAt: number;
}

/** What asking for a refund did: created, the key's refund again, or refused (nothing stored). */
export type RefundOutcome =
  | { kind: 'created' | 'replayed'; refund: StoredRefund; refunded: number }
  | { kind: 'key_reused'; refund: StoredRefund }
  | { kind: 'not_captured'; message: string }
  | { kind: 'over_captured'; captured: number; refunded: number };

const SCHEMA = `
CREATE TABLE authorizations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  idempotency_key TEXT NOT NULL UNIQUE,
  request_hash TEXT NOT NULL,
  request_json TEXT NOT NULL,
  merchant TEXT NOT NULL,
  card_token TEXT NOT NULL,
  amount INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('approved', 'declined')),
  decline_code TEXT,
  reference TEXT,
  offline INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  response_json TEXT NOT NULL,
  CHECK ((status = 'approved') = (decline_code IS NULL))
);
CREATE INDEX authorizations_reference ON authorizations (reference) WHERE reference IS NOT NULL;
CREATE TRIGGER authorizations_no_update BEFORE UPDATE ON authorizations
  BEGIN SELECT RAISE(ABORT, 'authorizations are final'); END;
CREATE TRIGGER authorizations_no_delete BEFORE DELETE ON authorizations
  BEGIN SELECT RAISE(ABORT, 'authorizations are final'); END;
CREATE TABLE cards (
  token TEXT PRIMARY KEY,
  balance INTEGER CHECK (balance IS NULL OR balance >= 0),
  blocked INTEGER NOT NULL DEFAULT 0,
  expired INTEGER NOT NULL DEFAULT 0
);
`;

type Row = Record<string, unknown>;

/** An authorization with what it was stored under. */
export interface StoredAuthorization {
  /** Position in creation order (1, 2, 3 …): the listing cursor. */
  seq: number;
  idempotencyKey: string;
  requestHash: string;
  /** The canonical JSON of the request it answered. */
  requestJson: string;
  authorization: Authorization;
  /** The authorization exactly as answered, every time. */
  json: string;
}

/** What deciding a new authorization produced. */
export interface Decision {
  authorization: Authorization;
  /** Card token charged when approved (its balance, if limited, goes down by the amount). */
  cardToken: string;
}

export type CommitOutcome =
  | { kind: 'created'; stored: StoredAuthorization }
  | { kind: 'replayed'; stored: StoredAuthorization }
  | { kind: 'key_reused'; stored: StoredAuthorization };

export interface Page<T> {
  items: T[];
  /** Cursor for the next page, or null at the end. */
  next: number | null;
}

export interface ProcessorStorageOptions {
  /** Database file, or ':memory:' for tests. */
  path: string;
  /** FULL (default): an answered authorization survives power loss. */
  synchronous?: 'FULL' | 'NORMAL' | 'OFF';
}

export class ProcessorStorage {
  readonly #db: Database.Database;
  readonly #statements: ReturnType<typeof prepare>;

  constructor(options: ProcessorStorageOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.#db = new Database(options.path);
    try {
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      this.#db.pragma('busy_timeout = 5000');
      this.#migrate();
      this.#statements = prepare(this.#db);
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  #migrate(): void {
    const version = Number(this.#db.pragma('user_version', { simple: true }));
    if (version === SCHEMA_VERSION) return;
    if (version !== 0 && version !== 1)
      throw new Error(`processor-sim database has schema version ${version}, expected ${SCHEMA_VERSION}`);
    this.#db
      .transaction(() => {
        if (version === 0) this.#db.exec(SCHEMA);
        this.#db.exec(REFUNDS_SCHEMA);
        this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })
      .immediate();
  }

  /**
   * The one way to refund: in one transaction, the key's refund again
   * (same authorization and amount: a replay, e.g. after a lost answer;
   * otherwise the key was reused), or a new refund of the approved
   * authorization `authorizationId`, refused when it and the refunds
   * before it would pass the amount captured. The card's balance is
   * credited back.
   */
  refundOnce(
    key: string,
    ask: { id: string; authorizationId: string; amount: number; currency: string; at: number },
  ): RefundOutcome {
    return this.#db
      .transaction((): RefundOutcome => {
        const existing = this.#db.prepare('SELECT * FROM refunds WHERE idempotency_key = ?').get(key) as
          | Row
          | undefined;
        const refundedOf = (id: string) =>
          Number(
            (
              this.#db
                .prepare('SELECT coalesce(sum(amount), 0) AS n FROM refunds WHERE authorization_id = ?')
                .get(id) as Row
            ).n,
          );
        if (existing) {
          const refund = toRefund(existing);
          const same = refund.authorizationId === ask.authorizationId && refund.amount === ask.amount;
          return same
            ? { kind: 'replayed', refund, refunded: refundedOf(refund.authorizationId) }
            : { kind: 'key_reused', refund };
        }
        const captured = this.#statements.byId.get(ask.authorizationId) as Row | undefined;
        if (captured?.status !== 'approved') {
          return { kind: 'not_captured', message: `no approved authorization ${ask.authorizationId}` };
        }
        if (captured.currency !== ask.currency) {
          return {
            kind: 'not_captured',
            message: `authorization ${ask.authorizationId} is in ${String(captured.currency)}`,
          };
        }
        const before = refundedOf(ask.authorizationId);
        if (before + ask.amount > Number(captured.amount)) {
          return { kind: 'over_captured', captured: Number(captured.amount), refunded: before };
        }
        this.#db
          .prepare(
            `INSERT INTO refunds (id, idempotency_key, authorization_id, amount, currency, created_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(ask.id, key, ask.authorizationId, ask.amount, ask.currency, ask.at);
        this.#statements.charge.run(-ask.amount, captured.card_token);
        const refund = toRefund(this.#db.prepare('SELECT * FROM refunds WHERE idempotency_key = ?').get(key) as Row);
        return { kind: 'created', refund, refunded: before + ask.amount };
      })
      .immediate();
  }

  /** The refund stored under an idempotency key, and what its authorization's refunds add up to now; or null. */
  findRefundByKey(key: string): { refund: StoredRefund; refunded: number } | null {
    const row = this.#db.prepare('SELECT * FROM refunds WHERE idempotency_key = ?').get(key) as Row | undefined;
    if (!row) return null;
    const refund = toRefund(row);
    const refunded = Number(
      (
        this.#db
          .prepare('SELECT coalesce(sum(amount), 0) AS n FROM refunds WHERE authorization_id = ? AND seq <= ?')
          .get(refund.authorizationId, row.seq) as Row
      ).n,
    );
    return { refund, refunded };
  }

  /**
   * The one way to create an authorization. In one transaction: the key's
   * stored authorization (a replay when `requestHash` matches, else a reuse),
   * or `decide(card)` stored and the card charged.
   */
  authorizeOnce(
    key: string,
    requestHash: string,
    request: AuthorizationRequest,
    decide: (card: CardState | null) => Decision,
  ): CommitOutcome {
    return this.#db
      .transaction((): CommitOutcome => {
        const existing = this.#statements.byKey.get(key) as Row | undefined;
        if (existing) {
          const stored = toStored(existing);
          return { kind: stored.requestHash === requestHash ? 'replayed' : 'key_reused', stored };
        }
        const decision = decide(this.card(request.card.token));
        const a = decision.authorization;
        const json = JSON.stringify(a);
        const info = this.#statements.insert.run({
          id: a.id,
          key,
          hash: requestHash,
          request: canonicalJson(request),
          merchant: a.merchant,
          token: decision.cardToken,
          amount: a.amount,
          currency: a.currency,
          status: a.status,
          declineCode: a.declineCode ?? null,
          reference: a.reference ?? null,
          offline: a.offline ? 1 : 0,
          createdAt: a.createdAt,
          json,
        });
        if (a.status === 'approved') this.#statements.charge.run(a.amount, decision.cardToken);
        return { kind: 'created', stored: toStored(this.#statements.bySeq.get(info.lastInsertRowid) as Row) };
      })
      .immediate();
  }

  findByKey(key: string): StoredAuthorization | null {
    const row = this.#statements.byKey.get(key) as Row | undefined;
    return row ? toStored(row) : null;
  }

  findById(id: string): StoredAuthorization | null {
    const row = this.#statements.byId.get(id) as Row | undefined;
    return row ? toStored(row) : null;
  }

  /** Authorizations in creation order after `after` (a seq; 0 from the start). */
  list(after: number, limit: number): Page<StoredAuthorization> {
    const items = (this.#statements.page.all(after, limit) as Row[]).map(toStored);
    return { items, next: items.length === limit ? (items[items.length - 1]?.seq ?? null) : null };
  }

  stats(): StoredStats {
    const stats: StoredStats = {
      authorizations: 0,
      byStatus: { approved: 0, declined: 0 },
      byDeclineCode: {},
      totals: {},
      duplicateApprovedReferences: Number(this.#statements.duplicateReferences.pluck().get()),
    };
    for (const r of this.#statements.groups.all() as Row[]) {
      const count = Number(r.n);
      const amount = Number(r.total);
      const status = r.status as 'approved' | 'declined';
      stats.authorizations += count;
      stats.byStatus[status] += count;
      if (r.decline_code !== null) {
        const code = r.decline_code as DeclineCode;
        stats.byDeclineCode[code] = (stats.byDeclineCode[code] ?? 0) + count;
      }
      const currency = r.currency as string;
      stats.totals[currency] ??= { approved: { count: 0, amount: 0 }, declined: { count: 0, amount: 0 } };
      const bucket = stats.totals[currency][status];
      bucket.count += count;
      bucket.amount += amount;
    }
    return stats;
  }

  card(token: string): CardState | null {
    const row = this.#statements.card.get(token) as Row | undefined;
    if (!row) return null;
    return {
      token,
      balance: row.balance === null ? null : Number(row.balance),
      blocked: row.blocked === 1,
      expired: row.expired === 1,
    };
  }

  /**
   * Sets a card's profile: fields given replace the stored ones (a new card
   * starts unlimited, not blocked, not expired). With `onlyIfNew`, a card
   * already stored is left alone: start options seed cards without resetting
   * balances a restart must keep.
   */
  setCard(token: string, profile: CardProfile, options: { onlyIfNew?: boolean } = {}): void {
    this.#db
      .transaction(() => {
        const current = this.card(token);
        if (current && options.onlyIfNew) return;
        this.#statements.upsertCard.run({
          token,
          balance: profile.balance !== undefined ? profile.balance : (current?.balance ?? null),
          blocked: (profile.blocked ?? current?.blocked ?? false) ? 1 : 0,
          expired: (profile.expired ?? current?.expired ?? false) ? 1 : 0,
        });
      })
      .immediate();
  }

  ping(): void {
    this.#statements.ping.get();
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}

function toRefund(row: Row): StoredRefund {
  return {
    id: row.id as string,
    idempotencyKey: row.idempotency_key as string,
    authorizationId: row.authorization_id as string,
    amount: Number(row.amount),
    currency: row.currency as string,
    createdAt: Number(row.created_at),
  };
}

function toStored(row: Row): StoredAuthorization {
  const json = row.response_json as string;
  return {
    seq: Number(row.seq),
    idempotencyKey: row.idempotency_key as string,
    requestHash: row.request_hash as string,
    requestJson: row.request_json as string,
    authorization: JSON.parse(json) as Authorization,
    json,
  };
}

function prepare(db: Database.Database) {
  return {
    byKey: db.prepare('SELECT * FROM authorizations WHERE idempotency_key = ?'),
    byId: db.prepare('SELECT * FROM authorizations WHERE id = ?'),
    bySeq: db.prepare('SELECT * FROM authorizations WHERE seq = ?'),
    page: db.prepare('SELECT * FROM authorizations WHERE seq > ? ORDER BY seq LIMIT ?'),
    insert: db.prepare(
      `INSERT INTO authorizations (id, idempotency_key, request_hash, request_json, merchant, card_token, amount,
         currency, status, decline_code, reference, offline, created_at, response_json)
       VALUES (@id, @key, @hash, @request, @merchant, @token, @amount, @currency, @status, @declineCode, @reference,
         @offline, @createdAt, @json)`,
    ),
    charge: db.prepare('UPDATE cards SET balance = balance - ? WHERE token = ? AND balance IS NOT NULL'),
    card: db.prepare('SELECT * FROM cards WHERE token = ?'),
    upsertCard: db.prepare(
      `INSERT INTO cards (token, balance, blocked, expired) VALUES (@token, @balance, @blocked, @expired)
       ON CONFLICT (token) DO UPDATE SET balance = excluded.balance, blocked = excluded.blocked, expired = excluded.expired`,
    ),
    groups: db.prepare(
      `SELECT status, decline_code, currency, COUNT(*) AS n, SUM(amount) AS total
       FROM authorizations GROUP BY status, decline_code, currency`,
    ),
    duplicateReferences: db.prepare(
      `SELECT COUNT(*) FROM (SELECT reference FROM authorizations
       WHERE reference IS NOT NULL AND status = 'approved' GROUP BY reference HAVING COUNT(*) > 1)`,
    ),
    ping: db.prepare('SELECT 1'),
  };
}
