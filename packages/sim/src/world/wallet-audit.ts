/**
 * The wristband side of the invariant checker, read from the server's
 * SQLite file (wallet_accounts, wallet_entries, ops, exceptions) with plain
 * sums, not with the wallet rules the server uses:
 *
 *   wallet-conserved  per wallet, the totals are the sums of its entries by kind,
 *                     its entry count is theirs, and balance == toppedUp − debited + refunded
 *   wallet-once       each chip write is applied once: the wallet entries are exactly
 *                     the wristband tenders of the accepted sales and the accepted
 *                     top-ups and refunds, one per op and tender, for its amount
 *   overspend-blocked a wallet below zero with no hole in its counters has a
 *                     wristband_overspend exception and is blocked
 */
import type { SqliteStorage } from '@holdfast/server';
import type { Violation } from './invariants.js';

interface Account {
  wristband: string;
  topped_up: number;
  debited: number;
  refunded: number;
  balance: number;
  entries: number;
  max_counter: number;
  distinct_counters: number;
  blocked_reason: string | null;
}

/** Checks every wallet; nothing to check without wristband traffic. */
export function checkWallets(storage: SqliteStorage, out: Violation[]): void {
  const accounts = storage.query<Account>(
    'SELECT wristband, topped_up, debited, refunded, balance, entries, max_counter, distinct_counters, blocked_reason FROM wallet_accounts',
  );
  const entries = storage.query<{
    op_id: string;
    tender_index: number;
    wristband: string;
    kind: string;
    amount: number;
  }>('SELECT op_id, tender_index, wristband, kind, amount FROM wallet_entries');
  const sums = new Map<string, { topup: number; debit: number; refund: number; n: number }>();
  for (const e of entries) {
    const sum = sums.get(e.wristband) ?? { topup: 0, debit: 0, refund: 0, n: 0 };
    if (e.kind === 'topup' || e.kind === 'debit' || e.kind === 'refund') sum[e.kind] += Number(e.amount);
    sum.n++;
    sums.set(e.wristband, sum);
  }
  for (const a of accounts) {
    const sum = sums.get(a.wristband) ?? { topup: 0, debit: 0, refund: 0, n: 0 };
    sums.delete(a.wristband);
    const [toppedUp, debited, refunded, balance] = [
      Number(a.topped_up),
      Number(a.debited),
      Number(a.refunded),
      Number(a.balance),
    ];
    const problems: string[] = [];
    if (balance !== toppedUp - debited + refunded) {
      problems.push(`balance ${balance} ≠ toppedUp ${toppedUp} − debited ${debited} + refunded ${refunded}`);
    }
    if (toppedUp !== sum.topup || debited !== sum.debit || refunded !== sum.refund || Number(a.entries) !== sum.n) {
      problems.push(
        `totals ${toppedUp}/${debited}/${refunded} in ${a.entries} entries, but its entries sum to ${sum.topup}/${sum.debit}/${sum.refund} in ${sum.n}`,
      );
    }
    for (const p of problems) out.push({ rule: 'wallet-conserved', message: `wallet ${a.wristband}: ${p}` });
  }
  for (const [wristband, sum] of sums) {
    out.push({ rule: 'wallet-conserved', message: `${sum.n} entries of wristband ${wristband}, which has no wallet` });
  }

  // The chip writes the accepted ops carry, by `opId:tenderIndex`.
  const writes = new Map<string, { amount: number; kind: string; wristband: string }>();
  for (const o of storage.query<{ id: string; kind: string; body: string | null }>(
    `SELECT id, kind, json_extract(envelope, '$.body') AS body FROM ops
      WHERE status = 'accepted' AND kind IN ('sale.recorded', 'wallet.topped_up', 'wallet.refunded')`,
  )) {
    // An op whose envelope holds no body (only a tampered disk) carries no chip write.
    const body = (o.body ? JSON.parse(o.body) : {}) as {
      tenders?: { type: string; amount: number; wristband?: string }[];
      wristband?: string;
      amount?: number;
    };
    if (o.kind === 'sale.recorded') {
      (body.tenders ?? []).forEach((t, i) => {
        if (t.type === 'wristband') {
          writes.set(`${o.id}:${i}`, { amount: t.amount, kind: 'debit', wristband: String(t.wristband) });
        }
      });
    } else {
      const kind = o.kind === 'wallet.topped_up' ? 'topup' : 'refund';
      writes.set(`${o.id}:0`, { amount: Number(body.amount), kind, wristband: String(body.wristband) });
    }
  }
  const seen = new Set<string>();
  for (const e of entries) {
    const key = `${e.op_id}:${e.tender_index}`;
    const write = writes.get(key);
    if (seen.has(key)) {
      out.push({ rule: 'wallet-once', opId: e.op_id, message: `chip write ${key} applied more than once` });
    } else if (!write) {
      out.push({
        rule: 'wallet-once',
        opId: e.op_id,
        message: `wallet entry ${key} belongs to no accepted chip write`,
      });
    } else if (write.amount !== Number(e.amount) || write.kind !== e.kind || write.wristband !== e.wristband) {
      out.push({
        rule: 'wallet-once',
        opId: e.op_id,
        message: `wallet entry ${key} is ${e.kind} ${e.amount} on ${e.wristband}; the op wrote ${write.kind} ${write.amount} on ${write.wristband}`,
      });
    }
    seen.add(key);
  }
  for (const key of writes.keys()) {
    if (!seen.has(key)) {
      out.push({
        rule: 'wallet-once',
        opId: key.slice(0, key.lastIndexOf(':')),
        message: `chip write ${key} of an accepted op is in no wallet`,
      });
    }
  }

  const overspent = new Set(
    storage
      .query<{ wristband: string }>(
        "SELECT json_extract(detail, '$.wristband') AS wristband FROM exceptions WHERE type = 'wristband_overspend'",
      )
      .map((r) => r.wristband),
  );
  for (const a of accounts) {
    if (Number(a.balance) >= 0 || Number(a.distinct_counters) !== Number(a.max_counter)) continue;
    const missing = [
      overspent.has(a.wristband) ? null : 'no wristband_overspend exception',
      a.blocked_reason === null ? 'not blocked' : null,
    ].filter((m) => m !== null);
    if (missing.length > 0) {
      out.push({
        rule: 'overspend-blocked',
        message: `wallet ${a.wristband} is at ${a.balance} with counters 1..${a.max_counter} all known: ${missing.join(', ')}`,
      });
    }
  }
}
