/**
 * Staff at the browser till: the same rules as the Node till
 * (terminal/src/staff.ts, docs/staff-and-roles.md "Staff at the till") on
 * the roster the signed feed delivered (browser-feed.ts keeps it in journal
 * meta after checking its signature and location):
 *
 *   sign-in    staff id, then PIN, checked against the roster's scrypt
 *              verifier with noble's scryptAsync (pin-check.ts) here in the
 *              journal worker: the verifiers and the lock-out rows never
 *              reach the page, and the worker keeps answering while the
 *              check runs. Kept in memory only: a reload signs the clerk out.
 *   lock-out   LOCKOUT_THRESHOLD wrong PINs in a row lock the member out on
 *              this till for LOCKOUT_BASE_MS, doubling up to LOCKOUT_MAX_MS;
 *              kept in the journal's staff_lockouts table (the same rows the
 *              Node till keeps), committed before the answer, so a reload
 *              does not reset it. Checks run one at a time, so two quick
 *              attempts cannot both read the same count.
 *   stamp      with a roster held, an op whose kind needs a signed-in
 *              member (domain STAFF_RULES) is refused unless one is; the op
 *              carries `actor: { staff }` exactly as the Node till stamps it.
 *   removed    a newer roster that no longer lists the member signed in
 *              signs them out; the till says who and why.
 *
 * Approvals (a supervisor's PIN for one next op) are not offered here yet:
 * an op that needs one is refused with approval_required.
 */
import { approvalNeeded, type Clock, needsSignedIn } from '@holdfast/domain';
import { type OpBodies, type OpKind, type Roster, type RosterEntry, ValidationError } from '@holdfast/protocol';
import { type JournalCore, META, type SignedInStaff, StaffError, StaffLockouts } from '@holdfast/terminal/portable';
import { checkStaffSecretPortable } from './pin-check.js';

/** A member as the sign-in screen lists them (no verifier, no badge digest). */
export interface StaffMemberView {
  id: string;
  name: string;
  role: RosterEntry['role'];
  /** False: no PIN set, the member cannot sign in yet. */
  hasPin: boolean;
  /** Device time the member's lock-out on this till ends, or null. */
  lockedUntil: number | null;
}

/** The longest PIN the till will hash (the PIN policy allows 12 digits; anything longer is refused unread). */
const PIN_MAX_CHARS = 64;

export class BrowserStaff {
  readonly #journal: JournalCore;
  readonly #lockouts: StaffLockouts;
  readonly #clock: Clock;
  #rosterRaw: string | null = null;
  #rosterParsed: Roster | null = null;
  #current: SignedInStaff | null = null;
  #removed: { id: string; name: string } | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: { journal: JournalCore; clock: Clock }) {
    this.#journal = options.journal;
    this.#lockouts = new StaffLockouts(options.journal);
    this.#clock = options.clock;
  }

  /** The roster held in journal meta (stored by the feed once verified), parsed once per version. */
  #roster(): Roster | null {
    const raw = this.#journal.getMeta(META.roster);
    if (raw !== this.#rosterRaw) {
      this.#rosterParsed = raw === null ? null : (JSON.parse(raw) as Roster);
      this.#rosterRaw = raw;
    }
    return this.#rosterParsed;
  }

  /** The member signed in, or null; a member the held roster no longer lists is signed out here. */
  current(): SignedInStaff | null {
    const current = this.#current;
    if (current === null) return null;
    const entry = this.#roster()?.staff.find((e) => e.id === current.id);
    if (!entry) {
      this.#current = null;
      this.#removed = { id: current.id, name: current.name };
      return null;
    }
    if (entry.name !== current.name || entry.role !== current.role) {
      this.#current = { ...current, name: entry.name, role: entry.role };
    }
    return { ...(this.#current as SignedInStaff) };
  }

  /** The member last signed out because a newer roster dropped them (until the next sign-in), or null. */
  removed(): { id: string; name: string } | null {
    this.current();
    return this.#removed ? { ...this.#removed } : null;
  }

  /** The held roster's members, in roster order, with their lock-out on this till. */
  members(): StaffMemberView[] {
    const roster = this.#roster();
    if (roster === null) return [];
    const now = this.#clock.now();
    return roster.staff.map((e) => {
      const lockedUntil = this.#lockouts.lockout(e.id).lockedUntil;
      return {
        id: e.id,
        name: e.name,
        role: e.role,
        hasPin: e.pin !== null,
        lockedUntil: lockedUntil !== null && lockedUntil > now ? lockedUntil : null,
      };
    });
  }

  /**
   * Signs a member in with their PIN (offline). Throws StaffError: no_roster,
   * staff_unknown, staff_no_pin, wrong_pin (with attemptsLeft), locked_out
   * (with retryAfterMs); ValidationError for input that is no staff id or PIN.
   */
  signIn(staff: unknown, pin: unknown): Promise<SignedInStaff> {
    const run = this.#queue.then(() => this.#signIn(staff, pin));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  signOut(): void {
    this.#current = null;
  }

  /** The lock-out state of a member on this till. */
  lockout(staff: string): { failures: number; lockedUntil: number | null } {
    return this.#lockouts.lockout(staff);
  }

  /**
   * The actor to stamp on an op of `kind` (the Recorder's staff port, as
   * terminal/src/staff.ts TillStaff.stamp). Throws StaffError
   * staff_required, or approval_required for an op that needs an approval.
   */
  stamp<K extends OpKind>(kind: K, body: OpBodies[K]): { actor: { staff: string } | undefined; approvalId: null } {
    const current = this.current();
    if (this.#roster() === null) return { actor: current ? { staff: current.id } : undefined, approvalId: null };
    if (current === null) {
      if (needsSignedIn(kind)) {
        throw new StaffError(
          'staff_required',
          `${kind} needs a signed-in staff member at this location: sign in first`,
        );
      }
      return { actor: undefined, approvalId: null };
    }
    const needed = approvalNeeded(kind, body);
    if (needed !== null) {
      throw new StaffError(
        'approval_required',
        `${kind} needs a ${needed}'s approval, which the browser till cannot take yet: use a till that can`,
      );
    }
    return { actor: { staff: current.id }, approvalId: null };
  }

  useApproval(approvalId: string): void {
    throw new StaffError('approval_required', `approval ${approvalId}: the browser till takes no approvals`);
  }

  async #signIn(staff: unknown, pin: unknown): Promise<SignedInStaff> {
    if (typeof staff !== 'string' || staff.length === 0 || staff.length > 64) {
      throw new ValidationError('staff', 'a staff id of 1 to 64 characters', typeof staff);
    }
    if (typeof pin !== 'string' || pin.length > PIN_MAX_CHARS) {
      throw new ValidationError(
        'pin',
        `a PIN of at most ${PIN_MAX_CHARS} characters`,
        typeof pin === 'string' ? `${pin.length} characters` : typeof pin,
      );
    }
    const entry = this.#entry(staff);
    const now = this.#clock.now();
    const lock = this.#lockouts.checkNotLocked(entry.id, now);
    if (entry.pin === null)
      throw new StaffError('staff_no_pin', `${entry.id} has no PIN set: ask a manager to set one`);
    const right = await checkStaffSecretPortable(pin, entry.pin);
    // The roster may have changed while the PIN was checked: sign in only a member it still lists, as they are now.
    const now2 = this.#clock.now();
    if (right) {
      const still = this.#entry(staff);
      this.#lockouts.rightPin(entry.id, lock);
      this.#current = { id: still.id, name: still.name, role: still.role, since: now2 };
      this.#removed = null;
      return { ...this.#current };
    }
    this.#lockouts.wrongPin(entry.id, lock, now);
  }

  #entry(staff: string): RosterEntry {
    const roster = this.#roster();
    if (roster === null) {
      throw new StaffError(
        'no_roster',
        'this till holds no staff roster yet (none set for the location, or not delivered)',
      );
    }
    const entry = roster.staff.find((e) => e.id === staff);
    if (!entry) throw new StaffError('staff_unknown', `no staff member ${staff} on this location's roster`);
    return entry;
  }
}
