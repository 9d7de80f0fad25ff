/**
 * The exceptions raised for operators:
 *
 *   exception  the only ones are a cash_variance for each miscounted close,
 *              (with card traffic) post-authorization declines, which cards.ts
 *              holds against the processor's records, and the clone and
 *              overspend of a wristband the run cloned on purpose (wallets.ts
 *              holds the overspend to its block); loyalty_overdrawn, which
 *              loyalty.ts holds to the member's entries; and stale_price
 *              reports, which catalog.ts holds to the sales sold at a
 *              superseded price; stock_shortfall, which stock.ts holds to
 *              the sales that sold beyond the level; a refund_over_sale
 *              about a sale whose corrections really give back more than
 *              its total (corrections.ts holds each over-refund to one),
 *              and a refund_unmatched (a refund that reached the server
 *              before its sale, from another till) whose sale has arrived
 *   fork       no fork or conflict was raised unless one was injected
 *   rejections-counted
 *              the op_rejected exceptions of a device count every op the
 *              server stored as rejected, per cause (reason, and field when
 *              there is one): the aggregation (one row per device and cause,
 *              its count growing) neither loses nor doubles a rejection
 *
 * A terminal restored from an old image (an injected fault) is left out.
 */

import type { Truth } from '../truth.js';
import { indexTruth } from '../truth-index.js';
import type { Rule, Violation } from '../violation.js';

export function exceptionRules(truth: Truth): Violation[] {
  const out: Violation[] = [];
  const index = indexTruth(truth);
  const injected = index.injectedDevices;
  const cards = truth.run?.cards ?? truth.processor !== null;
  const cloned = new Set(truth.run?.clonedWristbands ?? []);
  const variances = new Set(
    truth.server.shifts
      .filter((s) => s.variance !== null && s.variance !== 0 && !injected.has(s.device))
      .map((s) => s.id),
  );
  const overRefunded = overRefundedSales(truth);
  const sales = new Set(truth.server.sales.map((x) => x.opId));
  for (const x of truth.server.exceptions) {
    if (injected.has(x.device)) continue;
    const shift = x.detail.shift;
    if (x.type === 'refund_over_sale' && overRefunded.has(String(x.detail.sale))) continue;
    if (x.type === 'refund_unmatched' && sales.has(String(x.detail.sale))) continue;
    if (x.type === 'cash_variance' && typeof shift === 'string' && variances.has(shift)) {
      variances.delete(shift);
      continue;
    }
    if (x.type === 'post_auth_decline' && cards) continue;
    // A sale at a superseded price is a fact of an honest offline run; catalog.ts holds each to its sale.
    if (x.type === 'stale_price') continue;
    if ((x.type === 'wristband_clone' || x.type === 'wristband_overspend') && cloned.has(String(x.detail.wristband)))
      continue;
    // Two tills redeeming the same points offline is a fact of the run; rules/loyalty.ts judges it.
    if (x.type === 'loyalty_overdrawn') continue;
    // Tills overselling offline is a fact of the run; rules/stock.ts holds each shortfall to its oversell.
    if (x.type === 'stock_shortfall') continue;
    const rule: Rule = x.type === 'fork' || x.type === 'conflict' ? 'fork' : 'exception';
    out.push({
      rule,
      device: index.labelOf(x.device),
      ...(x.opId ? { opId: x.opId } : {}),
      ...(x.seq !== null ? { seq: x.seq } : {}),
      message: `unexpected ${x.type} exception: ${x.message}`,
    });
  }
  out.push(...rejectionsCounted(truth, index.labelOf));
  for (const shift of variances) {
    out.push({
      rule: 'exception',
      opId: shift,
      message: `shift ${shift} closed with a variance but no cash_variance exception was raised`,
    });
  }
  return out;
}

/** The cause an aggregated op_rejected groups by: the reason, and the field when there is one. */
function causeOf(result: { reason?: unknown; field?: unknown }): string {
  return typeof result.field === 'string' ? `${String(result.reason)}:${result.field}` : String(result.reason);
}

function rejectionsCounted(truth: Truth, labelOf: (device: string) => string): Violation[] {
  const stored = new Map<string, number>();
  for (const op of truth.server.ops) {
    if (op.status !== 'rejected') continue;
    const key = `${op.device} ${causeOf(JSON.parse(op.result) as { reason?: unknown; field?: unknown })}`;
    stored.set(key, (stored.get(key) ?? 0) + 1);
  }
  const counted = new Map<string, number>();
  for (const x of truth.server.exceptions) {
    if (x.type !== 'op_rejected') continue;
    const key = `${x.device} ${String(x.detail.cause)}`;
    counted.set(key, (counted.get(key) ?? 0) + x.count);
  }
  const out: Violation[] = [];
  for (const key of new Set([...stored.keys(), ...counted.keys()])) {
    const [device = '', cause = ''] = key.split(' ');
    const s = stored.get(key) ?? 0;
    const c = counted.get(key) ?? 0;
    if (s !== c) {
      out.push({
        rule: 'rejections-counted',
        device: labelOf(device),
        message: `${s} ops of cause ${cause} stored as rejected, but its op_rejected exceptions count ${c}`,
      });
    }
  }
  return out;
}

/** Sales whose accepted corrections (voids' cash + card, refunds, wristband refunds) give back more than their total. */
function overRefundedSales(truth: Truth): Set<string> {
  const s = truth.server;
  const accepted = new Set(s.ops.filter((o) => o.status === 'accepted').map((o) => o.id));
  const given = new Map<string, number>();
  for (const e of s.ledger) {
    if (!accepted.has(e.opId) || !CORRECTION_KINDS.has(e.type)) continue;
    const sale = String(e.data.sale);
    given.set(sale, (given.get(sale) ?? 0) + (e.amount ?? 0));
  }
  const totals = new Map(s.sales.map((x) => [x.opId, x.total]));
  return new Set([...given].filter(([sale, amount]) => amount > (totals.get(sale) ?? Infinity)).map(([sale]) => sale));
}

const CORRECTION_KINDS = new Set(['sale.voided', 'sale.refunded', 'wallet.refunded']);
