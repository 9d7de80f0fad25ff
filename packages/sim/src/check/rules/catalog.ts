/**
 * Catalog sale lines (docs/catalog-and-stock.md):
 *
 *   stale-price-reported  every accepted sale with a line priced other than
 *                         the price in force at the op's `at` (from the
 *                         server's price lists, recomputed here) has exactly
 *                         one `stale_price` exception, whose `difference` is
 *                         Σ (unitPrice − price in force) × qty over those
 *                         lines; and no `stale_price` names a sale that is
 *                         not stale
 *
 * Judged from the stored envelopes, the device placements and the price
 * lists alone, independently of the server's ingest check.
 */
import { listInForce, type PriceList, priceAt } from '@holdfast/protocol';
import type { PriceListRow, Truth } from '../truth.js';
import { indexTruth } from '../truth-index.js';
import type { Violation } from '../violation.js';

interface Line {
  sku?: unknown;
  qty?: unknown;
  unitPrice?: unknown;
  priceList?: unknown;
}

const asList = (r: PriceListRow): PriceList => ({
  ...r,
  currency: '',
  publishedAt: 0,
  publishedBy: '',
});

export function catalogRules(truth: Truth): Violation[] {
  const s = truth.server;
  const reported = new Map<string, number[]>();
  for (const e of s.exceptions) {
    if (e.type !== 'stale_price' || e.opId === null) continue;
    const d = e.detail.difference;
    reported.set(e.opId, [...(reported.get(e.opId) ?? []), typeof d === 'number' ? d : Number.NaN]);
  }
  if (s.priceLists.length === 0 && reported.size === 0) return [];
  const index = indexTruth(truth);
  const byLocation = new Map<string, PriceList[]>();
  for (const r of s.priceLists) byLocation.set(r.location, [...(byLocation.get(r.location) ?? []), asList(r)]);
  const out: Violation[] = [];
  const judged = new Set<string>();
  for (const row of s.ops) {
    if (row.status !== 'accepted' || row.kind !== 'sale.recorded') continue;
    let op: { at?: unknown; body?: { lines?: unknown } };
    try {
      op = JSON.parse(row.envelope);
    } catch {
      continue; // a malformed envelope is other rules' business
    }
    const lines = Array.isArray(op.body?.lines) ? (op.body.lines as Line[]) : [];
    if (typeof op.at !== 'number' || !lines.some((l) => l.priceList !== undefined)) continue;
    judged.add(row.id);
    const location = s.placements.get(row.device) ?? null;
    const lists = location === null ? [] : (byLocation.get(location) ?? []);
    const inForce = listInForce(lists, op.at);
    let stale = 0;
    let difference = 0;
    for (const l of lines) {
      if (l.priceList === undefined || typeof l.sku !== 'string') continue;
      if (!lists.some((x) => x.version === l.priceList)) continue; // unknown version: catalog_unknown, not stale
      const expected = inForce === null ? null : priceAt(inForce, l.sku, op.at);
      if (expected === null || expected === l.unitPrice) continue;
      stale++;
      difference += (Number(l.unitPrice) - expected) * Number(l.qty);
    }
    const got = reported.get(row.id) ?? [];
    const where = { device: index.labelOf(row.device), opId: row.id, seq: row.seq };
    if (stale > 0 && got.length === 0) {
      out.push({
        rule: 'stale-price-reported',
        ...where,
        message: `sale sold ${stale} line(s) at a superseded price (difference ${difference}) but no stale_price was raised`,
      });
    } else if (stale > 0 && got.length > 1) {
      out.push({ rule: 'stale-price-reported', ...where, message: `stale-price sale reported ${got.length} times` });
    } else if (stale > 0 && got[0] !== difference) {
      out.push({
        rule: 'stale-price-reported',
        ...where,
        message: `stale_price reports a difference of ${String(got[0])}, the lines make ${difference}`,
      });
    } else if (stale === 0 && got.length > 0) {
      out.push({
        rule: 'stale-price-reported',
        ...where,
        message: 'stale_price raised for a sale sold at the prices in force',
      });
    }
  }
  for (const [opId] of reported) {
    if (judged.has(opId)) continue;
    out.push({ rule: 'stale-price-reported', opId, message: 'stale_price names no accepted catalog sale' });
  }
  return out;
}
