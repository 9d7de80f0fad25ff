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
import type {
  CatalogItem,
  DeviceStatus,
  Placement,
  PriceList,
  PriceListRequest,
  SelectionResult,
  SignedPolicy,
} from '@holdfast/protocol';
import { ProtocolError } from '@holdfast/protocol';
import pg from 'pg';
import { cashCorrectionRefs } from '../../ingest/cash-correction-plan.js';
import { loyaltyRefs, onlineClaimIds, stockRefs, ticketRefs } from '../../ingest/ingest-facts.js';
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
import type { BettingConfig, BettingConfigRecord, SelectionLiability } from '../authorizations.js';
import { int, type Row, textOrNull } from '../rows.js';
import { due, holdingBack } from '../sql/offline-payment-states.js';
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
import { getSaleCorrections, writeSaleCorrections } from '../sql/operations/sale-corrections.js';
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
import { DEVICE_COLUMNS, DEVICE_FROM, deviceOf } from '../sql/tables/devices.js';
import { offlinePaymentOf } from '../sql/tables/offline-payments.js';
import type { DeviceOpsQuery, Page, Storage } from '../storage.js';
import { loadApprovalFacts } from './postgres-approvals.js';
import { PostgresAuthorizations } from './postgres-authorizations.js';
import { postgresDialect } from './postgres-dialect.js';
import { PostgresDriver } from './postgres-driver.js';
import { readDeviceFeed } from './postgres-feed.js';
import { FEED_LOCK, insertLedgerEvent, loadFacts, lockSales, saleLockRefs, writePlan } from './postgres-ingest.js';
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
/** Advisory lock key held while migrating ("Holdmigr"). */
const MIGRATION_LOCK = 0x486f_6c64_6d69_6772n;

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

export class PostgresStorage implements Storage {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #driver: PostgresDriver;
  readonly #beforeCommit: PostgresStorageOptions['beforeCommit'];
  readonly #bugs: InjectedBugs;
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
    this.#driver = new PostgresDriver(this.#pool);
    this.#beforeCommit = options.beforeCommit;
    this.#bugs = options.bugs ?? NO_INJECTED_BUGS;
    this.#auth = new PostgresAuthorizations(this.#pool, (fn) => this.#transaction(fn));
    const _tx = <T>(fn: (client: pg.PoolClient) => Promise<T>) => this.#transaction(fn);
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

  async probeWrite(): Promise<void> {
    await this.#pool.query(PROBE_WRITE);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  #transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#driver.transaction(fn);
  }

  // Operators in the back office (operator-storage.ts, sql/operations/operators.ts).

  async insertOperator(record: OperatorRecord): Promise<'inserted' | 'username_taken'> {
    return this.#driver.autocommit(ops.insertOperator(postgresDialect, record));
  }

  async getOperator(key: { id: string } | { username: string }): Promise<OperatorRecord | null> {
    return this.#driver.autocommit(ops.getOperator(key));
  }

  async listOperators(): Promise<OperatorRecord[]> {
    return this.#driver.autocommit(ops.listOperators());
  }

  async updateOperator(id: string, change: OperatorChange): Promise<OperatorRecord | null> {
    return this.#driver.inTransaction(() => ops.updateOperator(id, change));
  }

  async insertOperatorSession(session: OperatorSessionRecord): Promise<void> {
    return this.#driver.autocommit(ops.insertSession(postgresDialect, session));
  }

  async operatorSessionByHash(tokenHash: string): Promise<OperatorSessionRecord | null> {
    return this.#driver.autocommit(ops.sessionByHash(tokenHash));
  }

  async touchOperatorSession(id: string, at: number): Promise<void> {
    return this.#driver.autocommit(ops.touchSession(id, at));
  }

  async endOperatorSessions(which: { id: string } | { operatorId: string }, at: number): Promise<number> {
    return this.#driver.autocommit(ops.endSessions(which, at));
  }

  async insertApiToken(token: ApiTokenRecord): Promise<void> {
    return this.#driver.autocommit(ops.insertApiToken(postgresDialect, token));
  }

  async apiTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null> {
    return this.#driver.autocommit(ops.apiTokenByHash(tokenHash));
  }

  async listApiTokens(operatorId: string | null): Promise<ApiTokenRecord[]> {
    return this.#driver.autocommit(ops.listApiTokens(operatorId));
  }

  async revokeApiToken(id: string, at: number): Promise<ApiTokenRecord | null> {
    return this.#driver.inTransaction(() => ops.revokeApiToken(id, at));
  }

  async revokeApiTokensOf(operatorId: string, at: number): Promise<number> {
    return this.#driver.autocommit(ops.revokeApiTokensOf(operatorId, at));
  }

  async appendAudit(entry: AuditEntry): Promise<void> {
    return this.#driver.autocommit(ops.appendAudit(postgresDialect, entry));
  }

  async listAudit(filter: AuditFilter): Promise<AuditRow[]> {
    return this.#driver.autocommit(ops.listAudit(postgresDialect, filter));
  }

  async insertEnrollmentToken(token: EnrollmentTokenRecord): Promise<void> {
    await this.#driver.autocommit(insertEnrollmentToken(postgresDialect, token));
  }

  async redeemEnrollmentToken(request: RedeemRequest): Promise<RedeemOutcome> {
    return this.#driver.inTransaction(() => redeemEnrollmentToken(postgresDialect, request));
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
    return this.#driver.inTransaction(() => rotateDeviceKey(postgresDialect, request));
  }

  async listDeviceKeys(device: string): Promise<DeviceKeyRecord[]> {
    return this.#driver.autocommit(listDeviceKeys(device));
  }

  async setDevicePlacement(id: string, placement: Placement, now: number): Promise<DeviceRecord | null> {
    return this.#driver.autocommit(setDevicePlacement(id, placement, now));
  }

  async deviceStatus(id: string): Promise<DeviceStatus | null> {
    return (await this.#driver.autocommit(deviceStatuses(id)))[0] ?? null;
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
    await this.#driver.autocommit(recordDeviceReport(report));
  }

  async ingest(batch: VerifiedBatch, now: number, newId: () => string): Promise<IngestOutcome> {
    return this.#transaction(async (client) => {
      const locked = await client.query({
        name: 'holdfast_ingest_device',
        text: `SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.id = $1 FOR UPDATE OF d`,
        values: [batch.device],
      });
      if (!locked.rows[0]) throw new ProtocolError('unknown_device', `device ${batch.device} is not enrolled`);
      const device = deviceOf(locked.rows[0] as Row);
      if (device.revokedAt !== null) {
        throw new ProtocolError('device_revoked', `device ${device.id} was revoked: ${device.revokeReason ?? ''}`);
      }
      const saleLocks = saleLockRefs(batch.ops);
      await lockSales(client, saleLocks);
      const facts = await loadFacts(client, batch, device, saleLocks);
      const approvals = await loadApprovalFacts(client, batch, device.id);
      const claims = onlineClaimIds(batch.ops);
      if (claims.length > 0) {
        const stored = await PostgresAuthorizations.load(client, claims);
        Object.assign(facts, { authorizations: new Map(stored.map((a) => [a.opId, a])) });
      }
      const wallets = await loadWalletFacts(client, walletRefs(batch.ops));
      const staff =
        device.location !== null || batch.ops.some((op) => op.actor !== undefined)
          ? await PostgresDriver.run(client, staffFacts(postgresDialect, staffRefs(batch.ops), device.location))
          : undefined;
      const catalogSkus = catalogRefs(batch.ops);
      const catalog =
        catalogSkus.length > 0
          ? await PostgresDriver.run(client, catalogFacts(postgresDialect, device.location, catalogSkus))
          : undefined;
      const ticketIds = ticketRefs(batch.ops);
      const tickets =
        ticketIds.length > 0 ? await PostgresDriver.run(client, loadTicketFacts(postgresDialect, ticketIds)) : null;
      const members = loyaltyRefs(batch.ops);
      const loyalty =
        members.length > 0 ? await PostgresDriver.run(client, loadLoyaltyFacts(postgresDialect, batch.ops)) : null;
      const stockSkus = stockRefs(batch.ops, device.location);
      const stock =
        device.location !== null && (stockSkus.opSkus.length > 0 || stockSkus.saleSkus.length > 0)
          ? await PostgresDriver.run(client, loadStockFacts(postgresDialect, device.location, stockSkus, now))
          : null;
      const topUpIds = topUpRefs(batch.ops);
      const topUps =
        topUpIds.length > 0 ? await PostgresDriver.run(client, loadTopUpFacts(postgresDialect, topUpIds)) : null;
      const movementIds = cashCorrectionRefs(batch.ops);
      const cashCorrections =
        movementIds.length > 0
          ? await PostgresDriver.run(client, loadCashCorrectionFacts(postgresDialect, movementIds))
          : null;
      const plan = planIngest(
        batch,
        {
          device,
          ...facts,
          wallets,
          ...(approvals ? { approvals } : {}),
          ...(staff ? { staff } : {}),
          ...(catalog ? { catalog } : {}),
          ...(tickets ? { tickets: { byId: tickets.tickets, config: tickets.config } } : {}),
          ...(loyalty ? { loyalty } : {}),
          ...(stock ? { stock } : {}),
          ...(topUps ? { topUps } : {}),
          ...(cashCorrections ? { cashCorrections } : {}),
        },
        { now, newId, bugs: this.#bugs },
      );
      await writePlan(client, batch, plan, device.id, now);
      const aggregated = plan.exceptions.filter((x) => x.groupKey);
      if (aggregated.length > 0)
        await PostgresDriver.run(client, mergeAggregatedExceptions(postgresDialect, aggregated));
      await writeWallets(client, plan);
      if (plan.ticketChanges.length > 0) {
        await PostgresDriver.run(client, writeTicketChanges(postgresDialect, plan.ticketChanges));
      }
      if (plan.loyaltyEntries.length > 0) await PostgresDriver.run(client, writeLoyalty(postgresDialect, plan));
      if (plan.saleCorrections.length > 0 || plan.saleCorrectionsJudged.length > 0) {
        await PostgresDriver.run(
          client,
          writeSaleCorrections(postgresDialect, plan.saleCorrections, plan.saleCorrectionsJudged, newId),
        );
      }
      if (plan.stockMoves.length > 0) await PostgresDriver.run(client, writeStock(postgresDialect, plan));
      if (plan.topUpReversals.length > 0) {
        await PostgresDriver.run(client, writeTopUpReversals(postgresDialect, plan.topUpReversals));
      }
      if (plan.cashCorrections.length > 0) {
        await PostgresDriver.run(client, writeCashCorrections(postgresDialect, plan.cashCorrections));
      }
      await this.#beforeCommit?.(batch);
      return { results: plan.results, highWater: plan.device.highWater };
    });
  }

  async getOp(id: string): Promise<StoredOp | null> {
    return this.#driver.autocommit(getOp(id));
  }

  async getOpAt(device: string, seq: number): Promise<StoredOp | null> {
    return this.#driver.autocommit(getOpAt(device, seq));
  }

  async getDeviceOps(device: string, ids: readonly string[]): Promise<StoredOp[]> {
    return this.#driver.autocommit(getDeviceOps(postgresDialect, device, ids));
  }

  async listLedger(after: number, limit: number, range?: LedgerRange): Promise<Page<LedgerEvent & { pos: number }>> {
    return this.#driver.inTransaction(() => ledgerPage(postgresDialect, after, limit, range ?? null));
  }

  async listDeviceFeed(device: string, after: number, limit: number): Promise<DeviceFeedPage> {
    return this.#transaction(async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(${FEED_LOCK})`);
      return readDeviceFeed(client, device, after, limit);
    });
  }

  async listExceptions(after: number, limit: number): Promise<Page<ExceptionRecord & { pos: number }>> {
    return this.#driver.inTransaction(() => exceptionsPage(postgresDialect, after, limit));
  }

  async listShifts(device: string | null): Promise<ShiftRecord[]> {
    return this.#driver.autocommit(listShifts(device));
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
   * INSERT … ON CONFLICT DO NOTHING, then a SELECT, each autocommitted:
   * with an active key already there (the one-active index), or one being
   * inserted by a concurrent caller (waited for), the insert does nothing
   * and the SELECT, a new snapshot, reads it.
   */
  async ensureServerKey(candidate: ServerKeyRecord): Promise<ServerKeyRecord> {
    return this.#driver.autocommit(ensureServerKey(postgresDialect, candidate));
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
    return this.#driver.inTransaction(() => rotateServerKey(postgresDialect, candidate, overlapMs));
  }

  async issuePolicy(request: PolicyIssueRequest): Promise<SignedPolicy> {
    return this.#driver.inTransaction(() => issuePolicy(postgresDialect, request));
  }

  async listPolicies(filter: PolicyFilter = {}): Promise<SignedPolicy[]> {
    return this.#driver.autocommit(listPolicies(filter));
  }

  async upsertCatalogItems(items: readonly CatalogItem[], now: number, by: string): Promise<StoredCatalogItem[]> {
    return this.#driver.inTransaction(() => upsertCatalogItems(postgresDialect, items, now, by));
  }

  async listCatalogItems(): Promise<StoredCatalogItem[]> {
    return this.#driver.autocommit(listCatalogItems());
  }

  async reportInput(from: number, to: number): Promise<ReportInput> {
    return this.#driver.autocommit(reports.reportInput(postgresDialect, from, to));
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
    return this.#driver.autocommit(reports.exceptionsForOps(postgresDialect, opIds, types));
  }

  async setTaxRates(rates: readonly { category: string; rate: number }[], now: number, by: string): Promise<TaxRate[]> {
    return this.#driver.inTransaction(() => reports.setTaxRates(rates, now, by));
  }

  async listTaxRates(): Promise<TaxRate[]> {
    return this.#driver.autocommit(reports.listTaxRates());
  }

  async raiseNotices(records: readonly ExceptionRecord[]): Promise<number> {
    return this.#driver.inTransaction(() => raiseExceptions(postgresDialect, records));
  }

  async publishPriceList(request: PriceListRequest, now: number, by: string): Promise<PriceList> {
    return this.#driver.inTransaction(() => publishPriceList(postgresDialect, request, now, by));
  }

  async priceListVersion(location: string): Promise<number> {
    return this.#driver.autocommit(priceListVersion(location));
  }

  async listPriceLists(location: string): Promise<PriceList[]> {
    return this.#driver.autocommit(listPriceLists(location));
  }

  async changeStaff(change: StaffChange, now: number, by: string): Promise<StaffEvent> {
    return this.#driver.inTransaction(() => changeStaff(postgresDialect, change, now, by));
  }

  async locationRoster(location: string): Promise<LocationRoster> {
    return this.#driver.inTransaction(() => locationRoster(location));
  }

  async rosterVersion(location: string): Promise<number> {
    return this.#driver.autocommit(rosterVersion(location));
  }

  async listStaff(location: string): Promise<StaffMemberView[]> {
    return this.#driver.inTransaction(() => listStaff(location));
  }

  async staffHistory(location: string, staff: string | null): Promise<StaffEvent[]> {
    return this.#driver.autocommit(staffHistory(location, staff));
  }

  async listOfflinePayments(device: string | null): Promise<StoredOfflinePayment[]> {
    return this.#driver.autocommit(listOfflinePayments(device));
  }

  async operationalGauges(query: GaugeQuery): Promise<OperationalGauges> {
    return this.#driver.autocommit(operationalGauges(postgresDialect, query));
  }

  async readiness(): Promise<StoreReadiness> {
    return this.#driver.inTransaction(() => readinessProbe(POSTGRES_MIGRATIONS.length));
  }

  pendingCalls(): number {
    return this.#pool.waitingCount;
  }

  async exposureActual(): Promise<ExposureActual[]> {
    return this.#driver.autocommit(exposureActual());
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
             WHERE o.device = d.id AND ${due('o', '$1')})
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
             WHERE o.device = $1 AND ${due('o', '$2')}
               AND NOT EXISTS (
                 SELECT 1 FROM offline_payments e
                 WHERE e.device = o.device AND ${holdingBack('e', '$2')}
                   AND (e.seq, e.tender_index) < (o.seq, o.tender_index))
             ORDER BY o.seq, o.tender_index LIMIT $3
             FOR UPDATE OF o)
           UPDATE offline_payments p SET claimed_by = $4, claim_expires_at = $5
           FROM c WHERE p.op_id = c.op_id AND p.tender_index = c.tender_index
           RETURNING p.*, (SELECT dp.merchant FROM device_placements dp WHERE dp.device = p.device) AS merchant`,
          [device, now, limit - claimed.length, owner, now + leaseMs],
        );
        const payments = rows.map((r: Row) => ({
          ...offlinePaymentOf(r),
          merchant: textOrNull(r.merchant),
          claimedBy: owner,
          claimExpiresAt: now + leaseMs,
        }));
        claimed.push(...payments.sort((a, b) => a.seq - b.seq || a.tenderIndex - b.tenderIndex));
      }
      return claimed;
    });
  }

  settleOfflinePayment(request: SettleRequest): Promise<SettleOutcome | null> {
    return this.#driver.inTransaction(() => settleOfflinePayment(postgresDialect, request, this.#bugs));
  }

  async settleOfflinePayments(requests: readonly SettleRequest[]): Promise<(SettleOutcome | null)[]> {
    const outcomes: (SettleOutcome | null)[] = [];
    for (const request of requests) outcomes.push(await this.settleOfflinePayment(request));
    return outcomes;
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

  async recordResults(
    event: string,
    results: readonly { market: string; selection: string; result: SelectionResult }[],
    now: number,
  ): Promise<ResultsOutcome> {
    return this.#driver.inTransaction(() => recordResults(postgresDialect, event, results, now));
  }

  async authorizePayout(ask: PayoutAsk): Promise<PayoutDecision> {
    return this.#driver.inTransaction(() => authorizePayout(postgresDialect, ask));
  }

  async getSaleCorrections(saleId: string): Promise<SaleCorrectionRecord[]> {
    return this.#driver.autocommit(getSaleCorrections(postgresDialect, saleId));
  }

  async getTicket(ticketId: string): Promise<TicketView | null> {
    return this.#driver.autocommit(getTicket(postgresDialect, ticketId));
  }

  async listTickets(): Promise<TicketView[]> {
    return this.#driver.inTransaction(() => listTickets(postgresDialect));
  }

  async createLoyaltyMember(member: string, name: string, now: number): Promise<LoyaltyMemberRecord> {
    return this.#driver.inTransaction(() => createLoyaltyMember(postgresDialect, member, name, now));
  }

  async getLoyaltyMember(member: string): Promise<LoyaltyMemberView | null> {
    return this.#driver.inTransaction(() => getLoyaltyMember(postgresDialect, member));
  }

  async listLoyaltyMembers(): Promise<LoyaltyMemberView[]> {
    return this.#driver.inTransaction(() => listLoyaltyMembers(postgresDialect));
  }

  async listStockLevels(location: string | null): Promise<StockLevelRecord[]> {
    return this.#driver.inTransaction(() => listStockLevels(postgresDialect, location));
  }

  async listStockMoves(filter: StockMoveFilter): Promise<Page<StockMoveRecord & { pos: number }>> {
    return this.#driver.inTransaction(() => listStockMoves(postgresDialect, filter));
  }

  async adjustLoyaltyPoints(req: LoyaltyAdjustRequest): Promise<LoyaltyMemberView> {
    return this.#driver.inTransaction(() => adjustLoyaltyPoints(postgresDialect, req));
  }

  async lookupLoyaltyMember(member: string): Promise<{ account: LoyaltyMemberRecord; held: number } | null> {
    return this.#driver.inTransaction(() => lookupLoyaltyMember(postgresDialect, member));
  }

  async startLoyaltyRedemption(
    req: StartRedemptionRequest,
  ): Promise<{ record: LoyaltyRedemptionRecord; send: boolean }> {
    return this.#driver.inTransaction(() => startLoyaltyRedemption(postgresDialect, req));
  }

  async confirmLoyaltyRedemption(req: {
    id: string;
    device: string;
    code: string;
    now: number;
  }): Promise<ConfirmOutcome> {
    return this.#driver.inTransaction(() => confirmLoyaltyRedemption(postgresDialect, req));
  }

  async insertLoyaltyMessage(message: Omit<LoyaltyMessageRecord, 'pos'>): Promise<void> {
    return this.#driver.inTransaction(() => insertLoyaltyMessage(postgresDialect, message));
  }

  async listLoyaltyMessages(member: string | null): Promise<LoyaltyMessageRecord[]> {
    return this.#driver.inTransaction(() => listLoyaltyMessages(postgresDialect, member));
  }

  async listLoyaltyRedemptions(): Promise<LoyaltyRedemptionRecord[]> {
    return this.#driver.inTransaction(() => listLoyaltyRedemptions(postgresDialect));
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
    return this.#driver.autocommit(deferOfflinePayment(request));
  }

  refuseOfflinePayment(request: RefuseRequest): Promise<boolean> {
    return this.#driver.inTransaction(() => refuseOfflinePayment(postgresDialect, request));
  }

  listDeadlineCandidates(query: DeadlineQuery): Promise<DeadlineCandidate[]> {
    return this.#driver.autocommit(deadlineCandidates(postgresDialect, query));
  }

  raiseDeadlineExceptions(notices: readonly DeadlineNotice[]): Promise<number> {
    if (notices.length === 0) return Promise.resolve(0);
    return this.#driver.inTransaction(() => raiseDeadlineExceptions(postgresDialect, notices));
  }

  declineReport(from: number, to: number): Promise<DeclineReportRow[]> {
    return this.#driver.autocommit(declineReport(from, to));
  }

  recordExceptionAction(request: ExceptionActionRequest): Promise<ExceptionActionOutcome> {
    return this.#driver.inTransaction(() => recordExceptionAction(postgresDialect, request));
  }

  listExceptionViews(filter: ExceptionFilter): Promise<Page<ExceptionView>> {
    return this.#driver.inTransaction(() => exceptionViews(postgresDialect, filter));
  }

  async enrollFiscalBills(now: number, limit: number): Promise<number> {
    return this.#driver.inTransaction(() => enrollFiscalBills(postgresDialect, now, limit));
  }

  async claimFiscalBills(owner: string, now: number, leaseMs: number, limit: number): Promise<FiscalBill[]> {
    return this.#driver.inTransaction(() => claimFiscalBills(owner, now, leaseMs, limit));
  }

  async recordFiscalAnswer(request: FiscalAnswerRequest): Promise<FiscalRecordResult> {
    return this.#driver.inTransaction(() => recordFiscalAnswer(postgresDialect, request));
  }

  async deferFiscalBill(request: FiscalDeferRequest): Promise<boolean> {
    return this.#driver.autocommit(deferFiscalBill(request));
  }

  async listFiscalBills(device: string | null): Promise<FiscalBill[]> {
    return this.#driver.autocommit(listFiscalBills(device));
  }

  async raiseFiscalDeadlines(query: FiscalDeadlineQuery): Promise<number> {
    return this.#driver.inTransaction(() => raiseFiscalDeadlines(postgresDialect, query));
  }

  async claimFiscalCreditNotes(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
  ): Promise<FiscalCreditNote[]> {
    return this.#driver.inTransaction(() => claimFiscalCreditNotes(owner, now, leaseMs, limit));
  }

  async recordFiscalCreditAnswer(request: FiscalAnswerRequest): Promise<FiscalNoteRecordResult> {
    return this.#driver.inTransaction(() => recordFiscalCreditAnswer(postgresDialect, request));
  }

  async deferFiscalCreditNote(request: FiscalDeferRequest): Promise<boolean> {
    return this.#driver.autocommit(deferFiscalCreditNote(request));
  }

  async refuseFiscalDocument(table: 'bill' | 'credit_note', request: FiscalRefusalRequest): Promise<boolean> {
    return this.#driver.inTransaction(() => refuseFiscalDocument(postgresDialect, table, request));
  }

  async actOnFiscalBill(request: FiscalBillActionRequest): Promise<FiscalBillActionResult> {
    return this.#driver.inTransaction(() => actOnFiscalBill(postgresDialect, request));
  }

  async listFiscalCreditNotes(billOpId: string | null): Promise<FiscalCreditNote[]> {
    return this.#driver.autocommit(listFiscalCreditNotes(billOpId));
  }

  async listFiscalBillActions(opId: string): Promise<FiscalBillAction[]> {
    return this.#driver.autocommit(listFiscalBillActions(opId));
  }

  async setFiscalJurisdiction(setting: FiscalJurisdictionSetting): Promise<void> {
    return this.#driver.inTransaction(() => setFiscalJurisdiction(setting));
  }

  async listFiscalJurisdictions(): Promise<FiscalJurisdictionSetting[]> {
    return this.#driver.autocommit(listFiscalJurisdictions());
  }

  async enrollCardRefunds(now: number, limit: number, exceptionIds: readonly string[]): Promise<number> {
    return this.#driver.inTransaction(() => enrollCardRefunds(postgresDialect, now, limit, exceptionIds));
  }

  async claimCardRefunds(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedCardRefund[]> {
    return this.#driver.inTransaction(() => claimCardRefunds(owner, now, leaseMs, limit));
  }

  async recordCardRefund(request: CardRefundAnswerRequest): Promise<CardRefund | null> {
    return this.#driver.inTransaction(() => recordCardRefund(postgresDialect, request));
  }

  async deferCardRefund(request: CardRefundDeferRequest): Promise<boolean> {
    return this.#driver.autocommit(deferCardRefund(request));
  }

  async listCardRefunds(sale: string | null): Promise<CardRefund[]> {
    return this.#driver.autocommit(listCardRefunds(sale));
  }

  /** Direct SQL for tests, checkers and operators' tools (not for the server's own paths). */
  async query<T = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.#pool.query(sql, params)).rows as T[];
  }
}
