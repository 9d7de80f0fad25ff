/**
 * @holdfast/terminal — the Terminal SDK: a durable SQLite journal of ops, the
 * outbox and sync loop that deliver them exactly once, and the transports
 * that carry them. Test tools (an in-memory server, a fault-injecting
 * transport) live behind the `@holdfast/terminal/testing` subpath.
 */

export { FEED_POLL_MIN_INTERVAL_MS } from './background.js';
export { CatalogError, type CatalogErrorCode, TillCatalog } from './catalog.js';
export {
  CLERK_CODES,
  CLERK_MESSAGES,
  type ClerkCode,
  clerkMessage,
  onlineOutcomeMessage,
  type ZReportState,
  zReportMessage,
} from './clerk-messages.js';
export type { Connectivity } from './connectivity.js';
export { OFFLINE_AFTER_FAILURES, SLOW_EXCHANGE_MS } from './connectivity.js';
export {
  AlreadyEnrolledError,
  CorrectionRefusedError,
  DeviceRevokedError,
  EnrollmentError,
  EnrollmentInProgressError,
  FeedError,
  JournalClosedError,
  JournalLockedError,
  JournalVersionError,
  KeyRotationError,
  NeedsOnlineError,
  NoReceiptError,
  NotEnrolledError,
  PolicyRefreshError,
  RecordOutcomeUnknownError,
  RequestRejectedError,
  SimulatedCrashError,
  TerminalClosedError,
  TopUpReversalRefusedError,
  TransportError,
  type TransportErrorCode,
  VoidRefusedError,
  WristbandRefusedError,
  WristbandWriteError,
} from './errors.js';
export { LIVE_MAX_OPS, LIVE_WINDOW_MS, laneOf } from './exchange.js';
export {
  FEED_MAX_PAGES_PER_POLL,
  type FeedNotice,
  type FeedPollResult,
  type PostAuthDecline,
} from './feed.js';
export { HttpTransport, type HttpTransportOptions, parseRetryAfter } from './http-transport.js';
export {
  type CrashHook,
  type CrashPoint,
  type InDoubtOp,
  Journal,
  type JournalOptions,
  OPS_PAGE_MAX,
  SYNC_ATTEMPTS_KEPT,
  type WriteLabel,
} from './journal.js';
export { SCHEMA_VERSION } from './journal-schema.js';
export type { ChainHead, DeadLetter, JournalEntry, OpCounts, OpState, SyncAttempt } from './journal-types.js';
export {
  type ConfirmedRedemption,
  type KnownBalance,
  type LoyaltyOnlineCode,
  LoyaltyOnlineError,
  type PendingRedemption,
} from './loyalty-online.js';
export type { LoyaltyPointsInput } from './loyalty-points.js';
export type { TerminalPlacement } from './offline-policy.js';
export type { OnlineAuthorization, OnlineOutcome, OnlineReceipt, OnlineRowState } from './online.js';
export type { Blocked, ConfirmedOp } from './outbox.js';
export { type PinnedFetchOptions, pinnedFetch } from './pinned-fetch.js';
export type { ReceiptRequest } from './receipts.js';
export type { SqliteConnection, SqliteFailure, SqliteStatement } from './sqlite-connection.js';
export {
  APPROVAL_TTL_MS,
  LOCKOUT_BASE_MS,
  LOCKOUT_MAX_MS,
  LOCKOUT_THRESHOLD,
  type SignedInStaff,
  type StaffApproval,
  StaffError,
  type StaffErrorCode,
  type StaffIdentity,
} from './staff.js';
export { StockError, type StockErrorCode, type StockWarning, TillStock } from './stock.js';
export type { SyncEvent, SyncOutcome, SyncReport } from './sync-events.js';
export { MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS, type SyncState } from './sync-loop.js';
export { Terminal } from './terminal.js';
export { POLICY_REFRESH_MIN_INTERVAL_MS, type TerminalOptions } from './terminal-options.js';
export type { ClerkOpState, RecordedOp, TerminalEvents, TerminalStatus } from './terminal-types.js';
export type { HealthResponse, Lane, Transport, TransportResult } from './transport.js';
export type {
  BlockedWristband,
  ChipImage,
  ChipWrite,
  PendingChipWrite,
  WristbandReader,
} from './wristband.js';
export type { TopUpReversalApproval, WristbandReceipt } from './wristband-payments.js';
