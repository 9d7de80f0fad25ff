/**
 * Enrollment: operators issue one-time tokens; a device redeems one to
 * register its Ed25519 public key and receive its device id.
 *
 * Redemption is idempotent for the same key: a network that lies may lose
 * the response after the server committed, and the device's retry with the
 * same token and key must get the same device back, not "token used".
 */
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '@holdfast/protocol';
import type { EnrollmentTokenRecord, RedeemOutcome } from './model/enrollment.js';

export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 3600;

/**
 * A new token: 32 random bytes as base64url (43 characters) that does not
 * begin with `-`, so `--token "$TOKEN"` on a command line can never read as
 * an option. A draw whose first character would be `-` (first byte 0xf8..0xfb,
 * 1 in 64) is drawn again: the token stays uniform over the other 63/64 of the
 * space, 255.97 bits of entropy instead of 256.
 */
export function newEnrollmentToken(random: (n: number) => Buffer = randomBytes): string {
  for (;;) {
    const token = random(32).toString('base64url');
    if (!token.startsWith('-')) return token;
  }
}

export function tokenHash(token: string): string {
  return sha256Hex(token);
}

export type RedemptionDecision =
  | 'redeem'
  | 'already_enrolled'
  | Exclude<RedeemOutcome['outcome'], 'enrolled' | 'already_enrolled'>;

/** What redeeming `token` with `publicKey` at `now` should do. */
export function decideRedemption(
  token: EnrollmentTokenRecord | null,
  publicKey: string,
  now: number,
): RedemptionDecision {
  if (!token) return 'token_invalid';
  if (token.usedAt !== null) return token.publicKey === publicKey ? 'already_enrolled' : 'token_used';
  if (now >= token.expiresAt) return 'token_expired';
  return 'redeem';
}
