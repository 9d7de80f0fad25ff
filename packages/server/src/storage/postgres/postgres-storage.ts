/**
 * The PostgreSQL storage backend (node-postgres): for production, with any
 * number of stateless server processes on one database.
 *
 * Nothing here depends on process memory for correctness. A batch is one
 * transaction that locks its device row (`FOR UPDATE`), so batches of one
 * device are applied one at a time across every process, and each sees what
 * the one before it committed; op ids are a primary key, so two devices
 * sending one op id cannot both store it. A transaction that loses such a
 * race (unique violation, serialization failure, deadlock) is rolled back
 * and run again from the start, a bounded number of times, and then sees
 * the winner's row: the planner answers `duplicate` or `conflict`.
 *
 * Feeds (ledger, exceptions) are paged by an identity `pos`; FEED_LOCK
 * (postgres-ingest.ts) keeps a reader from paging past a row that commits
 * later with a smaller `pos`.
 */

import { type InjectedBugs, NO_INJECTED_BUGS } from '@holdfast/domain';
import type { DeviceStatus, Placement, SignedPolicy } from '@holdfast/protocol';
import { GENESIS_HASH, ProtocolError } from '@holdfast/protocol';
import pg from 'pg';
import { decideRedemption } from '../../enrollment.js';
import { onlineClaimIds, planIngest } from '../../ingest/plan-ingest.js';
import type { AuthorizationFinish, AuthorizationRecord, AuthorizationSlot } from '../../model/authorization.js';
import type { IngestOutcome, StoredOp, VerifiedBatch } from '../../model/batch.js';
import type { DeclineReportRow } from '../../model/decline-report.js';
import type { DeviceRecord } from '../../model/device.js';
import type { DeviceFeedPage } from '../../model/device-feed.js';
import type { EnrollmentTokenRecord, RedeemOutcome, RedeemRequest } from '../../model/enrollment.js';
import type { ExceptionRecord } from '../../model/exception.js';
import type {
  ExceptionActionOutcome,
  ExceptionActionRequest,
  ExceptionFilter,
  ExceptionView,
} from '../../model/exception-action.js';
import type { ExposureActual } from '../../model/exposure.js';
import type { LedgerEvent } from '../../model/ledger-event.js';
import type { ClaimedOfflinePayment, StoredOfflinePayment } from '../../model/offline-payment.js';
import type {
  DeadlineCandidate,
  DeadlineNotice,
  DeadlineQuery,
  DeferRequest,
  RefuseRequest,
  SettleOutcome,
  SettleRequest,
} from '../../model/payment-forwarding.js';
import type { PolicyFilter, PolicyIssueRequest, PolicyIssueSlot, ServerKeyRecord } from '../../model/policy.js';
import type { ShiftRecord } from '../../model/shift.js';
import type { StoreSummary } from '../../model/summary.js';
import type {
  UnblockOutcome,
  UnblockRequest,
  WalletAccountRecord,
  WalletFilter,
  WalletView,
} from '../../model/wallet.js';
import { signIssued } from '../../risk-policies.js';
import { walletRefs } from '../../wallets/wallet-plan.js';
import { unblockWrites } from '../../wallets/wallet-records.js';
import type { BettingConfig, BettingConfigRecord, SelectionLiability } from '../authorizations.js';
import { deviceStatusOf } from '../device-status.js';
import { settlementWrites, storedSettlement } from '../offline-settlement.js';
import { policyScopeKey, sortExposureActual } from '../policy-records.js';
import type { Page, Storage } from '../storage.js';
import { loadApprovalFacts } from './postgres-approvals.js';
import { PostgresAuthorizations } from './postgres-authorizations.js';
import { PostgresExceptions } from './postgres-exceptions.js';
import { readDeviceFeed } from './postgres-feed.js';
import { PostgresForwarding, saleContext } from './postgres-forwarding.js';
import { FEED_LOCK, insertLedgerEvent, loadFacts, writePlan } from './postgres-ingest.js';
import {
  DEVICE_COLUMNS,
  DEVICE_FROM,
  int,
  intOrNull,
  type Row,
  settlementColumns,
  textOrNull,
  toDevice,
  toException,
  toLedgerEvent,
  toOfflinePayment,
  toServerKey,
  toShift,
  toStoredOp,
  toToken,
} from './postgres-rows.js';
import { POSTGRES_MIGRATIONS } from './postgres-schema.js';
import {
  listWallets,
  loadWalletFacts,
  lockWallets,
  upsertWallet,
  walletView,
  writeWallets,
} from './postgres-wallets.js';

/** Connections per pool unless told otherwise; see docs/operations.md for sizing. */
export const DEFAULT_POOL_SIZE = 10;
/** Tries of one transaction that keeps losing races before the error goes to the caller. */
const MAX_ATTEMPTS = 6;
/** SQLSTATEs after which running the whole transaction again is correct and useful. */
const RETRYABLE = new Set(['23505', '40001', '40P01']);
/** Advisory lock key held while migrating ("Holdmigr"). */
const MIGRATION_LOCK = 0x486f_6c64_6d69_6772n;
/**
 * Advisory lock key held while issuing a policy ("Holdpoli"): issuers queue,
 * each reads the slot (next version, latest issuedAt) after the one before
 * committed. Issuing is rare; one lock for every scope is plenty.
 */
const POLICY_LOCK = 0x486f_6c64_706f_6c69n;

export interface PostgresStorageOptions {
  /** `postgres://user[:password]@host[:port]/database[?…]`; libpq variables (PGPASSWORD, …) fill what it leaves out. */
  connectionString: string;
  /** node-postgres pool settings (`max`, timeouts, `ssl`, …); default max DEFAULT_POOL_SIZE. */
  pool?: Omit<pg.PoolConfig, 'connectionString'>;
  /**
   * Tests only: awaited inside each ingest transaction after its writes,
   * before COMMIT, to hold a transaction open at a chosen moment.
   */
  beforeCommit?: (batch: VerifiedBatch) => Promise<void> | void;
  /** Deliberate bugs this storage runs with (the simulator's bug-injection runs only); default none. */
  bugs?: InjectedBugs;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function retryable(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code !== undefined && RETRYABLE.has(error.code);
}

export class PostgresStorage implements Storage {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #beforeCommit: PostgresStorageOptions['beforeCommit'];
  readonly #bugs: InjectedBugs;
  readonly #exceptions: PostgresExceptions;
  readonly #forwarding: PostgresForwarding;
  #closed = false;
  readonly #auth: PostgresAuthorizations;

  constructor(options: PostgresStorageOptions) {
    this.#pool = new pg.Pool({
      max: DEFAULT_POOL_SIZE,
      connectionTimeoutMillis: 10_000,
      application_name: 'holdfast',
      ...options.pool,
      connectionString: options.connectionString,
    });
    // An idle connection that breaks (database restart, network) is dropped by the pool;
    // without a listener its error would crash the process. The next query reconnects.
    this.#pool.on('error', () => undefined);
    this.#beforeCommit = options.beforeCommit;
    this.#bugs = options.bugs ?? NO_INJECTED_BUGS;
    this.#auth = new PostgresAuthorizations(this.#pool, (fn) => this.#transaction(fn));
    const tx = <T>(fn: (client: pg.PoolClient) => Promise<T>) => this.#transaction(fn);
    this.#exceptions = new PostgresExceptions(tx);
    this.#forwarding = new PostgresForwarding(this.#pool, tx);
  }

  /** Runs the pending migrations, one transaction each, while holding the migration lock. */
  async migrate(): Promise<void> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
      try {
        await client.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
        );
        const applied = new Set(
          (await client.query('SELECT version FROM schema_migrations')).rows.map((r: Row) => int(r.version)),
        );
        for (const [index, sql] of POSTGRES_MIGRATIONS.entries()) {
          const version = index + 1;
          if (applied.has(version)) continue;
          try {
            await client.query('BEGIN');
            await client.query(sql);
            await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
              version,
              Date.now(),
            ]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
        }
      } finally {
        await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`).catch((error: Error) => {
          broken = error; // a session lock must not go back to the pool with the connection
        });
      }
    } finally {
      client.release(broken);
    }
  }

  /** The highest migration applied (0 before the first). */
  async schemaVersion(): Promise<number> {
    const { rows } = await this.#pool.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations');
    return int((rows[0] as Row).v);
  }

  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  /**
   * Runs `fn` in a transaction (READ COMMITTED), again from the start after
   * a retryable error, with a short random pause so racers fall apart.
   */
  async #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.#pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const value = await fn(client);
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        if (attempt >= MAX_ATTEMPTS || !retryable(error)) throw error;
      } finally {
        client.release(broken);
      }
      await sleep(Math.random() * 5 * attempt);
    }
  }

  async insertEnrollmentToken(t: EnrollmentTokenRecord): Promise<void> {
    await this.#pool.query(
      `INSERT INTO enrollment_tokens (id, token_hash, label, created_at, expires_at, used_at, device_id, public_key,
                                      merchant, location, event)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        t.id,
        t.tokenHash,
        t.label,
        t.createdAt,
        t.expiresAt,
        t.usedAt,
        t.deviceId,
        t.publicKey,
        t.merchant,
        t.location,
        t.event,
      ],
    );
  }

  /**
   * The token row is locked, so one token redeemed twice at once is decided
   * once; one key redeeming two tokens at once trips the unique public key,
   * and the retry answers key_already_enrolled.
   */
  async redeemEnrollmentToken(r: RedeemRequest): Promise<RedeemOutcome> {
    return this.#transaction(async (client): Promise<RedeemOutcome> => {
      const tokenRows = await client.query('SELECT * FROM enrollment_tokens WHERE token_hash = $1 FOR UPDATE', [
        r.tokenHash,
      ]);
      const token = tokenRows.rows[0] ? toToken(tokenRows.rows[0] as Row) : null;
      const decision = decideRedemption(token, r.publicKey, r.now);
      if (decision === 'already_enrolled') {
        const device = await client.query(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.id = $1`, [
          token?.deviceId,
        ]);
        if (!device.rows[0]) return { outcome: 'token_invalid' };
        return { outcome: 'already_enrolled', device: toDevice(device.rows[0] as Row) };
      }
      if (decision !== 'redeem') return { outcome: decision };
      const byKey = await client.query('SELECT id FROM devices WHERE public_key = $1', [r.publicKey]);
      if (byKey.rows.length > 0) return { outcome: 'key_already_enrolled' };
      const label = r.label ?? token?.label ?? `device-${r.newDeviceId.slice(-8)}`;
      const inserted = await client.query(
        `INSERT INTO devices (id, label, public_key, enrolled_at, head_hash) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [r.newDeviceId, label, r.publicKey, r.now, GENESIS_HASH],
      );
      const placement = {
        merchant: token?.merchant ?? null,
        location: token?.merchant != null ? token.location : null,
        event: token?.merchant != null ? token.event : null,
      };
      if (placement.merchant !== null) {
        await client.query(
          'INSERT INTO device_placements (device, merchant, location, event, placed_at) VALUES ($1, $2, $3, $4, $5)',
          [r.newDeviceId, placement.merchant, placement.location, placement.event, r.now],
        );
      }
      await client.query('UPDATE enrollment_tokens SET used_at = $1, device_id = $2, public_key = $3 WHERE id = $4', [
        r.now,
        r.newDeviceId,
        r.publicKey,
        token?.id,
      ]);
      return { outcome: 'enrolled', device: { ...toDevice(inserted.rows[0] as Row), ...placement } };
    });
  }

  async getDevice(id: string): Promise<DeviceRecord | null> {
    const { rows } = await this.#pool.query(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.id = $1`, [id]);
    return rows[0] ? toDevice(rows[0] as Row) : null;
  }

  async listDevices(): Promise<DeviceRecord[]> {
    const { rows } = await this.#pool.query(
      `SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} ORDER BY d.enrolled_at, d.id`,
    );
    return rows.map(toDevice);
  }

  async revokeDevice(id: string, reason: string, now: number): Promise<DeviceRecord | null> {
    const { rows } = await this.#pool.query(
      `WITH d AS (
         UPDATE devices SET revoked_at = COALESCE(revoked_at, $1), revoke_reason = COALESCE(revoke_reason, $2)
         WHERE id = $3 RETURNING *)
       SELECT ${DEVICE_COLUMNS} FROM d LEFT JOIN device_placements p ON p.device = d.id`,
      [now, reason, id],
    );
    return rows[0] ? toDevice(rows[0] as Row) : null;
  }

  async setDevicePlacement(id: string, placement: Placement, now: number): Promise<DeviceRecord | null> {
    await this.#pool.query(
      `INSERT INTO device_placements (device, merchant, location, event, placed_at)
       SELECT id, $2, $3, $4, $5 FROM devices WHERE id = $1
       ON CONFLICT (device) DO UPDATE SET
         merchant = excluded.merchant, location = excluded.location, event = excluded.event, placed_at = excluded.placed_at`,
      [id, placement.merchant, placement.location, placement.event, now],
    );
    return this.getDevice(id);
  }

  async deviceStatus(id: string): Promise<DeviceStatus | null> {
    const rows = await this.#statusRows('WHERE d.id = $1', [id]);
    return rows[0] ?? null;
  }

  async listDeviceStatuses(): Promise<DeviceStatus[]> {
    return this.#statusRows('', []);
  }

  async #statusRows(where: string, params: unknown[]): Promise<DeviceStatus[]> {
    const { rows } = await this.#pool.query(
      `SELECT ${DEVICE_COLUMNS},
         (SELECT count(*) FROM exceptions x WHERE x.device = d.id AND x.type = 'conflict') AS conflicts,
         (SELECT count(*) FROM exceptions x WHERE x.device = d.id AND x.type = 'fork') AS forks
       FROM ${DEVICE_FROM} ${where} ORDER BY d.enrolled_at, d.id`,
      params,
    );
    return rows.map((r: Row) => deviceStatusOf(toDevice(r), int(r.conflicts), int(r.forks)));
  }

  async ingest(batch: VerifiedBatch, now: number, newId: () => string): Promise<IngestOutcome> {
    return this.#transaction(async (client) => {
      const locked = await client.query({
        name: 'holdfast_ingest_device',
        text: `SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.id = $1 FOR UPDATE OF d`,
        values: [batch.device],
      });
      if (!locked.rows[0]) throw new ProtocolError('unknown_device', `device ${batch.device} is not enrolled`);
      const device = toDevice(locked.rows[0] as Row);
      if (device.revokedAt !== null) {
        throw new ProtocolError('device_revoked', `device ${device.id} was revoked: ${device.revokeReason ?? ''}`);
      }
      const facts = await loadFacts(client, batch, device);
      const approvals = await loadApprovalFacts(client, batch, device.id);
      const claims = onlineClaimIds(batch.ops);
      if (claims.length > 0) {
        const stored = await PostgresAuthorizations.load(client, claims);
        Object.assign(facts, { authorizations: new Map(stored.map((a) => [a.opId, a])) });
      }
      const wallets = await loadWalletFacts(client, walletRefs(batch.ops));
      const plan = planIngest(batch, { device, ...facts, wallets, ...(approvals ? { approvals } : {}) }, now, newId);
      await writePlan(client, batch, plan, device.id, now);
      await writeWallets(client, plan);
      await this.#beforeCommit?.(batch);
      return { results: plan.results, highWater: plan.device.highWater };
    });
  }

  async getOp(id: string): Promise<StoredOp | null> {
    const { rows } = await this.#pool.query('SELECT envelope, hash, result, received_at FROM ops WHERE id = $1', [id]);
    return rows[0] ? toStoredOp(rows[0] as Row) : null;
  }

  async getDeviceOps(device: string, ids: readonly string[]): Promise<StoredOp[]> {
    const { rows } = await this.#pool.query(
      'SELECT envelope, hash, result, received_at FROM ops WHERE device = $1 AND id = ANY ($2::text[])',
      [device, ids],
    );
    return rows.map(toStoredOp);
  }

  async listLedger(after: number, limit: number): Promise<Page<LedgerEvent & { pos: number }>> {
    const rows = await this.#readFeed('SELECT * FROM ledger WHERE pos > $1 ORDER BY pos LIMIT $2', [after, limit]);
    const items = rows.map(toLedgerEvent);
    return { items, next: items.length === limit ? (items[items.length - 1]?.pos ?? null) : null };
  }

  async listDeviceFeed(device: string, after: number, limit: number): Promise<DeviceFeedPage> {
    return this.#transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${FEED_LOCK})`);
      return readDeviceFeed(client, device, after, limit);
    });
  }

  async listExceptions(after: number, limit: number): Promise<Page<ExceptionRecord & { pos: number }>> {
    const rows = await this.#readFeed('SELECT * FROM exceptions WHERE pos > $1 ORDER BY pos LIMIT $2', [after, limit]);
    const items = rows.map(toException);
    return { items, next: items.length === limit ? (items[items.length - 1]?.pos ?? null) : null };
  }

  /**
   * Reads a feed page behind FEED_LOCK taken exclusively: the query's
   * snapshot (READ COMMITTED: taken when the query starts, after the lock)
   * then holds every row whose `pos` was allocated so far.
   */
  async #readFeed(sql: string, params: unknown[]): Promise<Row[]> {
    return this.#transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${FEED_LOCK})`);
      return (await client.query(sql, params)).rows as Row[];
    });
  }

  async listShifts(device: string | null): Promise<ShiftRecord[]> {
    const { rows } =
      device === null
        ? await this.#pool.query('SELECT * FROM shifts ORDER BY opened_at, id')
        : await this.#pool.query('SELECT * FROM shifts WHERE device = $1 ORDER BY opened_at, id', [device]);
    return rows.map(toShift);
  }

  /** All counts from one statement, hence one snapshot. */
  async summary(): Promise<StoreSummary> {
    const { rows } = await this.#pool.query(`
      SELECT
        (SELECT count(*) FROM devices) AS devices,
        (SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL) AS revoked_devices,
        (SELECT count(*) FROM ops WHERE status = 'accepted') AS ops_accepted,
        (SELECT count(*) FROM ops WHERE status = 'rejected') AS ops_rejected,
        (SELECT count(*) FROM ledger) AS ledger_events,
        (SELECT count(*) FROM shifts WHERE status = 'open') AS open_shifts,
        (SELECT count(*) FROM shifts WHERE status = 'closed') AS closed_shifts,
        (SELECT coalesce(json_agg(s ORDER BY s.currency), '[]'::json) FROM (
           SELECT currency, count(*) AS sales, sum(total) AS total, sum(cash) AS cash, sum(card) AS card
           FROM sales GROUP BY currency) s) AS sales,
        (SELECT coalesce(json_object_agg(x.type, x.n), '{}'::json) FROM (
           SELECT type, count(*) AS n FROM exceptions GROUP BY type) x) AS exceptions`);
    const r = rows[0] as Row;
    const exceptions: Record<string, number> = {};
    for (const [type, n] of Object.entries(r.exceptions as Record<string, unknown>)) exceptions[type] = int(n);
    return {
      devices: int(r.devices),
      revokedDevices: int(r.revoked_devices),
      opsAccepted: int(r.ops_accepted),
      opsRejected: int(r.ops_rejected),
      ledgerEvents: int(r.ledger_events),
      sales: (r.sales as Row[]).map((s) => ({
        currency: s.currency as string,
        sales: int(s.sales),
        total: int(s.total),
        cash: int(s.cash),
        card: int(s.card),
      })),
      openShifts: int(r.open_shifts),
      closedShifts: int(r.closed_shifts),
      exceptions,
    };
  }

  /**
   * INSERT … ON CONFLICT DO NOTHING: with an active key already there (the
   * one-active index), or one being inserted by a concurrent caller (waited
   * for), the insert does nothing and the SELECT, a new snapshot, reads it.
   */
  async ensureServerKey(k: ServerKeyRecord): Promise<ServerKeyRecord> {
    await this.#pool.query(
      `INSERT INTO server_keys (id, public_key, private_key, created_at, retired_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [k.id, k.publicKey, k.privateKey, k.createdAt, k.retiredAt],
    );
    const keys = await this.listServerKeys();
    if (!keys[0]) throw new Error('ensureServerKey: no active server key after inserting one');
    return keys[0];
  }

  async listServerKeys(): Promise<ServerKeyRecord[]> {
    const { rows } = await this.#pool.query(
      'SELECT * FROM server_keys WHERE retired_at IS NULL ORDER BY created_at DESC, id',
    );
    return rows.map(toServerKey);
  }

  /**
   * Under POLICY_LOCK, so concurrent issuers (any process) queue and each
   * reads the slot the one before it left; the unique (scope_key, version)
   * is the backstop (a violation runs the transaction again).
   */
  async issuePolicy(request: PolicyIssueRequest): Promise<SignedPolicy> {
    const scopeKey = policyScopeKey(request.draft.scope);
    return this.#transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${POLICY_LOCK})`);
      const { rows } = await client.query(
        `SELECT (SELECT coalesce(max(version), 0) FROM policies WHERE scope_key = $1) AS version,
                (SELECT max(issued_at) FROM policies) AS latest,
                (SELECT row_to_json(k) FROM (
                   SELECT * FROM server_keys WHERE retired_at IS NULL ORDER BY created_at DESC, id LIMIT 1) k) AS key`,
        [scopeKey],
      );
      const row = rows[0] as Row;
      if (!row.key) throw new Error('issuePolicy: no active policy-signing key (ensureServerKey first)');
      const slot: PolicyIssueSlot = { version: int(row.version) + 1, latestIssuedAt: intOrNull(row.latest) };
      const signed = signIssued(request, slot, toServerKey(row.key as Row));
      const p = signed.policy;
      await client.query(
        `INSERT INTO policies (id, scope_key, version, merchant, location, event, currency, issued_at, valid_from,
                               expires_at, key_id, signed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          p.id,
          scopeKey,
          p.version,
          p.scope.merchant,
          p.scope.location,
          p.scope.event,
          p.currency,
          p.issuedAt,
          p.validFrom,
          p.expiresAt,
          signed.keyId,
          JSON.stringify(signed),
        ],
      );
      return signed;
    });
  }

  async listPolicies(filter: PolicyFilter = {}): Promise<SignedPolicy[]> {
    const { rows } = await this.#pool.query(
      `SELECT signed FROM policies
       WHERE ($1::text IS NULL OR merchant = $1) AND ($2::bigint IS NULL OR expires_at > $2)
       ORDER BY issued_at, id`,
      [filter.merchant ?? null, filter.unexpiredAt ?? null],
    );
    return rows.map((r: Row) => JSON.parse(r.signed as string) as SignedPolicy);
  }

  async listOfflinePayments(device: string | null): Promise<StoredOfflinePayment[]> {
    const { rows } =
      device === null
        ? await this.#pool.query('SELECT * FROM offline_payments ORDER BY device, seq, tender_index')
        : await this.#pool.query('SELECT * FROM offline_payments WHERE device = $1 ORDER BY seq, tender_index', [
            device,
          ]);
    return rows.map(toOfflinePayment);
  }

  async exposureActual(): Promise<ExposureActual[]> {
    const { rows } = await this.#pool.query(
      `SELECT o.currency, p.merchant, p.location, p.event, sum(o.amount) AS amount, count(*) AS n
       FROM offline_payments o LEFT JOIN device_placements p ON p.device = o.device
       WHERE o.settled_at IS NULL
       GROUP BY o.currency, p.merchant, p.location, p.event`,
    );
    return sortExposureActual(
      rows.map((r: Row) => ({
        currency: r.currency as string,
        merchant: textOrNull(r.merchant),
        location: textOrNull(r.location),
        event: textOrNull(r.event),
        amount: int(r.amount),
        count: int(r.n),
      })),
    );
  }

  /**
   * Claims in one short transaction, device by device: the next device
   * with claimable payments is locked `FOR NO KEY UPDATE SKIP LOCKED`, then
   * its payments are claimed under the same rule as SQLite, until `limit`.
   * A second process claiming at the same moment skips the devices locked
   * here instead of looking past their not-yet-committed claims (which it
   * could not see) and taking a later payment of the same device out of
   * order; it goes on to other devices. A device being ingested is skipped
   * for this round too.
   */
  async claimOfflinePayments(
    owner: string,
    limit: number,
    now: number,
    leaseMs: number,
  ): Promise<ClaimedOfflinePayment[]> {
    return this.#transaction(async (client) => {
      const visited: string[] = [];
      const claimed: ClaimedOfflinePayment[] = [];
      while (claimed.length < limit) {
        const next = await client.query(
          `SELECT d.id FROM devices d
           WHERE NOT (d.id = ANY ($2::text[])) AND EXISTS (
             SELECT 1 FROM offline_payments o
             WHERE o.device = d.id AND o.settled_at IS NULL AND o.refused_at IS NULL
               AND (o.claim_expires_at IS NULL OR o.claim_expires_at <= $1)
               AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= $1))
           ORDER BY d.id LIMIT 1
           FOR NO KEY UPDATE OF d SKIP LOCKED`,
          [now, visited],
        );
        const device = (next.rows[0] as Row | undefined)?.id as string | undefined;
        if (device === undefined) break;
        visited.push(device);
        const { rows } = await client.query(
          `WITH c AS (
             SELECT o.op_id, o.tender_index FROM offline_payments o
             WHERE o.device = $1 AND o.settled_at IS NULL AND o.refused_at IS NULL
               AND (o.claim_expires_at IS NULL OR o.claim_expires_at <= $2)
               AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= $2)
               AND NOT EXISTS (
                 SELECT 1 FROM offline_payments e
                 WHERE e.device = o.device AND e.settled_at IS NULL AND e.refused_at IS NULL
                   AND (e.claim_expires_at > $2 OR e.next_attempt_at > $2)
                   AND (e.seq, e.tender_index) < (o.seq, o.tender_index))
             ORDER BY o.seq, o.tender_index LIMIT $3
             FOR UPDATE OF o)
           UPDATE offline_payments p SET claimed_by = $4, claim_expires_at = $5
           FROM c WHERE p.op_id = c.op_id AND p.tender_index = c.tender_index
           RETURNING p.*, (SELECT dp.merchant FROM device_placements dp WHERE dp.device = p.device) AS merchant`,
          [device, now, limit - claimed.length, owner, now + leaseMs],
        );
        const payments = rows.map((r: Row) => ({
          ...toOfflinePayment(r),
          merchant: textOrNull(r.merchant),
          claimedBy: owner,
          claimExpiresAt: now + leaseMs,
        }));
        claimed.push(...payments.sort((a, b) => a.seq - b.seq || a.tenderIndex - b.tenderIndex));
      }
      return claimed;
    });
  }

  async settleOfflinePayment(request: SettleRequest): Promise<SettleOutcome | null> {
    return this.#transaction(async (client): Promise<SettleOutcome | null> => {
      const { rows } = await client.query(
        'SELECT * FROM offline_payments WHERE op_id = $1 AND tender_index = $2 FOR UPDATE',
        [request.payment.opId, request.payment.tenderIndex],
      );
      const row = rows[0] as Row | undefined;
      if (!row) return null;
      const stored = storedSettlement(settlementColumns(row));
      if (stored) return { settlement: stored, settledNow: false };
      const { settlement } = request;
      await client.query(
        `UPDATE offline_payments SET settled_at = $1, outcome = $2, processor_id = $3, decline_code = $4,
           settled_by = $5, claimed_by = NULL, claim_expires_at = NULL
         WHERE op_id = $6 AND tender_index = $7`,
        [
          settlement.at,
          settlement.status,
          settlement.processorId,
          settlement.declineCode ?? null,
          request.owner,
          request.payment.opId,
          request.payment.tenderIndex,
        ],
      );
      const sale = await saleContext(client, request.payment.opId);
      const { ledger: e, exception: x } = settlementWrites(toOfflinePayment(row), request, sale, this.#bugs);
      // Feed rows: the feed lock is held shared until COMMIT (see FEED_LOCK).
      await insertLedgerEvent(client, e);
      if (x) {
        await client.query(
          `INSERT INTO exceptions (id, type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (dedupe_key) DO NOTHING`,
          [
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
          ],
        );
      }
      return { settlement, settledNow: true };
    });
  }

  async beginAuthorization(pending: AuthorizationRecord): Promise<AuthorizationSlot> {
    return this.#auth.begin(pending);
  }

  async finishAuthorization(opId: string, finish: AuthorizationFinish): Promise<AuthorizationRecord | null> {
    return this.#auth.finish(opId, finish);
  }

  async authorizeTicket(pending: AuthorizationRecord, now: number): Promise<AuthorizationSlot> {
    return this.#auth.authorizeTicket(pending, now);
  }

  async getAuthorizations(opIds: readonly string[]): Promise<AuthorizationRecord[]> {
    return this.#auth.get(opIds);
  }

  async setBettingConfig(config: BettingConfig, now: number): Promise<BettingConfigRecord> {
    return this.#auth.setConfig(config, now);
  }

  async getBettingConfig(): Promise<BettingConfigRecord | null> {
    return this.#auth.getConfig();
  }

  async listSelectionLiabilities(): Promise<SelectionLiability[]> {
    return this.#auth.liabilities();
  }

  async getWallet(wristband: string): Promise<WalletView | null> {
    return walletView(this.#pool, wristband);
  }

  async listWallets(filter: WalletFilter): Promise<WalletAccountRecord[]> {
    return listWallets(this.#pool, filter);
  }

  async unblockWallet(request: UnblockRequest): Promise<UnblockOutcome | null> {
    return this.#transaction(async (client): Promise<UnblockOutcome | null> => {
      // The feed lock first, then the wallet's: the order ingest takes them in (no lock cycle).
      await client.query(`SELECT pg_advisory_xact_lock_shared(${FEED_LOCK})`);
      await lockWallets(client, [request.wristband]);
      const view = await walletView(client, request.wristband);
      if (!view) return null;
      const writes = unblockWrites(view.account, request);
      if (!writes) return { account: view.account, unblockedNow: false };
      await upsertWallet(client, writes.account);
      await insertLedgerEvent(client, writes.ledger);
      return { account: writes.account, unblockedNow: true };
    });
  }

  deferOfflinePayment(request: DeferRequest): Promise<boolean> {
    return this.#forwarding.defer(request);
  }

  refuseOfflinePayment(request: RefuseRequest): Promise<boolean> {
    return this.#forwarding.refuse(request);
  }

  listDeadlineCandidates(query: DeadlineQuery): Promise<DeadlineCandidate[]> {
    return this.#forwarding.deadlineCandidates(query);
  }

  raiseDeadlineExceptions(notices: readonly DeadlineNotice[]): Promise<number> {
    return this.#forwarding.raiseDeadlineExceptions(notices);
  }

  declineReport(from: number, to: number): Promise<DeclineReportRow[]> {
    return this.#forwarding.declineReport(from, to);
  }

  recordExceptionAction(request: ExceptionActionRequest): Promise<ExceptionActionOutcome> {
    return this.#exceptions.recordAction(request);
  }

  listExceptionViews(filter: ExceptionFilter): Promise<Page<ExceptionView>> {
    return this.#exceptions.views(filter);
  }

  /** Direct SQL for tests, checkers and operators' tools (not for the server's own paths). */
  async query<T = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.#pool.query(sql, params)).rows as T[];
  }
}
