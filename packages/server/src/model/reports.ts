/**
 * Sales reports (issue 12 point 5, docs/reports.md), computed from what the
 * server stored: the ledger events of applied ops in a range of device time,
 * each with its op's body, the device's lane label and placement, and the
 * sales its corrections name. Pure: both backends load the same
 * `ReportInput` (storage/sql/operations/reports.ts) and everything here is
 * a function of it.
 *
 * Prices are tax-inclusive: a line's tax is value × rate / (1 + rate),
 * rounded half up, at the rate of its item's tax category (`tax_rates`). A
 * line whose SKU is not in the catalog, or whose category has no rate, is
 * counted in `untaxed` and carries no tax. A correction (void, refund,
 * wristband refund) is spread over the lines of its sale (the lines it
 * names, else all) in proportion to their value, to the unit, and counted
 * where and when the correction happened.
 */
import type { SaleBody, SaleRefundedBody } from '@holdfast/protocol';

const DAY_MS = 86_400_000;

/** One applied money op, as the report reads it (a ledger row with its op's body and where its device is). */
export interface ReportEvent {
  opId: string;
  device: string;
  /** The device's label (its lane name). */
  lane: string;
  /** The device's placement now; null when unplaced. */
  location: string | null;
  seq: number;
  type: string;
  shiftId: string | null;
  currency: string | null;
  amount: number | null;
  data: Record<string, unknown>;
  /** The op's body as the device signed it. */
  body: Record<string, unknown>;
  deviceAt: number;
  receivedAt: number;
}

/** What one report is computed from. */
export interface ReportInput {
  from: number;
  to: number;
  /** Applied money ops whose device time is in [from, to), in ledger order. */
  events: ReportEvent[];
  /** The sales named by the corrections among `events` (by sale op id), wherever they fall in time. */
  sales: Record<string, SaleBody>;
  /** Tax category of each catalog SKU the sales name. */
  categories: Record<string, string>;
  /** Tax rate per category, basis points of the tax-inclusive price. */
  rates: Record<string, number>;
}

/** One priced piece of money: a sale line (positive) or the part of a correction that falls on a line (returned). */
export interface LineFact {
  opId: string;
  /** The sale the line belongs to. */
  sale: string;
  correction: boolean;
  device: string;
  lane: string;
  location: string | null;
  shiftId: string | null;
  day: string;
  currency: string;
  sku: string;
  name: string;
  /** Units sold (0 on a correction). */
  qty: number;
  /** Money, tax-inclusive, minor units (always ≥ 0; `correction` says which way). */
  value: number;
  /** Tax inside `value`, or null when no rate is known for the line. */
  tax: number | null;
}

/** The tax inside a tax-inclusive `value` at `rateBp` basis points, rounded half up (exact integers). */
export function inclusiveTax(value: number, rateBp: number): number {
  if (rateBp === 0 || value === 0) return 0;
  const num = BigInt(value) * BigInt(rateBp);
  const den = BigInt(10_000 + rateBp);
  return Number((num * 2n + den) / (den * 2n));
}

/**
 * Splits `total` over `weights` in proportion, to the unit, so the parts
 * add up to `total` exactly (largest remainder; ties to the earlier part).
 * All-zero weights: the first part takes it all.
 */
export function allocate(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (weights.length === 0) return [];
  if (sum === 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const parts = weights.map((w) => Number((BigInt(total) * BigInt(w)) / BigInt(sum)));
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = weights
    .map((w, i) => ({ i, rem: (BigInt(total) * BigInt(w)) % BigInt(sum) }))
    .sort((a, b) => (a.rem === b.rem ? a.i - b.i : a.rem > b.rem ? -1 : 1));
  for (const { i } of order) {
    if (left <= 0) break;
    parts[i] = (parts[i] as number) + 1;
    left--;
  }
  return parts;
}

export const dayOf = (at: number): string => new Date(Math.floor(at / DAY_MS) * DAY_MS).toISOString().slice(0, 10);

const CORRECTIONS = new Set(['sale.voided', 'sale.refunded', 'wallet.refunded']);

function lineValue(l: SaleBody['lines'][number]): number {
  return l.qty * l.unitPrice - (l.discount ?? 0);
}

/** The sale and correction line facts of `input` (sales and corrections only; other money ops are the journal's). */
export function lineFacts(input: ReportInput): LineFact[] {
  const taxOf = (sku: string, value: number): number | null => {
    const category = input.categories[sku];
    const rate = category === undefined ? undefined : input.rates[category];
    return rate === undefined ? null : inclusiveTax(value, rate);
  };
  const out: LineFact[] = [];
  for (const e of input.events) {
    if (e.currency === null) continue;
    const where = {
      opId: e.opId,
      device: e.device,
      lane: e.lane,
      location: e.location,
      shiftId: e.shiftId,
      day: dayOf(e.deviceAt),
      currency: e.currency,
    };
    if (e.type === 'sale.recorded') {
      const body = e.body as unknown as SaleBody;
      for (const l of body.lines) {
        const value = lineValue(l);
        out.push({
          ...where,
          sale: e.opId,
          correction: false,
          sku: l.sku,
          name: l.name,
          qty: l.qty,
          value,
          tax: taxOf(l.sku, value),
        });
      }
      continue;
    }
    if (!CORRECTIONS.has(e.type) || e.amount === null || e.amount === 0) continue;
    const saleId = String(e.body.sale ?? '');
    const sale = input.sales[saleId];
    if (!sale) {
      // A correction of a sale the server does not hold: counted, on no item.
      out.push({
        ...where,
        sale: saleId,
        correction: true,
        sku: '',
        name: '(sale not received)',
        qty: 0,
        value: e.amount,
        tax: null,
      });
      continue;
    }
    const named = e.type === 'sale.refunded' ? (e.body as unknown as SaleRefundedBody).lines : undefined;
    const picked = named
      ? named.flatMap((r) => {
          const l = sale.lines[r.line];
          return l ? [{ l, weight: Math.round((lineValue(l) * Math.min(r.qty, l.qty)) / l.qty) }] : [];
        })
      : sale.lines.map((l) => ({ l, weight: lineValue(l) }));
    const lines = picked.length > 0 ? picked : sale.lines.map((l) => ({ l, weight: lineValue(l) }));
    const parts = allocate(
      e.amount,
      lines.map((p) => p.weight),
    );
    lines.forEach(({ l }, i) => {
      const value = parts[i] as number;
      if (value === 0) return;
      out.push({
        ...where,
        sale: saleId,
        correction: true,
        sku: l.sku,
        name: l.name,
        qty: 0,
        value,
        tax: taxOf(l.sku, value),
      });
    });
  }
  return out;
}

export const SALES_REPORT_KINDS = ['item', 'day', 'location', 'lane'] as const;
export type SalesReportKind = (typeof SALES_REPORT_KINDS)[number];

/** One row of a sales report: a group (item, day, location or lane) and a currency. */
export interface SalesReportRow {
  /** The group: a SKU, a YYYY-MM-DD (UTC, device time), a location ('' unplaced) or a device id. */
  key: string;
  /** Its words: item name, the day, the location, the lane label. */
  label: string;
  currency: string;
  /** Sales with at least one line in the group. */
  sales: number;
  /** Units sold (item report; the sum over lines elsewhere). */
  qty: number;
  /** Money taken, tax-inclusive, after line discounts. */
  gross: number;
  /** Tax inside `gross`, on the lines whose rate is known. */
  tax: number;
  /** The part of `gross` with no known tax rate. */
  untaxed: number;
  /** Voids and refunds (`sale.voided`, `sale.refunded`, `wallet.refunded`) counted in the group. */
  corrections: number;
  /** Money given back, tax-inclusive. */
  returned: number;
  /** Tax inside `returned`. */
  returnedTax: number;
  /** gross − returned. */
  net: number;
  /** tax − returnedTax. */
  netTax: number;
}

export interface SalesReport {
  kind: SalesReportKind;
  from: number;
  to: number;
  location: string | null;
  rows: SalesReportRow[];
  /** Per currency, over every row. */
  totals: Omit<SalesReportRow, 'key' | 'label'>[];
}

function groupOf(kind: SalesReportKind, f: LineFact): { key: string; label: string } {
  switch (kind) {
    case 'item':
      return { key: f.sku, label: f.name };
    case 'day':
      return { key: f.day, label: f.day };
    case 'location':
      return { key: f.location ?? '', label: f.location ?? '(unplaced)' };
    case 'lane':
      return { key: f.device, label: f.lane };
  }
}

function emptyRow(key: string, label: string, currency: string): SalesReportRow {
  return {
    key,
    label,
    currency,
    sales: 0,
    qty: 0,
    gross: 0,
    tax: 0,
    untaxed: 0,
    corrections: 0,
    returned: 0,
    returnedTax: 0,
    net: 0,
    netTax: 0,
  };
}

function add(row: SalesReportRow, f: LineFact, seen: Set<string>, tag: string): void {
  const once = `${tag}|${f.opId}`;
  const first = !seen.has(once);
  seen.add(once);
  if (f.correction) {
    if (first) row.corrections++;
    row.returned += f.value;
    row.returnedTax += f.tax ?? 0;
  } else {
    if (first) row.sales++;
    row.qty += f.qty;
    row.gross += f.value;
    if (f.tax === null) row.untaxed += f.value;
    else row.tax += f.tax;
  }
  row.net = row.gross - row.returned;
  row.netTax = row.tax - row.returnedTax;
}

/** The sales report of `kind` over `facts`, optionally of one location. */
export function salesReport(
  kind: SalesReportKind,
  input: Pick<ReportInput, 'from' | 'to'>,
  facts: readonly LineFact[],
  location: string | null,
): SalesReport {
  const rows = new Map<string, SalesReportRow>();
  const totals = new Map<string, SalesReportRow>();
  const seen = new Set<string>();
  for (const f of facts) {
    if (location !== null && f.location !== location) continue;
    const g = groupOf(kind, f);
    const id = `${g.key}\u0000${f.currency}`;
    let row = rows.get(id);
    if (!row) {
      row = emptyRow(g.key, g.label, f.currency);
      rows.set(id, row);
    }
    add(row, f, seen, `r${id}`);
    let total = totals.get(f.currency);
    if (!total) {
      total = emptyRow('', '', f.currency);
      totals.set(f.currency, total);
    }
    add(total, f, seen, `t${f.currency}`);
  }
  const sorted = [...rows.values()].sort(
    (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || a.currency.localeCompare(b.currency),
  );
  return {
    kind,
    from: input.from,
    to: input.to,
    location,
    rows: sorted,
    totals: [...totals.values()]
      .sort((a, b) => a.currency.localeCompare(b.currency))
      .map(({ key: _k, label: _l, ...rest }) => rest),
  };
}
