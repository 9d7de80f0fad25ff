/**
 * The Terminal's options and how they are checked: every bad value fails
 * at open with a RangeError naming it, never later in the sync loop.
 */
import {
  type Clock,
  DEFAULT_BACKOFF_SECONDS,
  type InjectedBugs,
  type Random,
  validateBackoffSchedule,
} from '@holdfast/domain';
import { APP_VERSION_PATTERN, BATCH_MAX_BYTES, BATCH_MAX_OPS } from '@holdfast/protocol';
import type { CrashHook } from './journal.js';
import type { TerminalPlacement } from './offline-policy.js';
import type { SqliteConnection } from './sqlite-connection.js';
import type { Transport } from './transport.js';

export interface TerminalOptions {
  /** Directory of the journal (`journal.db`); created if missing. One terminal per directory. */
  dataDir: string;
  transport: Transport;
  /** Every time read and timer goes through it (default: the system clock). */
  clock?: Clock;
  /** Backoff jitter (default: crypto random). */
  random?: Random;
  /** Random bytes of op ids (default: `cryptoIdRandom`, the system generator read 4 KiB at a time). */
  idRandom?: Random;
  /** Backoff base delays in seconds (default DEFAULT_BACKOFF_SECONDS); the last one repeats. */
  backoffSeconds?: readonly number[];
  /** Ops per batch, 1..BATCH_MAX_OPS (default 500). */
  batchSize?: number;
  /** Largest batch body, bytes (default BATCH_MAX_BYTES, the server's default limit; at least 64 KiB). */
  batchMaxBytes?: number;
  /** Per request (default 10 000 ms). */
  requestTimeoutMs?: number;
  /** Ping this often while nothing is pending, to keep connectivity fresh (default 30 000 ms; 0 disables). */
  idlePingMs?: number;
  /** Send on record and on timers (default true). Without it, only syncNow() sends. */
  autoSync?: boolean;
  /** syncNow() in backoff sends at most this often (default 1000 ms). */
  manualRetryMinIntervalMs?: number;
  /**
   * While a backoff is longer than this, probe the server with a health check
   * about this often (jittered, default 20 000 ms; 0 disables). When it answers,
   * the backoff is cut short, so a healed lane drains in seconds instead of
   * waiting out a 10-minute step, while a dead server still sees only pings.
   */
  probeIntervalMs?: number;
  /**
   * With 'enforce', the risk policy is fetched in the background after a
   * successful sync at most this often (default 60 000 ms). Each fetch is a
   * signed request the server verifies: a large fleet may space them out.
   */
  policyRefreshMinIntervalMs?: number;
  /**
   * The software this terminal runs (`till/1.4`, 1..64 printable ASCII
   * characters), reported to the server with the oldest pending op's age and
   * the policy held, for the operator console's fleet (protocol
   * device-report.ts). Default: not reported.
   */
  appVersion?: string;
  /** Receives errors thrown by event listeners and unexpected sync errors (default: console.error). */
  onError?: (error: unknown) => void;
  /**
   * SQLite synchronous mode of the journal: 'FULL' (default) survives power
   * loss. 'OFF' survives only process death and exists for fast simulations.
   */
  journalSync?: 'FULL' | 'OFF';
  /**
   * Opens the journal's SQLite connection (default better-sqlite3): the seam
   * for another binding, and for tests injecting disk faults.
   */
  connect?: (file: string) => SqliteConnection;
  /**
   * Simulators and crash tests only: called at every journal write's crash
   * points; returning true cuts the power there (see Journal).
   */
  crashHook?: CrashHook;
  /**
   * 'enforce': a sale with card tenders is recorded only if the risk policy
   * approves it offline (decision mode local), else recordSale throws
   * NeedsOnlineError; the terminal also fetches the policy after enrollment
   * and after successful syncs (default). A refused card goes online with
   * `recordSaleOnline` (POST /v1/authorize). 'off': card sales are recorded
   * with no decision and no limits, as before the risk policy existed.
   */
  offlineCardPolicy?: 'enforce' | 'off';
  /**
   * Betting (docs/betting.md), as the operator's betting configuration sets
   * them: the largest payout `payTicket` may record offline when the server
   * cannot be reached (absent: payouts are confirmed online only), and how
   * many minutes after its sale this terminal lets a ticket be voided
   * (absent: no window check here; the server checks it at ingest).
   */
  betting?: { offlinePayoutLimit?: number; voidWindowMinutes?: number };
  /**
   * The device's placement as the operator set it on the server; the policy
   * scope is checked against it. Unknown (default): no policy covers the
   * device, so enforced card sales need online (rule policy_scope).
   */
  placement?: TerminalPlacement;
  /**
   * Simulators only: the deliberate terminal bugs to switch on (default
   * none), so the invariant checker can prove it catches them.
   */
  bugs?: InjectedBugs;
}

/** The numeric options, checked, with their defaults. */
export interface ResolvedOptions {
  backoffSeconds: readonly number[];
  batchSize: number;
  batchMaxBytes: number;
  requestTimeoutMs: number;
  idlePingMs: number;
  manualRetryMinIntervalMs: number;
  probeIntervalMs: number;
  offlineCardPolicy: 'enforce' | 'off';
  policyRefreshMinIntervalMs: number;
  appVersion: string | null;
}

/** Background policy refreshes (after a successful sync) happen at most this often, by default. */
export const POLICY_REFRESH_MIN_INTERVAL_MS = 60_000;

export function resolveOptions(options: TerminalOptions): ResolvedOptions {
  const backoffSeconds = Object.freeze([...(options.backoffSeconds ?? DEFAULT_BACKOFF_SECONDS)]);
  validateBackoffSchedule(backoffSeconds);
  const batchSize = options.batchSize ?? BATCH_MAX_OPS;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > BATCH_MAX_OPS) {
    throw new RangeError(`batchSize must be an integer 1..${BATCH_MAX_OPS}`);
  }
  const ms = (name: string, value: number, min: number) => {
    if (!Number.isFinite(value) || value < min) throw new RangeError(`${name} must be a number >= ${min}`);
    return value;
  };
  const offlineCardPolicy = options.offlineCardPolicy ?? 'enforce';
  if (offlineCardPolicy !== 'enforce' && offlineCardPolicy !== 'off') {
    throw new RangeError("offlineCardPolicy must be 'enforce' or 'off'");
  }
  const placement = options.placement;
  if (placement !== undefined && (typeof placement?.merchant !== 'string' || placement.merchant.length === 0)) {
    throw new RangeError('placement.merchant must be a non-empty string');
  }
  const batchMaxBytes = options.batchMaxBytes ?? BATCH_MAX_BYTES;
  if (!Number.isSafeInteger(batchMaxBytes) || batchMaxBytes < 64 * 1024) {
    throw new RangeError('batchMaxBytes must be an integer >= 65536');
  }
  return {
    offlineCardPolicy,
    backoffSeconds,
    batchSize,
    batchMaxBytes,
    requestTimeoutMs: ms('requestTimeoutMs', options.requestTimeoutMs ?? 10_000, 1),
    idlePingMs: ms('idlePingMs', options.idlePingMs ?? 30_000, 0),
    manualRetryMinIntervalMs: ms('manualRetryMinIntervalMs', options.manualRetryMinIntervalMs ?? 1000, 0),
    probeIntervalMs: ms('probeIntervalMs', options.probeIntervalMs ?? 20_000, 0),
    policyRefreshMinIntervalMs: ms(
      'policyRefreshMinIntervalMs',
      options.policyRefreshMinIntervalMs ?? POLICY_REFRESH_MIN_INTERVAL_MS,
      0,
    ),
    appVersion: appVersionOf(options.appVersion),
  };
}

function appVersionOf(value: string | undefined): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !APP_VERSION_PATTERN.test(value)) {
    throw new RangeError('appVersion must be 1..64 printable ASCII characters');
  }
  return value;
}
