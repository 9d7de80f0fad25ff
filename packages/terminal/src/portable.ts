/**
 * @holdfast/terminal/portable — the parts of the Terminal SDK that run
 * unchanged in Node and in a browser (no Node module anywhere beneath):
 * the journal on any SqliteConnection, its errors and types. The browser
 * build (packages/terminal-web) bundles this entry; a bundle check there
 * fails if a Node module slips in.
 */
export {
  JournalClosedError,
  JournalLockedError,
  JournalVersionError,
} from './errors.js';
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
export { SCHEMA_VERSION } from './journal-schema.js';
export type { AppendInput, ChainHead, JournalEntry, OpCounts, OpState } from './journal-types.js';
export type { SqliteConnection, SqliteFailure, SqliteStatement } from './sqlite-connection.js';
