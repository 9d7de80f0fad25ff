/**
 * Money as the terminals recorded it, per device and shift, computed from
 * the journals' op bodies with plain sums (not with the domain code the
 * terminal and server share, so a bug there cannot hide itself), and the
 * same figures as the server's ledger and shift projections hold them.
 */
import type { Op } from '@holdfast/protocol';
import type { LedgerRow, ServerTruth } from './truth.js';

/** One shift's books: counts and sums per kind of entry. */
export interface ShiftBooks {
  device: string;
  shift: string;
  opened: boolean;
  openingFloat: number;
  sales: number;
  salesTotal: number;
  cashSales: number;
  cardSales: number;
  /** Paid by wristband (not in the shift projection, which has no column for it). */
  wristbandSales: number;
  /** Includes cash top-ups of wristbands (the cash is in the drawer). */
  cashIn: number;
  cashOut: number;
  movements: number;
  closed: boolean;
  countedCash: number | null;
  /** The close's op id (its cash_variance exception refers to it). */
  closeOp: string | null;
}

function emptyBooks(device: string, shift: string): ShiftBooks {
  return {
    device,
    shift,
    opened: false,
    openingFloat: 0,
    sales: 0,
    salesTotal: 0,
    cashSales: 0,
    cardSales: 0,
    wristbandSales: 0,
    cashIn: 0,
    cashOut: 0,
    movements: 0,
    closed: false,
    countedCash: null,
    closeOp: null,
  };
}

export function expectedCashOf(b: ShiftBooks): number {
  return b.openingFloat + b.cashSales + b.cashIn - b.cashOut;
}

/** Books per shift, from ops in seq order. */
export class JournalBooks {
  readonly shifts = new Map<string, ShiftBooks>();

  add(op: Op): void {
    const body = op.body as Record<string, unknown>;
    // Stock ops move goods, not money, and belong to no shift (docs/catalog-and-stock.md).
    if (op.kind.startsWith('stock.')) return;
    const shiftId = op.kind === 'shift.opened' ? op.id : String(body.shift);
    let b = this.shifts.get(shiftId);
    if (!b) {
      b = emptyBooks(op.device, shiftId);
      this.shifts.set(shiftId, b);
    }
    switch (op.kind) {
      case 'shift.opened':
        b.opened = true;
        b.openingFloat = Number(body.openingFloat);
        return;
      case 'sale.recorded': {
        b.sales++;
        b.salesTotal += Number(body.total);
        for (const t of body.tenders as { type: string; amount: number }[]) {
          if (t.type === 'cash') b.cashSales += t.amount;
          else if (t.type === 'wristband') b.wristbandSales += t.amount;
          else b.cardSales += t.amount;
        }
        return;
      }
      case 'cash.moved':
        b.movements++;
        if (body.direction === 'in') b.cashIn += Number(body.amount);
        else b.cashOut += Number(body.amount);
        return;
      // A movement corrected (docs/corrections.md): cash back the opposite way, in the correcting shift.
      case 'cash.corrected':
        if (body.direction === 'in') b.cashIn += Number(body.amount);
        else b.cashOut += Number(body.amount);
        return;
      case 'wallet.topped_up':
        if (body.paid === 'cash') b.cashIn += Number(body.amount);
        return;
      // Betting (docs/betting.md §7): a stake is cash in, a payout or a void's refund cash out.
      case 'ticket.issued':
        b.cashIn += Number(body.stake);
        return;
      case 'ticket.paid':
      case 'ticket.voided':
        b.cashOut += Number(body.amount);
        return;
      // Sale corrections: a void's cash part and a cash refund go back out of the drawer (docs/corrections.md).
      case 'sale.voided':
        b.cashOut += Number(body.cash);
        return;
      case 'sale.refunded':
        if (body.tender === 'cash') b.cashOut += Number(body.amount);
        return;
      case 'shift.closed':
        b.closed = true;
        b.countedCash = Number(body.countedCash);
        b.closeOp = op.id;
        return;
    }
  }
}

/** One group of ledger events, as `GROUP BY device, shift, type, direction` would sum them. */
interface LedgerGroup {
  device: string;
  shift: string;
  type: string;
  dir: string | null;
  n: number;
  total: number | null;
  cash: number | null;
  card: number | null;
  wristband: number | null;
  closeOp: string | null;
}

/** A sum that stays null while nothing was added (SQL's SUM). */
const add = (sum: number | null, v: unknown): number | null =>
  v === null || v === undefined ? sum : (sum ?? 0) + Number(v);

function ledgerGroups(ledger: readonly LedgerRow[]): LedgerGroup[] {
  const groups = new Map<string, LedgerGroup>();
  for (const l of ledger) {
    if (l.shiftId === null) continue;
    const d = l.data.direction ?? l.data.paid ?? (l.type === 'sale.refunded' ? l.data.tender : undefined);
    const dir = d === undefined || d === null ? null : String(d);
    const key = JSON.stringify([l.device, l.shiftId, l.type, dir]);
    let g = groups.get(key);
    if (!g) {
      g = {
        device: l.device,
        shift: l.shiftId,
        type: l.type,
        dir,
        n: 0,
        total: null,
        cash: null,
        card: null,
        wristband: null,
        closeOp: null,
      };
      groups.set(key, g);
    }
    g.n++;
    g.total = add(g.total, l.amount);
    g.cash = add(g.cash, l.data.cash);
    g.card = add(g.card, l.data.card);
    g.wristband = add(g.wristband, l.data.wristband);
    if (l.type === 'shift.closed' && (g.closeOp === null || l.opId > g.closeOp)) g.closeOp = l.opId;
  }
  // In the order a grouped query gives them (a null direction first): a later group may overwrite an earlier one.
  const order = (g: LedgerGroup) => [g.device, g.shift, g.type, g.dir === null ? '' : `~${g.dir}`];
  return [...groups.values()].sort((a, b) => {
    const [x, y] = [order(a), order(b)];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (x[i] as string) < (y[i] as string) ? -1 : 1;
    return 0;
  });
}

/** The server's ledger, summed into the same books (per device and shift). */
export function ledgerBooks(server: ServerTruth): Map<string, ShiftBooks> {
  const books = new Map<string, ShiftBooks>();
  for (const r of ledgerGroups(server.ledger)) {
    const shift = r.shift;
    let b = books.get(shift);
    if (!b) {
      b = emptyBooks(r.device, shift);
      books.set(shift, b);
    }
    const total = r.total ?? 0;
    switch (r.type) {
      case 'shift.opened':
        b.opened = r.n > 0;
        b.openingFloat = total;
        break;
      case 'sale.recorded':
        b.sales = r.n;
        b.salesTotal = total;
        b.cashSales = r.cash ?? 0;
        b.cardSales = r.card ?? 0;
        b.wristbandSales = r.wristband ?? 0;
        break;
      case 'cash.moved':
        b.movements += r.n;
        if (r.dir === 'in') b.cashIn += total;
        else b.cashOut += total;
        break;
      case 'cash.corrected':
        if (r.dir === 'in') b.cashIn += total;
        else b.cashOut += total;
        break;
      case 'wallet.topped_up':
        if (r.dir === 'cash') b.cashIn += total;
        break;
      case 'ticket.issued':
        b.cashIn += total;
        break;
      case 'ticket.paid':
      case 'ticket.voided':
        b.cashOut += total;
        break;
      case 'sale.voided':
        b.cashOut += r.cash ?? 0;
        break;
      case 'sale.refunded':
        if (r.dir === 'cash') b.cashOut += total;
        break;
      case 'shift.closed':
        b.closed = r.n > 0;
        b.countedCash = total;
        b.closeOp = r.closeOp;
        break;
    }
  }
  return books;
}

/** The server's shift projections, as books. */
export function projectedBooks(server: ServerTruth): Map<string, ShiftBooks & { variance: number | null }> {
  return new Map(
    server.shifts.map((r) => [
      r.id,
      {
        ...emptyBooks(r.device, r.id),
        opened: true,
        openingFloat: r.openingFloat,
        sales: r.sales,
        salesTotal: r.salesTotal,
        cashSales: r.cashSales,
        cardSales: r.cardSales,
        cashIn: r.cashIn,
        cashOut: r.cashOut,
        closed: r.status === 'closed',
        countedCash: r.countedCash,
        variance: r.variance,
      },
    ]),
  );
}

/** Field-by-field differences between two books ('' when they agree). */
export function diffBooks(a: ShiftBooks, b: ShiftBooks, fields: readonly (keyof ShiftBooks)[] = MONEY_FIELDS): string {
  const out: string[] = [];
  for (const f of fields) if (a[f] !== b[f]) out.push(`${f} ${String(a[f])} vs ${String(b[f])}`);
  return out.join(', ');
}

export const MONEY_FIELDS: readonly (keyof ShiftBooks)[] = [
  'opened',
  'openingFloat',
  'sales',
  'salesTotal',
  'cashSales',
  'cardSales',
  'wristbandSales',
  'cashIn',
  'cashOut',
  'movements',
  'closed',
  'countedCash',
  'closeOp',
];

/** What a shift projection can be compared on (it has no movement count or close op). */
export const PROJECTION_FIELDS: readonly (keyof ShiftBooks)[] = [
  'openingFloat',
  'sales',
  'salesTotal',
  'cashSales',
  'cardSales',
  'cashIn',
  'cashOut',
  'closed',
  'countedCash',
];
