/**
 * Wristband top-up reversals (docs/wristbands.md, "Top-up reversal"), from
 * what the server holds:
 *
 *   topup-reversals-within-topup  the reversals of a top-up never give back
 *                                 more than it loaded, and each names a
 *                                 top-up the server holds, given back the
 *                                 way it was paid (cash, or card), and
 *                                 an approver, unless the server raised
 *                                 `topup_reversal_over` or
 *                                 `topup_reversal_invalid` about one of them:
 *                                 a broken reversal recorded offline is a
 *                                 fact, but never an unnoticed one
 */
import type { Truth } from '../truth.js';
import type { Violation } from '../violation.js';

export function topUpReversalRules(truth: Truth): Violation[] {
  const out: Violation[] = [];
  const s = truth.server;
  const accepted = new Set(s.ops.filter((o) => o.status === 'accepted').map((o) => o.id));
  const topUps = new Map<string, { amount: number; paid: unknown }>();
  const given = new Map<string, { amount: number; ops: string[]; tenders: Set<string> }>();
  for (const e of s.ledger) {
    if (!accepted.has(e.opId)) continue;
    if (e.type === 'wallet.topped_up') topUps.set(e.opId, { amount: e.amount ?? 0, paid: e.data.paid });
    if (e.type !== 'wallet.topup_reversed') continue;
    const topup = String(e.data.topup);
    const entry = given.get(topup) ?? { amount: 0, ops: [], tenders: new Set<string>() };
    entry.amount += e.amount ?? 0;
    entry.tenders.add(typeof e.data.tender === 'string' ? e.data.tender : 'cash');
    entry.ops.push(e.opId);
    given.set(topup, entry);
  }
  const raised = new Set(
    s.exceptions
      .filter((x) => x.type === 'topup_reversal_over' || x.type === 'topup_reversal_invalid')
      .map((x) => x.opId),
  );
  const approved = new Set(
    s.ledger
      .filter((e) => e.type === 'wallet.topup_reversed' && typeof e.data.approvedBy === 'string' && e.data.approvedBy)
      .map((e) => e.opId),
  );
  for (const [topup, { amount, ops, tenders }] of given) {
    if (ops.some((op) => raised.has(op))) continue;
    const loaded = topUps.get(topup);
    const last = ops[ops.length - 1] as string;
    let broken: string | null = null;
    if (loaded === undefined) broken = `top-up ${topup} is not held by the server`;
    else if ([...tenders].some((t) => t !== loaded.paid)) {
      broken = `top-up ${topup} was paid by ${String(loaded.paid)} and given back by ${[...tenders].join(' and ')}`;
    } else if (amount > loaded.amount) broken = `top-up ${topup} of ${loaded.amount} had ${amount} reversed`;
    else if (ops.some((op) => !approved.has(op))) broken = `a reversal of top-up ${topup} names no approver`;
    if (broken === null) continue;
    out.push({
      rule: 'topup-reversals-within-topup',
      opId: last,
      message: `${broken} (${ops.length} reversals) and no topup_reversal_over or topup_reversal_invalid was raised`,
    });
  }
  return out;
}
