/**
 * The `enrollment_tokens` table: one-time tokens an operator hands out to
 * enroll a device (optionally placing it). Its columns and row mapper, for
 * every backend.
 */
import type { EnrollmentTokenRecord } from '../../../model/enrollment.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import { defineTable } from '../table.js';

export const ENROLLMENT_TOKENS = defineTable<EnrollmentTokenRecord>('enrollment_tokens', {
  id: ['text', (t) => t.id],
  token_hash: ['text', (t) => t.tokenHash],
  label: ['text', (t) => t.label],
  created_at: ['bigint', (t) => t.createdAt],
  expires_at: ['bigint', (t) => t.expiresAt],
  used_at: ['bigint', (t) => t.usedAt],
  device_id: ['text', (t) => t.deviceId],
  public_key: ['text', (t) => t.publicKey],
  merchant: ['text', (t) => t.merchant],
  location: ['text', (t) => t.location],
  event: ['text', (t) => t.event],
});

export function enrollmentTokenOf(r: Row): EnrollmentTokenRecord {
  return {
    id: r.id as string,
    tokenHash: r.token_hash as string,
    label: textOrNull(r.label),
    createdAt: int(r.created_at),
    expiresAt: int(r.expires_at),
    usedAt: intOrNull(r.used_at),
    deviceId: textOrNull(r.device_id),
    publicKey: textOrNull(r.public_key),
    merchant: textOrNull(r.merchant),
    location: textOrNull(r.location),
    event: textOrNull(r.event),
  };
}
