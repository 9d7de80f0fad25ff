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
import { type InjectedBugs, limitedStatement, NO_INJECTED_BUGS, type SaleFact } from '@holdfast/domain';
import type {
  CatalogItem,
  DeviceStatus,
  Op,
  Placement,
  PriceList,
  PriceListRequest,
  SelectionResult,
  SignedPolicy,
} from '@holdfast/protocol';
import { ProtocolError } from '@holdfast/protocol';
import Database from 'better-sqlite3';
import { cashCorrectionRefs } from '../../ingest/cash-correction-plan.js';
import {
  approvalFactsNeeded,
  type IngestFacts,
  type KnownOp,
  loyaltyRefs,
  onlineClaimIds,
  saleRefs,
  shiftRefs,
  stockRefs,
  ticketRefs,
} from '../../ingest/ingest-facts.js';
import { planIngest } from '../../ingest/plan-ingest.js';
import { staffRefs } from '../../ingest/staff-check.js';
import { topUpRefs } from '../../ingest/topup-reversal-plan.js';
import type { AuthorizationFinish, AuthorizationRecord, AuthorizationSlot } from '../../model/authorization.js';
import type { IngestOutcome, StoredOp, VerifiedBatch } from '../../model/batch.js';
import type {
  CardRefund,
  CardRefundAnswerRequest,
  CardRefundDeferRequest,
  ClaimedCardRefund,
} from '../../model/card-refund.js';
import { catalogRefs, type StoredCatalogItem } from '../../model/catalog.js';
import type { DeclineReportRow } from '../../model/decline-report.js';
import type {
  DeviceKeyRecord,
  DeviceRecord,
  RotateDeviceKeyOutcome,
  RotateDeviceKeyRequest,
} from '../../model/device.js';
import type { DeviceFeedPage } from '../../model/device-feed.js';
import type { DeviceReportRecord } from '../../model/device-report.js';
import type { EnrollmentTokenRecord, RedeemOutcome, RedeemRequest } from '../../model/enrollment.js';
import type { ExceptionRecord } from '../../model/exception.js';
import type {
  ExceptionActionOutcome,
  ExceptionActionRequest,
  ExceptionFilter,
  ExceptionView,
} from '../../model/exception-action.js';
import type { ExposureActual } from '../../model/exposure.js';
import type {
  FiscalAnswerRequest,
  FiscalBill,
  FiscalBillAction,
  FiscalBillActionRequest,
  FiscalBillActionResult,
  FiscalCreditNote,
  FiscalDeadlineQuery,
  FiscalDeferRequest,
  FiscalJurisdictionSetting,
  FiscalNoteRecordResult,
  FiscalRecordResult,
  FiscalRefusalRequest,
} from '../../model/fiscal-bill.js';
import type { ForwardingDeadlineRow } from '../../model/forwarding-deadline-row.js';
import type { LedgerEvent } from '../../model/ledger-event.js';
import type { LedgerRange } from '../../model/ledger-range.js';
import type {
  LoyaltyAdjustRequest,
  LoyaltyMemberRecord,
  LoyaltyMemberView,
  LoyaltyMessageRecord,
  LoyaltyRedemptionRecord,
} from '../../model/loyalty.js';
import type { ClaimedOfflinePayment, StoredOfflinePayment } from '../../model/offline-payment.js';
import type { GaugeQuery, OperationalGauges, StoreReadiness } from '../../model/operational-gauges.js';
import type {
  ApiTokenRecord,
  AuditEntry,
  AuditFilter,
  AuditRow,
  OperatorChange,
  OperatorRecord,
  OperatorSessionRecord,
} from '../../model/operator.js';
import type { OutageException } from '../../model/outages.js';
import type {
  DeadlineCandidate,
  DeadlineNotice,
  DeadlineQuery,
  DeferRequest,
  RefuseRequest,
  SettleOutcome,
  SettleRequest,
} from '../../model/payment-forwarding.js';
import type { PolicyFilter, PolicyIssueRequest, ServerKeyRecord } from '../../model/policy.js';
import type { ReportInput } from '../../model/reports.js';
import type { SaleCorrectionRecord } from '../../model/sale-correction.js';
import type { ShiftRecord } from '../../model/shift.js';
import type { LocationRoster, StaffChange, StaffEvent, StaffMemberView } from '../../model/staff.js';
import type { StockLevelRecord, StockMoveFilter, StockMoveRecord } from '../../model/stock.js';
import type { StoreSummary } from '../../model/summary.js';
import type { ResultsOutcome, TicketView } from '../../model/ticket.js';
import type {
  UnblockOutcome,
  UnblockRequest,
  WalletAccountRecord,
  WalletFilter,
  WalletView,
} from '../../model/wallet.js';
import { walletRefs } from '../../wallets/wallet-plan.js';
import { unblockWrites } from '../../wallets/wallet-records.js';
import { approvalFactsOf, HELD_COLUMNS, policyIdsOf } from '../approval-facts.js';
import type { BettingConfig, BettingConfigRecord, SelectionLiability } from '../authorizations.js';
import { canonicalTexts } from '../canonical-texts.js';
import type { Row } from '../rows.js';
import { due, holdingBack, unconfirmed } from '../sql/offline-payment-states.js';
import {
  claimCardRefunds,
  deferCardRefund,
  enrollCardRefunds,
  listCardRefunds,
  recordCardRefund,
} from '../sql/operations/card-refunds.js';
import { loadCashCorrectionFacts, writeCashCorrections } from '../sql/operations/cash-corrections.js';
import {
  catalogFacts,
  listCatalogItems,
  listPriceLists,
  priceListVersion,
  publishPriceList,
  upsertCatalogItems,
} from '../sql/operations/catalog.js';
import { listDeviceKeys, rotateDeviceKey } from '../sql/operations/device-keys.js';
import { listDeviceOps } from '../sql/operations/device-ops.js';
import { recordDeviceReport } from '../sql/operations/device-reports.js';
import {
  deviceStatuses,
  getDevice,
  insertEnrollmentToken,
  listDevices,
  redeemEnrollmentToken,
  revokeDevice,
  setDevicePlacement,
} from '../sql/operations/devices.js';
import { exceptionViews, recordExceptionAction } from '../sql/operations/exception-actions.js';
import { mergeAggregatedExceptions } from '../sql/operations/exception-groups.js';
import { raiseExceptions } from '../sql/operations/feed-writes.js';
import {
  claimFiscalBills,
  deferFiscalBill,
  enrollFiscalBills,
  listFiscalBills,
  raiseFiscalDeadlines,
  recordFiscalAnswer,
} from '../sql/operations/fiscal-bills.js';
import {
  actOnFiscalBill,
  claimFiscalCreditNotes,
  deferFiscalCreditNote,
  listFiscalBillActions,
  listFiscalCreditNotes,
  listFiscalJurisdictions,
  recordFiscalCreditAnswer,
  refuseFiscalDocument,
  setFiscalJurisdiction,
} from '../sql/operations/fiscal-credit-notes.js';
import { listForwardingDeadlines } from '../sql/operations/forwarding-deadlines.js';
import { operationalGauges, readinessProbe } from '../sql/operations/health-reads.js';
import {
  adjustLoyaltyPoints,
  createLoyaltyMember,
  getLoyaltyMember,
  listLoyaltyMembers,
  writeLoyalty,
} from '../sql/operations/loyalty.js';
import {
  type ConfirmOutcome,
  confirmLoyaltyRedemption,
  insertLoyaltyMessage,
  listLoyaltyMessages,
  listLoyaltyRedemptions,
  loadLoyaltyFacts,
  lookupLoyaltyMember,
  type StartRedemptionRequest,
  startLoyaltyRedemption,
} from '../sql/operations/loyalty-redemptions.js';
import * as ops from '../sql/operations/operators.js';
import {
  deadlineCandidates,
  declineReport,
  deferOfflinePayment,
  raiseDeadlineExceptions,
  refuseOfflinePayment,
  settleOfflinePayment,
} from '../sql/operations/payment-forwarding.js';
import {
  ensureServerKey,
  issuePolicy,
  listAllServerKeys,
  listPolicies,
  listServerKeys,
  listTrustedServerKeys,
  rotateServerKey,
} from '../sql/operations/policies.js';
import {
  exceptionsPage,
  exposureActual,
  getDeviceOps,
  getOp,
  getOpAt,
  ledgerPage,
  listOfflinePayments,
  listShifts,
} from '../sql/operations/reads.js';
import type { TaxRate } from '../sql/operations/reports.js';
import * as reports from '../sql/operations/reports.js';
import {
  getSaleCorrections,
  loadSaleFacts,
  storedSaleOf,
  writeSaleCorrections,
} from '../sql/operations/sale-corrections.js';
import {
  changeStaff,
  listStaff,
  locationRoster,
  rosterVersion,
  staffFacts,
  staffHistory,
} from '../sql/operations/staff.js';
import { listStockLevels, listStockMoves, loadStockFacts, writeStock } from '../sql/operations/stock.js';
import {
  authorizePayout,
  getTicket,
  listTickets,
  loadTicketFacts,
  type PayoutAsk,
  type PayoutDecision,
  recordResults,
  writeTicketChanges,
} from '../sql/operations/tickets.js';
import { loadTopUpFacts, writeTopUpReversals } from '../sql/operations/topup-reversals.js';
import { PROBE_WRITE } from '../sql/probe-write.js';
import { insertSql, valuesOf } from '../sql/table.js';
import { DEVICE_COLUMNS, DEVICE_FROM, DEVICE_HEAD_COLUMNS, deviceHeadValues, deviceOf } from '../sql/tables/devices.js';
import { EXCEPTIONS } from '../sql/tables/exceptions.js';
import { LEDGER } from '../sql/tables/ledger.js';
import { OFFLINE_PAYMENTS, offlinePaymentOf } from '../sql/tables/offline-payments.js';
import { OPS, type OpRow } from '../sql/tables/ops.js';
import { CASH_MOVEMENTS, SHIFT_UPSERT, SHIFTS, shiftOf } from '../sql/tables/shift-projections.js';
import type { DeviceOpsQuery, Page, Storage } from '../storage.js';
import { tableInserter } from './row-inserter.js';
import { SqliteAuthorizations } from './sqlite-authorizations.js';
import { sqliteDialect } from './sqlite-dialect.js';
import { SqliteDriver } from './sqlite-driver.js';
import { SqliteDeviceFeed } from './sqlite-feed.js';
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
  /**
   * WAL pages after which a commit checkpoints them into the database file
   * (SQLite's wal_autocheckpoint); default DEFAULT_WAL_CHECKPOINT_PAGES.
   */
  walCheckpointPages?: number;
}

/**
 * WAL pages after which a commit checkpoints (copies the WAL into the
 * database file and syncs it): 10,000 pages (about 40 MiB) where SQLite's
 * default is 1,000. With 1,000, the storage thread checkpointed after
 * nearly every second group commit of sales (about 1.2 KiB written per op),
 * rewriting the same index and table pages each time; and ops that come back
 * from an outage carry ids and device times interleaved across terminals,
 * so each batch's index entries land on hundreds of different pages, which a
 * short WAL copies into the file after nearly every commit. A longer one
 * writes a page that several commits touched once. Durability is the same:
 * every commit is synced to the WAL (synchronous=FULL). docs/performance.md,
 * "Ingest on SQLite" and "Reconnection storm", have the figures.
 */
export const DEFAULT_WAL_CHECKPOINT_PAGES = 10_000;

function walCheckpointPages(pages = DEFAULT_WAL_CHECKPOINT_PAGES): number {
  if (!Number.isSafeInteger(pages) || pages < 1) {
    throw new RangeError(`walCheckpointPages must be an integer >= 1, got ${pages}`);
  }
  return pages;
}

export type ServerCrashPoint = 'ingest:before-commit' | 'ingest:after-commit';

/** One batch of a group commit (SqliteStorage.ingestGroup): the arguments of one `ingest` call. */
export interface GroupedIngest {
  batch: VerifiedBatch;
  now: number;
  newId: () => string;
}

/** What one batch of a group commit came to: its outcome, or the error that refused it alone. */
export type GroupedOutcome = { ok: true; value: IngestOutcome } | { ok: false; error: unknown };

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
  /** Statements `query` prepared, by their text. */
  readonly #queries = new Map<string, Database.Statement>();
  #migratedDriver: SqliteDriver | null = null;
  readonly #crashHook: SqliteStorageOptions['crashHook'];
  readonly #bugs: InjectedBugs;
  #prepared: ReturnType<typeof prepareStatements> | null = null;
  #feed: SqliteDeviceFeed | null = null;
  #auth: SqliteAuthorizations | null = null;
  #walletStmts: SqliteWallets | null = null;
  readonly #ingestCounts = { commits: 0, batches: 0 };

  constructor(options: SqliteStorageOptions) {
    const checkpointPages = walCheckpointPages(options.walCheckpointPages);
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.#db = new Database(options.path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.#crashHook = options.crashHook;
    this.#bugs = options.bugs ?? NO_INJECTED_BUGS;
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.pragma(`wal_autocheckpoint = ${checkpointPages}`);
  }

  /** The driver of the shared operations; only after migrate(), like the prepared statements. */
  get #driver(): SqliteDriver {
    if (!this.#migratedDriver) throw new Error('SqliteStorage: call migrate() before use');
    return this.#migratedDriver;
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
    this.#migratedDriver = new SqliteDriver(db);
    this.#feed = new SqliteDeviceFeed(db);
    this.#auth = new SqliteAuthorizations(db);
    this.#walletStmts = new SqliteWallets(db);
  }

  get #authorizations(): SqliteAuthorizations {
    if (!this.#auth) throw new Error('SqliteStorage: call migrate() before use');
    return this.#auth;
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async probeWrite(): Promise<void> {
    this.#db.prepare(PROBE_WRITE).run();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  // Operators in the back office (operator-storage.ts, sql/operations/operators.ts).

  async insertOperator(record: OperatorRecord): Promise<'inserted' | 'username_taken'> {
    return this.#driver.autocommit(ops.insertOperator(sqliteDialect, record));
  }

  async getOperator(key: { id: string } | { username: string }): Promise<OperatorRecord | null> {
    return this.#driver.autocommit(ops.getOperator(key));
  }

  async listOperators(): Promise<OperatorRecord[]> {
    return this.#driver.autocommit(ops.listOperators());
  }

  async updateOperator(id: string, change: OperatorChange): Promise<OperatorRecord | null> {
    return this.#driver.transaction(() => ops.updateOperator(id, change));
  }

  async insertOperatorSession(session: OperatorSessionRecord): Promise<void> {
    this.#driver.autocommit(ops.insertSession(sqliteDialect, session));
  }

  async operatorSessionByHash(tokenHash: string): Promise<OperatorSessionRecord | null> {
    return this.#driver.autocommit(ops.sessionByHash(tokenHash));
  }

  async touchOperatorSession(id: string, at: number): Promise<void> {
    this.#driver.autocommit(ops.touchSession(id, at));
  }

  async endOperatorSessions(which: { id: string } | { operatorId: string }, at: number): Promise<number> {
    return this.#driver.autocommit(ops.endSessions(which, at));
  }

  async insertApiToken(token: ApiTokenRecord): Promise<void> {
    this.#driver.autocommit(ops.insertApiToken(sqliteDialect, token));
  }

  async apiTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null> {
    return this.#driver.autocommit(ops.apiTokenByHash(tokenHash));
  }

  async listApiTokens(operatorId: string | null): Promise<ApiTokenRecord[]> {
    return this.#driver.autocommit(ops.listApiTokens(operatorId));
  }

  async revokeApiToken(id: string, at: number): Promise<ApiTokenRecord | null> {
    return this.#driver.transaction(() => ops.revokeApiToken(id, at));
  }

  async revokeApiTokensOf(operatorId: string, at: number): Promise<number> {
    return this.#driver.autocommit(ops.revokeApiTokensOf(operatorId, at));
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    this.#driver.autocommit(ops.appendAudit(sqliteDialect, entry));
  }

  async listAudit(filter: AuditFilter): Promise<AuditRow[]> {
    return this.#driver.autocommit(ops.listAudit(sqliteDialect, filter));
  }

  async insertEnrollmentToken(token: EnrollmentTokenRecord): Promise<void> {
    this.#driver.autocommit(insertEnrollmentToken(sqliteDialect, token));
  }

  async redeemEnrollmentToken(request: RedeemRequest): Promise<RedeemOutcome> {
    return this.#driver.transaction(() => redeemEnrollmentToken(sqliteDialect, request));
  }

  async getDevice(id: string): Promise<DeviceRecord | null> {
    return this.#driver.autocommit(getDevice(id));
  }

  async listDevices(): Promise<DeviceRecord[]> {
    return this.#driver.autocommit(listDevices());
  }

  async revokeDevice(id: string, reason: string, now: number): Promise<DeviceRecord | null> {
    return this.#driver.autocommit(revokeDevice(id, reason, now));
  }

  async rotateDeviceKey(request: RotateDeviceKeyRequest): Promise<RotateDeviceKeyOutcome> {
    return this.#driver.transaction(() => rotateDeviceKey(sqliteDialect, request));
  }

  async listDeviceKeys(device: string): Promise<DeviceKeyRecord[]> {
    return this.#driver.autocommit(listDeviceKeys(device));
  }

  async setDevicePlacement(id: string, placement: Placement, now: number): Promise<DeviceRecord | null> {
    return this.#driver.autocommit(setDevicePlacement(id, placement, now));
  }

  async deviceStatus(id: string): Promise<DeviceStatus | null> {
    return this.#driver.autocommit(deviceStatuses(id))[0] ?? null;
  }

  async listDeviceStatuses(): Promise<DeviceStatus[]> {
    return this.#driver.autocommit(deviceStatuses(null));
  }

  async listForwardingDeadlines(limit: number): Promise<Omit<ForwardingDeadlineRow, 'deadlineAt'>[]> {
    return this.#driver.autocommit(listForwardingDeadlines(limit));
  }

  async listDeviceOps(device: string, query: DeviceOpsQuery): Promise<Page<StoredOp>> {
    return this.#driver.autocommit(listDeviceOps(device, query));
  }

  async recordDeviceReport(report: DeviceReportRecord): Promise<void> {
    this.#driver.autocommit(recordDeviceReport(report));
  }

  async ingest(batch: VerifiedBatch, now: number, newId: () => string): Promise<IngestOutcome> {
    const hook = this.#crashHook;
    if (!hook) {
      const outcome = this.#db.transaction(() => this.#ingestInTransaction(batch, now, newId)).immediate();
      this.#ingestCounts.commits++;
      this.#ingestCounts.batches++;
      return outcome;
    }
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

  /**
   * Group commit, for the storage thread (sqlite-thread-worker.ts): the
   * batches waiting there, applied in order in ONE transaction, each in a
   * savepoint of its own, so one durable commit (one fsync of the WAL) covers
   * them all. A batch that is refused (an error thrown while planning or
   * writing it) is rolled back to its savepoint alone and answered with its
   * error; the others commit. Nothing is answered before the commit: if it
   * fails, the whole call throws and every batch of the group gets that
   * error, with nothing of any of them written.
   *
   * `endBefore(i)`, asked before each batch but the first, ends the group
   * there: the outcomes returned are those of the batches applied, a prefix
   * of `items`, and the rest are the caller's to apply later.
   */
  ingestGroup(items: readonly GroupedIngest[], endBefore?: (index: number) => boolean): GroupedOutcome[] {
    if (this.#crashHook) throw new Error('SqliteStorage: ingestGroup is not for crash-hooked storage');
    const outcomes: GroupedOutcome[] = [];
    this.#db
      .transaction(() => {
        for (const [index, { batch, now, newId }] of items.entries()) {
          if (index > 0 && endBefore?.(index)) break;
          try {
            outcomes.push({
              ok: true,
              value: this.#db.transaction(() => this.#ingestInTransaction(batch, now, newId))(),
            });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })
      .immediate();
    this.#ingestCounts.commits++;
    this.#ingestCounts.batches += outcomes.length;
    return outcomes;
  }

  /** Ingest transactions committed and the batches they carried, since this storage opened (group commit's effect). */
  ingestCommits(): { commits: number; batches: number } {
    return { ...this.#ingestCounts };
  }

  #ingestInTransaction(batch: VerifiedBatch, now: number, newId: () => string): IngestOutcome {
    const s = this.#statements;
    const deviceRow = s.deviceById.get(batch.device) as Row | undefined;
    if (!deviceRow) throw new ProtocolError('unknown_device', `device ${batch.device} is not enrolled`);
    const device = deviceOf(deviceRow);
    if (device.revokedAt !== null) {
      throw new ProtocolError('device_revoked', `device ${device.id} was revoked: ${device.revokeReason ?? ''}`);
    }
    const ids = JSON.stringify(batch.ops.map((op) => op.id));
    const byId = new Map<string, KnownOp>();
    const storedSales = new Map<string, SaleFact>();
    for (const r of s.opsByIds.all(ids) as Row[]) {
      byId.set(r.id as string, {
        device: r.device as string,
        seq: Number(r.seq),
        hash: r.hash as string,
        result: JSON.parse(r.result as string),
      });
      if (r.sale !== null)
        storedSales.set(r.id as string, storedSaleOf(r.id as string, r.device as string, r.sale as string));
    }
    const first = (batch.ops[0] as Op).seq;
    const last = (batch.ops[batch.ops.length - 1] as Op).seq;
    const bySeq = new Map<number, { id: string; hash: string }>();
    for (const r of s.opsBySeqRange.all(device.id, first, last) as Row[]) {
      bySeq.set(Number(r.seq), { id: r.id as string, hash: r.hash as string });
    }
    const shifts = new Map<string, ShiftRecord>();
    for (const r of s.shiftsForBatch.all(JSON.stringify(shiftRefs(batch.ops)), device.id) as Row[]) {
      shifts.set(r.id as string, shiftOf(r));
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
    if (device.location !== null || batch.ops.some((op) => op.actor !== undefined)) {
      facts.staff = this.#driver.autocommit(staffFacts(sqliteDialect, staffRefs(batch.ops), device.location));
    }
    const catalogSkus = catalogRefs(batch.ops);
    if (catalogSkus.length > 0) {
      facts.catalog = this.#driver.autocommit(catalogFacts(sqliteDialect, device.location, catalogSkus));
    }
    const tickets = ticketRefs(batch.ops);
    if (tickets.length > 0) {
      const loaded = this.#driver.autocommit(loadTicketFacts(sqliteDialect, tickets));
      facts.tickets = { byId: loaded.tickets, config: loaded.config };
    }
    const members = loyaltyRefs(batch.ops);
    if (members.length > 0) facts.loyalty = this.#driver.autocommit(loadLoyaltyFacts(sqliteDialect, batch.ops));
    const sales = saleRefs(batch.ops);
    if (sales.length > 0) {
      const known = { ids: new Set(batch.ops.map((op) => op.id)), sales: storedSales };
      facts.sales = this.#driver.autocommit(loadSaleFacts(sqliteDialect, sales, known));
    }
    const stock = stockRefs(batch.ops, device.location);
    if (device.location !== null && (stock.opSkus.length > 0 || stock.saleSkus.length > 0)) {
      facts.stock = this.#driver.autocommit(loadStockFacts(sqliteDialect, device.location, stock, now));
    }
    const topUps = topUpRefs(batch.ops);
    if (topUps.length > 0) facts.topUps = this.#driver.autocommit(loadTopUpFacts(sqliteDialect, topUps));
    const movements = cashCorrectionRefs(batch.ops);
    if (movements.length > 0) {
      facts.cashCorrections = this.#driver.autocommit(loadCashCorrectionFacts(sqliteDialect, movements));
    }
    const plan = planIngest(batch, facts, { now, newId, bugs: this.#bugs });

    const textOf = canonicalTexts(batch);
    // Every accepted op of a batch has the same stored result: serialise it once.
    const accepted = JSON.stringify({ status: 'accepted', at: now });
    s.insertOps(
      plan.inserts.map(
        ({ op, result }): OpRow => ({
          op,
          envelope: textOf(op),
          status: result.status,
          result: result.status === 'accepted' && result.at === now ? accepted : JSON.stringify(result),
          receivedAt: now,
        }),
      ),
    );
    s.insertLedger(plan.ledger);
    s.insertOfflinePayments(plan.offlinePayments);
    s.insertCashMovements(plan.cashMovements);
    for (const sh of plan.shifts) s.upsertShift.run(valuesOf(SHIFTS, sh, sqliteDialect));
    s.insertExceptions(plan.exceptions.filter((x) => !x.groupKey));
    this.#driver.autocommit(
      mergeAggregatedExceptions(
        sqliteDialect,
        plan.exceptions.filter((x) => x.groupKey),
      ),
    );
    this.#wallets.write(plan);
    if (plan.ticketChanges.length > 0) this.#driver.autocommit(writeTicketChanges(sqliteDialect, plan.ticketChanges));
    if (plan.loyaltyEntries.length > 0) this.#driver.autocommit(writeLoyalty(sqliteDialect, plan));
    if (plan.saleCorrections.length > 0 || plan.saleCorrectionsJudged.length > 0) {
      this.#driver.autocommit(
        writeSaleCorrections(sqliteDialect, plan.saleCorrections, plan.saleCorrectionsJudged, newId),
      );
    }
    if (plan.topUpReversals.length > 0) {
      this.#driver.autocommit(writeTopUpReversals(sqliteDialect, plan.topUpReversals));
    }
    if (plan.cashCorrections.length > 0) {
      this.#driver.autocommit(writeCashCorrections(sqliteDialect, plan.cashCorrections));
    }
    if (plan.stockMoves.length > 0) this.#driver.autocommit(writeStock(sqliteDialect, plan));
    const d = plan.device;
    s.updateDeviceHead.run(...deviceHeadValues(d), device.id);
    return { results: plan.results, highWater: d.highWater };
  }

  async getOp(id: string): Promise<StoredOp | null> {
    return this.#driver.autocommit(getOp(id));
  }

  async getOpAt(device: string, seq: number): Promise<StoredOp | null> {
    return this.#driver.autocommit(getOpAt(device, seq));
  }

  async getDeviceOps(device: string, ids: readonly string[]): Promise<StoredOp[]> {
    return this.#driver.autocommit(getDeviceOps(sqliteDialect, device, ids));
  }

  async listLedger(after: number, limit: number, range?: LedgerRange): Promise<Page<LedgerEvent & { pos: number }>> {
    return this.#driver.transaction(() => ledgerPage(sqliteDialect, after, limit, range ?? null));
  }

  async listDeviceFeed(device: string, after: number, limit: number): Promise<DeviceFeedPage> {
    if (!this.#feed) throw new Error('SqliteStorage: call migrate() before use');
    return this.#feed.list(device, after, limit);
  }

  async listExceptions(after: number, limit: number): Promise<Page<ExceptionRecord & { pos: number }>> {
    return this.#driver.transaction(() => exceptionsPage(sqliteDialect, after, limit));
  }

  async listShifts(device: string | null): Promise<ShiftRecord[]> {
    return this.#driver.autocommit(listShifts(device));
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

  async operationalGauges(query: GaugeQuery): Promise<OperationalGauges> {
    return this.#driver.autocommit(operationalGauges(sqliteDialect, query));
  }

  async readiness(): Promise<StoreReadiness> {
    return this.#driver.transaction(() => readinessProbe(SQLITE_MIGRATIONS.length));
  }

  pendingCalls(): number {
    return 0; // each call runs to its end before the next starts
  }

  async ensureServerKey(candidate: ServerKeyRecord): Promise<ServerKeyRecord> {
    return this.#driver.transaction(() => ensureServerKey(sqliteDialect, candidate));
  }

  async listServerKeys(): Promise<ServerKeyRecord[]> {
    return this.#driver.autocommit(listServerKeys());
  }

  async listTrustedServerKeys(now: number): Promise<ServerKeyRecord[]> {
    return this.#driver.autocommit(listTrustedServerKeys(now));
  }

  async listAllServerKeys(): Promise<ServerKeyRecord[]> {
    return this.#driver.autocommit(listAllServerKeys());
  }

  async rotateServerKey(
    candidate: ServerKeyRecord,
    overlapMs: number,
  ): Promise<{ active: ServerKeyRecord; retired: ServerKeyRecord | null }> {
    return this.#driver.transaction(() => rotateServerKey(sqliteDialect, candidate, overlapMs));
  }

  async issuePolicy(request: PolicyIssueRequest): Promise<SignedPolicy> {
    return this.#driver.transaction(() => issuePolicy(sqliteDialect, request));
  }

  async listPolicies(filter: PolicyFilter = {}): Promise<SignedPolicy[]> {
    return this.#driver.autocommit(listPolicies(filter));
  }

  async upsertCatalogItems(items: readonly CatalogItem[], now: number, by: string): Promise<StoredCatalogItem[]> {
    return this.#driver.transaction(() => upsertCatalogItems(sqliteDialect, items, now, by));
  }

  async listCatalogItems(): Promise<StoredCatalogItem[]> {
    return this.#driver.autocommit(listCatalogItems());
  }

  async reportInput(from: number, to: number): Promise<ReportInput> {
    return this.#driver.autocommit(reports.reportInput(sqliteDialect, from, to));
  }

  async outageEvents(
    device: string,
    after: reports.OutageCursor | null,
    from: number,
    to: number,
    limit: number,
  ): Promise<reports.OutageEventPage> {
    return this.#driver.autocommit(reports.outageEvents(device, after, from, to, limit));
  }

  async exceptionsForOps(opIds: readonly string[], types: readonly string[]): Promise<OutageException[]> {
    return this.#driver.autocommit(reports.exceptionsForOps(sqliteDialect, opIds, types));
  }

  async setTaxRates(rates: readonly { category: string; rate: number }[], now: number, by: string): Promise<TaxRate[]> {
    return this.#driver.transaction(() => reports.setTaxRates(rates, now, by));
  }

  async listTaxRates(): Promise<TaxRate[]> {
    return this.#driver.autocommit(reports.listTaxRates());
  }

  async raiseNotices(records: readonly ExceptionRecord[]): Promise<number> {
    return this.#driver.transaction(() => raiseExceptions(sqliteDialect, records));
  }

  async publishPriceList(request: PriceListRequest, now: number, by: string): Promise<PriceList> {
    return this.#driver.transaction(() => publishPriceList(sqliteDialect, request, now, by));
  }

  async priceListVersion(location: string): Promise<number> {
    return this.#driver.autocommit(priceListVersion(location));
  }

  async listPriceLists(location: string): Promise<PriceList[]> {
    return this.#driver.autocommit(listPriceLists(location));
  }

  async changeStaff(change: StaffChange, now: number, by: string): Promise<StaffEvent> {
    return this.#driver.transaction(() => changeStaff(sqliteDialect, change, now, by));
  }

  async locationRoster(location: string): Promise<LocationRoster> {
    return this.#driver.transaction(() => locationRoster(location));
  }

  async rosterVersion(location: string): Promise<number> {
    return this.#driver.autocommit(rosterVersion(location));
  }

  async listStaff(location: string): Promise<StaffMemberView[]> {
    return this.#driver.transaction(() => listStaff(location));
  }

  async staffHistory(location: string, staff: string | null): Promise<StaffEvent[]> {
    return this.#driver.autocommit(staffHistory(location, staff));
  }

  async listOfflinePayments(device: string | null): Promise<StoredOfflinePayment[]> {
    return this.#driver.autocommit(listOfflinePayments(device));
  }

  async exposureActual(): Promise<ExposureActual[]> {
    return this.#driver.autocommit(exposureActual());
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
        const rows = s.claimablePayments(limit).all({ now }) as Row[];
        for (const r of rows) s.claimPayment.run(owner, now + leaseMs, r.op_id, r.tender_index);
        return rows.map((r) => ({
          ...offlinePaymentOf(r),
          merchant: (r.merchant as string | null) ?? null,
          claimedBy: owner,
          claimExpiresAt: now + leaseMs,
        }));
      })
      .immediate();
  }

  async settleOfflinePayment(request: SettleRequest): Promise<SettleOutcome | null> {
    return this.#driver.transaction(() => settleOfflinePayment(sqliteDialect, request, this.#bugs));
  }

  async settleOfflinePayments(requests: readonly SettleRequest[]): Promise<(SettleOutcome | null)[]> {
    if (requests.length === 0) return [];
    const bugs = this.#bugs;
    return this.#driver.transaction(function* () {
      const outcomes: (SettleOutcome | null)[] = [];
      for (const request of requests) outcomes.push(yield* settleOfflinePayment(sqliteDialect, request, bugs));
      return outcomes;
    });
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

  async recordResults(
    event: string,
    results: readonly { market: string; selection: string; result: SelectionResult }[],
    now: number,
  ): Promise<ResultsOutcome> {
    return this.#driver.transaction(() => recordResults(sqliteDialect, event, results, now));
  }

  async authorizePayout(ask: PayoutAsk): Promise<PayoutDecision> {
    return this.#driver.transaction(() => authorizePayout(sqliteDialect, ask));
  }

  async getSaleCorrections(saleId: string): Promise<SaleCorrectionRecord[]> {
    return this.#driver.autocommit(getSaleCorrections(sqliteDialect, saleId));
  }

  async getTicket(ticketId: string): Promise<TicketView | null> {
    return this.#driver.transaction(() => getTicket(sqliteDialect, ticketId));
  }

  async listTickets(): Promise<TicketView[]> {
    return this.#driver.transaction(() => listTickets(sqliteDialect));
  }

  async createLoyaltyMember(member: string, name: string, now: number): Promise<LoyaltyMemberRecord> {
    return this.#driver.transaction(() => createLoyaltyMember(sqliteDialect, member, name, now));
  }

  async getLoyaltyMember(member: string): Promise<LoyaltyMemberView | null> {
    return this.#driver.transaction(() => getLoyaltyMember(sqliteDialect, member));
  }

  async listLoyaltyMembers(): Promise<LoyaltyMemberView[]> {
    return this.#driver.transaction(() => listLoyaltyMembers(sqliteDialect));
  }

  async listStockLevels(location: string | null): Promise<StockLevelRecord[]> {
    return this.#driver.autocommit(listStockLevels(sqliteDialect, location));
  }

  async listStockMoves(filter: StockMoveFilter): Promise<Page<StockMoveRecord & { pos: number }>> {
    return this.#driver.autocommit(listStockMoves(sqliteDialect, filter));
  }

  async adjustLoyaltyPoints(req: LoyaltyAdjustRequest): Promise<LoyaltyMemberView> {
    return this.#driver.transaction(() => adjustLoyaltyPoints(sqliteDialect, req));
  }

  async lookupLoyaltyMember(member: string): Promise<{ account: LoyaltyMemberRecord; held: number } | null> {
    return this.#driver.transaction(() => lookupLoyaltyMember(sqliteDialect, member));
  }

  async startLoyaltyRedemption(
    req: StartRedemptionRequest,
  ): Promise<{ record: LoyaltyRedemptionRecord; send: boolean }> {
    return this.#driver.transaction(() => startLoyaltyRedemption(sqliteDialect, req));
  }

  async confirmLoyaltyRedemption(req: {
    id: string;
    device: string;
    code: string;
    now: number;
  }): Promise<ConfirmOutcome> {
    return this.#driver.transaction(() => confirmLoyaltyRedemption(sqliteDialect, req));
  }

  async insertLoyaltyMessage(message: Omit<LoyaltyMessageRecord, 'pos'>): Promise<void> {
    return this.#driver.transaction(() => insertLoyaltyMessage(sqliteDialect, message));
  }

  async listLoyaltyMessages(member: string | null): Promise<LoyaltyMessageRecord[]> {
    return this.#driver.transaction(() => listLoyaltyMessages(sqliteDialect, member));
  }

  async listLoyaltyRedemptions(): Promise<LoyaltyRedemptionRecord[]> {
    return this.#driver.transaction(() => listLoyaltyRedemptions(sqliteDialect));
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
        this.#statements.insertLedger([writes.ledger]);
        return { account: writes.account, unblockedNow: true };
      })
      .immediate();
  }

  async deferOfflinePayment(request: DeferRequest): Promise<boolean> {
    return this.#driver.autocommit(deferOfflinePayment(request));
  }

  async refuseOfflinePayment(request: RefuseRequest): Promise<boolean> {
    return this.#driver.transaction(() => refuseOfflinePayment(sqliteDialect, request));
  }

  async listDeadlineCandidates(query: DeadlineQuery): Promise<DeadlineCandidate[]> {
    return this.#driver.autocommit(deadlineCandidates(sqliteDialect, query));
  }

  async raiseDeadlineExceptions(notices: readonly DeadlineNotice[]): Promise<number> {
    return this.#driver.transaction(() => raiseDeadlineExceptions(sqliteDialect, notices));
  }

  async declineReport(from: number, to: number): Promise<DeclineReportRow[]> {
    return this.#driver.autocommit(declineReport(from, to));
  }

  async recordExceptionAction(request: ExceptionActionRequest): Promise<ExceptionActionOutcome> {
    return this.#driver.transaction(() => recordExceptionAction(sqliteDialect, request));
  }

  async listExceptionViews(filter: ExceptionFilter): Promise<Page<ExceptionView>> {
    return this.#driver.autocommit(exceptionViews(sqliteDialect, filter));
  }

  async enrollFiscalBills(now: number, limit: number): Promise<number> {
    return this.#driver.transaction(() => enrollFiscalBills(sqliteDialect, now, limit));
  }

  async claimFiscalBills(owner: string, now: number, leaseMs: number, limit: number): Promise<FiscalBill[]> {
    return this.#driver.transaction(() => claimFiscalBills(owner, now, leaseMs, limit));
  }

  async recordFiscalAnswer(request: FiscalAnswerRequest): Promise<FiscalRecordResult> {
    return this.#driver.transaction(() => recordFiscalAnswer(sqliteDialect, request));
  }

  async deferFiscalBill(request: FiscalDeferRequest): Promise<boolean> {
    return this.#driver.autocommit(deferFiscalBill(request));
  }

  async listFiscalBills(device: string | null): Promise<FiscalBill[]> {
    return this.#driver.autocommit(listFiscalBills(device));
  }

  async raiseFiscalDeadlines(query: FiscalDeadlineQuery): Promise<number> {
    return this.#driver.transaction(() => raiseFiscalDeadlines(sqliteDialect, query));
  }

  async claimFiscalCreditNotes(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<FiscalCreditNote[]> {
    return this.#driver.transaction(() => claimFiscalCreditNotes(owner, now, leaseMs, limit));
  }

  async recordFiscalCreditAnswer(request: FiscalAnswerRequest): Promise<FiscalNoteRecordResult> {
    return this.#driver.transaction(() => recordFiscalCreditAnswer(sqliteDialect, request));
  }

  async deferFiscalCreditNote(request: FiscalDeferRequest): Promise<boolean> {
    return this.#driver.autocommit(deferFiscalCreditNote(request));
  }

  async refuseFiscalDocument(table: 'bill' | 'credit_note', request: FiscalRefusalRequest): Promise<boolean> {
    return this.#driver.transaction(() => refuseFiscalDocument(sqliteDialect, table, request));
  }

  async actOnFiscalBill(request: FiscalBillActionRequest): Promise<FiscalBillActionResult> {
    return this.#driver.transaction(() => actOnFiscalBill(sqliteDialect, request));
  }

  async listFiscalCreditNotes(billOpId: string | null): Promise<FiscalCreditNote[]> {
    return this.#driver.autocommit(listFiscalCreditNotes(billOpId));
  }

  async listFiscalBillActions(opId: string): Promise<FiscalBillAction[]> {
    return this.#driver.autocommit(listFiscalBillActions(opId));
  }

  async setFiscalJurisdiction(setting: FiscalJurisdictionSetting): Promise<void> {
    return this.#driver.transaction(() => setFiscalJurisdiction(setting));
  }

  async listFiscalJurisdictions(): Promise<FiscalJurisdictionSetting[]> {
    return this.#driver.autocommit(listFiscalJurisdictions());
  }

  async enrollCardRefunds(now: number, limit: number, exceptionIds: readonly string[]): Promise<number> {
    return this.#driver.transaction(() => enrollCardRefunds(sqliteDialect, now, limit, exceptionIds));
  }

  async claimCardRefunds(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedCardRefund[]> {
    return this.#driver.transaction(() => claimCardRefunds(owner, now, leaseMs, limit));
  }

  async recordCardRefund(request: CardRefundAnswerRequest): Promise<CardRefund | null> {
    return this.#driver.transaction(() => recordCardRefund(sqliteDialect, request));
  }

  async deferCardRefund(request: CardRefundDeferRequest): Promise<boolean> {
    return this.#driver.autocommit(deferCardRefund(request));
  }

  async listCardRefunds(sale: string | null): Promise<CardRefund[]> {
    return this.#driver.autocommit(listCardRefunds(sale));
  }

  /**
   * Direct read access for tests, benchmarks and the checking kit, with the
   * same parameters as `PostgresStorage.query` (SQL, then one array of
   * values); synchronous, as everything on SQLite's one connection is.
   * Each text is prepared once (the simulator asks the same few questions
   * every virtual 30 s for days; preparing them was ~3 % of a festival run);
   * the cache is emptied past 256 texts.
   */
  query<T = Row>(sql: string, params: readonly unknown[] = []): T[] {
    let statement = this.#queries.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      if (this.#queries.size >= 256) this.#queries.clear();
      this.#queries.set(sql, statement);
    }
    return statement.all(...params) as T[];
  }
}

function prepareStatements(db: Database.Database) {
  return {
    deviceById: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.id = ?`),
    updateDeviceHead: db.prepare(
      `UPDATE devices SET ${DEVICE_HEAD_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`,
    ),
    // With the envelope of a stored sale: the sale facts of the batch's own ids need no second read.
    opsByIds: db.prepare(
      `SELECT id, device, seq, hash, result, CASE WHEN kind = 'sale.recorded' AND status = 'accepted' THEN envelope END AS sale
         FROM ops WHERE id IN (SELECT value FROM json_each(?))`,
    ),
    opsBySeqRange: db.prepare('SELECT seq, id, hash FROM ops WHERE device = ? AND seq BETWEEN ? AND ?'),
    shiftsForBatch: db.prepare(
      "SELECT * FROM shifts WHERE id IN (SELECT value FROM json_each(?)) OR (device = ? AND status = 'open')",
    ),
    insertOps: tableInserter(db, OPS),
    insertLedger: tableInserter(db, LEDGER),
    insertOfflinePayments: tableInserter(db, OFFLINE_PAYMENTS),
    insertCashMovements: tableInserter(db, CASH_MOVEMENTS),
    upsertShift: db.prepare(insertSql(SHIFTS, sqliteDialect, { tail: SHIFT_UPSERT })),
    insertExceptions: tableInserter(db, EXCEPTIONS, sqliteDialect.insertIgnoring.verb),
    policiesByIds: db.prepare('SELECT signed FROM policies WHERE id IN (SELECT value FROM json_each(?))'),
    heldPayments: db.prepare(`SELECT ${HELD_COLUMNS} FROM offline_payments WHERE device = ? AND ${unconfirmed()}`),
    // Unsettled, unrefused, due (backoff over), unclaimed (or lease expired), and no earlier unsettled,
    // unrefused payment of the device under a live claim or still backing off: seq order per device.
    // The claim's limit is written into the text (limitedStatement, @holdfast/domain).
    claimablePayments: limitedStatement(
      (text) => db.prepare(text),
      `SELECT o.*, p.merchant FROM offline_payments o LEFT JOIN device_placements p ON p.device = o.device
       WHERE ${due('o', '@now')}
         AND NOT EXISTS (
           SELECT 1 FROM offline_payments e
           WHERE e.device = o.device AND ${holdingBack('e', '@now')}
             AND (e.seq, e.tender_index) < (o.seq, o.tender_index))
       ORDER BY o.device, o.seq, o.tender_index LIMIT @limit`,
    ),
    claimPayment: db.prepare(
      'UPDATE offline_payments SET claimed_by = ?, claim_expires_at = ? WHERE op_id = ? AND tender_index = ?',
    ),
  };
}
