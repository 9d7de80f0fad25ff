/**
 * Errors of the Terminal SDK: small classes with a stable `code` and the
 * context a caller needs to act, never a bare string.
 *
 * Rules the clerk broke come from elsewhere and are not wrapped: a body that
 * breaks its schema throws protocol's `ValidationError` (naming the field),
 * an op that breaks a shift rule throws domain's `DomainError`.
 */
import type { ErrorCode, WireError } from '@holdfast/protocol';

/** Why a request's outcome is unknown. */
export type TransportErrorCode = 'timeout' | 'network' | 'bad_response';

/**
 * A request whose outcome is UNKNOWN: it timed out, the connection failed, or
 * the answer could not be read. The server may have applied it, so the caller
 * must never treat it as failed: resend the same bytes or ask (requery).
 */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** Another process or connection holds the journal; two writers would fork the device's chain. */
export class JournalLockedError extends Error {
  override readonly name = 'JournalLockedError';
  readonly code = 'journal_locked';
  constructor(readonly path: string) {
    super(`journal ${path} is open in another process or connection; only one terminal may use it at a time`);
  }
}

/** The journal was written by a newer SDK (schema_version above what this one knows). */
export class JournalVersionError extends Error {
  override readonly name = 'JournalVersionError';
  readonly code = 'journal_version';
  constructor(
    readonly path: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(`journal ${path} has schema version ${found}; this SDK supports up to ${supported}`);
  }
}

/** An op cannot be recorded before the terminal has a device id. */
export class NotEnrolledError extends Error {
  override readonly name = 'NotEnrolledError';
  readonly code = 'not_enrolled';
  constructor() {
    super('the terminal is not enrolled; call enroll(token) first');
  }
}

export class AlreadyEnrolledError extends Error {
  override readonly name = 'AlreadyEnrolledError';
  readonly code = 'already_enrolled';
  constructor(readonly deviceId: string) {
    super(`the terminal is already enrolled as device ${deviceId}`);
  }
}

/** enroll() was called with another token while an enrollment request was in flight. */
export class EnrollmentInProgressError extends Error {
  override readonly name = 'EnrollmentInProgressError';
  readonly code = 'enrollment_in_progress';
  constructor() {
    super('an enrollment with another token is in progress');
  }
}

/** The server answered an enrollment with an error (bad, used or expired token, …). */
export class EnrollmentError extends Error {
  override readonly name = 'EnrollmentError';
  readonly code = 'enrollment_rejected';
  readonly serverCode: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  constructor(status: number, error: WireError) {
    super(`enrollment rejected: ${error.code}: ${error.message}`);
    this.status = status;
    this.serverCode = error.code;
    this.retryable = error.retryable;
  }
}

/**
 * The server answered a key rotation with an error. `retryable`: the
 * rotation stays pending and rotateKey() resumes it; otherwise (revoked
 * device, key in use, superseded) it was abandoned.
 */
export class KeyRotationError extends Error {
  override readonly name = 'KeyRotationError';
  readonly code = 'key_rotation_rejected';
  readonly serverCode: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  constructor(status: number, error: WireError, retryable: boolean) {
    super(`key rotation rejected: ${error.code}: ${error.message}`);
    this.status = status;
    this.serverCode = error.code;
    this.retryable = retryable;
  }
}

/** The server revoked this device (or no longer knows it): it can record and deliver nothing more. */
export class DeviceRevokedError extends Error {
  override readonly name = 'DeviceRevokedError';
  readonly code = 'device_revoked';
  constructor(
    readonly deviceId: string,
    readonly serverCode: string,
    readonly reason: string,
  ) {
    super(`device ${deviceId} was revoked by the server (${serverCode}: ${reason})`);
  }
}

/** The server answered a request other than a batch or an enrollment with an error. */
export class RequestRejectedError extends Error {
  override readonly name = 'RequestRejectedError';
  readonly code = 'request_rejected';
  readonly serverCode: ErrorCode;
  constructor(
    readonly status: number,
    error: WireError,
  ) {
    super(`request rejected: ${error.code}: ${error.message}`);
    this.serverCode = error.code;
  }
}

export class TerminalClosedError extends Error {
  override readonly name = 'TerminalClosedError';
  readonly code = 'terminal_closed';
  constructor() {
    super('the terminal is closed');
  }
}

/**
 * Recording an op hit a disk error (I/O error, disk full) while committing:
 * the op MAY be in the journal — it will then sync like any other — or may
 * not. Like a network timeout, this is never "failed": do not tell the clerk
 * to ring the sale again. The journal closes itself (nothing more is written
 * on a disk that just failed); reopen the terminal, and `inDoubtOps()` says
 * whether this op was recorded (see docs/design.md, "Disk errors").
 */
export class RecordOutcomeUnknownError extends Error {
  override readonly name = 'RecordOutcomeUnknownError';
  readonly code = 'record_outcome_unknown';
  constructor(
    readonly opId: string,
    readonly kind: string,
    /** Whether the op id was saved in the in-doubt list next to the journal (if not, only this error names it). */
    readonly listed: boolean,
    options: { cause?: unknown } = {},
  ) {
    super(
      `recording ${kind} ${opId} hit a disk error: outcome unknown, it may or may not be recorded; ` +
        'reopen the terminal to learn which',
      options,
    );
  }
}

/** The journal's connection is closed (the terminal was closed or killed). */
export class JournalClosedError extends Error {
  override readonly name = 'JournalClosedError';
  readonly code = 'journal_closed';
  constructor(readonly path: string) {
    super(`journal ${path} is closed`);
  }
}

/**
 * A crash hook cut the power at `point`: the journal dropped its connection
 * as process death would. Only simulators and crash tests install such hooks.
 */
export class SimulatedCrashError extends Error {
  override readonly name = 'SimulatedCrashError';
  readonly code = 'simulated_crash';
  constructor(readonly point: string) {
    super(`simulated power loss at ${point}`);
  }
}

/**
 * A card sale the terminal may not approve offline under its risk policy
 * (no policy, expired, over a limit, …). Nothing was recorded: the online
 * card path is not built yet, so the clerk must take another tender.
 * `rule` is the policy rule that decided (docs/risk-policy.md §3.1),
 * `message` says why with the figures, for the clerk.
 */
export class NeedsOnlineError extends Error {
  override readonly name = 'NeedsOnlineError';
  readonly code = 'needs_online';
  readonly rule: string;
  /** policyRef of the policy consulted, or null when the terminal holds none. */
  readonly policy: string | null;
  constructor(rule: string, message: string, policy: string | null) {
    super(message);
    this.rule = rule;
    this.policy = policy;
  }
}

/** The server refused a risk-policy request (`/v1/policy`); nothing was stored. */
export class PolicyRefreshError extends Error {
  override readonly name = 'PolicyRefreshError';
  readonly code = 'policy_refresh_rejected';
  readonly serverCode: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  constructor(status: number, error: WireError) {
    super(`policy request rejected: ${error.code}: ${error.message}`);
    this.status = status;
    this.serverCode = error.code;
    this.retryable = error.retryable;
  }
}

/** The server refused a feed request (`/v1/feed`), or answered one inconsistently; nothing was applied. */
export class FeedError extends Error {
  override readonly name = 'FeedError';
  readonly code = 'feed_rejected';
  readonly serverCode: ErrorCode | null;
  readonly status: number;
  readonly retryable: boolean;
  constructor(status: number, error: WireError | { message: string }) {
    super(
      'code' in error
        ? `feed request rejected: ${error.code}: ${error.message}`
        : `feed answer refused: ${error.message}`,
    );
    this.status = status;
    this.serverCode = 'code' in error ? error.code : null;
    this.retryable = 'code' in error ? error.retryable : true;
  }
}

/**
 * A wristband payment, top-up or refund the terminal refused before
 * recording anything (no seq used, chip untouched). `code` says why:
 * `wristband_blocked` (the server blocked it), `insufficient_balance`,
 * `currency` (the chip holds another currency), `no_chip` (nothing to
 * read), `refund_not_allowed` (the sale was not paid by this wristband, or
 * is refunded already up to that amount).
 */
export class WristbandRefusedError extends Error {
  override readonly name = 'WristbandRefusedError';
  constructor(
    readonly code: 'wristband_blocked' | 'insufficient_balance' | 'currency' | 'no_chip' | 'refund_not_allowed',
    message: string,
    readonly wristband: string | null,
  ) {
    super(message);
  }
}

/**
 * The chip could not be written (taken away mid-write, or its counter
 * moved since it was read). The op IS recorded: the write is finished the
 * next time this wristband is read on this terminal (docs/wristbands.md).
 */
export class WristbandWriteError extends Error {
  override readonly name = 'WristbandWriteError';
  constructor(
    readonly wristband: string,
    readonly opId: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * No receipt can be printed for what was asked: an op id or receipt number
 * this journal does not hold, a number of another device, or an op kind
 * that prints none (a shift opening, a cash movement). Nothing was recorded.
 */
export class NoReceiptError extends Error {
  override readonly name = 'NoReceiptError';
  readonly code = 'no_receipt';
}

/**
 * A ticket void the terminal refuses to record (docs/betting.md §6): no
 * approver, approved by the clerk, or past the void window. Nothing was
 * recorded.
 */
export class VoidRefusedError extends Error {
  override readonly name = 'VoidRefusedError';
  readonly code = 'void_refused';
}

/**
 * A sale void or refund the terminal refuses to record
 * (docs/corrections.md): what it can see is wrong — more than the sale
 * took across its corrections here (`refund_over_sale`), a void of a sale
 * of another shift or another terminal, or with the wrong parts
 * (`sale_void_invalid`), a line the sale never had (`refund_invalid`), or
 * no way to get a supervisor's approval (`approval_missing`); a cash
 * correction of a movement this till did not record
 * (`cash_correction_invalid`), above what is left of it
 * (`cash_correction_over`), or approved by the clerk themself
 * (`approver_is_clerk`). Nothing was recorded.
 */
export class CorrectionRefusedError extends Error {
  override readonly name = 'CorrectionRefusedError';
  constructor(
    readonly code:
      | 'refund_over_sale'
      | 'refund_invalid'
      | 'sale_void_invalid'
      | 'approval_missing'
      | 'cash_correction_invalid'
      | 'cash_correction_over'
      | 'approver_is_clerk',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A wristband top-up reversal the terminal refused before recording
 * anything (docs/wristbands.md, "Top-up reversal"; no seq used, chip
 * untouched, approval not used up): `topup_unknown` (not a top-up recorded
 * on this till), `topup_other_shift`,
 * `topup_already_reversed` (nothing left of it: an earlier reversal on this
 * till took it all, and its chip write is finished now if it was pending),
 * `topup_reversal_over` (more than is left of it), `topup_wrong_wristband`
 * (the chip on the reader is not the one the top-up loaded),
 * `topup_balance_spent` (the chip holds less than the reversal: the money
 * was spent), `topup_approval_by_clerk` (the approver is the clerk) or
 * `approval_missing` (no roster to approve with).
 */
export class TopUpReversalRefusedError extends Error {
  override readonly name = 'TopUpReversalRefusedError';
  constructor(
    readonly code:
      | 'topup_unknown'
      | 'topup_other_shift'
      | 'topup_already_reversed'
      | 'topup_reversal_over'
      | 'topup_wrong_wristband'
      | 'topup_balance_spent'
      | 'topup_approval_by_clerk'
      | 'approval_missing',
    message: string,
  ) {
    super(message);
  }
}
