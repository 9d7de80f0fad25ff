/**
 * The wristband rules, from the server's wallets, entries, ops and
 * exceptions, with plain sums (not with the wallet rules the server uses):
 *
 *   wallet-conserved  per wallet, the totals are the sums of its entries by kind,
 *                     its entry count is theirs, and balance == toppedUp − debited + refunded
 *   wallet-once       each chip write is applied once: the wallet entries are exactly
 *                     the wristband tenders of the accepted sales and the accepted
 *                     top-ups and refunds, one per op and tender, for its amount
 *   overspend-blocked a wallet below zero with no hole in its counters has a
 *                     wristband_overspend exception and is blocked
 */
import type { ServerTruth, Truth } from '../truth.js';
import type { Violation } from '../violation.js';

export function walletRules(truth: Truth): Violation[] {
  const server = truth.server;
  return [...conserved(server), ...once(server), ...overspendBlocked(server)];
}

function conserved(server: ServerTruth): Violation[] {
  const out: Violation[] = [];
  const sums = new Map<string, { topup: number; debit: number; refund: number; n: number }>();
  for (const e of server.walletEntries) {
    const sum = sums.get(e.wristband) ?? { topup: 0, debit: 0, refund: 0, n: 0 };
    if (e.kind === 'topup' || e.kind === 'debit' || e.kind === 'refund') sum[e.kind] += e.amount;
    sum.n++;
    sums.set(e.wristband, sum);
  }
  for (const a of server.walletAccounts) {
    const sum = sums.get(a.wristband) ?? { topup: 0, debit: 0, refund: 0, n: 0 };
    sums.delete(a.wristband);
    const problems: string[] = [];
    if (a.balance !== a.toppedUp - a.debited + a.refunded) {
      problems.push(`balance ${a.balance} ≠ toppedUp ${a.toppedUp} − debited ${a.debited} + refunded ${a.refunded}`);
    }
    if (a.toppedUp !== sum.topup || a.debited !== sum.debit || a.refunded !== sum.refund || a.entries !== sum.n) {
      problems.push(
        `totals ${a.toppedUp}/${a.debited}/${a.refunded} in ${a.entries} entries, but its entries sum to ${sum.topup}/${sum.debit}/${sum.refund} in ${sum.n}`,
      );
    }
    for (const p of problems) out.push({ rule: 'wallet-conserved', message: `wallet ${a.wristband}: ${p}` });
  }
  for (const [wristband, sum] of sums) {
    out.push({ rule: 'wallet-conserved', message: `${sum.n} entries of wristband ${wristband}, which has no wallet` });
  }
  return out;
}

type ChipBody = {
  tenders?: { type: string; amount: number; wristband?: string }[];
  wristband?: string;
  amount?: number;
};

/** The op's body, from its stored envelope (none: only a tampered disk). */
function bodyOf(envelope: string): ChipBody {
  try {
    return ((JSON.parse(envelope) as { body?: ChipBody }).body ?? {}) as ChipBody;
  } catch {
    return {};
  }
}

function once(server: ServerTruth): Violation[] {
  const out: Violation[] = [];
  // The chip writes the accepted ops carry, by `opId:tenderIndex`.
  const writes = new Map<string, { amount: number; kind: string; wristband: string }>();
  for (const o of server.ops) {
    if (o.status !== 'accepted') continue;
    if (
      o.kind !== 'sale.recorded' &&
      o.kind !== 'wallet.topped_up' &&
      o.kind !== 'wallet.refunded' &&
      o.kind !== 'wallet.topup_reversed'
    )
      continue;
    const body = bodyOf(o.envelope);
    if (o.kind === 'sale.recorded') {
      (body.tenders ?? []).forEach((t, i) => {
        if (t.type === 'wristband') {
          writes.set(`${o.id}:${i}`, { amount: t.amount, kind: 'debit', wristband: String(t.wristband) });
        }
      });
    } else {
      // A top-up reversed takes money off the chip: a debit entry (docs/wristbands.md, "Top-up reversal").
      const kind = o.kind === 'wallet.topped_up' ? 'topup' : o.kind === 'wallet.topup_reversed' ? 'debit' : 'refund';
      writes.set(`${o.id}:0`, { amount: Number(body.amount), kind, wristband: String(body.wristband) });
    }
  }
  const seen = new Set<string>();
  for (const e of server.walletEntries) {
    const key = `${e.opId}:${e.tenderIndex}`;
    const write = writes.get(key);
    if (seen.has(key)) {
      out.push({ rule: 'wallet-once', opId: e.opId, message: `chip write ${key} applied more than once` });
    } else if (!write) {
      out.push({ rule: 'wallet-once', opId: e.opId, message: `wallet entry ${key} belongs to no accepted chip write` });
    } else if (write.amount !== e.amount || write.kind !== e.kind || write.wristband !== e.wristband) {
      out.push({
        rule: 'wallet-once',
        opId: e.opId,
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
  return out;
}

function overspendBlocked(server: ServerTruth): Violation[] {
  const out: Violation[] = [];
  const overspent = new Set(
    server.exceptions.filter((x) => x.type === 'wristband_overspend').map((x) => x.detail.wristband),
  );
  for (const a of server.walletAccounts) {
    if (a.balance >= 0 || a.distinctCounters !== a.maxCounter) continue;
    const missing = [
      overspent.has(a.wristband) ? null : 'no wristband_overspend exception',
      a.blockedReason === null ? 'not blocked' : null,
    ].filter((m) => m !== null);
    if (missing.length > 0) {
      out.push({
        rule: 'overspend-blocked',
        message: `wallet ${a.wristband} is at ${a.balance} with counters 1..${a.maxCounter} all known: ${missing.join(', ')}`,
      });
    }
  }
  return out;
}
