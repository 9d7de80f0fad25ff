/**
 * @holdfast/server — the settlement server: exactly-once batch ingest, the
 * append-only ledger and projections, enrollment, the operator API, and the
 * storage interface with its backends.
 */
export {
  type BettingConfig,
  type BettingConfigRecord,
  type BettingLimits,
  bettingConfigSchema,
  type SelectionLiability,
} from './authorize/betting-config.js';
export {
  DEFAULT_ONLINE_PROCESSOR_TIMEOUT_MS,
  OnlineAuthorizer,
  type OnlineAuthorizerOptions,
} from './authorize/online-authorizer.js';
export { type AuthorizationFact, claimsOnline, onlineProblem } from './authorize/online-verification.js';
export {
  decideTicket,
  TICKET_DECLINE_REASONS,
  type TicketDecision,
  type TicketDeclineReason,
} from './authorize/ticket-rules.js';
export { type BootstrapEvent, BootstrapTokens } from './bootstrap-token.js';
export { DataDirError, LOCK_FILE, lockDataDir, prepareDataDir, securePrivateDatabaseFiles } from './data-dir.js';
export { DEFAULT_TOKEN_TTL_SECONDS, decideRedemption, newEnrollmentToken, tokenHash } from './enrollment.js';
export {
  type FiscalAuthorityLike,
  type FiscalEvent,
  type FiscalRoundSummary,
  FiscalSubmitter,
  type FiscalSubmitterOptions,
} from './fiscal/fiscal-submitter.js';
export {
  type ForwardEvent,
  Forwarder,
  type ForwarderOptions,
  idempotencyKeyOf,
  type ProcessorLike,
  type RoundSummary,
  UNPLACED_MERCHANT,
} from './forwarding/forwarder.js';
export {
  DEFAULT_DEADLINE_WARN_FRACTION,
  DEFAULT_FORWARD_DEADLINE_HOURS,
  deadlineBase,
} from './forwarding/forwarding-deadline.js';
export {
  HoldfastService,
  type HoldfastServiceOptions,
  type IngestCounters,
  type ServiceSummary,
} from './holdfast-service.js';
export {
  Admission,
  type AdmissionOptions,
  admissionOptions,
  DEFAULT_ADMISSION,
  LANE_HEADER,
  type Lane,
  type LoadSnapshot,
} from './http/admission.js';
export { type BuildAppOptions, buildApp, DEFAULT_BODY_LIMIT } from './http/build-app.js';
export { DEFAULT_EDGE, type EdgeOptions } from './http/edge.js';
export { checkedOrigin, parseTraceparent, REQUEST_ID_HEADER } from './http/edges.js';
export { toWireError } from './http/error-handler.js';
export { MAX_JSON_DEPTH } from './http/json-body.js';
export { METRICS_PATH, type MetricsOptions } from './http/metrics.js';
export { CSRF_COOKIE, CSRF_HEADER, ROUTE_RULES, SESSION_COOKIE } from './http/operator-access.js';
export { DEFAULT_SOURCE_LIMIT, type SourceLimitOptions } from './http/source-limit.js';
export { batchSignature, batchTrust, parseBatch, verifyBatchOps } from './ingest/verify-batch.js';
export {
  type AccountingExport,
  accountingExport,
  checkJournal,
  type JournalEntry,
} from './model/accounting.js';
export * from './model/authorization.js';
export * from './model/batch.js';
export * from './model/cash-movement.js';
export * from './model/decline-report.js';
export * from './model/device.js';
export * from './model/device-feed.js';
export * from './model/enrollment.js';
export * from './model/exception.js';
export * from './model/exception-action.js';
export * from './model/exposure.js';
export type { FiscalBill, FiscalBillState } from './model/fiscal-bill.js';
export * from './model/ledger-event.js';
export * from './model/offline-payment.js';
export * from './model/operator.js';
export type { Outage, OutageLane } from './model/outages.js';
export * from './model/payment-forwarding.js';
export * from './model/policy.js';
export type { ReportEvent, ReportInput, SalesReport, SalesReportRow } from './model/reports.js';
export * from './model/shift.js';
export * from './model/summary.js';
export * from './model/wallet.js';
export { newServerKey, policyKeyId, policyKeySet } from './policy-keys.js';
export {
  type AssignedFields,
  DEFAULT_VALID_FROM_LEAD_MS,
  type ExposureAnswer,
  nextIssuedAt,
  policyForDevice,
  policyFromDraft,
} from './risk-policies.js';
export type { DeviceAdmin } from './services/device-admin.js';
export type { DeclineReport, ExceptionDesk } from './services/exception-desk.js';
export type { LedgerReads } from './services/ledger-reads.js';
export type { LoginResult, OperatorAccounts, Principal } from './services/operator-accounts.js';
export type { OutageReport, ReportDesk } from './services/report-desk.js';
export type { WalletAdmin } from './services/wallet-admin.js';
export {
  DATABASE_FILE,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  loadOrCreateOperatorTokenFile,
  OPERATOR_TOKEN_FILE,
  openStorage,
  type RunningServer,
  type ShutdownOutcome,
  type StartServerOptions,
  startServer,
} from './start-server.js';
export type * from './storage/authorizations.js';
export { deviceStatusOf } from './storage/device-status.js';
export { POSTGRES_MIGRATIONS } from './storage/postgres/postgres-schema.js';
export {
  DEFAULT_POOL_SIZE,
  PostgresStorage,
  type PostgresStorageOptions,
} from './storage/postgres/postgres-storage.js';
export { SQLITE_MIGRATIONS } from './storage/sqlite/sqlite-schema.js';
export { SqliteStorage, type SqliteStorageOptions } from './storage/sqlite/sqlite-storage.js';
export type * from './storage/storage.js';
export { readTlsFiles, reloadTls, TlsConfigError, type TlsFiles } from './tls.js';
