/**
 * Sale corrections (docs/corrections.md), from what the server holds:
 *
 *   refunds-within-sale  the corrections of a sale (voids' cash + card,
 *                        refunds, wristband refunds) never give back more
 *                        than its total, unless the server raised
 *                        `refund_over_sale` about one of them: an
 *                        over-refund recorded offline is a fact, but never
 *                        an unnoticed one
 *   sale-void-approved   every `sale.voided` names an approver (the staff
 *                        rule checks the approver held the role)
 *
 * A correction whose sale the server never received is not judged here
 * (the server holds it with `refund_unmatched`).
 */
import type { Truth } from '../truth.js';
import type { Violation } from '../violation.js';

const CORRECTIONS = new Set(['sale.voided', 'sale.refunded', 'wallet.refunded']);

export function correctionRules(truth: Truth): Violation[] {
  const out: Violation[] = [];
  const s = truth.server;
  const accepted = new Set(s.ops.filter((o) => o.status === 'accepted').map((o) => o.id));
  const totals = new Map(s.sales.map((x) => [x.opId, x.total]));
  const given = new Map<string, { amount: number; ops: string[] }>();
  for (const e of s.ledger) {
    if (!accepted.has(e.opId) || !CORRECTIONS.has(e.type)) continue;
    if (e.type === 'sale.voided' && (typeof e.data.approvedBy !== 'string' || e.data.approvedBy.length === 0)) {
      out.push({
        rule: 'sale-void-approved',
        opId: e.opId,
        message: `sale ${String(e.data.sale)} voided with no approver`,
      });
    }
    const sale = String(e.data.sale);
    const entry = given.get(sale) ?? { amount: 0, ops: [] };
    entry.amount += e.amount ?? 0;
    entry.ops.push(e.opId);
    given.set(sale, entry);
  }
  const raised = new Set(s.exceptions.filter((x) => x.type === 'refund_over_sale').map((x) => x.opId));
  for (const [sale, { amount, ops }] of given) {
    const total = totals.get(sale);
    if (total === undefined || amount <= total) continue;
    if (ops.some((op) => raised.has(op))) continue;
    out.push({
      rule: 'refunds-within-sale',
      opId: ops[ops.length - 1] as string,
      message: `sale ${sale} of ${total} had ${amount} given back (${ops.length} corrections) and no refund_over_sale was raised`,
    });
  }
  return out;
}
