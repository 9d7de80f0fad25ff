/**
 * `staff_events`: the append-only history of every location's roster
 * (model/staff.ts). One row per change, keyed by (location, version); the
 * member's whole state after the change is on the row.
 */
import type { StaffRole, StaffVerifier } from '@holdfast/protocol';
import type { StaffAction, StaffEvent } from '../../../model/staff.js';
import { int, type Row, textOrNull } from '../../rows.js';
import { defineTable } from '../table.js';

export const STAFF_EVENTS = defineTable<StaffEvent>('staff_events', {
  location: ['text', (e) => e.location],
  version: ['bigint', (e) => e.version],
  staff: ['text', (e) => e.staff],
  action: ['text', (e) => e.action],
  at: ['bigint', (e) => e.at],
  name: ['text', (e) => e.name],
  role: ['text', (e) => e.role],
  pin: ['text', (e) => (e.pin === null ? null : JSON.stringify(e.pin))],
  badge: ['text', (e) => e.badge],
  changed_by: ['text', (e) => e.by],
});

export function staffEventOf(r: Row): StaffEvent {
  const pin = textOrNull(r.pin);
  return {
    location: r.location as string,
    version: int(r.version),
    staff: r.staff as string,
    action: r.action as StaffAction,
    at: int(r.at),
    name: r.name as string,
    role: r.role as StaffRole,
    pin: pin === null ? null : (JSON.parse(pin) as StaffVerifier),
    badge: textOrNull(r.badge),
    by: r.changed_by as string,
  };
}
