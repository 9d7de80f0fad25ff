/**
 * Loyalty members and their points as the server stores them
 * (domain/loyalty.ts holds the rules; docs/loyalty.md).
 */
import type { LoyaltyEntryKind, LoyaltyTotals } from '@holdfast/domain';

/** A member's account: `balance` is earned − redeemed + adjusted, derived, never written on its own. */
export interface LoyaltyMemberRecord extends LoyaltyTotals {
  /** The card number the till scans or types (protocol MEMBER_PATTERN). */
  member: string;
  name: string;
  /** Server clock. */
  createdAt: number;
  updatedAt: number;
}

/** One movement of a member's points: from an op (earn, redeem) or an operator (adjust). */
export interface LoyaltyEntryRecord {
  /** `<op id>:earn`, `<op id>:redeem`, or `adjust:<id>`: unique, so an entry is applied once. */
  entryId: string;
  member: string;
  kind: LoyaltyEntryKind;
  /** ≥ 0 for earn and redeem; signed for adjust. */
  points: number;
  opId: string | null;
  device: string | null;
  seq: number | null;
  /** The sale op the points rode on. */
  sale: string | null;
  /** The balance the till knew when it decided (evidence only). */
  balanceSeen: number | null;
  route: 'offline' | 'online' | null;
  /** Adjustments: why, and the operator. */
  reason: string | null;
  actor: string | null;
  /** Server clock. */
  at: number;
}

/** A member with every entry, oldest first. */
export interface LoyaltyMemberView {
  account: LoyaltyMemberRecord;
  entries: LoyaltyEntryRecord[];
}

/** An operator's adjustment of a member's points (a correction, an overdrawn account's resolution). */
export interface LoyaltyAdjustRequest {
  member: string;
  /** Non-zero integer. */
  points: number;
  reason: string;
  actor: string;
  /** Unique id of the adjustment (the entry is `adjust:<id>`). */
  id: string;
  now: number;
}
