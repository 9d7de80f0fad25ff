/**
 * Operator passwords: scrypt (node:crypto) with a per-user random salt, the
 * parameters stored with each verifier so they can be raised later without
 * invalidating old ones, and a constant-time comparison.
 *
 * Default parameters (docs/staff-and-roles.md): N = 2^15, r = 8, p = 1,
 * a 16-byte salt and a 32-byte key: about 32 MiB and a few tens of
 * milliseconds per attempt on a server core, run on libuv's thread pool so
 * the event loop keeps serving. Verifier text:
 * `scrypt$<log2 N>$<r>$<p>$<salt, base64url>$<key, base64url>`.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '@holdfast/protocol';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  logN: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { logN: 15, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;

/** Shortest and longest password accepted (the longest bounds the work one login can ask for). */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_BYTES,
      { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** A new verifier for `password` with a fresh salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return `scrypt$${params.logN}$${params.r}$${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** True if `password` matches `verifier` (compared in constant time); false for a malformed verifier. */
export async function verifyPassword(password: string, verifier: string): Promise<boolean> {
  const parts = verifier.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [logN, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![logN, r, p].every((n) => Number.isInteger(n) && n >= 1 && n <= 32)) return false;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const expected = Buffer.from(parts[5] ?? '', 'base64url');
  if (expected.length !== KEY_BYTES) return false;
  const key = await derive(password, salt, { logN, r, p });
  return timingSafeEqual(key, expected);
}

/**
 * The password policy: PASSWORD_MIN_LENGTH..PASSWORD_MAX_LENGTH characters,
 * not the username. Throws invalid_request naming `field`.
 */
export function checkPasswordPolicy(password: string, username: string, field = 'password'): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH) {
    throw new ProtocolError(
      'invalid_request',
      `${field} must have ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters (it has ${length})`,
      { field, rule: `${PASSWORD_MIN_LENGTH}..${PASSWORD_MAX_LENGTH} characters` },
    );
  }
  if (password.toLowerCase().includes(username.toLowerCase())) {
    throw new ProtocolError('invalid_request', `${field} must not contain the username`, {
      field,
      rule: 'does not contain the username',
    });
  }
}
