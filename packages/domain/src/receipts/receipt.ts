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
  type CashCorrectedBody,
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
  /** Ops of the shift per kind (`cash.moved` and `cash.corrected` split by direction: `cash.moved.in`, `cash.moved.out`, ...). */
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

/** Which money-out slip: a payout, the void of a ticket or a sale, a refund, a cash movement corrected, or a wristband top-up reversed. */
export type SlipKind = 'payout' | 'ticket_void' | 'sale_void' | 'refund' | 'cash_correction' | 'topup_reversal';

/**
 * A slip for money leaving the drawer (or going back to a card) against an
 * earlier op: a ticket's payout, a ticket or sale voided, a refund. It names
 * the original (its id; its receipt number when this device printed it), who
 * did it and who approved it, so a supervisor can check the drawer against
 * the slips.
 */
export interface MoneyOutSlip extends ReceiptBase {
  type: 'slip';
  slip: SlipKind;
  /** The op the slip is about: the ticket (`ticket.issued`), the sale (`sale.recorded`), the movement (`cash.moved`) or the top-up (`wallet.topped_up`). */
  reference: { kind: 'ticket' | 'sale' | 'cash_movement' | 'topup'; id: string; number: string | null };
  /** Present for a cash correction that brings cash back into the drawer (of a movement out): its cash is in, not out. */
  drawer?: 'in';
  /** A top-up reversal: the wristband it debited and what the chip holds after it. */
  wristband?: { uid: string; balanceAfter: number };
  /** Money given out, minor units. */
  amount: number;
  /** Cash out of the drawer, and the part back to a card (a void's card part, a card refund). */
  cash: number;
  card: { amount: number; brand: string | null; last4: string | null } | null;
  /** Refunded lines (index in the sale, units); empty for a whole sale, a ticket or a payout. */
  lines: { line: number; qty: number }[];
  /** Payouts: the server's authorization, or null when paid offline at the shop's risk. */
  authorization: string | null;
  staff: string | null;
  approvedBy: string | null;
  reason: string | null;
}

export type Receipt = SaleReceipt | ZReport | MoneyOutSlip;

export interface ReceiptOptions {
  status: ReceiptStatus;
  /** A sale's e-invoicing state (SaleReceipt.fiscal); absent: none printed. */
  fiscal?: { number: string | null };
  copy?: boolean;
  shop?: ReceiptShop | null;
  /** A money-out slip: the receipt number of the op it is about, when this device printed it. */
  referenceNumber?: string | null;
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

/** The kinds that print a money-out slip. */
export const SLIP_KINDS: Readonly<Record<string, SlipKind>> = {
  'ticket.paid': 'payout',
  'ticket.voided': 'ticket_void',
  'sale.voided': 'sale_void',
  'sale.refunded': 'refund',
  'cash.corrected': 'cash_correction',
  'wallet.topup_reversed': 'topup_reversal',
};

/**
 * The slip of a `ticket.paid`, `ticket.voided`, `sale.voided`, `sale.refunded`, `cash.corrected` or
 * `wallet.topup_reversed` op (RangeError for another kind).
 */
export function moneyOutSlip(op: Op, options: ReceiptOptions): MoneyOutSlip {
  const slip = SLIP_KINDS[op.kind];
  if (!slip) throw new RangeError(`a money-out slip needs a payout, void or refund op, not ${op.kind}`);
  const common = {
    type: 'slip' as const,
    slip,
    staff: op.actor?.staff ?? null,
    approvedBy: op.actor?.approvedBy ?? null,
  };
  const ref = (kind: MoneyOutSlip['reference']['kind'], id: string) => ({
    kind,
    id,
    number: options.referenceNumber ?? null,
  });
  switch (op.kind) {
    case 'ticket.paid': {
      const b = parseBody('ticket.paid', op.body);
      return {
        ...base(op, b.shift, b.currency, options),
        ...common,
        reference: ref('ticket', b.ticket),
        amount: b.amount,
        cash: b.amount,
        card: null,
        lines: [],
        authorization: b.authorization,
        reason: null,
      };
    }
    case 'ticket.voided': {
      const b = parseBody('ticket.voided', op.body);
      return {
        ...base(op, b.shift, b.currency, options),
        ...common,
        reference: ref('ticket', b.ticket),
        amount: b.amount,
        cash: b.amount,
        card: null,
        lines: [],
        authorization: null,
        reason: b.reason ?? null,
      };
    }
    case 'sale.voided': {
      const b = parseBody('sale.voided', op.body);
      return {
        ...base(op, b.shift, b.currency, options),
        ...common,
        reference: ref('sale', b.sale),
        amount: b.cash + b.card,
        cash: b.cash,
        card: b.card > 0 ? { amount: b.card, brand: null, last4: null } : null,
        lines: [],
        authorization: null,
        reason: b.reason ?? null,
      };
    }
    case 'cash.corrected': {
      const b = parseBody('cash.corrected', op.body);
      return {
        ...base(op, b.shift, b.currency, options),
        ...common,
        reference: ref('cash_movement', b.movement),
        ...(b.direction === 'in' ? { drawer: 'in' as const } : {}),
        amount: b.amount,
        cash: b.amount,
        card: null,
        lines: [],
        authorization: null,
        reason: b.reason,
      };
    }
    case 'wallet.topup_reversed': {
      // A top-up reversed: the chip is debited; the cash goes back out of the drawer, or a card top-up's to its card.
      const b = parseBody('wallet.topup_reversed', op.body);
      return {
        ...base(op, b.shift, b.currency, options),
        ...common,
        reference: ref('topup', b.topup),
        wristband: { uid: b.wristband, balanceAfter: b.balanceBefore - b.amount },
        amount: b.amount,
        cash: b.tender === 'card' ? 0 : b.amount,
        card: b.tender === 'card' ? { amount: b.amount, brand: null, last4: null } : null,
        lines: [],
        authorization: null,
        reason: b.reason ?? null,
      };
    }
    default: {
      const b = parseBody('sale.refunded', op.body);
      const toCard = b.tender === 'card';
      return {
        ...base(op, b.shift, b.currency, options),
        ...common,
        reference: ref('sale', b.sale),
        amount: b.amount,
        cash: toCard ? 0 : b.amount,
        card: toCard ? { amount: b.amount, brand: b.card?.brand ?? null, last4: b.card?.last4 ?? null } : null,
        lines: (b.lines ?? []).map((l) => ({ line: l.line, qty: l.qty })),
        authorization: null,
        reason: b.reason ?? null,
      };
    }
  }
}

/** The money an op of a shift moves, for the Z report's per-kind rows; 0 for kinds that move none. */
function moneyOf(body: Record<string, unknown>): number {
  for (const key of ['total', 'amount', 'stake'] as const) {
    const value = body[key];
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  }
  // A sale void gives back its cash and card parts.
  if (typeof body.cash === 'number' && typeof body.card === 'number') return body.cash + body.card;
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
    const name =
      kind === 'cash.moved' || kind === 'cash.corrected'
        ? `${kind}.${(parsed as CashMovedBody | CashCorrectedBody).direction}`
        : kind;
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
