/**
 * Rosters (model/staff.ts), for every backend. A change holds the `staff`
 * lock (PostgreSQL: an advisory lock; SQLite: its one writer), reads the
 * member's latest event and the location's version, checks the change
 * against them, and appends one event: two operators changing staff at once
 * queue, and a staff id is never active at two locations.
 */
import { ProtocolError } from '@holdfast/protocol';
import {
  type LocationRoster,
  rosterEntryOf,
  type StaffChange,
  type StaffEvent,
  type StaffFacts,
  type StaffMemberView,
  staffViewOf,
} from '../../../model/staff.js';
import { int, intOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { STAFF_EVENTS, staffEventOf } from '../tables/staff.js';
import { all, lock, one, run, type SqlOperation } from '../transaction-port.js';

const LATEST_OF_STAFF = 'SELECT * FROM staff_events WHERE staff = $1 ORDER BY at DESC, version DESC LIMIT 1';

/**
 * Appends the event `change` makes (see Storage.changeStaff); in one
 * transaction. Throws ProtocolError: `staff_exists` when adding an id that
 * is active (at any location), `not_found` when changing an id never added
 * or removed.
 */
export function* changeStaff(d: SqlDialect, change: StaffChange, now: number, by: string): SqlOperation<StaffEvent> {
  yield* lock('staff');
  const row = yield* one(LATEST_OF_STAFF, [change.staff]);
  const latest = row ? staffEventOf(row) : null;
  const active = latest !== null && latest.action !== 'removed' ? latest : null;
  let next: Omit<StaffEvent, 'version'>;
  const at = Math.max(now, latest?.at ?? now);
  if (change.action === 'added') {
    if (active) {
      throw new ProtocolError(
        'staff_exists',
        `staff ${change.staff} is already on the roster of location ${active.location} (remove them there first)`,
        { field: 'id' },
      );
    }
    next = {
      location: change.location,
      staff: change.staff,
      action: 'added',
      at,
      name: change.name,
      role: change.role,
      pin: change.pin,
      badge: change.badge,
      by,
    };
  } else {
    if (!active) {
      throw new ProtocolError(
        'not_found',
        latest
          ? `staff ${change.staff} was removed from location ${latest.location}`
          : `no staff member ${change.staff}`,
      );
    }
    next = { ...active, action: change.action, at, by };
    if (change.action === 'role_changed') {
      next.role = change.role;
      if (change.name !== undefined) next.name = change.name;
    } else if (change.action === 'pin_set') next.pin = change.pin;
    else if (change.action === 'badge_set') next.badge = change.badge;
  }
  if (next.badge !== null && change.action !== 'removed') {
    const clash = yield* one(
      `SELECT e.staff FROM staff_events e
       WHERE e.badge = $1 AND e.staff <> $2 AND e.action <> 'removed'
         AND e.version = (SELECT max(x.version) FROM staff_events x WHERE x.location = e.location AND x.staff = e.staff)
       LIMIT 1`,
      [next.badge, next.staff],
    );
    if (clash)
      throw new ProtocolError('staff_exists', 'that badge is already given to another staff member', {
        field: 'badge',
      });
  }
  const v = yield* one('SELECT coalesce(max(version), 0) AS version FROM staff_events WHERE location = $1', [
    next.location,
  ]);
  const event: StaffEvent = { ...next, version: int(v?.version) + 1 };
  yield* run(insertSql(STAFF_EVENTS, d), valuesOf(STAFF_EVENTS, event, d));
  return event;
}

const LATEST_AT_LOCATION = `SELECT e.* FROM staff_events e
  WHERE e.location = $1
    AND e.version = (SELECT max(x.version) FROM staff_events x WHERE x.location = e.location AND x.staff = e.staff)
  ORDER BY e.staff`;

/** The location's roster version (0: it never had staff). */
export function* rosterVersion(location: string): SqlOperation<number> {
  const v = yield* one('SELECT coalesce(max(version), 0) AS version FROM staff_events WHERE location = $1', [location]);
  return int(v?.version);
}

/** The location's current roster and version (0 and no staff if it never had any). */
export function* locationRoster(location: string): SqlOperation<LocationRoster> {
  const v = yield* one('SELECT coalesce(max(version), 0) AS version FROM staff_events WHERE location = $1', [location]);
  const staff = [];
  for (const r of yield* all(LATEST_AT_LOCATION, [location])) {
    const entry = rosterEntryOf(staffEventOf(r));
    if (entry) staff.push(entry);
  }
  return { location, version: int(v?.version), staff };
}

/** Every member the location ever had (removed ones too), as operators see them. */
export function* listStaff(location: string): SqlOperation<StaffMemberView[]> {
  const views: StaffMemberView[] = [];
  for (const r of yield* all(LATEST_AT_LOCATION, [location])) {
    const latest = staffEventOf(r);
    const first = yield* one('SELECT * FROM staff_events WHERE location = $1 AND staff = $2 ORDER BY version LIMIT 1', [
      location,
      latest.staff,
    ]);
    views.push(staffViewOf(latest, first ? staffEventOf(first) : latest));
  }
  return views;
}

/** The history of a location's roster, oldest first (optionally of one staff id). */
export function* staffHistory(location: string, staff: string | null): SqlOperation<StaffEvent[]> {
  const rows = yield* all(
    `SELECT * FROM staff_events WHERE location = $1 AND (CAST($2 AS TEXT) IS NULL OR staff = $2) ORDER BY version`,
    [location, staff],
  );
  return rows.map(staffEventOf);
}

/** What ingest needs to check a batch's actors (model/staff.ts StaffFacts). */
export function* staffFacts(d: SqlDialect, ids: readonly string[], location: string | null): SqlOperation<StaffFacts> {
  const events = new Map<string, StaffEvent[]>();
  if (ids.length > 0) {
    const rows = yield* all(`SELECT * FROM staff_events WHERE ${d.inList('staff', '$1')} ORDER BY staff, at, version`, [
      d.list(ids),
    ]);
    for (const r of rows) {
      const e = staffEventOf(r);
      const list = events.get(e.staff) ?? [];
      list.push(e);
      events.set(e.staff, list);
    }
  }
  let rosterSince: number | null = null;
  if (location !== null) {
    const first = yield* one('SELECT min(at) AS at FROM staff_events WHERE location = $1', [location]);
    rosterSince = intOrNull(first?.at);
  }
  return { events, rosterSince };
}
