/**
 * The signed roster's format and the PIN verifier's shape, free of
 * node:crypto so the browser till can parse a roster and check its
 * signature with WebCrypto (terminal-web/src/browser-feed.ts). staff.ts
 * re-exports all of it and adds the hashing, signing and verifying on Node.
 */
import * as s from './schema.js';
import { STAFF_ROLES, staffId } from './staff-roles.js';

// ---- verifiers ---------------------------------------------------------------------

/**
 * scrypt cost of a PIN verifier: N = 2^13, r = 8, p = 1 (8 MiB of memory
 * per check), 32-byte key. One check costs tens of milliseconds on one
 * core (figures in docs/staff-and-roles.md): a clerk does not notice it,
 * and an attacker holding a stolen roster pays it per guess — which still
 * leaves a 4-digit PIN guessable in minutes on one core (see the threat
 * model). The parameters travel in each verifier, so they can be raised
 * later without invalidating PINs already set.
 */
export const STAFF_SCRYPT = { N: 2 ** 13, r: 8, p: 1, keyLen: 32 } as const;

/** Bounds a verifier's parameters may take: a roster naming a cost above them is refused (no memory blow-up on a till). */
const MAX_LOG2_N = 17;

export const VERIFIER_ALG = 'scrypt';

export const verifierSchema = s.object({
  alg: s.literal(VERIFIER_ALG),
  N: s.refine(s.int({ min: 2 ** 10, max: 2 ** MAX_LOG2_N }), (n) =>
    (n & (n - 1)) === 0 ? null : ['', 'a power of two'],
  ),
  r: s.int({ min: 1, max: 16 }),
  p: s.int({ min: 1, max: 4 }),
  /** 16 random bytes, base64url. */
  salt: s.string({ minLength: 22, maxLength: 22, pattern: /^[A-Za-z0-9_-]{22}$/, patternRule: 'base64url' }),
  /** The 32-byte scrypt output, base64url. */
  hash: s.string({ minLength: 43, maxLength: 43, pattern: /^[A-Za-z0-9_-]{43}$/, patternRule: 'base64url' }),
});
export type StaffVerifier = s.Infer<typeof verifierSchema>;

// ---- the signed roster ---------------------------------------------------------------

export const ROSTER_FORMAT = 1;
export const ROSTER_MAX_STAFF = 1000;
const ROSTER_SIGNATURE_CONTEXT = 'holdfast-roster-v1';

export const rosterEntrySchema = s.object({
  id: staffId(),
  name: s.string({ minLength: 1, maxLength: 80 }),
  role: s.oneOf(STAFF_ROLES),
  /** The PIN's verifier, or null when no PIN is set (the member cannot sign in yet). */
  pin: s.nullable(verifierSchema),
  /** badgeDigest of the member's badge, or null. */
  badge: s.nullable(s.string({ minLength: 64, maxLength: 64, pattern: /^[0-9a-f]{64}$/, patternRule: 'hex SHA-256' })),
});
export type RosterEntry = s.Infer<typeof rosterEntrySchema>;

/** The staff of one location as the server knows it at `version` (each change to the location's staff is one version). */
export const rosterSchema = s.object({
  v: s.literal(ROSTER_FORMAT),
  location: s.string({ minLength: 1, maxLength: 64 }),
  version: s.int({ min: 1 }),
  issuedAt: s.int({ min: 0 }),
  staff: s.array(rosterEntrySchema, { maxItems: ROSTER_MAX_STAFF }),
});
export type Roster = s.Infer<typeof rosterSchema>;

export const signedRosterSchema = s.object({
  roster: rosterSchema,
  keyId: s.string({ minLength: 1, maxLength: 64 }),
  sig: s.string({ minLength: 86, maxLength: 86 }),
});
/** A roster signed with a policy key (the keys a terminal pinned at enrollment). */
export type SignedRoster = s.Infer<typeof signedRosterSchema>;

export function rosterMessage(roster: Roster) {
  return { ctx: ROSTER_SIGNATURE_CONTEXT, roster } as const;
}
