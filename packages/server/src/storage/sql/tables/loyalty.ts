/**
 * The loyalty tables (model/loyalty.ts): `loyalty_members` (each member's
 * account totals; the balance is derived on read) and `loyalty_entries`
 * (one row per earn, redeem or adjustment, unique by entry id).
 */
import type { LoyaltyEntryRecord, LoyaltyMemberRecord } from '../../../model/loyalty.js';
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
