/**
 * The staff PIN check in the browser: the roster's verifiers are scrypt
 * (protocol roster-format.ts, VERIFIER_ALG; made on the server by
 * node:crypto), and WebCrypto has no scrypt, so the check runs on
 * `@noble/hashes` (audited, no dependencies, the same RFC 7914 function).
 * Same inputs as protocol staff.ts checkStaffSecret: the PIN NFC-normalized
 * as UTF-8, the verifier's salt and cost, a 32-byte key, compared in
 * constant time. `scryptAsync` yields to the event loop every few
 * milliseconds, so the journal worker keeps answering while a PIN is checked.
 */
import { type StaffVerifier, verifierSchema } from '@holdfast/protocol';
import { scryptAsync } from '@noble/hashes/scrypt.js';

/** The bytes of a base64url string (no padding), as the roster carries salts and hashes. */
export function fromBase64url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** True if `a` and `b` hold the same bytes; the time taken depends on their length only. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/**
 * True if `secret` is the PIN `verifier` was made from. The verifier is
 * checked against the protocol's bounds first (a roster naming a huge cost
 * is refused with a ValidationError, never run).
 */
export async function checkStaffSecretPortable(secret: string, verifier: StaffVerifier): Promise<boolean> {
  const v = verifierSchema.parse(verifier, 'verifier');
  const expected = fromBase64url(v.hash);
  const got = await scryptAsync(new TextEncoder().encode(secret.normalize('NFC')), fromBase64url(v.salt), {
    N: v.N,
    r: v.r,
    p: v.p,
    dkLen: expected.length,
  });
  return constantTimeEqual(got, expected);
}
