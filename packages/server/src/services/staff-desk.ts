/**
 * The staff desk: what the operator routes under /v1/admin/staff call
 * (docs/staff-and-roles.md, "Staff at the till"), and the roster the device
 * feed carries. PINs are checked against the PIN policy and turned into a
 * scrypt verifier here, off the event loop; the PIN itself is never stored,
 * logged or sent anywhere.
 */
import type { Clock } from '@holdfast/domain';
import {
  badgeDigest,
  checkBadgePolicy,
  checkPinPolicy,
  checkStaffName,
  makeStaffVerifierAsync,
  ProtocolError,
  ROSTER_FORMAT,
  refString,
  type SignedRoster,
  STAFF_ROLES,
  type StaffRole,
  schema as s,
  signRoster,
  staffId,
  ValidationError,
} from '@holdfast/protocol';
import type { LocationRoster, StaffEvent, StaffMemberView } from '../model/staff.js';
import { staffViewOf } from '../model/staff.js';
import type { Storage } from '../storage/storage.js';

export const staffAddSchema = s.object({
  location: refString(),
  id: staffId(),
  name: s.string({ minLength: 1, maxLength: 200 }),
  role: s.oneOf(STAFF_ROLES),
  pin: s.optional(s.string({ minLength: 1, maxLength: 64 })),
  badge: s.optional(s.string({ minLength: 1, maxLength: 200 })),
});
export const staffUpdateSchema = s.object({
  role: s.oneOf(STAFF_ROLES),
  name: s.optional(s.string({ minLength: 1, maxLength: 200 })),
});
export const staffPinSchema = s.object({ pin: s.string({ minLength: 1, maxLength: 64 }) });
export const staffBadgeSchema = s.object({ badge: s.nullable(s.string({ minLength: 1, maxLength: 200 })) });

/** What a change answers: the member as operators see it and the roster version the change made. */
export interface StaffChangeAnswer {
  member: StaffMemberView;
  version: number;
}

export class StaffDesk {
  readonly #storage: Storage;
  readonly #clock: Clock;

  constructor(storage: Storage, clock: Clock) {
    this.#storage = storage;
    this.#clock = clock;
  }

  /** Adds a member to a location's roster (a PIN and a badge are optional: without a PIN they cannot sign in). */
  async add(body: unknown, by: string): Promise<StaffChangeAnswer> {
    const input = staffAddSchema.parse(body);
    const name = checkStaffName(input.name);
    const pin = input.pin === undefined ? null : await makeStaffVerifierAsync(checkPinPolicy(input.pin));
    const badge = input.badge === undefined ? null : badgeDigest(checkBadgePolicy(input.badge));
    const event = await this.#storage.changeStaff(
      { action: 'added', location: input.location, staff: input.id, name, role: input.role, pin, badge },
      this.#clock.now(),
      by,
    );
    return this.#answer(event);
  }

  /** Changes a member's role (and, if given, name). */
  async update(id: string, body: unknown, by: string): Promise<StaffChangeAnswer> {
    const staff = staffId().parse(id, 'id');
    const input = staffUpdateSchema.parse(body);
    const change: { action: 'role_changed'; staff: string; role: StaffRole; name?: string } = {
      action: 'role_changed',
      staff,
      role: input.role,
    };
    if (input.name !== undefined) change.name = checkStaffName(input.name);
    return this.#answer(await this.#storage.changeStaff(change, this.#clock.now(), by));
  }

  /** Sets or resets a member's PIN. */
  async setPin(id: string, body: unknown, by: string): Promise<StaffChangeAnswer> {
    const staff = staffId().parse(id, 'id');
    const pin = await makeStaffVerifierAsync(checkPinPolicy(staffPinSchema.parse(body).pin, 'pin'));
    return this.#answer(await this.#storage.changeStaff({ action: 'pin_set', staff, pin }, this.#clock.now(), by));
  }

  /** Gives a member a badge, or takes it away (null). */
  async setBadge(id: string, body: unknown, by: string): Promise<StaffChangeAnswer> {
    const staff = staffId().parse(id, 'id');
    const raw = staffBadgeSchema.parse(body).badge;
    const badge = raw === null ? null : badgeDigest(checkBadgePolicy(raw));
    return this.#answer(await this.#storage.changeStaff({ action: 'badge_set', staff, badge }, this.#clock.now(), by));
  }

  /** Removes a member from their roster: terminals drop them at their next feed poll, and ops they record after it raise staff_removed. */
  async remove(id: string, by: string): Promise<StaffChangeAnswer> {
    const staff = staffId().parse(id, 'id');
    return this.#answer(await this.#storage.changeStaff({ action: 'removed', staff }, this.#clock.now(), by));
  }

  /** Every member the location ever had (removed ones too) and its roster version. */
  async list(location: unknown): Promise<{ location: string; version: number; staff: StaffMemberView[] }> {
    const loc = locationParam(location);
    const [roster, staff] = await Promise.all([this.#storage.locationRoster(loc), this.#storage.listStaff(loc)]);
    return { location: loc, version: roster.version, staff };
  }

  /** The location's roster history, oldest first, without verifiers or badge digests. */
  async history(
    location: unknown,
    staff: unknown,
  ): Promise<{ location: string; events: Omit<StaffEvent, 'pin' | 'badge'>[] }> {
    const loc = locationParam(location);
    const id = staff === undefined || staff === '' ? null : staffId().parse(staff, 'query.staff');
    const events = await this.#storage.staffHistory(loc, id);
    return { location: loc, events: events.map(({ pin: _p, badge: _b, ...rest }) => rest) };
  }

  /**
   * The roster a device at `location` gets in its feed, signed with the
   * active policy key: null when the location never had staff, or the
   * device already holds version `held`.
   */
  async rosterFor(location: string | null, held: number | undefined, now: number): Promise<SignedRoster | null> {
    if (location === null) return null;
    // Most polls find the version they hold: one small query, no roster read.
    const version = await this.#storage.rosterVersion(location);
    if (version === 0 || version === held) return null;
    const roster: LocationRoster = await this.#storage.locationRoster(location);
    if (roster.version === 0 || roster.version === held) return null;
    const [key] = await this.#storage.listServerKeys();
    if (!key) return null;
    return signRoster(
      { v: ROSTER_FORMAT, location, version: roster.version, issuedAt: now, staff: roster.staff },
      key.privateKey,
      key.id,
    );
  }

  async #answer(event: StaffEvent): Promise<StaffChangeAnswer> {
    const history = await this.#storage.staffHistory(event.location, event.staff);
    const first = history.filter((e) => e.action === 'added' && e.version <= event.version).at(-1) ?? event;
    return { member: staffViewOf(event, first), version: event.version };
  }
}

function locationParam(value: unknown): string {
  try {
    return refString().parse(value, 'query.location');
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new ProtocolError('invalid_request', `query parameter location is required: ${error.message}`, {
        field: 'query.location',
        rule: error.rule,
      });
    }
    throw error;
  }
}
