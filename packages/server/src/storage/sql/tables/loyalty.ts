/**
 * The loyalty tables (model/loyalty.ts): `loyalty_members` (each member's
 * account totals; the balance is derived on read) and `loyalty_entries`
 * (one row per earn, redeem or adjustment, unique by entry id).
 */
import type {
  LoyaltyEntryRecord,
  LoyaltyMemberRecord,
  LoyaltyMessageRecord,
  LoyaltyRedemptionRecord,
} from '../../../model/loyalty.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import { defineTable } from '../table.js';

export const LOYALTY_MEMBERS = defineTable<LoyaltyMemberRecord>('loyalty_members', {
  member: ['text', (m) => m.member],
  name: ['text', (m) => m.name],
  earned: ['bigint', (m) => m.earned],
  redeemed: ['bigint', (m) => m.redeemed],
  adjusted: ['bigint', (m) => m.adjusted],
  overdrawn_by: ['text', (m) => m.overdrawnBy],
  created_at: ['bigint', (m) => m.createdAt],
  updated_at: ['bigint', (m) => m.updatedAt],
});

export function loyaltyMemberOf(r: Row): LoyaltyMemberRecord {
  const earned = int(r.earned);
  const redeemed = int(r.redeemed);
  const adjusted = int(r.adjusted);
  return {
    member: r.member as string,
    name: r.name as string,
    earned,
    redeemed,
    adjusted,
    balance: earned - redeemed + adjusted,
    overdrawnBy: textOrNull(r.overdrawn_by),
    createdAt: int(r.created_at),
    updatedAt: int(r.updated_at),
  };
}

export const LOYALTY_ENTRIES = defineTable<LoyaltyEntryRecord>(
  'loyalty_entries',
  {
    entry_id: ['text', (e) => e.entryId],
    member: ['text', (e) => e.member],
    kind: ['text', (e) => e.kind],
    points: ['bigint', (e) => e.points],
    op_id: ['text', (e) => e.opId],
    device: ['text', (e) => e.device],
    seq: ['bigint', (e) => e.seq],
    sale: ['text', (e) => e.sale],
    balance_seen: ['bigint', (e) => e.balanceSeen],
    route: ['text', (e) => e.route],
    reason: ['text', (e) => e.reason],
    actor: ['text', (e) => e.actor],
    at: ['bigint', (e) => e.at],
  },
  ['pos'],
);

export function loyaltyEntryOf(r: Row): LoyaltyEntryRecord {
  return {
    entryId: r.entry_id as string,
    member: r.member as string,
    kind: r.kind as LoyaltyEntryRecord['kind'],
    points: int(r.points),
    opId: textOrNull(r.op_id),
    device: textOrNull(r.device),
    seq: intOrNull(r.seq),
    sale: textOrNull(r.sale),
    balanceSeen: intOrNull(r.balance_seen),
    route: textOrNull(r.route) as LoyaltyEntryRecord['route'],
    reason: textOrNull(r.reason),
    actor: textOrNull(r.actor),
    at: int(r.at),
  };
}

export const LOYALTY_REDEMPTIONS = defineTable<LoyaltyRedemptionRecord>('loyalty_redemptions', {
  id: ['text', (r) => r.id],
  op_id: ['text', (r) => r.opId],
  device: ['text', (r) => r.device],
  member: ['text', (r) => r.member],
  points: ['bigint', (r) => r.points],
  code_hash: ['text', (r) => r.codeHash],
  expires_at: ['bigint', (r) => r.expiresAt],
  attempts_left: ['bigint', (r) => r.attemptsLeft],
  sends: ['bigint', (r) => r.sends],
  status: ['text', (r) => r.status],
  created_at: ['bigint', (r) => r.createdAt],
  confirmed_at: ['bigint', (r) => r.confirmedAt],
});

export function loyaltyRedemptionOf(r: Row): LoyaltyRedemptionRecord {
  return {
    id: r.id as string,
    opId: r.op_id as string,
    device: r.device as string,
    member: r.member as string,
    points: int(r.points),
    codeHash: r.code_hash as string,
    expiresAt: int(r.expires_at),
    attemptsLeft: int(r.attempts_left),
    sends: int(r.sends),
    status: r.status as LoyaltyRedemptionRecord['status'],
    createdAt: int(r.created_at),
    confirmedAt: intOrNull(r.confirmed_at),
  };
}

export const LOYALTY_OUTBOX = defineTable<LoyaltyMessageRecord>(
  'loyalty_outbox',
  {
    member: ['text', (m) => m.member],
    redemption: ['text', (m) => m.redemption],
    channel: ['text', (m) => m.channel],
    text: ['text', (m) => m.text],
    code: ['text', (m) => m.code],
    at: ['bigint', (m) => m.at],
  },
  ['pos'],
);

export function loyaltyMessageOf(r: Row): LoyaltyMessageRecord {
  return {
    pos: int(r.pos),
    member: r.member as string,
    redemption: r.redemption as string,
    channel: r.channel as string,
    text: r.text as string,
    code: r.code as string,
    at: int(r.at),
  };
}
