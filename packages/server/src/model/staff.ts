/**
 * Staff at the till: the roster of each location as an append-only history
 * (docs/staff-and-roles.md, "Staff at the till"). Each change to a
 * location's staff is one event with the location's next version; the
 * member's state after it is the whole of the event (name, role, verifier,
 * badge), so "who was S at time T" is the last event of S at or before T.
 */
import type { RosterEntry, StaffRole, StaffVerifier } from '@holdfast/protocol';

export const STAFF_ACTIONS = ['added', 'role_changed', 'pin_set', 'badge_set', 'removed'] as const;
export type StaffAction = (typeof STAFF_ACTIONS)[number];

/** One change to one staff member, with the member's state after it. */
export interface StaffEvent {
  location: string;
  /** The location's roster version this event made (1 for its first). */
  version: number;
  staff: string;
  action: StaffAction;
  /** Server clock of the change. */
  at: number;
  name: string;
  role: StaffRole;
  /** The PIN's verifier after the change, or null when none is set. */
  pin: StaffVerifier | null;
  /** The badge's digest after the change, or null. */
  badge: string | null;
  /** Who made the change (the operator's name, or "operator" for the shared token). */
  by: string;
}

/** A change the staff desk asks storage to make, checked against the member's latest event inside the transaction. */
export type StaffChange =
  | {
      action: 'added';
      location: string;
      staff: string;
      name: string;
      role: StaffRole;
      pin: StaffVerifier | null;
      badge: string | null;
    }
  | { action: 'role_changed'; staff: string; role: StaffRole; name?: string }
  | { action: 'pin_set'; staff: string; pin: StaffVerifier }
  | { action: 'badge_set'; staff: string; badge: string | null }
  | { action: 'removed'; staff: string };

/** The current roster of one location: its version (0: never had staff) and its members. */
export interface LocationRoster {
  location: string;
  version: number;
  staff: RosterEntry[];
}

/** A member as an operator sees it: never the verifier. */
export interface StaffMemberView {
  id: string;
  location: string;
  name: string;
  role: StaffRole;
  pinSet: boolean;
  badgeSet: boolean;
  since: number;
  removedAt: number | null;
}

/** What ingest loads to check the batch's actors: every event of the staff ids the batch names, and when the device's location first had staff. */
export interface StaffFacts {
  /** Events of the named staff ids (any location), oldest first. */
  events: ReadonlyMap<string, readonly StaffEvent[]>;
  /** Server time of the first staff event at the device's location, or null if it never had staff. */
  rosterSince: number | null;
}

/** The member's state after their latest event, as a roster entry; null when removed. */
export function rosterEntryOf(event: StaffEvent): RosterEntry | null {
  if (event.action === 'removed') return null;
  return { id: event.staff, name: event.name, role: event.role, pin: event.pin, badge: event.badge };
}

export function staffViewOf(latest: StaffEvent, first: StaffEvent): StaffMemberView {
  return {
    id: latest.staff,
    location: latest.location,
    name: latest.name,
    role: latest.role,
    pinSet: latest.pin !== null,
    badgeSet: latest.badge !== null,
    since: first.at,
    removedAt: latest.action === 'removed' ? latest.at : null,
  };
}
