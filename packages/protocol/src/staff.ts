/**
 * Staff at the till (docs/staff-and-roles.md, "Staff at the till"): the
 * roles, the op envelope's `actor`, the slow-hash PIN verifier a terminal
 * checks offline, the PIN and badge policies, and the signed roster the
 * device feed carries.
 *
 * A PIN never leaves the operator's request: the server keeps and sends only
 * a scrypt verifier (per-staff random salt). Verification takes tens of
 * milliseconds on a till by design (STAFF_SCRYPT); a badge is a long random
 * secret, so a fast SHA-256 of it is enough to look a member up by badge.
 */
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors.js';
import {
  type Roster,
  rosterMessage,
  rosterSchema,
  type SignedRoster,
  STAFF_SCRYPT,
  type StaffVerifier,
  signedRosterSchema,
  VERIFIER_ALG,
} from './roster-format.js';
import { importPrivateKey, importPublicKey, signMessage, verifyMessage } from './signing.js';

export * from './roster-format.js';

export {
  type Actor,
  actorSchema,
  roleAtLeast,
  STAFF_ID_PATTERN,
  STAFF_ROLE_RANK,
  STAFF_ROLES,
  type StaffRole,
  staffId,
} from './staff-roles.js';

function scryptOf(secret: string, salt: Buffer, v: { N: number; r: number; p: number }): Buffer {
  return scryptSync(secret.normalize('NFC'), salt, STAFF_SCRYPT.keyLen, {
    N: v.N,
    r: v.r,
    p: v.p,
    maxmem: 256 * v.N * v.r + 1024 * 1024,
  });
}

/** A fresh verifier of `secret` (random salt, STAFF_SCRYPT cost). */
export function makeStaffVerifier(secret: string, salt: Buffer = randomBytes(16)): StaffVerifier {
  const { N, r, p } = STAFF_SCRYPT;
  return {
    alg: VERIFIER_ALG,
    N,
    r,
    p,
    salt: salt.toString('base64url'),
    hash: scryptOf(secret, salt, STAFF_SCRYPT).toString('base64url'),
  };
}

/** makeStaffVerifier off the event loop (libuv's thread pool): what a server uses. */
export function makeStaffVerifierAsync(secret: string, salt: Buffer = randomBytes(16)): Promise<StaffVerifier> {
  const { N, r, p, keyLen } = STAFF_SCRYPT;
  return new Promise((resolve, reject) => {
    scrypt(secret.normalize('NFC'), salt, keyLen, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (error, key) => {
      if (error) reject(error);
      else resolve({ alg: VERIFIER_ALG, N, r, p, salt: salt.toString('base64url'), hash: key.toString('base64url') });
    });
  });
}

/** True if `secret` is the one `verifier` was made from (constant-time comparison). */
export function checkStaffSecret(secret: string, verifier: StaffVerifier): boolean {
  const expected = Buffer.from(verifier.hash, 'base64url');
  const got = scryptOf(secret, Buffer.from(verifier.salt, 'base64url'), verifier);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

// ---- PIN and badge policies --------------------------------------------------------

export const PIN_MIN_DIGITS = 4;
export const PIN_MAX_DIGITS = 12;
export const PIN_RULE = `${PIN_MIN_DIGITS}–${PIN_MAX_DIGITS} digits, not one digit repeated, not a straight run such as 1234 or 9876`;

/** Throws ValidationError (field `field`) unless `pin` meets the PIN policy (PIN_RULE). */
export function checkPinPolicy(pin: unknown, field = 'pin'): string {
  if (typeof pin !== 'string') throw new ValidationError(field, PIN_RULE, typeof pin);
  const shown = `${pin.length} characters`;
  if (!/^[0-9]+$/.test(pin)) throw new ValidationError(field, PIN_RULE, `${shown}, not all digits`);
  if (pin.length < PIN_MIN_DIGITS || pin.length > PIN_MAX_DIGITS) {
    throw new ValidationError(field, PIN_RULE, `${pin.length} digits`);
  }
  const digits = [...pin].map(Number);
  const step = (digits[1] as number) - (digits[0] as number);
  const straight =
    (step === 0 || step === 1 || step === -1) &&
    digits.every((d, i) => i === 0 || d - (digits[i - 1] as number) === step);
  if (straight) throw new ValidationError(field, PIN_RULE, step === 0 ? 'one digit repeated' : 'a straight run');
  return pin;
}

export const BADGE_MIN_LENGTH = 16;
export const BADGE_RULE = `${BADGE_MIN_LENGTH}–128 printable ASCII characters (a badge is a long random secret)`;

/** Throws ValidationError unless `badge` is a usable badge secret. */
export function checkBadgePolicy(badge: unknown, field = 'badge'): string {
  if (typeof badge !== 'string') throw new ValidationError(field, BADGE_RULE, typeof badge);
  if (badge.length < BADGE_MIN_LENGTH || badge.length > 128 || !/^[\x21-\x7e]+$/.test(badge)) {
    throw new ValidationError(field, BADGE_RULE, `${badge.length} characters`);
  }
  return badge;
}

/** How a roster names a badge: SHA-256 (hex) of the badge secret under a fixed context. */
export function badgeDigest(badge: string): string {
  return createHash('sha256').update(`holdfast-badge-v1:${badge}`, 'utf8').digest('hex');
}

/** A display name: 1–80 characters, trimmed, no control characters. */
export function checkStaffName(name: unknown, field = 'name'): string {
  const rule = '1–80 characters, no control characters, no leading or trailing spaces';
  if (typeof name !== 'string') throw new ValidationError(field, rule, typeof name);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (name.length < 1 || name.length > 80 || name.trim() !== name || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new ValidationError(field, rule, `${JSON.stringify(name.slice(0, 90))}`);
  }
  return name;
}

export function signRoster(roster: Roster, privateKey: string, keyId: string): SignedRoster {
  const parsed = rosterSchema.parse(roster, 'roster');
  return { roster: parsed, keyId, sig: signMessage(rosterMessage(parsed), importPrivateKey(privateKey)) };
}

/**
 * The roster of `signed` if it parses and its signature verifies with the
 * pinned key it names; throws ValidationError naming what is wrong.
 */
export function verifyRoster(signed: unknown, keys: Readonly<Record<string, string>>): Roster {
  const parsed = signedRosterSchema.parse(signed, 'roster');
  const key = Object.hasOwn(keys, parsed.keyId) ? keys[parsed.keyId] : undefined;
  if (key === undefined) throw new ValidationError('roster.keyId', 'a pinned policy key id', parsed.keyId);
  let ok = false;
  try {
    ok = verifyMessage(rosterMessage(parsed.roster), parsed.sig, importPublicKey(key));
  } catch {
    ok = false;
  }
  if (!ok)
    throw new ValidationError('roster.sig', `a signature by policy key ${parsed.keyId}`, 'one that does not verify');
  return parsed.roster;
}
