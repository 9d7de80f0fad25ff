/**
 * The risk-policy tables: `server_keys` (the keys policies are signed with;
 * at most one active) and `policies` (append-only, one version per scope
 * and issue, the signed JSON beside the columns queries filter on). Their
 * columns and row mapper, for every backend.
 */
import type { SignedPolicy } from '@holdfast/protocol';
import type { ServerKeyRecord } from '../../../model/policy.js';
import { int, intOrNull, type Row } from '../../rows.js';
import { defineTable } from '../table.js';

export const SERVER_KEYS = defineTable<ServerKeyRecord>('server_keys', {
  id: ['text', (k) => k.id],
  public_key: ['text', (k) => k.publicKey],
  private_key: ['text', (k) => k.privateKey],
  created_at: ['bigint', (k) => k.createdAt],
  retired_at: ['bigint', (k) => k.retiredAt],
});

export function serverKeyOf(r: Row): ServerKeyRecord {
  return {
    id: r.id as string,
    publicKey: r.public_key as string,
    privateKey: r.private_key as string,
    createdAt: int(r.created_at),
    retiredAt: intOrNull(r.retired_at),
  };
}

/** A signed policy as stored, with its scope's key (policy-records.ts). */
export interface PolicyRow {
  signed: SignedPolicy;
  scopeKey: string;
}

export const POLICIES = defineTable<PolicyRow>('policies', {
  id: ['text', (r) => r.signed.policy.id],
  scope_key: ['text', (r) => r.scopeKey],
  version: ['bigint', (r) => r.signed.policy.version],
  merchant: ['text', (r) => r.signed.policy.scope.merchant],
  location: ['text', (r) => r.signed.policy.scope.location],
  event: ['text', (r) => r.signed.policy.scope.event],
  currency: ['text', (r) => r.signed.policy.currency],
  issued_at: ['bigint', (r) => r.signed.policy.issuedAt],
  valid_from: ['bigint', (r) => r.signed.policy.validFrom],
  expires_at: ['bigint', (r) => r.signed.policy.expiresAt],
  key_id: ['text', (r) => r.signed.keyId],
  signed: ['text', (r) => JSON.stringify(r.signed)],
});
