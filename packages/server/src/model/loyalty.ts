/**
 * Loyalty members and their points as the server stores them
 * (domain/loyalty.ts holds the rules; docs/loyalty.md).
 */
import { createHash } from 'node:crypto';
import type { LoyaltyEntryKind, LoyaltyTotals } from '@holdfast/domain';
import type { LoyaltyRule } from '@holdfast/protocol';

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

/**
 * An online redemption (`POST /v1/loyalty`, docs/loyalty.md): the till asked
 * to redeem `points` for `member` on its op `opId`; a one-time code was sent
 * to the member; the clerk confirms it with the code the member reads out.
 * Only the code's hash is stored. `sent` → `confirmed` (the till may record
 * the op) or `locked` (too many wrong codes, or too many sends).
 */
export interface LoyaltyRedemptionRecord {
  id: string;
  /** The `loyalty.points` op the redemption is bound to (unique). */
  opId: string;
  device: string;
  member: string;
  points: number;
  /** sha256 of `<id>:<code>`. */
  codeHash: string;
  /** Server time after which the code is refused. */
  expiresAt: number;
  /** Wrong codes still allowed. */
  attemptsLeft: number;
  /** Codes sent so far (a retried `redeem` sends a new one, up to a limit). */
  sends: number;
  status: 'sent' | 'confirmed' | 'locked';
  createdAt: number;
  confirmedAt: number | null;
}

/** A message the code sender "sent" to a member (the default sender's outbox; the demo and tests read it). */
export interface LoyaltyMessageRecord {
  pos: number;
  member: string;
  redemption: string;
  channel: string;
  text: string;
  /** The code in the message (simulated delivery: what the member reads out to the clerk). */
  code: string;
  at: number;
}

/** What an ingest's `loyalty.points` ops need (storage/sql/operations/loyalty-redemptions.ts loadLoyaltyFacts). */
export interface LoyaltyFacts {
  /** The members the ops name, locked; a card number the server does not know is absent. */
  members: Map<string, LoyaltyMemberRecord>;
  /** The online redemptions stored under the ops' ids. */
  redemptions: Map<string, LoyaltyRedemptionRecord>;
  /** The stored sales the ops name (total and device). */
  sales: Map<string, { device: string; total: number }>;
  /** The loyalty rule of each stored policy the ops' decisions name (null: that policy has none). */
  rules: Map<string, LoyaltyRule | null>;
}

/**
 * The hash stored for a one-time code: bound to the op the redemption is
 * for, so a code never matches another redemption. Only the hash is kept
 * with the redemption (the outbox holds the simulated message itself).
 */
export function loyaltyCodeHash(opId: string, code: string): string {
  return createHash('sha256').update(`holdfast.loyalty-code.v1:${opId}:${code}`).digest('hex');
}
