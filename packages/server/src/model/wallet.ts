/**
 * Stored-value wristband wallets as the server stores them (domain/wallet.ts holds the rules).
 */
import type { CounterUse, WalletAccount, WalletEntry } from '@holdfast/domain';

/** A wristband's wallet with its entries (in counter order, then op id). */
export interface WalletView {
  account: WalletAccountRecord;
  entries: WalletEntryRecord[];
}

export interface WalletFilter {
  /** Page after this wristband uid (uids ascending). */
  after?: string;
  /** 1..1000. */
  limit: number;
  /** Only blocked (true) or only unblocked (false) wallets. */
  blocked?: boolean;
}

/** A wallet account as the server stores it. */
export interface WalletAccountRecord extends WalletAccount {
  /** The merchant of the device that first wrote to it (null: device never placed). */
  merchant: string | null;
  /** Server clock. */
  firstSeenAt: number;
  updatedAt: number;
}

/** A wallet entry as the server stores it. */
export interface WalletEntryRecord extends WalletEntry {
  /** The shift of the op (a sale's, a top-up's or a refund's). */
  shiftId: string;
  appliedAt: number;
}

/** What the planner needs to know of one wristband: its account and every counter written. */
export interface WalletFacts {
  account: WalletAccountRecord | null;
  counters: ReadonlyMap<number, readonly CounterUse[]>;
}

/** An operator lifting a wristband's block. */
export interface UnblockRequest {
  wristband: string;
  /** Why (kept in the ledger event). */
  reason: string;
  /** The device the ledger event names; null: the device whose op blocked it. */
  device: string | null;
  /** Server clock. */
  now: number;
}

export interface UnblockOutcome {
  account: WalletAccountRecord;
  /** False when the wristband was not blocked (nothing written). */
  unblockedNow: boolean;
}
