/**
 * Staff at the till (docs/staff-and-roles.md, "Staff at the till"): the
 * roster the device feed delivers, sign-in and sign-out, the wrong-PIN
 * lock-out, and approvals bound to one next op. Everything works offline:
 * PINs are checked against the roster's scrypt verifiers.
 *
 *   roster     the newest SignedRoster of the device's location, verified
 *              with the pinned policy keys, kept in journal meta; a newer
 *              version replaces it whole (removals too) and signs out a
 *              member it no longer lists
 *   sign-in    staff id or badge, then PIN; kept in memory only: a restart
 *              signs the clerk out
 *   lock-out   LOCKOUT_THRESHOLD wrong PINs in a row for one member on this
 *              till lock that member out here for LOCKOUT_BASE_MS, doubling
 *              with each lock-out up to LOCKOUT_MAX_MS; kept in the journal,
 *              so a restart does not reset it
 *   approval   a supervisor or manager enters their PIN for one specific
 *              next op (its kind and the SHA-256 of its body's canonical
 *              JSON), used once, within APPROVAL_TTL_MS
 *
 * Where the location has no roster (none delivered), nothing here applies:
 * ops are recorded without an actor, as before.
 */
import { approvalBinding, approvalNeeded, type Clock, needsSignedIn } from '@holdfast/domain';
import {
  type Actor,
  badgeDigest,
  canonicalHash,
  checkStaffSecret,
  type OpBodies,
  type OpKind,
  type Placement,
  type PolicyKeySet,
  type Roster,
  type RosterEntry,
  roleAtLeast,
  type StaffRole,
  ValidationError,
  verifyRoster,
} from '@holdfast/protocol';
import type { Journal } from './journal.js';
import { META } from './journal-schema.js';

import { StaffError, StaffLockouts } from './staff-lockouts.js';

export {
  LOCKOUT_BASE_MS,
  LOCKOUT_MAX_MS,
  LOCKOUT_THRESHOLD,
  StaffError,
  type StaffErrorCode,
} from './staff-lockouts.js';

/** How long an approval waits for its op. */
export const APPROVAL_TTL_MS = 2 * 60_000;

/** How a member identifies at the till: their staff id, or their badge (then their PIN). */
export type StaffIdentity = { staff: string } | { badge: string };

export interface SignedInStaff {
  id: string;
  name: string;
  role: StaffRole;
  /** Device clock at sign-in. */
  since: number;
}

/** An approval waiting for its op. */
export interface StaffApproval {
  id: string;
  kind: OpKind;
  approver: string;
  role: StaffRole;
  /** The member signed in when it was given: only their op uses it. */
  staff: string;
  expiresAt: number;
}

interface ApprovalRow {
  id: string;
  op_kind: string;
  body_hash: string;
  approver: string;
  role: string;
  staff: string;
  created_at: number;
  expires_at: number;
}

/** What recording an op takes from the staff: the actor to stamp and the approval it uses up. */
export interface StaffStamp {
  actor: Actor | undefined;
  approvalId: string | null;
}

export class TillStaff {
  readonly #journal: Journal;
  readonly #lockouts: StaffLockouts;
  readonly #clock: Clock;
  readonly #keys: () => PolicyKeySet | null;
  readonly #placement: () => Placement | null;
  readonly #newId: () => string;
  #roster: Roster | null | undefined;
  #current: SignedInStaff | null = null;

  constructor(options: {
    journal: Journal;
    clock: Clock;
    keys: () => PolicyKeySet | null;
    placement: () => Placement | null;
    newId: () => string;
  }) {
    this.#journal = options.journal;
    this.#lockouts = new StaffLockouts(options.journal);
    this.#clock = options.clock;
    this.#keys = options.keys;
    this.#placement = options.placement;
    this.#newId = options.newId;
  }

  /** The roster held, or null if none was ever delivered. */
  roster(): Roster | null {
    if (this.#roster === undefined) {
      const raw = this.#journal.getMeta(META.roster);
      this.#roster = raw === null ? null : (JSON.parse(raw) as Roster);
    }
    return this.#roster;
  }

  /** The roster version held (0: none), sent with each feed request. */
  version(): number {
    return this.roster()?.version ?? 0;
  }

  /**
   * The meta entry that stores a roster from a feed answer, checked first:
   * its signature verifies with a pinned policy key and it is for this
   * device's location. Null when it is the version held already. Throws
   * ValidationError naming what is wrong (the feed refuses the answer).
   */
  rosterMeta(signed: unknown, placement?: Placement | null): { meta: Record<string, string>; roster: Roster } | null {
    const roster = verifyRoster(signed, this.#keys() ?? {});
    const location = (placement ?? this.#placement())?.location ?? null;
    if (location !== null && roster.location !== location) {
      throw new ValidationError('roster.location', `this device's location ${location}`, roster.location);
    }
    if (roster.version === this.version()) return null;
    return { meta: { [META.roster]: JSON.stringify(roster) }, roster };
  }

  /** After the roster's meta committed: hold it, and sign out a member it no longer lists. */
  rosterCommitted(roster: Roster): void {
    this.#roster = roster;
    const current = this.#current;
    if (current === null) return;
    const entry = roster.staff.find((e) => e.id === current.id);
    if (!entry) this.#current = null;
    else this.#current = { ...current, name: entry.name, role: entry.role };
  }

  /** The member signed in, or null. */
  current(): SignedInStaff | null {
    return this.#current ? { ...this.#current } : null;
  }

  /**
   * Signs a member in with their PIN (offline). Throws StaffError:
   * no_roster, staff_unknown, staff_no_pin, wrong_pin (with attemptsLeft),
   * locked_out (with retryAfterMs).
   */
  signIn(who: StaffIdentity, pin: string): SignedInStaff {
    const entry = this.#authenticate(who, pin);
    this.#current = { id: entry.id, name: entry.name, role: entry.role, since: this.#clock.now() };
    return { ...this.#current };
  }

  signOut(): void {
    this.#current = null;
  }

  /**
   * A supervisor or manager approves the one next op of `kind` with exactly
   * `body` (what will be recorded; the approval is bound to the hash of the
   * fields its kind's STAFF_RULES `binds` names, or of the whole body), to be
   * recorded by the member signed in now, within APPROVAL_TTL_MS, once.
   * Throws StaffError as signIn does, and staff_required (nobody signed
   * in), approval_not_needed (the kind needs none for this body) or
   * approval_role (the approver's role is below what the op needs).
   */
  approve<K extends OpKind>(
    op: { kind: K; body: OpBodies[K] | Record<string, unknown> },
    who: StaffIdentity,
    pin: string,
  ): StaffApproval {
    const current = this.#current;
    if (current === null)
      throw new StaffError('staff_required', 'sign a staff member in before asking for an approval');
    const needed = approvalNeeded(op.kind, op.body as OpBodies[K]);
    if (needed === null) throw new StaffError('approval_not_needed', `${op.kind} with this body needs no approval`);
    const entry = this.#authenticate(who, pin);
    if (!roleAtLeast(entry.role, needed)) {
      throw new StaffError(
        'approval_role',
        `${op.kind} needs a ${needed}'s approval; ${entry.name} (${entry.id}) is a ${entry.role}`,
      );
    }
    const now = this.#clock.now();
    const approval: StaffApproval = {
      id: this.#newId(),
      kind: op.kind,
      approver: entry.id,
      role: entry.role,
      staff: current.id,
      expiresAt: now + APPROVAL_TTL_MS,
    };
    this.#journal.transaction(() => {
      this.#journal
        .prepare(
          `INSERT INTO staff_approvals (id, op_kind, body_hash, approver, role, staff, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          approval.id,
          op.kind,
          canonicalHash(approvalBinding(op.kind, op.body)),
          entry.id,
          entry.role,
          current.id,
          now,
          approval.expiresAt,
        );
    });
    return approval;
  }

  /**
   * The actor to stamp on an op of `kind` with `body` and the approval it
   * uses (mark it with `useApproval` in the op's transaction). Throws
   * StaffError staff_required or approval_required when the location has a
   * roster and the kind's staff rule (domain STAFF_RULES) is not met.
   */
  stamp<K extends OpKind>(kind: K, body: OpBodies[K]): StaffStamp {
    const current = this.#current;
    if (this.roster() === null) {
      return { actor: current ? { staff: current.id } : undefined, approvalId: null };
    }
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
    if (needed === null) return { actor: { staff: current.id }, approvalId: null };
    const row = this.#journal
      .prepare(
        `SELECT * FROM staff_approvals
         WHERE op_kind = ? AND body_hash = ? AND staff = ? AND used_by_op IS NULL AND expires_at > ?
         ORDER BY created_at DESC LIMIT 1`,
      )
      .get(kind, canonicalHash(approvalBinding(kind, body)), current.id, this.#clock.now()) as ApprovalRow | undefined;
    if (!row) {
      throw new StaffError(
        'approval_required',
        `${kind} needs a ${needed}'s approval of this exact op: ask one to approve it (approvals last ${APPROVAL_TTL_MS / 1000} s and are used once)`,
      );
    }
    return { actor: { staff: current.id, approvedBy: row.approver }, approvalId: row.id };
  }

  /** Marks an approval used by op `opId`; runs inside the op's journal transaction. */
  useApproval(approvalId: string, opId: string): void {
    const changed = this.#journal
      .prepare('UPDATE staff_approvals SET used_by_op = ? WHERE id = ? AND used_by_op IS NULL')
      .run(opId, approvalId).changes;
    if (changed !== 1) throw new StaffError('approval_required', `approval ${approvalId} was used already`);
  }

  /** The lock-out state of a member on this till: wrong PINs since the last success, and until when they are locked out. */
  lockout(staff: string): { failures: number; lockedUntil: number | null } {
    return this.#lockouts.lockout(staff);
  }

  /** The roster entry `who` names if `pin` is theirs; counts wrong PINs and locks out (see the file comment). */
  #authenticate(who: StaffIdentity, pin: string): RosterEntry {
    const roster = this.roster();
    if (roster === null) {
      throw new StaffError(
        'no_roster',
        'this till holds no staff roster yet (none set for the location, or not delivered)',
      );
    }
    const entry =
      'staff' in who
        ? roster.staff.find((e) => e.id === who.staff)
        : typeof who.badge === 'string'
          ? roster.staff.find((e) => e.badge !== null && e.badge === badgeDigest(who.badge))
          : undefined;
    if (!entry) {
      throw new StaffError(
        'staff_unknown',
        'staff' in who
          ? `no staff member ${who.staff} on this location's roster`
          : "that badge is not on this location's roster",
      );
    }
    const now = this.#clock.now();
    const lock = this.#lockouts.checkNotLocked(entry.id, now);
    if (entry.pin === null)
      throw new StaffError('staff_no_pin', `${entry.id} has no PIN set: ask a manager to set one`);
    if (typeof pin === 'string' && checkStaffSecret(pin, entry.pin)) {
      this.#lockouts.rightPin(entry.id, lock);
      return entry;
    }
    this.#lockouts.wrongPin(entry.id, lock, now);
  }
}
