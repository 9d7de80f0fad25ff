/**
 * Risk-policy issuing records: the server's signing keys and the issue request.
 */
import type { PolicyDraft } from '@holdfast/protocol';

/**
 * A key the server signs risk policies with (Ed25519). The private key
 * lives in the database so that every process on one PostgreSQL signs with
 * the same key; it never leaves the server (no API answer, no log).
 */
export interface ServerKeyRecord {
  /** policyKeyId(publicKey): first 16 hex digits of SHA-256 of the raw public key. */
  id: string;
  /** Raw Ed25519 public key, base64url. */
  publicKey: string;
  /** PKCS#8 DER, base64url. */
  privateKey: string;
  createdAt: number;
  /** When it stopped signing; null for the active key (at most one). */
  retiredAt: number | null;
}

/** An operator's draft, with what the service assigned before the storage transaction. */
export interface PolicyIssueRequest {
  draft: PolicyDraft;
  /** UUIDv7 of the new policy. */
  id: string;
  /** Server clock when it was asked for; issuedAt is this, or just after the latest policy. */
  now: number;
}

/**
 * The newest policies when the next one is issued, read inside the issuing
 * transaction: the next version of the scope, and the latest issuedAt of
 * any policy (so that a policy issued later is always newer by
 * `comparePolicies`, even across processes whose clocks differ).
 */
export interface PolicyIssueSlot {
  version: number;
  /** Largest issuedAt of all policies so far, or null for the first. */
  latestIssuedAt: number | null;
}

export interface PolicyFilter {
  merchant?: string;
  /** Only policies that have not expired at this instant (`expiresAt > unexpiredAt`). */
  unexpiredAt?: number;
}
