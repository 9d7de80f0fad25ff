/**
 * @holdfast/terminal/portable — the parts of the Terminal SDK that run
 * unchanged in Node and in a browser (no Node module anywhere beneath):
 * the journal on any SqliteConnection, its errors and types. The browser
 * build (packages/terminal-web) bundles this entry; a bundle check there
 * fails if a Node module slips in.
 */

export { CLERK_CODES, clerkMessage } from './clerk-messages.js';
// The Terminal SDK's modules the browser till (terminal-web/src/till-engine.ts) runs on the browser journal.
export { ConnectivityMonitor } from './connectivity.js';
export { Emitter } from './emitter.js';
export {
  AlreadyEnrolledError,
  DeviceRevokedError,
  EnrollmentError,
  JournalClosedError,
  JournalLockedError,
  JournalVersionError,
  NeedsOnlineError,
  NoReceiptError,
  NotEnrolledError,
  PolicyRefreshError,
  TransportError,
  WristbandRefusedError,
  WristbandWriteError,
} from './errors.js';
export { Exchange, type ExchangeSigner } from './exchange.js';
export { HttpTransport } from './http-transport.js';
export {
  type CrashHook,
  type CrashPoint,
  type InDoubtLog,
  type InDoubtOp,
  JournalCore,
  type JournalCoreOptions,
  OPS_PAGE_MAX,
  SYNC_ATTEMPTS_KEPT,
  type WriteLabel,
} from './journal-core.js';
export { META, SCHEMA_VERSION } from './journal-schema.js';
export type { AppendInput, ChainHead, JournalEntry, OpCounts, OpState } from './journal-types.js';
export {
  approvalId,
  type HeldPolicy,
  OfflineDecisions,
  type TerminalPlacement,
} from './offline-decisions.js';
export {
  type OnlineAuthorization,
  OnlineAuthorizations,
  type OnlineOutcome,
  type OnlineReceipt,
} from './online.js';
export { OnlineSales } from './online-sales.js';
export { Outbox } from './outbox.js';
export { Receipts } from './receipts.js';
export { Recorder } from './recording.js';
export type { SqliteConnection, SqliteFailure, SqliteStatement } from './sqlite-connection.js';
// The staff rules the browser till (terminal-web/src/browser-staff.ts) shares with the Node till.
export type { SignedInStaff } from './staff.js';
export {
  LOCKOUT_BASE_MS,
  LOCKOUT_MAX_MS,
  LOCKOUT_THRESHOLD,
  type LockRow,
  StaffError,
  StaffLockouts,
} from './staff-lockouts.js';
export type { SyncEvents } from './sync-events.js';
export { SyncLoop } from './sync-loop.js';
export { resolveOptions } from './terminal-options.js';
export type { RecordedOp } from './terminal-types.js';
// Wristbands (the browser till's wristband tender): the journal's chip-write promises and the payments on them.
export {
  type BlockedWristband,
  type ChipImage,
  type ChipWrite,
  type PendingChipWrite,
  type WristbandReader,
  WristbandStore,
} from './wristband.js';
export { WristbandPayments, type WristbandReceipt } from './wristband-payments.js';
