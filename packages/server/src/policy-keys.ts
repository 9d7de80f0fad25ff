/**
 * The server's policy-signing keys: Ed25519 key pairs kept in the database
 * (table `server_keys`), so every server process on one PostgreSQL signs
 * with the same key. A key's id is derived from its public key, so it is
 * stable and the same wherever it is computed.
 *
 * The private key never leaves the server: API answers carry the public
 * keys only (`policyKeySet`), and no log line names more than the key id.
 * A production deployment would rather keep it in a KMS or HSM and sign
 * there; see docs/operations.md.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { PolicyKeySet } from '@holdfast/protocol';
import type { ServerKeyRecord } from './model/policy.js';

/** A key's id: the first 16 hex digits of SHA-256 of the raw 32-byte public key. */
export function policyKeyId(publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('hex').slice(0, 16);
}

/** A fresh key pair, as `ensureServerKey` stores it if the database has no active key yet. */
export function newServerKey(now: number): ServerKeyRecord {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'jwk' }).x;
  if (typeof raw !== 'string') throw new Error('not an Ed25519 public key');
  return {
    id: policyKeyId(raw),
    publicKey: raw,
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64url'),
    createdAt: now,
    retiredAt: null,
  };
}

/** The public half of `keys`, as terminals receive it: key id → raw public key. */
export function policyKeySet(keys: readonly ServerKeyRecord[]): PolicyKeySet {
  const set: PolicyKeySet = {};
  for (const k of keys) set[k.id] = k.publicKey;
  return set;
}
