/**
 * Staff roles and the op envelope's `actor` (docs/staff-and-roles.md): the
 * part of staff.ts an op needs, free of node:crypto so the portable journal
 * (and its browser build) can seal ops without the PIN verifier's scrypt.
 */
import * as s from './schema.js';

export const STAFF_ROLES = ['clerk', 'supervisor', 'manager'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

/** Rank of each role: a role approves what needs its rank or lower. */
export const STAFF_ROLE_RANK: { readonly [R in StaffRole]: number } = { clerk: 0, supervisor: 1, manager: 2 };

/** True if `role` is at least `needed`. */
export function roleAtLeast(role: StaffRole, needed: StaffRole): boolean {
  return STAFF_ROLE_RANK[role] >= STAFF_ROLE_RANK[needed];
}

/** A staff id: 1–64 characters, letters, digits, `_`, `.`, `-`, starting with a letter or digit. */
export const STAFF_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const staffId = () =>
  s.string({
    minLength: 1,
    maxLength: 64,
    pattern: STAFF_ID_PATTERN,
    patternRule: 'staff id (letters, digits, _ . -; at most 64)',
  });

/**
 * Who recorded an op (optional envelope field, covered by the op hash):
 * the staff member signed in at the till, and the member whose PIN approved
 * this one op when its kind needs an approval (domain STAFF_RULES). Ops
 * recorded without it (older terminals, locations without a roster) have
 * no `actor` member at all, so their canonical JSON and hashes are unchanged.
 */
export const actorSchema = s.object({
  staff: staffId(),
  approvedBy: s.optional(staffId()),
});
export type Actor = s.Infer<typeof actorSchema>;
