/**
 * The receipt model: what a printed slip says, built from the ops a
 * terminal recorded. Renderers (text, ESC/POS, HTML) read only this model,
 * so every form of a receipt says the same thing.
 *
 * A receipt carries every id needed to re-query what it shows (device, op
 * id, seq, shift) beside the human-readable number. Printing one never
 * records an op: a reprint is the same model with `copy: true`, which every
 * renderer marks COPY.
 */
import {
  type CashMovedBody,
  type Op,
  type OpKind,
  parseBody,
  type SaleBody,
  type ShiftClosedBody,
  type Tender,
} from '@holdfast/protocol';
import { cashVariance, expectedCash, type Shift } from '../shift.js';
import { reduceShift } from '../shift-reducer.js';
import { receiptNumber } from './receipt-number.js';

/** Where the op stands with the server, as the clerk is told: never "failed" for a timeout. */
export type ReceiptStatus = 'pending' | 'confirmed' | 'needs_attention';

/** Who issued the receipt, printed at its top (all optional; a till may know none of it). */
export interface ReceiptShop {
  name?: string;
  /** Address, tax id, phone: one printed line each. */
  lines?: string[];
}

interface ReceiptBase {
  /** Human-readable number (receipt-number.ts). */
  number: string;
  /** A reprint: every renderer prints COPY. */
  copy: boolean;
  status: ReceiptStatus;
  device: string;
  opId: string;
  seq: number;
  shift: string;
  /** Device clock when the op was recorded. */
  at: number;
  currency: string;
  shop: ReceiptShop | null;
}

export interface ReceiptLine {
  sku: string;
  name: string;
  qty: number;
  unitPrice: number;
  discount: number;
  /** qty × unitPrice − discount. */
  amount: number;
}

export type ReceiptTender =
  | { type: 'cash'; amount: number; tendered: number; change: number }
  | { type: 'card'; amount: number; brand: string; last4: string }
  | { type: 'wristband'; amount: number; wristband: string; balanceAfter: number };

export interface SaleReceipt extends ReceiptBase {
  type: 'sale';
  /**
   * E-invoicing (docs/e-invoicing.md): absent where the shop issues no
   * e-invoices; `number: null` while the bill is provisional (printed as
   * such), the tax authority's fiscal number once the device feed brought it.
   */
  fiscal?: { number: string | null };
  lines: ReceiptLine[];
  total: number;
  tenders: ReceiptTender[];
}

/** Count and money of one kind of op, or of one tender, in a shift. */
export interface ZReportRow {
  name: string;
  count: number;
  amount: number;
}

/** The Z report: a closed shift's counts and totals, and its drawer. */
export interface ZReport extends ReceiptBase {
  type: 'z_report';
  clerk: string;
  openedAt: number;
  /** Ops of the shift per kind (`cash.moved` split into `cash.moved.in` and `cash.moved.out`). */
  kinds: ZReportRow[];
  /** Sale money per tender type. */
  tenders: ZReportRow[];
  openingFloat: number;
  cashIn: number;
  cashOut: number;
  expectedCash: number;
  countedCash: number;
  /** Counted minus expected: negative is cash short. */
  variance: number;
}

export type Receipt = SaleReceipt | ZReport;

export interface ReceiptOptions {
  status: ReceiptStatus;
  /** A sale's e-invoicing state (SaleReceipt.fiscal); absent: none printed. */
  fiscal?: { number: string | null };
  copy?: boolean;
  shop?: ReceiptShop | null;
}

function base(op: Op, shift: string, currency: string, options: ReceiptOptions): ReceiptBase {
  return {
    number: receiptNumber(op.device, op.seq),
    copy: options.copy ?? false,
    status: options.status,
    device: op.device,
    opId: op.id,
    seq: op.seq,
    shift,
    at: op.at,
    currency,
    shop: options.shop ?? null,
  };
}

function receiptTender(t: Tender): ReceiptTender {
  if (t.type === 'cash') return { type: 'cash', amount: t.amount, tendered: t.tendered, change: t.tendered - t.amount };
  if (t.type === 'card') return { type: 'card', amount: t.amount, brand: t.brand, last4: t.last4 };
  return { type: 'wristband', amount: t.amount, wristband: t.wristband, balanceAfter: t.balanceBefore - t.amount };
}

/** The receipt of a `sale.recorded` op (throws RangeError for another kind). */
export function saleReceipt(op: Op, options: ReceiptOptions): SaleReceipt {
  if (op.kind !== 'sale.recorded') throw new RangeError(`a sale receipt needs a sale.recorded op, not ${op.kind}`);
  const sale: SaleBody = parseBody('sale.recorded', op.body);
  return {
    ...base(op, sale.shift, sale.currency, options),
    type: 'sale',
    lines: sale.lines.map((l) => {
      const discount = l.discount ?? 0;
      return {
        sku: l.sku,
        name: l.name,
        qty: l.qty,
        unitPrice: l.unitPrice,
        discount,
        amount: l.qty * l.unitPrice - discount,
      };
    }),
    total: sale.total,
    tenders: sale.tenders.map(receiptTender),
    ...(options.fiscal ? { fiscal: { number: options.fiscal.number } } : {}),
  };
}

/** The money an op of a shift moves, for the Z report's per-kind rows; 0 for kinds that move none. */
function moneyOf(body: Record<string, unknown>): number {
  for (const key of ['total', 'amount', 'stake'] as const) {
    const value = body[key];
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  }
  return 0;
}

function addRow(rows: Map<string, ZReportRow>, name: string, amount: number): void {
  const row = rows.get(name) ?? { name, count: 0, amount: 0 };
  row.count += 1;
  row.amount += amount;
  rows.set(name, row);
}

/**
 * The Z report of a closed shift from its ops in seq order: the
 * `shift.opened` op, every op naming the shift, and the `shift.closed` op
 * (ops of other shifts in `ops` are skipped). The drawer is recomputed with
 * the same shift rules the terminal and the server use, so the report
 * agrees with both. Throws RangeError when the opening or closing op is missing.
 */
export function zReport(ops: readonly Op[], shiftId: string, options: ReceiptOptions): ZReport {
  const opened = ops.find((o) => o.id === shiftId && o.kind === 'shift.opened');
  const closing = ops.find(
    (o) => o.kind === 'shift.closed' && (o.body as Partial<ShiftClosedBody> | null)?.shift === shiftId,
  );
  if (!opened) throw new RangeError(`no shift.opened op ${shiftId} among the ops`);
  if (!closing) throw new RangeError(`shift ${shiftId} has no shift.closed op among the ops: it is still open`);
  const openBody = parseBody('shift.opened', opened.body);
  const kinds = new Map<string, ZReportRow>();
  const tenders = new Map<string, ZReportRow>();
  let shift: Shift | null = null;
  for (const op of ops) {
    const body = op.body as Record<string, unknown> | null;
    if (op.id !== shiftId && body?.shift !== shiftId) continue;
    const kind = op.kind as OpKind;
    const parsed = parseBody(kind, op.body);
    shift = reduceShift(shift, op.id, kind, parsed, { allowOverdraw: true }) ?? shift;
    if (kind === 'shift.opened' || kind === 'shift.closed') continue; // the drawer section says these
    const name = kind === 'cash.moved' ? `cash.moved.${(parsed as CashMovedBody).direction}` : kind;
    addRow(kinds, name, moneyOf(parsed as unknown as Record<string, unknown>));
    if (kind === 'sale.recorded') {
      for (const t of (parsed as SaleBody).tenders) addRow(tenders, t.type, t.amount);
    }
  }
  const closed = shift as Shift;
  return {
    ...base(closing, shiftId, openBody.currency, options),
    type: 'z_report',
    clerk: openBody.clerk,
    openedAt: opened.at,
    kinds: [...kinds.values()],
    tenders: [...tenders.values()],
    openingFloat: closed.openingFloat,
    cashIn: closed.cashIn,
    cashOut: closed.cashOut,
    expectedCash: expectedCash(closed),
    countedCash: closed.countedCash ?? 0,
    variance: cashVariance(closed) ?? 0,
  };
}
