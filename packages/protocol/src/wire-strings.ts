/**
 * The string shapes the wire messages are built from: keys, signatures,
 * enrollment tokens, labels and reference ids. Their own module so that
 * messages (wire.ts) and risk policies (risk-policy.ts) can share them
 * without importing each other.
 */
import * as s from './schema.js';
import { PUBLIC_KEY_PATTERN, SIGNATURE_PATTERN } from './signature-patterns.js';

export const publicKeyString = () =>
  s.string({
    minLength: 43,
    maxLength: 43,
    pattern: PUBLIC_KEY_PATTERN,
    patternRule: 'raw Ed25519 public key, base64url (43 characters)',
  });
export const signatureString = () =>
  s.string({
    minLength: 86,
    maxLength: 86,
    pattern: SIGNATURE_PATTERN,
    patternRule: 'Ed25519 signature, base64url (86 characters)',
  });
export const tokenString = () =>
  s.string({
    minLength: 43,
    maxLength: 43,
    pattern: /^[A-Za-z0-9_-]{43}$/,
    patternRule: 'enrollment token (43 base64url characters)',
  });
export const labelString = () => s.string({ minLength: 1, maxLength: 64 });

/** Merchant, location, event and policy key ids: 1..64 letters, digits and `_ . : -`. */
export const REF_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
export const refString = () =>
  s.string({ minLength: 1, maxLength: 64, pattern: REF_PATTERN, patternRule: 'id of 1..64 letters, digits and _.:-' });
