/**
 * The storage interface of the settlement server.
 *
 * One interface, one folder per backend (`sqlite/`, `postgres/`).
 * It is deliberately coarse: ingesting a batch is ONE call, so each backend
 * runs the whole batch — read the facts, decide with the shared pure planner
 * (ingest/plan-ingest.ts), write — inside one transaction of its own, with
 * its own locking (SQLite: one writer; PostgreSQL: the device row locked
 * FOR UPDATE and primary keys). No correctness may depend on process memory.
 *
 * Below the interface, Kysely's split: what is the same SQL on both
 * backends is written once in `sql/` — each table's columns and row mapper
 * (`sql/tables/`), the operations (`sql/operations/`) over a small
 * transaction port (`sql/transaction-port.ts`) and a dialect
 * (`sql/dialect.ts`). Each backend folder holds its driver (SQLite: one
 * connection, operations answered synchronously inside BEGIN IMMEDIATE;
 * PostgreSQL: the pool, retries, row and advisory locks), its dialect, its
 * schema, and what only it can do fast: the one-round-trip ingest, the
 * claim of payments to forward, the device feed, wallets and authorizations.
 *
 * All methods are async so that a networked database fits; the SQLite
 * backend simply does its work synchronously inside them.
 */

import type {
  CatalogItem,
  DeviceStatus,
  Placement,
  PriceList,
  PriceListRequest,
  SelectionResult,
  SignedPolicy,
} from '@holdfast/protocol';
import type { AuthorizationFinish, AuthorizationRecord, AuthorizationSlot } from '../model/authorization.js';
import type { IngestOutcome, StoredOp, VerifiedBatch } from '../model/batch.js';
import type {
  CardRefund,
  CardRefundAnswerRequest,
  CardRefundDeferRequest,
  ClaimedCardRefund,
} from '../model/card-refund.js';
import type { StoredCatalogItem } from '../model/catalog.js';
import type { DeclineReportRow } from '../model/decline-report.js';
import type { DeviceKeyRecord, DeviceRecord, RotateDeviceKeyOutcome, RotateDeviceKeyRequest } from '../model/device.js';
import type { DeviceFeedPage } from '../model/device-feed.js';
import type { DeviceReportRecord } from '../model/device-report.js';
import type { EnrollmentTokenRecord, RedeemOutcome, RedeemRequest } from '../model/enrollment.js';
import type { ExceptionRecord } from '../model/exception.js';
import type {
  ExceptionActionOutcome,
  ExceptionActionRequest,
  ExceptionFilter,
  ExceptionView,
} from '../model/exception-action.js';
import type { ExposureActual } from '../model/exposure.js';
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
} from '../model/fiscal-bill.js';
import type { ForwardingDeadlineRow } from '../model/forwarding-deadline-row.js';
import type { LedgerEvent } from '../model/ledger-event.js';
import type { LedgerRange } from '../model/ledger-range.js';
import type {
  LoyaltyAdjustRequest,
  LoyaltyMemberRecord,
  LoyaltyMemberView,
  LoyaltyMessageRecord,
  LoyaltyRedemptionRecord,
} from '../model/loyalty.js';
import type { ClaimedOfflinePayment, StoredOfflinePayment } from '../model/offline-payment.js';
import type { GaugeQuery, OperationalGauges, StoreReadiness } from '../model/operational-gauges.js';
import type { OutageException } from '../model/outages.js';
import type {
  DeadlineCandidate,
  DeadlineNotice,
  DeadlineQuery,
  DeferRequest,
  RefuseRequest,
  SettleOutcome,
  SettleRequest,
} from '../model/payment-forwarding.js';
import type { PolicyFilter, PolicyIssueRequest, ServerKeyRecord } from '../model/policy.js';
import type { ReportInput } from '../model/reports.js';
import type { SaleCorrectionRecord } from '../model/sale-correction.js';
import type { ShiftRecord } from '../model/shift.js';
import type { LocationRoster, StaffChange, StaffEvent, StaffMemberView } from '../model/staff.js';
import type { StockLevelRecord, StockMoveFilter, StockMoveRecord } from '../model/stock.js';
import type { StoreSummary } from '../model/summary.js';
import type { ResultsOutcome, TicketView } from '../model/ticket.js';
import type { UnblockOutcome, UnblockRequest, WalletAccountRecord, WalletFilter, WalletView } from '../model/wallet.js';
import type { BettingConfig, BettingConfigRecord, SelectionLiability } from './authorizations.js';
import type { OperatorStorage } from './operator-storage.js';
import type { ConfirmOutcome, StartRedemptionRequest } from './sql/operations/loyalty-redemptions.js';
import type { OutageCursor, OutageEventPage, TaxRate } from './sql/operations/reports.js';
import type { PayoutAsk, PayoutDecision } from './sql/operations/tickets.js';

export type { UnblockOutcome, UnblockRequest } from '../model/wallet.js';

export type StorageKind = 'sqlite' | 'postgres';

export interface Page<T> {
  items: T[];
  /** Cursor for the next page, or null at the end. */
  next: number | null;
}

/** A page of one device's ops (Storage.listDeviceOps): below seq `before` (null: from the newest), at most `limit`. */
export interface DeviceOpsQuery {
  before: number | null;
  limit: number;
  /** Only ops with this stored status (null: every op). */
  status: 'accepted' | 'rejected' | null;
}

export interface Storage extends OperatorStorage {
  readonly kind: StorageKind;
  /** Creates or upgrades the schema; safe to call on every start. */
  migrate(): Promise<void>;
  /** Cheap liveness check for the health endpoint. */
  ping(): Promise<void>;
  /**
   * Commits one small write (rewrites the newest schema_migrations row as it
   * is) and throws if the storage cannot write: the health check's probe
   * after a write failed (disk full, read-only, I/O error).
   */
  probeWrite(): Promise<void>;
  close(): Promise<void>;

  insertEnrollmentToken(token: EnrollmentTokenRecord): Promise<void>;
  /** Redeems a token for a public key, atomically (see enrollment.ts for the rules). */
  redeemEnrollmentToken(request: RedeemRequest): Promise<RedeemOutcome>;

  getDevice(id: string): Promise<DeviceRecord | null>;
  listDevices(): Promise<DeviceRecord[]>;
  revokeDevice(id: string, reason: string, now: number): Promise<DeviceRecord | null>;
  /** Rotates a device to a new key, retiring the current one after a grace period (sql/operations/device-keys.ts). */
  rotateDeviceKey(request: RotateDeviceKeyRequest): Promise<RotateDeviceKeyOutcome>;
  /** The device's key history, oldest first; empty until its first rotation. */
  listDeviceKeys(device: string): Promise<DeviceKeyRecord[]>;
  /** Sets a device's placement; null if there is no such device. */
  setDevicePlacement(id: string, placement: Placement, now: number): Promise<DeviceRecord | null>;
  deviceStatus(id: string): Promise<DeviceStatus | null>;
  listDeviceStatuses(): Promise<DeviceStatus[]>;
  /** Keeps a device's report unless the one held was sent later (sql/operations/device-reports.ts). */
  recordDeviceReport(report: DeviceReportRecord): Promise<void>;
  /** One device's ops with their results, newest first; `next` is the `before` of the next page. */
  listDeviceOps(device: string, query: DeviceOpsQuery): Promise<Page<StoredOp>>;
  /** Offline card payments not yet forwarded nor refused, most urgent first (sql/operations/forwarding-deadlines.ts). */
  listForwardingDeadlines(limit: number): Promise<Omit<ForwardingDeadlineRow, 'deadlineAt'>[]>;

  /**
   * Ingests a verified batch in one transaction: per-op results, ledger
   * events, projections, exceptions, the device's head and statistics.
   * Throws ProtocolError('device_revoked' | 'unknown_device') if the device
   * was revoked or removed since the caller looked.
   */
  ingest(batch: VerifiedBatch, now: number, newId: () => string): Promise<IngestOutcome>;

  getOp(id: string): Promise<StoredOp | null>;
  /** Stored ops of one device among `ids` (others' ops are not revealed). */
  getDeviceOps(device: string, ids: readonly string[]): Promise<StoredOp[]>;
  /** The op `device` recorded at `seq`, or null. */
  getOpAt(device: string, seq: number): Promise<StoredOp | null>;

  /** Ledger events after `after` in order; with `range`, only those applied at `from` ≤ appliedAt < `to`. */
  listLedger(after: number, limit: number, range?: LedgerRange): Promise<Page<LedgerEvent & { pos: number }>>;
  /**
   * The ledger events after `after` that concern `device`, in `pos` order,
   * at most `limit`: `payment.settled` / `payment.declined` of its own ops,
   * and `wristband.*` events of any device, except those of a device placed
   * under another merchant than `device` (both placed). Same ordering
   * guarantee as listLedger: a page is a prefix of the feed that can never
   * grow in the middle, so `next` never skips an event that commits later.
   */
  listDeviceFeed(device: string, after: number, limit: number): Promise<DeviceFeedPage>;
  listExceptions(after: number, limit: number): Promise<Page<ExceptionRecord & { pos: number }>>;
  listShifts(device: string | null): Promise<ShiftRecord[]>;
  summary(): Promise<StoreSummary>;
  /** The forwarding backlog and open exceptions by type, for GET /metrics (sql/operations/health-reads.ts). */
  operationalGauges(query: GaugeQuery): Promise<OperationalGauges>;
  /**
   * For GET /v1/ready: the migrations recorded and known, after a write
   * transaction that changes nothing; throws if the store cannot be written.
   */
  readiness(): Promise<StoreReadiness>;
  /**
   * Storage calls waiting for their turn (the SQLite thread's queue,
   * PostgreSQL clients waiting for a pooled connection); 0 on a backend
   * that runs each call at once.
   */
  pendingCalls(): number;

  /**
   * The active policy-signing key: the one stored, or `candidate` stored
   * now if there is none. Several processes calling at once get the same key.
   */
  ensureServerKey(candidate: ServerKeyRecord): Promise<ServerKeyRecord>;
  /** Keys that have not been retired, newest first (the first signs). */
  listServerKeys(): Promise<ServerKeyRecord[]>;
  /** Keys still trusted at `now` (active, or retired later than `now`), newest first. */
  listTrustedServerKeys(now: number): Promise<ServerKeyRecord[]>;
  /** Every key ever stored, oldest first. */
  listAllServerKeys(): Promise<ServerKeyRecord[]>;
  /**
   * Makes `candidate` the active key; the previous one is retired at the later
   * of `candidate.createdAt + overlapMs` and the expiry of the last policy it
   * signed. Returns both.
   */
  rotateServerKey(
    candidate: ServerKeyRecord,
    overlapMs: number,
  ): Promise<{ active: ServerKeyRecord; retired: ServerKeyRecord | null }>;

  /**
   * Issues a policy in one transaction: reads the slot (the scope's next
   * version, the latest issuedAt) and the active server key, signs with
   * the shared `signIssued` (risk-policies.ts) and stores the result.
   * Concurrent issuers, in any process, get distinct versions: the second
   * waits for the first (or, on a unique violation, runs again). Throws
   * ProtocolError('invalid_request') if the assigned fields break a rule
   * (see signIssued), and an Error if there is no active key; nothing is
   * stored then. Policies are append-only. (Arguments are data, not
   * callbacks: a backend may run in another thread.)
   */
  issuePolicy(request: PolicyIssueRequest): Promise<SignedPolicy>;
  /** Stored policies, oldest first (issuedAt, id): only `merchant`'s, and only those with `expiresAt > unexpiredAt`, if given. */
  listPolicies(filter?: PolicyFilter): Promise<SignedPolicy[]>;

  /**
   * Appends one change to a roster (model/staff.ts) in one transaction, under
   * the `staff` lock: checked against the member's latest event (ProtocolError
   * `staff_exists` for an id or badge already active, `not_found` for an id
   * never added or removed). Returns the event with its location version.
   */
  changeStaff(change: StaffChange, now: number, by: string): Promise<StaffEvent>;
  /** The location's current roster (members not removed, with verifiers) and its version (0: never had staff). */
  locationRoster(location: string): Promise<LocationRoster>;
  /** The location's roster version (0: never had staff): what a feed request is answered against. */
  rosterVersion(location: string): Promise<number>;
  /** Every member the location ever had, removed ones too, without verifiers. */
  listStaff(location: string): Promise<StaffMemberView[]>;
  /** The location's roster history, oldest first; only `staff`'s if given. */
  staffHistory(location: string, staff: string | null): Promise<StaffEvent[]>;

  /** Creates or updates catalog items by SKU (docs/catalog-and-stock.md); returns them as stored. */
  upsertCatalogItems(items: readonly CatalogItem[], now: number, by: string): Promise<StoredCatalogItem[]>;
  /** Every catalog item, by SKU. */
  listCatalogItems(): Promise<StoredCatalogItem[]>;
  /**
   * Checks a price list against the stored catalog and `now` (ProtocolError
   * `unknown_sku`, `ends_in_past`) and appends it as its location's next
   * version, in one transaction; nothing is stored when a check fails.
   */
  publishPriceList(request: PriceListRequest, now: number, by: string): Promise<PriceList>;
  /** The location's newest price-list version (0: none published). */
  priceListVersion(location: string): Promise<number>;
  /** Every price-list version of the location, oldest first. */
  listPriceLists(location: string): Promise<PriceList[]>;

  /**
   * What the reports are computed from (docs/reports.md): the applied ops
   * whose device time is in [from, to) with their bodies, lanes and
   * placements, the sales their corrections name, categories and tax rates.
   */
  reportInput(from: number, to: number): Promise<ReportInput>;
  /**
   * What the outage rule reads of one device's applied ops whose device time
   * is in [from, to): at most `limit` (1–10,000) by device time and ledger
   * position after `after` (null: from the start), and where to go on from
   * (null: no more).
   */
  outageEvents(
    device: string,
    after: OutageCursor | null,
    from: number,
    to: number,
    limit: number,
  ): Promise<OutageEventPage>;
  /** The exceptions of `types` raised for `opIds` (the outage report). */
  exceptionsForOps(opIds: readonly string[], types: readonly string[]): Promise<OutageException[]>;
  /** Sets the tax rate of each category given; returns every rate. */
  setTaxRates(rates: readonly { category: string; rate: number }[], now: number, by: string): Promise<TaxRate[]>;
  /** Every tax category's rate. */
  listTaxRates(): Promise<TaxRate[]>;
  /** Raises exceptions raised outside ingest (the outage notice), each once by dedupe key; how many were new. */
  raiseNotices(records: readonly ExceptionRecord[]): Promise<number>;

  /** Offline-approved payments (projection), by device, seq, tender; only `device`'s, if given. */
  listOfflinePayments(device: string | null): Promise<StoredOfflinePayment[]>;
  /**
   * Unsettled offline payments summed per currency and the device's
   * current placement, sorted by currency, merchant, location, event (null first).
   */
  exposureActual(): Promise<ExposureActual[]>;

  /**
   * Claims up to `limit` unsettled offline payments for `owner` until
   * `now + leaseMs`, in (device, seq, tender) order, in one short
   * transaction. Only unrefused rows whose claim is absent or expired and
   * whose `nextAttemptAt` (backoff) has come, and never a row while an
   * earlier unsettled, unrefused row of its device is claimed (by anyone,
   * this owner included) or still backing off: a device's payments reach
   * the processor in seq order. Two processes calling at once get disjoint
   * devices.
   */
  claimOfflinePayments(owner: string, limit: number, now: number, leaseMs: number): Promise<ClaimedOfflinePayment[]>;
  /**
   * Records the processor's answer about a payment, once, in one
   * transaction: settled_at, outcome, the processor id, a ledger event
   * (`payment.settled` or `payment.declined`) and, for a decline, a
   * `post_auth_decline` exception. A second settle of the same payment
   * changes nothing and returns the stored settlement; null if there is no
   * such payment.
   */
  settleOfflinePayment(request: SettleRequest): Promise<SettleOutcome | null>;
  /**
   * A forwarding round's answers: each request settled exactly as
   * `settleOfflinePayment` settles it, in order, outcomes in the same order.
   * SQLite writes them in one transaction (a commit per payment was most of
   * the cost of settling); PostgreSQL in one each (a batch would hold the
   * ledger's lock while waiting for another process's payment row).
   */
  settleOfflinePayments(requests: readonly SettleRequest[]): Promise<(SettleOutcome | null)[]>;

  // Online authorizations (storage/authorizations.ts, server/src/authorize/).

  /**
   * Stores `pending` (a card authorization, status pending) unless its op id
   * is stored already; returns the stored row either way (`created` says
   * which). The caller compares device and request hash.
   */
  beginAuthorization(pending: AuthorizationRecord): Promise<AuthorizationSlot>;
  /**
   * Records the final answer of a pending authorization, once: a row that
   * is already final is returned unchanged; null if there is no such row.
   */
  finishAuthorization(opId: string, finish: AuthorizationFinish): Promise<AuthorizationRecord | null>;
  /**
   * Decides a ticket in ONE transaction: if the op id is stored, returns
   * that row (created false) and changes nothing; else locks the
   * liability rows of its selections (in selectionKey order), decides with
   * `decidePendingTicket` against the newest betting config, stores the
   * final row and adds the liability. Concurrent tickets on one selection,
   * in any process, can never pass its cap together.
   */
  authorizeTicket(pending: AuthorizationRecord, now: number): Promise<AuthorizationSlot>;
  /** Stored authorizations among `opIds` (any device). */
  getAuthorizations(opIds: readonly string[]): Promise<AuthorizationRecord[]>;
  /** Stores the next version of the betting configuration. */
  setBettingConfig(config: BettingConfig, now: number): Promise<BettingConfigRecord>;
  /** The newest betting configuration, or null if none was ever set. */
  getBettingConfig(): Promise<BettingConfigRecord | null>;
  /** Liability held per selection, by currency, event, market, selection. */
  listSelectionLiabilities(): Promise<SelectionLiability[]>;

  // Betting tickets after approval (storage/sql/operations/tickets.ts, docs/betting.md).

  /**
   * Records one event's results and settles, in the same transaction, every
   * accepted ticket they decide (each exactly once: its row locked, a
   * guarded state change), releasing its liability. The same result again
   * is a no-op; a different one throws ProtocolError('result_conflict')
   * and nothing is written.
   */
  recordResults(
    event: string,
    results: readonly { market: string; selection: string; result: SelectionResult }[],
    now: number,
  ): Promise<ResultsOutcome>;
  /**
   * Decides a payout in one transaction with the ticket locked: approved
   * once per ticket (stored, the ticket paid); a second is declined
   * `ticket_paid` with the first payout. Same op id: the stored approval.
   */
  authorizePayout(ask: PayoutAsk): Promise<PayoutDecision>;
  /** A ticket with its history and payout; null if never accepted. */
  getTicket(ticketId: string): Promise<TicketView | null>;
  /** The corrections (voids, refunds) stored for a sale, held or counted, in record order (docs/corrections.md). */
  getSaleCorrections(saleId: string): Promise<SaleCorrectionRecord[]>;
  /** Every accepted ticket with its history and payout, by id. */
  listTickets(): Promise<TicketView[]>;
  /** A new loyalty member with no points; `loyalty_member_exists` if the card number is taken. */
  createLoyaltyMember(member: string, name: string, now: number): Promise<LoyaltyMemberRecord>;
  /** A loyalty member with every entry, oldest first; null if unknown. */
  getLoyaltyMember(member: string): Promise<LoyaltyMemberView | null>;
  /** Every loyalty member with its entries, by card number. */
  listLoyaltyMembers(): Promise<LoyaltyMemberView[]>;
  /** An operator's adjustment of a member's points, applied once per id (operations/loyalty.ts). */
  adjustLoyaltyPoints(req: LoyaltyAdjustRequest): Promise<LoyaltyMemberView>;
  /** Every tracked stock level (docs/catalog-and-stock.md), by location and SKU; of one location if given. */
  listStockLevels(location: string | null): Promise<StockLevelRecord[]>;
  /** Stock movements in the order applied, paged by `pos`. */
  listStockMoves(filter: StockMoveFilter): Promise<Page<StockMoveRecord & { pos: number }>>;
  /** A member's account and the points held by confirmed online redemptions; null if unknown (operations/loyalty-redemptions.ts). */
  lookupLoyaltyMember(member: string): Promise<{ account: LoyaltyMemberRecord; held: number } | null>;
  /** Starts an online redemption, or resends its code for the same op id; refusals are ProtocolErrors. */
  startLoyaltyRedemption(req: StartRedemptionRequest): Promise<{ record: LoyaltyRedemptionRecord; send: boolean }>;
  /** Confirms an online redemption with the code typed; a wrong code's spent attempt is committed. */
  confirmLoyaltyRedemption(req: { id: string; device: string; code: string; now: number }): Promise<ConfirmOutcome>;
  /** Appends a message to the loyalty code outbox (the default code sender). */
  insertLoyaltyMessage(message: Omit<LoyaltyMessageRecord, 'pos'>): Promise<void>;
  /** The loyalty code outbox, oldest first: every message, or one member's. */
  listLoyaltyMessages(member: string | null): Promise<LoyaltyMessageRecord[]>;
  /** Every online redemption, oldest first. */
  listLoyaltyRedemptions(): Promise<LoyaltyRedemptionRecord[]>;
  /** A wristband's wallet and entries; null if no op ever wrote to it. */
  getWallet(wristband: string): Promise<WalletView | null>;
  /** Wallet accounts by uid. */
  listWallets(filter: WalletFilter): Promise<WalletAccountRecord[]>;
  /**
   * Lifts a wristband's block in one transaction (the account row locked):
   * the account and a `wristband.unblocked` ledger event. Not blocked:
   * nothing written (`unblockedNow` false); null if there is no such wallet.
   */
  unblockWallet(request: UnblockRequest): Promise<UnblockOutcome | null>;
  /**
   * A transient failure: stores `attempts`, `nextAttemptAt` and the error
   * and releases the claim, if `owner` still holds it and it is unsettled.
   * Until then neither it nor any later payment of its device is claimed
   * (seq order). False if nothing was changed.
   */
  deferOfflinePayment(request: DeferRequest): Promise<boolean>;
  /**
   * A permanent refusal, once, in one transaction: `refused_at`, the code,
   * the claim released, and a `payment_refused` alarm. A refused payment is
   * never claimed again and no longer holds back its device's later
   * payments. It stays unsettled (its money was never confirmed). False if
   * it was settled or refused already, or is not claimed by `owner`.
   */
  refuseOfflinePayment(request: RefuseRequest): Promise<boolean>;
  /**
   * Unsettled, unrefused payments at or past a deadline stage that was not
   * recorded on them yet (`raiseDeadlineExceptions`), oldest first. The age
   * is measured from `deadlineBase` (min of device time and receipt).
   */
  listDeadlineCandidates(query: DeadlineQuery): Promise<DeadlineCandidate[]>;
  /**
   * Raises deadline exceptions in one transaction: each stored unless its
   * dedupe key is taken (two processes sweeping at once store one), and
   * its stage recorded on the payment so later sweeps skip it. Returns how
   * many exceptions were new.
   */
  raiseDeadlineExceptions(notices: readonly DeadlineNotice[]): Promise<number>;

  /** Settled offline payments with `from <= settledAt < to`, per UTC day, placement and currency. */
  declineReport(from: number, to: number): Promise<DeclineReportRow[]>;

  /**
   * Records an operator action in one transaction (the exception locked):
   * decides it with the shared `decideExceptionAction`, appends it and, for
   * money written off or recovered on a payment exception, a ledger event.
   * Of two racing resolutions exactly one is recorded; the other gets
   * `already_resolved`.
   */
  recordExceptionAction(request: ExceptionActionRequest): Promise<ExceptionActionOutcome>;
  /** Exceptions by pos with their actions and status, filtered by status and type. */
  listExceptionViews(filter: ExceptionFilter): Promise<Page<ExceptionView>>;

  // E-invoicing (storage/sql/operations/fiscal-bills.ts, docs/e-invoicing.md).
  /** Makes a bill of each accepted sale without one (at most `limit`); how many it made. */
  enrollFiscalBills(now: number, limit: number): Promise<number>;
  /** Claims up to `limit` bills, each its device's lowest pending bill, due and not leased by another. */
  claimFiscalBills(owner: string, now: number, leaseMs: number, limit: number): Promise<FiscalBill[]>;
  /** Records the authority's answer once (see recordFiscalAnswer). */
  recordFiscalAnswer(request: FiscalAnswerRequest): Promise<FiscalRecordResult>;
  /** Backoff after a transient failure, if `owner` still holds the claim. */
  deferFiscalBill(request: FiscalDeferRequest): Promise<boolean>;
  /** Every bill (of one device, or all), by device and seq. */
  listFiscalBills(device: string | null): Promise<FiscalBill[]>;
  /** The deadline watch: fiscal_deadline warnings and alarms due, each once; how many were raised. */
  raiseFiscalDeadlines(query: FiscalDeadlineQuery): Promise<number>;
  // E-invoicing, the rest (storage/sql/operations/fiscal-credit-notes.ts).
  /** Claims up to `limit` credit notes whose bill is answered as they need. */
  claimFiscalCreditNotes(owner: string, now: number, leaseMs: number, limit: number): Promise<FiscalCreditNote[]>;
  /** Records the authority's answer for a credit note once. */
  recordFiscalCreditAnswer(request: FiscalAnswerRequest): Promise<FiscalNoteRecordResult>;
  /** Backoff of a credit note after a transient failure, if `owner` still holds the claim. */
  deferFiscalCreditNote(request: FiscalDeferRequest): Promise<boolean>;
  /** A permanent refusal: no more retries, a fiscal_refused alarm; false if `owner` no longer held the claim. */
  refuseFiscalDocument(table: 'bill' | 'credit_note', request: FiscalRefusalRequest): Promise<boolean>;
  /** An operator's action on a rejected bill (resubmit, cancel, non_fiscal), audited. */
  actOnFiscalBill(request: FiscalBillActionRequest): Promise<FiscalBillActionResult>;
  /** Every credit note (of one bill, or all), in enrolment order. */
  listFiscalCreditNotes(billOpId: string | null): Promise<FiscalCreditNote[]>;
  /** The operators' actions on a bill. */
  listFiscalBillActions(opId: string): Promise<FiscalBillAction[]>;
  setFiscalJurisdiction(setting: FiscalJurisdictionSetting): Promise<void>;
  listFiscalJurisdictions(): Promise<FiscalJurisdictionSetting[]>;

  // Card refunds (storage/sql/operations/card-refunds.ts, docs/corrections.md).
  /** Enrolls the card part of counted corrections whose sale is stored (at most `limit` ops); rows made. */
  enrollCardRefunds(now: number, limit: number, exceptionIds: readonly string[]): Promise<number>;
  /** Claims up to `limit` due pending card refunds not leased by another, each with its sale's capture. */
  claimCardRefunds(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedCardRefund[]>;
  /** Records the processor's answer once; the row after, or null if there is none. */
  recordCardRefund(request: CardRefundAnswerRequest): Promise<CardRefund | null>;
  /** Backoff after a transient failure, if `owner` still holds the claim. */
  deferCardRefund(request: CardRefundDeferRequest): Promise<boolean>;
  /** The card refunds of one sale, or all, in enrolment order. */
  listCardRefunds(sale: string | null): Promise<CardRefund[]>;
}
