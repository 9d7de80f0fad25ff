/**
 * Wrong PINs and lock-outs at a till (docs/staff-and-roles.md), kept in the
 * journal's `staff_lockouts` table so a restart or a reload does not reset
 * them. One implementation for the Node till (staff.ts) and the browser till
 * (terminal-web browser-staff.ts): the rules and the words are the same.
 */
import type { JournalCore } from './journal-core.js';

/** Wrong PINs in a row, for one member on this till, that lock the member out. */
export const LOCKOUT_THRESHOLD = 5;
/** The first lock-out's length; each further one doubles it. */
export const LOCKOUT_BASE_MS = 5 * 60_000;
/** The longest lock-out. */
export const LOCKOUT_MAX_MS = 60 * 60_000;

export type StaffErrorCode =
  | 'no_roster'
  | 'staff_unknown'
  | 'staff_no_pin'
  | 'wrong_pin'
  | 'locked_out'
  | 'staff_required'
  | 'approval_required'
  | 'approval_role'
  | 'approval_not_needed';

/** A clerk-facing refusal with a stable code. `retryAfterMs` for locked_out, `attemptsLeft` for wrong_pin. */
export class StaffError extends Error {
  override readonly name = 'StaffError';
  readonly retryAfterMs: number | undefined;
  readonly attemptsLeft: number | undefined;
  constructor(
    readonly code: StaffErrorCode,
    message: string,
    context: { retryAfterMs?: number; attemptsLeft?: number } = {},
  ) {
    super(message);
    this.retryAfterMs = context.retryAfterMs;
    this.attemptsLeft = context.attemptsLeft;
  }
}

/** A member's row in `staff_lockouts`. */
export interface LockRow {
  staff: string;
  failures: number;
  lockouts: number;
  locked_until: number | null;
  last_failure_at: number;
}

/** The lock-out rules over one journal's `staff_lockouts`. */
export class StaffLockouts {
  readonly #journal: Pick<JournalCore, 'prepare' | 'transaction'>;

  constructor(journal: Pick<JournalCore, 'prepare' | 'transaction'>) {
    this.#journal = journal;
  }

  /** `staff`'s wrong PINs in a row and the end of their lock-out (null: not locked). */
  lockout(staff: string): { failures: number; lockedUntil: number | null } {
    const row = this.row(staff);
    return { failures: row?.failures ?? 0, lockedUntil: row?.locked_until ?? null };
  }

  row(staff: string): LockRow | undefined {
    return this.#journal.prepare('SELECT * FROM staff_lockouts WHERE staff = ?').get(staff) as LockRow | undefined;
  }

  /** `staff`'s row, after refusing with locked_out while their lock-out lasts at `now`. */
  checkNotLocked(staff: string, now: number): LockRow | undefined {
    const lock = this.row(staff);
    if (lock?.locked_until != null && lock.locked_until > now) {
      const retryAfterMs = lock.locked_until - now;
      throw new StaffError(
        'locked_out',
        `${staff} is locked out on this till after ${LOCKOUT_THRESHOLD} wrong PINs: try again in ${Math.ceil(retryAfterMs / 1000)} s`,
        { retryAfterMs },
      );
    }
    return lock;
  }

  /** A right PIN: the count of wrong ones starts again (the lock-outs so far still lengthen the next). */
  rightPin(staff: string, lock: LockRow | undefined): void {
    if (!lock) return;
    this.#journal.transaction(() => {
      this.#journal.prepare('UPDATE staff_lockouts SET failures = 0, locked_until = NULL WHERE staff = ?').run(staff);
    });
  }

  /**
   * A wrong PIN at `now`: counted durably, locking the member out at the
   * threshold (each lock-out twice the last, at most LOCKOUT_MAX_MS); then
   * refused as locked_out or wrong_pin (with the tries left).
   */
  wrongPin(staff: string, lock: LockRow | undefined, now: number): never {
    const failures = (lock?.failures ?? 0) + 1;
    const locks = failures >= LOCKOUT_THRESHOLD;
    const lockouts = (lock?.lockouts ?? 0) + (locks ? 1 : 0);
    const lockedUntil = locks ? now + Math.min(LOCKOUT_BASE_MS * 2 ** (lockouts - 1), LOCKOUT_MAX_MS) : null;
    this.#journal.transaction(() => {
      this.#journal
        .prepare(
          `INSERT INTO staff_lockouts (staff, failures, lockouts, locked_until, last_failure_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (staff) DO UPDATE SET failures = excluded.failures, lockouts = excluded.lockouts,
             locked_until = excluded.locked_until, last_failure_at = excluded.last_failure_at`,
        )
        .run(staff, locks ? 0 : failures, lockouts, lockedUntil, now);
    });
    if (lockedUntil !== null) {
      throw new StaffError(
        'locked_out',
        `wrong PIN for ${staff}: locked out on this till for ${Math.ceil((lockedUntil - now) / 1000)} s after ${LOCKOUT_THRESHOLD} wrong PINs`,
        { retryAfterMs: lockedUntil - now },
      );
    }
    throw new StaffError(
      'wrong_pin',
      `wrong PIN for ${staff} (${LOCKOUT_THRESHOLD - failures} tries left before a lock-out)`,
      { attemptsLeft: LOCKOUT_THRESHOLD - failures },
    );
  }
}
