/**
 * The SQLite storage backend (better-sqlite3): the embedded default for a
 * single server process.
 *
 * better-sqlite3 is synchronous and this process holds the only connection,
 * so each method runs to completion without interleaving; a batch is
 * ingested inside one `BEGIN IMMEDIATE` transaction. WAL with
 * synchronous=FULL: a result is only ever sent for a committed, durable batch.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type InjectedBugs, NO_INJECTED_BUGS } from '@holdfast/domain';
import type { DeviceStatus, Op, Placement, SignedPolicy } from '@holdfast/protocol';
import { GENESIS_HASH, ProtocolError } from '@holdfast/protocol';
import Database from 'better-sqlite3';
import { decideRedemption } from '../../enrollment.js';
import {
  approvalFactsNeeded,
  type IngestFacts,
  type KnownOp,
  onlineClaimIds,
  planIngest,
  shiftRefs,
} from '../../ingest/plan-ingest.js';
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
import { approvalFactsOf, HELD_COLUMNS, policyIdsOf } from '../approval-facts.js';
import type { BettingConfig, BettingConfigRecord, SelectionLiability } from '../authorizations.js';
import { canonicalTexts } from '../canonical-texts.js';
import { deviceStatusOf } from '../device-status.js';
import { settlementWrites, storedSettlement } from '../offline-settlement.js';
import { policyScopeKey, sortExposureActual } from '../policy-records.js';
import {
  type Row,
  settlementColumns,
  toDevice,
  toOfflinePayment,
  toServerKey,
  toShift,
  toStoredOp,
  toToken,
} from '../rows.js';
import type { Page, Storage } from '../storage.js';
import { RowInserter } from './row-inserter.js';
import { SqliteAuthorizations } from './sqlite-authorizations.js';
import { exceptionValues, SqliteExceptions } from './sqlite-exceptions.js';
import { SqliteDeviceFeed } from './sqlite-feed.js';
import { SqliteForwarding } from './sqlite-forwarding.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';
import { SqliteWallets } from './sqlite-wallets.js';

export interface SqliteStorageOptions {
  /** Database file path, or ':memory:' for tests. */
  path: string;
  /**
   * SQLite synchronous mode. FULL (default): an answered batch survives power
   * loss. OFF survives only process death; for fast simulations.
   */
  synchronous?: 'FULL' | 'OFF';
  /**
   * Simulators and crash tests only: called before and after each batch's
   * commit; returning true kills the database connection there, as process
   * death would, and throws SimulatedServerCrash.
   */
  crashHook?: (point: ServerCrashPoint) => boolean;
  /** Deliberate bugs this storage runs with (the simulator's bug-injection runs only); default none. */
  bugs?: InjectedBugs;
}

export type ServerCrashPoint = 'ingest:before-commit' | 'ingest:after-commit';

/** The crash hook cut the server's power: the connection is gone, the process is to be restarted. */
export class SimulatedServerCrash extends Error {
  override readonly name = 'SimulatedServerCrash';
  constructor(readonly point: ServerCrashPoint) {
    super(`simulated server crash at ${point}`);
  }
}

export class SqliteStorage implements Storage {
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  readonly #crashHook: SqliteStorageOptions['crashHook'];
  readonly #bugs: InjectedBugs;
  #prepared: ReturnType<typeof prepareStatements> | null = null;
  #feed: SqliteDeviceFeed | null = null;
  #auth: SqliteAuthorizations | null = null;
  #walletStmts: SqliteWallets | null = null;
  #areaObjects: { exceptions: SqliteExceptions; forwarding: SqliteForwarding } | null = null;

  constructor(options: SqliteStorageOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.#db = new Database(options.path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.#crashHook = options.crashHook;
    this.#bugs = options.bugs ?? NO_INJECTED_BUGS;
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
  }

  get #statements() {
    if (!this.#prepared) throw new Error('SqliteStorage: call migrate() before use');
    return this.#prepared;
  }

  get #wallets(): SqliteWallets {
    if (!this.#walletStmts) throw new Error('SqliteStorage: call migrate() before use');
    return this.#walletStmts;
  }

  async migrate(): Promise<void> {
    const db = this.#db;
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) => r.version));
    SQLITE_MIGRATIONS.forEach((sql, index) => {
      const version = index + 1;
      if (applied.has(version)) return;
      db.transaction(() => {
        db.exec(sql);
        db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      }).immediate();
    });
    this.#prepared = prepareStatements(db);
    this.#feed = new SqliteDeviceFeed(db);
    this.#auth = new SqliteAuthorizations(db);
    this.#walletStmts = new SqliteWallets(db);
    const exceptions = new SqliteExceptions(db);
    this.#areaObjects = { exceptions, forwarding: new SqliteForwarding(db, exceptions) };
  }

  get #authorizations(): SqliteAuthorizations {
    if (!this.#auth) throw new Error('SqliteStorage: call migrate() before use');
    return this.#auth;
  }

  get #areas(): { exceptions: SqliteExceptions; forwarding: SqliteForwarding } {
    if (!this.#areaObjects) throw new Error('SqliteStorage: call migrate() before use');
    return this.#areaObjects;
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  async insertEnrollmentToken(t: EnrollmentTokenRecord): Promise<void> {
    this.#statements.insertToken.run(
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
    );
  }

  async redeemEnrollmentToken(r: RedeemRequest): Promise<RedeemOutcome> {
    return this.#db
      .transaction((): RedeemOutcome => {
        const row = this.#statements.tokenByHash.get(r.tokenHash) as Row | undefined;
        const token = row ? toToken(row) : null;
        const decision = decideRedemption(token, r.publicKey, r.now);
        if (decision === 'already_enrolled') {
          const device = this.#statements.deviceById.get(token?.deviceId) as Row | undefined;
          if (!device) return { outcome: 'token_invalid' };
          return { outcome: 'already_enrolled', device: toDevice(device) };
        }
        if (decision !== 'redeem') return { outcome: decision };
        if (this.#statements.deviceByKey.get(r.publicKey)) return { outcome: 'key_already_enrolled' };
        const label = r.label ?? token?.label ?? `device-${r.newDeviceId.slice(-8)}`;
        this.#statements.insertDevice.run(r.newDeviceId, label, r.publicKey, r.now, GENESIS_HASH);
        if (token?.merchant != null) {
          this.#statements.upsertPlacement.run(r.newDeviceId, token.merchant, token.location, token.event, r.now);
        }
        this.#statements.useToken.run(r.now, r.newDeviceId, r.publicKey, token?.id);
        return { outcome: 'enrolled', device: toDevice(this.#statements.deviceById.get(r.newDeviceId) as Row) };
      })
      .immediate();
  }

  async getDevice(id: string): Promise<DeviceRecord | null> {
    const row = this.#statements.deviceById.get(id) as Row | undefined;
    return row ? toDevice(row) : null;
  }

  async listDevices(): Promise<DeviceRecord[]> {
    return (this.#statements.allDevices.all() as Row[]).map(toDevice);
  }

  async revokeDevice(id: string, reason: string, now: number): Promise<DeviceRecord | null> {
    this.#statements.revokeDevice.run(now, reason, id);
    return this.getDevice(id);
  }

  async setDevicePlacement(id: string, placement: Placement, now: number): Promise<DeviceRecord | null> {
    if (!this.#statements.deviceById.get(id)) return null;
    this.#statements.upsertPlacement.run(id, placement.merchant, placement.location, placement.event, now);
    return this.getDevice(id);
  }

  async deviceStatus(id: string): Promise<DeviceStatus | null> {
    const device = await this.getDevice(id);
    return device ? this.#status(device) : null;
  }

  async listDeviceStatuses(): Promise<DeviceStatus[]> {
    return (await this.listDevices()).map((d) => this.#status(d));
  }

  #status(d: DeviceRecord): DeviceStatus {
    const counts = new Map(
      (this.#statements.deviceExceptionCounts.all(d.id) as Row[]).map((r) => [r.type, Number(r.n)]),
    );
    return deviceStatusOf(d, counts.get('conflict') ?? 0, counts.get('fork') ?? 0);
  }

  async ingest(batch: VerifiedBatch, now: number, newId: () => string): Promise<IngestOutcome> {
    const hook = this.#crashHook;
    if (!hook) return this.#db.transaction(() => this.#ingestInTransaction(batch, now, newId)).immediate();
    try {
      const outcome = this.#db
        .transaction(() => {
          const planned = this.#ingestInTransaction(batch, now, newId);
          if (hook('ingest:before-commit')) throw new SimulatedServerCrash('ingest:before-commit');
          return planned;
        })
        .immediate();
      if (hook('ingest:after-commit')) throw new SimulatedServerCrash('ingest:after-commit');
      return outcome;
    } catch (error) {
      // Process death: the rolled-back or committed state is what the disk keeps; nothing more is written.
      if (error instanceof SimulatedServerCrash && this.#db.open) this.#db.close();
      throw error;
    }
  }

  #ingestInTransaction(batch: VerifiedBatch, now: number, newId: () => string): IngestOutcome {
    const s = this.#statements;
    const deviceRow = s.deviceById.get(batch.device) as Row | undefined;
    if (!deviceRow) throw new ProtocolError('unknown_device', `device ${batch.device} is not enrolled`);
    const device = toDevice(deviceRow);
    if (device.revokedAt !== null) {
      throw new ProtocolError('device_revoked', `device ${device.id} was revoked: ${device.revokeReason ?? ''}`);
    }
    const ids = JSON.stringify(batch.ops.map((op) => op.id));
    const byId = new Map<string, KnownOp>();
    for (const r of s.opsByIds.all(ids) as Row[]) {
      byId.set(r.id as string, {
        device: r.device as string,
        seq: Number(r.seq),
        hash: r.hash as string,
        result: JSON.parse(r.result as string),
      });
    }
    const first = (batch.ops[0] as Op).seq;
    const last = (batch.ops[batch.ops.length - 1] as Op).seq;
    const bySeq = new Map<number, { id: string; hash: string }>();
    for (const r of s.opsBySeqRange.all(device.id, first, last) as Row[]) {
      bySeq.set(Number(r.seq), { id: r.id as string, hash: r.hash as string });
    }
    const shifts = new Map<string, ShiftRecord>();
    for (const r of s.shiftsForBatch.all(JSON.stringify(shiftRefs(batch.ops)), device.id) as Row[]) {
      shifts.set(r.id as string, toShift(r));
    }
    const facts: IngestFacts = { device, byId, bySeq, shifts, wallets: this.#wallets.facts(walletRefs(batch.ops)) };
    const approvals = approvalFactsNeeded(batch.ops);
    if (approvals.needed) {
      const signed = s.policiesByIds.all(JSON.stringify(policyIdsOf(approvals.refs))) as Row[];
      const held = s.heldPayments.all(device.id) as Row[];
      facts.approvals = approvalFactsOf(
        signed.map((r) => r.signed as string),
        held,
      );
    }
    const claims = onlineClaimIds(batch.ops);
    if (claims.length > 0) facts.authorizations = new Map(this.#authorizations.get(claims).map((a) => [a.opId, a]));
    const plan = planIngest(batch, facts, now, newId);

    const textOf = canonicalTexts(batch);
    // Every accepted op of a batch has the same stored result: serialise it once.
    const accepted = JSON.stringify({ status: 'accepted', at: now });
    s.insertOps.insert(plan.inserts, ({ op, result }, out) => {
      out.push(
        op.id,
        op.device,
        op.seq,
        op.hash,
        op.kind,
        textOf(op),
        result.status,
        result.status === 'accepted' && result.at === now ? accepted : JSON.stringify(result),
        now,
      );
    });
    s.insertLedger.insert(plan.ledger, ledgerValues);
    s.insertSales.insert(plan.sales, (x, out) => {
      out.push(
        x.opId,
        x.device,
        x.seq,
        x.shiftId,
        x.currency,
        x.total,
        x.cash,
        x.card,
        x.lines,
        x.deviceAt,
        x.appliedAt,
      );
    });
    s.insertOfflinePayments.insert(plan.offlinePayments, (p, out) => {
      out.push(
        p.opId,
        p.tenderIndex,
        p.device,
        p.seq,
        p.tender,
        p.amount,
        p.currency,
        p.brand,
        p.last4,
        p.token,
        p.policy,
        p.approvedAt,
        p.receivedAt,
      );
    });
    s.insertCashMovements.insert(plan.cashMovements, (m, out) => {
      out.push(
        m.opId,
        m.device,
        m.seq,
        m.shiftId,
        m.currency,
        m.direction,
        m.reason,
        m.amount,
        m.deviceAt,
        m.appliedAt,
      );
    });
    for (const sh of plan.shifts) {
      s.upsertShift.run(
        sh.id,
        sh.device,
        sh.clerk,
        sh.currency,
        sh.status,
        sh.openingFloat,
        sh.sales,
        sh.salesTotal,
        sh.cashSales,
        sh.cardSales,
        sh.cashIn,
        sh.cashOut,
        sh.countedCash,
        sh.openedAt,
        sh.closedAt,
        sh.expectedCash,
        sh.variance,
      );
    }
    s.insertExceptions.insert(plan.exceptions, exceptionValues);
    this.#wallets.write(plan);
    const d = plan.device;
    s.updateDeviceHead.run(
      d.highWater,
      d.headHash,
      d.latestSeq,
      d.gapFrom,
      d.gapTo,
      d.lastSeenAt,
      d.clockOffsetMs,
      device.id,
    );
    return { results: plan.results, highWater: d.highWater };
  }

  async getOp(id: string): Promise<StoredOp | null> {
    const row = this.#statements.opById.get(id) as Row | undefined;
    return row ? toStoredOp(row) : null;
  }

  async getDeviceOps(device: string, ids: readonly string[]): Promise<StoredOp[]> {
    return (this.#statements.deviceOpsByIds.all(device, JSON.stringify(ids)) as Row[]).map(toStoredOp);
  }

  async listLedger(after: number, limit: number): Promise<Page<LedgerEvent & { pos: number }>> {
    const rows = this.#statements.ledgerPage.all(after, limit) as Row[];
    const items = rows.map((r) => ({
      pos: Number(r.pos),
      opId: r.op_id as string,
      device: r.device as string,
      seq: Number(r.seq),
      type: r.type as string,
      shiftId: (r.shift_id as string | null) ?? null,
      currency: (r.currency as string | null) ?? null,
      amount: r.amount === null ? null : Number(r.amount),
      data: JSON.parse(r.data as string),
      deviceAt: Number(r.device_at),
      appliedAt: Number(r.applied_at),
    }));
    return { items, next: items.length === limit ? (items[items.length - 1]?.pos ?? null) : null };
  }

  async listDeviceFeed(device: string, after: number, limit: number): Promise<DeviceFeedPage> {
    if (!this.#feed) throw new Error('SqliteStorage: call migrate() before use');
    return this.#feed.list(device, after, limit);
  }

  async listExceptions(after: number, limit: number): Promise<Page<ExceptionRecord & { pos: number }>> {
    const rows = this.#statements.exceptionsPage.all(after, limit) as Row[];
    const items = rows.map((r) => ({
      pos: Number(r.pos),
      id: r.id as string,
      type: r.type as ExceptionRecord['type'],
      severity: r.severity as ExceptionRecord['severity'],
      device: r.device as string,
      opId: (r.op_id as string | null) ?? null,
      seq: r.seq === null ? null : Number(r.seq),
      message: r.message as string,
      detail: JSON.parse(r.detail as string),
      raisedAt: Number(r.raised_at),
      dedupeKey: r.dedupe_key as string,
    }));
    return { items, next: items.length === limit ? (items[items.length - 1]?.pos ?? null) : null };
  }

  async listShifts(device: string | null): Promise<ShiftRecord[]> {
    const rows = (
      device === null ? this.#statements.allShifts.all() : this.#statements.deviceShifts.all(device)
    ) as Row[];
    return rows.map(toShift);
  }

  async summary(): Promise<StoreSummary> {
    const db = this.#db;
    const one = (sql: string) => Number((db.prepare(sql).get() as Row).n);
    const sales = (
      db
        .prepare(
          'SELECT currency, COUNT(*) AS sales, SUM(total) AS total, SUM(cash) AS cash, SUM(card) AS card FROM sales GROUP BY currency ORDER BY currency',
        )
        .all() as Row[]
    ).map((r) => ({
      currency: r.currency as string,
      sales: Number(r.sales),
      total: Number(r.total),
      cash: Number(r.cash),
      card: Number(r.card),
    }));
    const exceptions: Record<string, number> = {};
    for (const r of db.prepare('SELECT type, COUNT(*) AS n FROM exceptions GROUP BY type').all() as Row[]) {
      exceptions[r.type as string] = Number(r.n);
    }
    return {
      devices: one('SELECT COUNT(*) AS n FROM devices'),
      revokedDevices: one('SELECT COUNT(*) AS n FROM devices WHERE revoked_at IS NOT NULL'),
      opsAccepted: one("SELECT COUNT(*) AS n FROM ops WHERE status = 'accepted'"),
      opsRejected: one("SELECT COUNT(*) AS n FROM ops WHERE status = 'rejected'"),
      ledgerEvents: one('SELECT COUNT(*) AS n FROM ledger'),
      sales,
      openShifts: one("SELECT COUNT(*) AS n FROM shifts WHERE status = 'open'"),
      closedShifts: one("SELECT COUNT(*) AS n FROM shifts WHERE status = 'closed'"),
      exceptions,
    };
  }

  async ensureServerKey(candidate: ServerKeyRecord): Promise<ServerKeyRecord> {
    return this.#db
      .transaction(() => {
        const k = candidate;
        this.#statements.insertServerKey.run(k.id, k.publicKey, k.privateKey, k.createdAt, k.retiredAt);
        return toServerKey(this.#statements.activeServerKeys.get() as Row);
      })
      .immediate();
  }

  async listServerKeys(): Promise<ServerKeyRecord[]> {
    return (this.#statements.activeServerKeys.all() as Row[]).map(toServerKey);
  }

  async issuePolicy(request: PolicyIssueRequest): Promise<SignedPolicy> {
    const scopeKey = policyScopeKey(request.draft.scope);
    // BEGIN IMMEDIATE: the only writer until COMMIT, so the slot read is the slot written.
    return this.#db
      .transaction(() => {
        const keyRow = this.#statements.activeServerKeys.get() as Row | undefined;
        if (!keyRow) throw new Error('issuePolicy: no active policy-signing key (ensureServerKey first)');
        const row = this.#statements.policySlot.get(scopeKey) as Row;
        const slot: PolicyIssueSlot = {
          version: Number(row.version) + 1,
          latestIssuedAt: row.latest === null ? null : Number(row.latest),
        };
        const signed = signIssued(request, slot, toServerKey(keyRow));
        const p = signed.policy;
        this.#statements.insertPolicy.run(
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
        );
        return signed;
      })
      .immediate();
  }

  async listPolicies(filter: PolicyFilter = {}): Promise<SignedPolicy[]> {
    const rows = this.#statements.policies.all({
      merchant: filter.merchant ?? null,
      unexpiredAt: filter.unexpiredAt ?? null,
    }) as Row[];
    return rows.map((r) => JSON.parse(r.signed as string) as SignedPolicy);
  }

  async listOfflinePayments(device: string | null): Promise<StoredOfflinePayment[]> {
    const rows = (
      device === null ? this.#statements.allOfflinePayments.all() : this.#statements.deviceOfflinePayments.all(device)
    ) as Row[];
    return rows.map(toOfflinePayment);
  }

  async exposureActual(): Promise<ExposureActual[]> {
    const rows = (this.#statements.exposureActual.all() as Row[]).map((r) => ({
      currency: r.currency as string,
      merchant: (r.merchant as string | null) ?? null,
      location: (r.location as string | null) ?? null,
      event: (r.event as string | null) ?? null,
      amount: Number(r.amount),
      count: Number(r.n),
    }));
    return sortExposureActual(rows);
  }

  async claimOfflinePayments(
    owner: string,
    limit: number,
    now: number,
    leaseMs: number,
  ): Promise<ClaimedOfflinePayment[]> {
    const s = this.#statements;
    return this.#db
      .transaction(() => {
        const rows = s.claimablePayments.all({ now, limit }) as Row[];
        for (const r of rows) s.claimPayment.run(owner, now + leaseMs, r.op_id, r.tender_index);
        return rows.map((r) => ({
          ...toOfflinePayment(r),
          merchant: (r.merchant as string | null) ?? null,
          claimedBy: owner,
          claimExpiresAt: now + leaseMs,
        }));
      })
      .immediate();
  }

  async settleOfflinePayment(request: SettleRequest): Promise<SettleOutcome | null> {
    const s = this.#statements;
    return this.#db
      .transaction((): SettleOutcome | null => {
        const row = s.paymentByKey.get(request.payment.opId, request.payment.tenderIndex) as Row | undefined;
        if (!row) return null;
        const stored = storedSettlement(settlementColumns(row));
        if (stored) return { settlement: stored, settledNow: false };
        const { settlement } = request;
        s.settlePayment.run(
          settlement.at,
          settlement.status,
          settlement.processorId,
          settlement.declineCode ?? null,
          request.owner,
          request.payment.opId,
          request.payment.tenderIndex,
        );
        const sale = this.#areas.forwarding.saleContext(request.payment.opId);
        const { ledger: e, exception: x } = settlementWrites(toOfflinePayment(row), request, sale, this.#bugs);
        s.insertLedger.insert([e], ledgerValues);
        if (x) {
          s.insertExceptions.insert([x], exceptionValues);
        }
        return { settlement, settledNow: true };
      })
      .immediate();
  }

  async beginAuthorization(pending: AuthorizationRecord): Promise<AuthorizationSlot> {
    return this.#authorizations.begin(pending);
  }

  async finishAuthorization(opId: string, finish: AuthorizationFinish): Promise<AuthorizationRecord | null> {
    return this.#authorizations.finish(opId, finish);
  }

  async authorizeTicket(pending: AuthorizationRecord, now: number): Promise<AuthorizationSlot> {
    return this.#authorizations.authorizeTicket(pending, now);
  }

  async getAuthorizations(opIds: readonly string[]): Promise<AuthorizationRecord[]> {
    return this.#authorizations.get(opIds);
  }

  async setBettingConfig(config: BettingConfig, now: number): Promise<BettingConfigRecord> {
    return this.#authorizations.setConfig(config, now);
  }

  async getBettingConfig(): Promise<BettingConfigRecord | null> {
    return this.#authorizations.getConfig();
  }

  async listSelectionLiabilities(): Promise<SelectionLiability[]> {
    return this.#authorizations.liabilities();
  }

  async getWallet(wristband: string): Promise<WalletView | null> {
    return this.#wallets.view(wristband);
  }

  async listWallets(filter: WalletFilter): Promise<WalletAccountRecord[]> {
    return this.#wallets.list(filter);
  }

  async unblockWallet(request: UnblockRequest): Promise<UnblockOutcome | null> {
    return this.#db
      .transaction((): UnblockOutcome | null => {
        const account = this.#wallets.account(request.wristband);
        if (!account) return null;
        const writes = unblockWrites(account, request);
        if (!writes) return { account, unblockedNow: false };
        this.#wallets.upsert(writes.account);
        this.#statements.insertLedger.insert([writes.ledger], ledgerValues);
        return { account: writes.account, unblockedNow: true };
      })
      .immediate();
  }

  async deferOfflinePayment(request: DeferRequest): Promise<boolean> {
    return this.#areas.forwarding.defer(request);
  }

  async refuseOfflinePayment(request: RefuseRequest): Promise<boolean> {
    return this.#areas.forwarding.refuse(request);
  }

  async listDeadlineCandidates(query: DeadlineQuery): Promise<DeadlineCandidate[]> {
    return this.#areas.forwarding.deadlineCandidates(query);
  }

  async raiseDeadlineExceptions(notices: readonly DeadlineNotice[]): Promise<number> {
    return this.#areas.forwarding.raiseDeadlineExceptions(notices);
  }

  async declineReport(from: number, to: number): Promise<DeclineReportRow[]> {
    return this.#areas.forwarding.declineReport(from, to);
  }

  async recordExceptionAction(request: ExceptionActionRequest): Promise<ExceptionActionOutcome> {
    return this.#areas.exceptions.recordAction(request);
  }

  async listExceptionViews(filter: ExceptionFilter): Promise<Page<ExceptionView>> {
    return this.#areas.exceptions.views(filter);
  }

  /** Direct read access for tests, benchmarks and the simulator's invariant checker. */
  query<T = Row>(sql: string, ...params: unknown[]): T[] {
    return this.#db.prepare(sql).all(...params) as T[];
  }
}

/** A device with its placement (null columns when it was never placed). */
const DEVICE_SELECT = `SELECT d.*, p.merchant, p.location, p.event
  FROM devices d LEFT JOIN device_placements p ON p.device = d.id`;

function prepareStatements(db: Database.Database) {
  return {
    insertToken: db.prepare(
      `INSERT INTO enrollment_tokens (id, token_hash, label, created_at, expires_at, used_at, device_id, public_key,
                                      merchant, location, event)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    tokenByHash: db.prepare('SELECT * FROM enrollment_tokens WHERE token_hash = ?'),
    useToken: db.prepare('UPDATE enrollment_tokens SET used_at = ?, device_id = ?, public_key = ? WHERE id = ?'),
    insertDevice: db.prepare(
      'INSERT INTO devices (id, label, public_key, enrolled_at, head_hash) VALUES (?, ?, ?, ?, ?)',
    ),
    deviceById: db.prepare(`${DEVICE_SELECT} WHERE d.id = ?`),
    deviceByKey: db.prepare('SELECT id FROM devices WHERE public_key = ?'),
    allDevices: db.prepare(`${DEVICE_SELECT} ORDER BY d.enrolled_at, d.id`),
    upsertPlacement: db.prepare(
      `INSERT INTO device_placements (device, merchant, location, event, placed_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device) DO UPDATE SET
         merchant = excluded.merchant, location = excluded.location, event = excluded.event, placed_at = excluded.placed_at`,
    ),
    revokeDevice: db.prepare(
      'UPDATE devices SET revoked_at = COALESCE(revoked_at, ?), revoke_reason = COALESCE(revoke_reason, ?) WHERE id = ?',
    ),
    deviceExceptionCounts: db.prepare(
      "SELECT type, COUNT(*) AS n FROM exceptions WHERE device = ? AND type IN ('conflict', 'fork') GROUP BY type",
    ),
    updateDeviceHead: db.prepare(
      'UPDATE devices SET high_water = ?, head_hash = ?, latest_seq = ?, gap_from = ?, gap_to = ?, last_seen_at = ?, clock_offset_ms = ? WHERE id = ?',
    ),
    opsByIds: db.prepare('SELECT id, device, seq, hash, result FROM ops WHERE id IN (SELECT value FROM json_each(?))'),
    opsBySeqRange: db.prepare('SELECT seq, id, hash FROM ops WHERE device = ? AND seq BETWEEN ? AND ?'),
    shiftsForBatch: db.prepare(
      "SELECT * FROM shifts WHERE id IN (SELECT value FROM json_each(?)) OR (device = ? AND status = 'open')",
    ),
    insertOps: new RowInserter(
      db,
      'INSERT INTO ops (id, device, seq, hash, kind, envelope, status, result, received_at)',
      9,
    ),
    insertLedger: new RowInserter(
      db,
      'INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)',
      10,
    ),
    insertSales: new RowInserter(
      db,
      'INSERT INTO sales (op_id, device, seq, shift_id, currency, total, cash, card, lines, device_at, applied_at)',
      11,
    ),
    insertOfflinePayments: new RowInserter(
      db,
      `INSERT INTO offline_payments (op_id, tender_index, device, seq, tender, amount, currency, brand, last4, token,
                                     policy, approved_at, received_at)`,
      13,
    ),
    insertCashMovements: new RowInserter(
      db,
      'INSERT INTO cash_movements (op_id, device, seq, shift_id, currency, direction, reason, amount, device_at, applied_at)',
      10,
    ),
    upsertShift: db.prepare(`
      INSERT INTO shifts (id, device, clerk, currency, status, opening_float, sales, sales_total, cash_sales, card_sales,
                          cash_in, cash_out, counted_cash, opened_at, closed_at, expected_cash, variance)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO UPDATE SET
        status = excluded.status, sales = excluded.sales, sales_total = excluded.sales_total,
        cash_sales = excluded.cash_sales, card_sales = excluded.card_sales, cash_in = excluded.cash_in,
        cash_out = excluded.cash_out, counted_cash = excluded.counted_cash, closed_at = excluded.closed_at,
        expected_cash = excluded.expected_cash, variance = excluded.variance`),
    insertExceptions: new RowInserter(
      db,
      'INSERT OR IGNORE INTO exceptions (id, type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key)',
      10,
    ),
    opById: db.prepare('SELECT envelope, hash, result, received_at FROM ops WHERE id = ?'),
    deviceOpsByIds: db.prepare(
      'SELECT envelope, hash, result, received_at FROM ops WHERE device = ? AND id IN (SELECT value FROM json_each(?))',
    ),
    ledgerPage: db.prepare('SELECT * FROM ledger WHERE pos > ? ORDER BY pos LIMIT ?'),
    exceptionsPage: db.prepare('SELECT * FROM exceptions WHERE pos > ? ORDER BY pos LIMIT ?'),
    allShifts: db.prepare('SELECT * FROM shifts ORDER BY opened_at, id'),
    deviceShifts: db.prepare('SELECT * FROM shifts WHERE device = ? ORDER BY opened_at, id'),
    insertServerKey: db.prepare(
      // OR IGNORE: an active key already there (the one-active index) wins; the caller reads it back.
      'INSERT OR IGNORE INTO server_keys (id, public_key, private_key, created_at, retired_at) VALUES (?, ?, ?, ?, ?)',
    ),
    activeServerKeys: db.prepare('SELECT * FROM server_keys WHERE retired_at IS NULL ORDER BY created_at DESC, id'),
    policySlot: db.prepare(
      `SELECT (SELECT coalesce(max(version), 0) FROM policies WHERE scope_key = ?) AS version,
              (SELECT max(issued_at) FROM policies) AS latest`,
    ),
    insertPolicy: db.prepare(
      `INSERT INTO policies (id, scope_key, version, merchant, location, event, currency, issued_at, valid_from,
                             expires_at, key_id, signed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    policies: db.prepare(
      `SELECT signed FROM policies
       WHERE (@merchant IS NULL OR merchant = @merchant) AND (@unexpiredAt IS NULL OR expires_at > @unexpiredAt)
       ORDER BY issued_at, id`,
    ),
    policiesByIds: db.prepare('SELECT signed FROM policies WHERE id IN (SELECT value FROM json_each(?))'),
    heldPayments: db.prepare(`SELECT ${HELD_COLUMNS} FROM offline_payments WHERE device = ? AND settled_at IS NULL`),
    allOfflinePayments: db.prepare('SELECT * FROM offline_payments ORDER BY device, seq, tender_index'),
    deviceOfflinePayments: db.prepare('SELECT * FROM offline_payments WHERE device = ? ORDER BY seq, tender_index'),
    // Unsettled, unrefused, due (backoff over), unclaimed (or lease expired), and no earlier unsettled,
    // unrefused payment of the device under a live claim or still backing off: seq order per device.
    claimablePayments: db.prepare(
      `SELECT o.*, p.merchant FROM offline_payments o LEFT JOIN device_placements p ON p.device = o.device
       WHERE o.settled_at IS NULL AND o.refused_at IS NULL
         AND (o.claim_expires_at IS NULL OR o.claim_expires_at <= @now)
         AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= @now)
         AND NOT EXISTS (
           SELECT 1 FROM offline_payments e
           WHERE e.device = o.device AND e.settled_at IS NULL AND e.refused_at IS NULL
             AND (e.claim_expires_at > @now OR e.next_attempt_at > @now)
             AND (e.seq, e.tender_index) < (o.seq, o.tender_index))
       ORDER BY o.device, o.seq, o.tender_index LIMIT @limit`,
    ),
    claimPayment: db.prepare(
      'UPDATE offline_payments SET claimed_by = ?, claim_expires_at = ? WHERE op_id = ? AND tender_index = ?',
    ),
    paymentByKey: db.prepare('SELECT * FROM offline_payments WHERE op_id = ? AND tender_index = ?'),
    settlePayment: db.prepare(
      `UPDATE offline_payments SET settled_at = ?, outcome = ?, processor_id = ?, decline_code = ?, settled_by = ?,
         claimed_by = NULL, claim_expires_at = NULL
       WHERE op_id = ? AND tender_index = ? AND settled_at IS NULL`,
    ),
    exposureActual: db.prepare(
      `SELECT o.currency, p.merchant, p.location, p.event, sum(o.amount) AS amount, count(*) AS n
       FROM offline_payments o LEFT JOIN device_placements p ON p.device = o.device
       WHERE o.settled_at IS NULL
       GROUP BY o.currency, p.merchant, p.location, p.event`,
    ),
  };
}

/** A ledger event's column values, in the order of `insertLedger`. */
function ledgerValues(e: LedgerEvent, out: unknown[]): void {
  out.push(
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
