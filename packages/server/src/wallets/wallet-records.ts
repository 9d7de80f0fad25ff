/**
 * Wallet rows for both SQL backends (same snake_case columns), and what an
 * operator's unblock writes. Pure: the backends read and write inside their
 * own transactions.
 */
import { type CounterUse, unblockWallet, type WalletEntryKind } from '@holdfast/domain';
import type { LedgerEvent } from '../model/ledger-event.js';
import type { UnblockRequest, WalletAccountRecord, WalletEntryRecord } from '../model/wallet.js';
import { int, type Row, textOrNull, total } from '../storage/rows.js';

/** The columns of `wallet_accounts`, in insert order. */
export const WALLET_ACCOUNT_COLUMNS = [
  'wristband',
  'merchant',
  'currency',
  'topped_up',
  'debited',
  'refunded',
  'balance',
  'entries',
  'max_counter',
  'distinct_counters',
  'overspend_op',
  'blocked_reason',
  'blocked_exception',
  'blocked_op',
  'blocked_device',
  'blocked_seq',
  'blocked_at',
  'first_seen_at',
  'updated_at',
] as const;

export function walletAccountValues(a: WalletAccountRecord): unknown[] {
  const b = a.blocked;
  return [
    a.wristband,
    a.merchant,
    a.currency,
    a.toppedUp,
    a.debited,
    a.refunded,
    a.balance,
    a.entries,
    a.maxCounter,
    a.distinctCounters,
    a.overspendOp,
    b?.reason ?? null,
    b?.exceptionId ?? null,
    b?.opId ?? null,
    b?.device ?? null,
    b?.seq ?? null,
    b?.at ?? null,
    a.firstSeenAt,
    a.updatedAt,
  ];
}

/** The columns of `wallet_entries`, in insert order. */
export const WALLET_ENTRY_COLUMNS = [
  'op_id',
  'tender_index',
  'wristband',
  'kind',
  'amount',
  'currency',
  'counter',
  'balance_before',
  'balance_after',
  'device',
  'seq',
  'shift_id',
  'device_at',
  'applied_at',
] as const;

export function walletEntryValues(e: WalletEntryRecord): unknown[] {
  return [
    e.opId,
    e.tenderIndex,
    e.wristband,
    e.kind,
    e.amount,
    e.currency,
    e.counter,
    e.balanceBefore,
    e.balanceAfter,
    e.device,
    e.seq,
    e.shiftId,
    e.at,
    e.appliedAt,
  ];
}

export function toWalletAccount(r: Row): WalletAccountRecord {
  const reason = textOrNull(r.blocked_reason);
  return {
    wristband: r.wristband as string,
    merchant: textOrNull(r.merchant),
    currency: r.currency as string,
    toppedUp: total(r.topped_up),
    debited: total(r.debited),
    refunded: total(r.refunded),
    balance: total(r.balance),
    entries: int(r.entries),
    maxCounter: int(r.max_counter),
    distinctCounters: int(r.distinct_counters),
    overspendOp: textOrNull(r.overspend_op),
    blocked:
      reason === 'wristband_clone' || reason === 'wristband_overspend'
        ? {
            reason,
            exceptionId: r.blocked_exception as string,
            opId: r.blocked_op as string,
            device: r.blocked_device as string,
            seq: int(r.blocked_seq),
            at: int(r.blocked_at),
          }
        : null,
    firstSeenAt: int(r.first_seen_at),
    updatedAt: int(r.updated_at),
  };
}

export function toWalletEntry(r: Row): WalletEntryRecord {
  return {
    opId: r.op_id as string,
    tenderIndex: int(r.tender_index),
    wristband: r.wristband as string,
    kind: r.kind as WalletEntryKind,
    amount: int(r.amount),
    currency: r.currency as string,
    counter: int(r.counter),
    balanceBefore: int(r.balance_before),
    balanceAfter: int(r.balance_after),
    device: r.device as string,
    seq: int(r.seq),
    shiftId: r.shift_id as string,
    at: int(r.device_at),
    appliedAt: int(r.applied_at),
  };
}

/**
 * The account after an unblock and its `wristband.unblocked` ledger event
 * (data `{ wristband, reason }`), or null if it was not blocked. The event
 * hangs on the op that blocked it (op id and seq) so the ledger stays keyed
 * by ops.
 */
export function unblockWrites(
  account: WalletAccountRecord,
  request: UnblockRequest,
): { account: WalletAccountRecord; ledger: LedgerEvent } | null {
  const block = account.blocked;
  if (!block) return null;
  return {
    account: { ...account, blocked: unblockWallet(account).blocked, updatedAt: request.now },
    ledger: {
      opId: block.opId,
      device: request.device ?? block.device,
      seq: block.seq,
      type: 'wristband.unblocked',
      shiftId: null,
      currency: account.currency,
      amount: null,
      data: { wristband: account.wristband, reason: request.reason, blockedBy: block.exceptionId },
      deviceAt: block.at,
      appliedAt: request.now,
    },
  };
}

/** Adds one stored entry's counter use to the per-wristband map the planner's facts hold. */
export function addCounterUse(
  counters: Map<string, Map<number, CounterUse[]>>,
  wristband: string,
  counter: number,
  use: CounterUse,
): void {
  let byCounter = counters.get(wristband);
  if (!byCounter) {
    byCounter = new Map();
    counters.set(wristband, byCounter);
  }
  const uses = byCounter.get(counter);
  if (uses) uses.push(use);
  else byCounter.set(counter, [use]);
}
