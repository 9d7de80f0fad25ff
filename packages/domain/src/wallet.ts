/**
 * Stored-value wristband wallets, as pure rules (docs/wristbands.md).
 *
 * A wristband's chip carries its uid, a balance and a write counter. Every
 * chip write (a debit at a bar, a top-up at a booth, a refund) is done by a
 * terminal that read the chip first and then wrote `balance ± amount` and
 * `counter + 1`. Each such write is one op (or one tender of a sale) and
 * becomes one wallet entry here, carrying the counter it wrote and the
 * balance it read.
 *
 * The server's account of a wristband is the sum of its entries:
 *
 *     balance = toppedUp − debited + refunded            (always, by construction)
 *
 * and the counters tell a genuine chip from a copied or restored one. Ops
 * reach the server in any order (an offline terminal syncs hours later), so
 * every rule here is about the SET of entries, never about their arrival
 * order:
 *
 *   counter_reused ........ two different entries wrote the same counter. A
 *                           genuine chip's counter only grows, so two writes
 *                           from one image means the image was copied
 *                           (clone) or written back (rollback). Found whichever
 *                           of the two arrives second.
 *   balance_chain_broken .. the entry at counter c read a balance other than
 *                           the one the entry at c − 1 wrote (or the reverse
 *                           for c + 1): the chip was written by something
 *                           that is not a terminal (a forged balance).
 *   currency_mismatch ..... the chip claims another currency than the
 *                           wallet's: not applied (a purse cannot hold two
 *                           currencies), reported.
 *   total_out_of_range .... the entry would take a running total (toppedUp,
 *                           debited or refunded) past MAX_WALLET_TOTAL: not
 *                           applied (the totals stay exact numbers), reported
 *                           as a wristband_clone (no genuine chip moves that
 *                           much), so the device keeps syncing.
 *   overspend ............. the balance is below zero while the counters
 *                           1..max are all known. Below zero with a hole in
 *                           the counters is NOT an overspend yet: the hole
 *                           may be a top-up still on its way from an offline
 *                           booth. Once the hole fills, the rule runs again.
 *                           With no hole, nothing still to come can have
 *                           happened before, so the money was really spent
 *                           twice. Reported once per episode (until the
 *                           balance is back at zero or more).
 *
 * A counter below the highest one seen is late arrival, not a rollback: the
 * counter fills a hole. Device clocks are not compared (they drift, and an
 * op's `at` is evidence only); a real rollback always shows up as a
 * reused counter once both writes have arrived.
 */
import { MAX_AMOUNT } from '@holdfast/protocol';

/**
 * The bound of each running total of one wallet, minor units: as for a
 * shift's totals (shift.ts MAX_SHIFT_TOTAL), thousands of maximal writes
 * must not take a total past 2^53, nor the balance derived from three of
 * them (3 × 10^15 < 2^53). An entry past it is reported, not applied.
 */
export const MAX_WALLET_TOTAL = 1_000 * MAX_AMOUNT;

/** What a chip write did to the wallet. */
export type WalletEntryKind = 'topup' | 'debit' | 'refund';

/** One chip write, as the server projects it from an op. */
export interface WalletEntry {
  opId: string;
  /** The tender's index in a sale (a sale may be split); 0 for top-ups and refunds. */
  tenderIndex: number;
  wristband: string;
  kind: WalletEntryKind;
  /** Positive, minor units of `currency`. */
  amount: number;
  currency: string;
  /** The chip's counter after this write. */
  counter: number;
  /** The balance the terminal read from the chip. */
  balanceBefore: number;
  /** The balance the terminal wrote: before − amount for a debit, + amount otherwise. */
  balanceAfter: number;
  device: string;
  seq: number;
  /** Device clock: evidence only. */
  at: number;
}

/** Why a wristband was blocked. */
export type WalletBlockReason = 'wristband_clone' | 'wristband_overspend';

export interface WalletBlock {
  reason: WalletBlockReason;
  /** The exception that blocked it. */
  exceptionId: string;
  /** The op whose arrival blocked it, and its device. */
  opId: string;
  device: string;
  seq: number;
  /** Server clock. */
  at: number;
}

/** A wristband's account. `balance` is derived from the totals and never stored on its own. */
export interface WalletAccount {
  wristband: string;
  currency: string;
  toppedUp: number;
  debited: number;
  refunded: number;
  balance: number;
  entries: number;
  /** Highest counter any entry wrote. */
  maxCounter: number;
  /** How many distinct counters the entries wrote; `maxCounter − distinctCounters` are holes. */
  distinctCounters: number;
  /** The op that made the current overspend episode known, or null while none is open. */
  overspendOp: string | null;
  blocked: WalletBlock | null;
}

/** What the server knows of one counter of a wristband: the entries that wrote it. */
export interface CounterUse {
  opId: string;
  tenderIndex: number;
  balanceBefore: number;
  balanceAfter: number;
}

/** A wallet as the rules need it: the account and every counter written so far. */
export interface WalletState {
  account: WalletAccount | null;
  counters: ReadonlyMap<number, readonly CounterUse[]>;
}

export type WalletFinding =
  | { type: 'wristband_clone'; reason: 'counter_reused'; counter: number; otherOpId: string }
  | {
      type: 'wristband_clone';
      reason: 'balance_chain_broken';
      counter: number;
      neighbourCounter: number;
      neighbourOpId: string;
      expected: number;
      claimed: number;
    }
  | { type: 'wristband_clone'; reason: 'currency_mismatch'; walletCurrency: string; claimed: string }
  | {
      type: 'wristband_clone';
      reason: 'total_out_of_range';
      total: 'toppedUp' | 'debited' | 'refunded';
      value: number;
      bound: number;
    }
  | { type: 'wristband_overspend'; balance: number };

export const EMPTY_WALLET: WalletState = { account: null, counters: new Map() };

/** The balance a write leaves on the chip. */
export function balanceAfter(kind: WalletEntryKind, balanceBefore: number, amount: number): number {
  return kind === 'debit' ? balanceBefore - amount : balanceBefore + amount;
}

/** True when every counter 1..maxCounter has been seen: no write can still arrive from before. */
export function counterChainComplete(account: WalletAccount): boolean {
  return account.distinctCounters === account.maxCounter;
}

/**
 * Applies one entry. Pure: returns a new state and what the entry reveals.
 * An entry already applied (same op and tender) changes nothing and finds
 * nothing, so replays are harmless. An entry is either applied whole or
 * (currency mismatch only) not at all.
 */
export function applyWalletEntry(
  state: WalletState,
  entry: WalletEntry,
): { state: WalletState; findings: WalletFinding[]; applied: boolean } {
  const uses = state.counters.get(entry.counter) ?? [];
  if (uses.some((u) => u.opId === entry.opId && u.tenderIndex === entry.tenderIndex)) {
    return { state, findings: [], applied: false };
  }
  const findings: WalletFinding[] = [];
  const prior = state.account;
  if (prior && prior.currency !== entry.currency) {
    findings.push({
      type: 'wristband_clone',
      reason: 'currency_mismatch',
      walletCurrency: prior.currency,
      claimed: entry.currency,
    });
    return { state, findings, applied: false };
  }
  const total = entry.kind === 'topup' ? 'toppedUp' : entry.kind === 'debit' ? 'debited' : 'refunded';
  const value = prior?.[total] ?? 0;
  if (!(value + entry.amount <= MAX_WALLET_TOTAL)) {
    findings.push({ type: 'wristband_clone', reason: 'total_out_of_range', total, value, bound: MAX_WALLET_TOTAL });
    return { state, findings, applied: false };
  }
  const first = uses[0];
  // A reused counter forks the chip's history: its neighbours then say nothing more.
  if (first)
    findings.push({ type: 'wristband_clone', reason: 'counter_reused', counter: entry.counter, otherOpId: first.opId });
  const below = first ? [] : (state.counters.get(entry.counter - 1) ?? []);
  if (below.length > 0 && !below.some((u) => u.balanceAfter === entry.balanceBefore)) {
    const n = below[0] as CounterUse;
    findings.push({
      type: 'wristband_clone',
      reason: 'balance_chain_broken',
      counter: entry.counter,
      neighbourCounter: entry.counter - 1,
      neighbourOpId: n.opId,
      expected: n.balanceAfter,
      claimed: entry.balanceBefore,
    });
  }
  const above = first ? [] : (state.counters.get(entry.counter + 1) ?? []);
  if (above.length > 0 && !above.some((u) => u.balanceBefore === entry.balanceAfter)) {
    const n = above[0] as CounterUse;
    findings.push({
      type: 'wristband_clone',
      reason: 'balance_chain_broken',
      counter: entry.counter,
      neighbourCounter: entry.counter + 1,
      neighbourOpId: n.opId,
      expected: n.balanceBefore,
      claimed: entry.balanceAfter,
    });
  }

  const base: WalletAccount = prior ?? {
    wristband: entry.wristband,
    currency: entry.currency,
    toppedUp: 0,
    debited: 0,
    refunded: 0,
    balance: 0,
    entries: 0,
    maxCounter: 0,
    distinctCounters: 0,
    overspendOp: null,
    blocked: null,
  };
  const toppedUp = base.toppedUp + (entry.kind === 'topup' ? entry.amount : 0);
  const debited = base.debited + (entry.kind === 'debit' ? entry.amount : 0);
  const refunded = base.refunded + (entry.kind === 'refund' ? entry.amount : 0);
  const account: WalletAccount = {
    ...base,
    toppedUp,
    debited,
    refunded,
    balance: toppedUp - debited + refunded,
    entries: base.entries + 1,
    maxCounter: Math.max(base.maxCounter, entry.counter),
    distinctCounters: base.distinctCounters + (uses.length === 0 ? 1 : 0),
  };
  if (account.balance >= 0) account.overspendOp = null;
  else if (account.overspendOp === null && counterChainComplete(account)) {
    account.overspendOp = entry.opId;
    findings.push({ type: 'wristband_overspend', balance: account.balance });
  }
  const counters = new Map(state.counters);
  counters.set(entry.counter, [
    ...uses,
    {
      opId: entry.opId,
      tenderIndex: entry.tenderIndex,
      balanceBefore: entry.balanceBefore,
      balanceAfter: entry.balanceAfter,
    },
  ]);
  return { state: { account, counters }, findings, applied: true };
}

/** Blocks an account (no change if it is blocked already: the first block stands). */
export function blockWallet(account: WalletAccount, block: WalletBlock): WalletAccount {
  return account.blocked ? account : { ...account, blocked: block };
}

/** Lifts a block (an operator's decision); the overspend episode stays as it is. */
export function unblockWallet(account: WalletAccount): WalletAccount {
  return account.blocked ? { ...account, blocked: null } : account;
}

/** A human message for a finding, stating the figures. */
export function describeWalletFinding(wristband: string, finding: WalletFinding, currency: string): string {
  switch (finding.type) {
    case 'wristband_overspend':
      return `wristband ${wristband} spent beyond its balance: server balance ${finding.balance} ${currency}`;
    case 'wristband_clone':
      switch (finding.reason) {
        case 'counter_reused':
          return `wristband ${wristband} wrote counter ${finding.counter} twice (also op ${finding.otherOpId}): cloned or rolled back`;
        case 'balance_chain_broken':
          return `wristband ${wristband} at counter ${finding.counter} claims balance ${finding.claimed}, but counter ${finding.neighbourCounter} (op ${finding.neighbourOpId}) says ${finding.expected}`;
        case 'currency_mismatch':
          return `wristband ${wristband} holds ${finding.walletCurrency}, a chip write claimed ${finding.claimed}`;
        case 'total_out_of_range':
          return `wristband ${wristband}: a chip write would take ${finding.total} ${finding.value} past the bound of ${finding.bound} ${currency} per wallet (not applied)`;
      }
  }
}
