/**
 * A receipt laid out as printed lines for a slip of a given width. The text,
 * ESC/POS and HTML renderers all print these lines, so the three forms say
 * the same thing in the same order.
 *
 * Widths: 32 characters for 58 mm paper, 48 for 80 mm (Font A of the common
 * thermal printers).
 */
import { formatMoney } from '@holdfast/protocol';
import { formatInstant, type SpokenLocale } from '../locale.js';
import { RECEIPT_WORDS } from './labels.js';
import type { MoneyOutSlip, Receipt, SaleReceipt, ZReport } from './receipt.js';

export type PaperWidth = 58 | 80;
export const COLUMNS: Readonly<Record<PaperWidth, number>> = { 58: 32, 80: 48 };

export interface PrintLine {
  text: string;
  align: 'left' | 'center';
  bold: boolean;
  /** Double width and height (titles); its text fits half the columns. */
  big: boolean;
}

export interface LayoutOptions {
  locale: SpokenLocale;
  paper?: PaperWidth;
}

/** Code points printers show as one column: controls become spaces, so no text can drive the printer. */
function printable(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    out += code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 ? ' ' : ch;
  }
  return out;
}

/**
 * Splits `text` into lines of at most `width` characters, at spaces where it
 * can; leading spaces (an indent) are kept on every line.
 */
function wrap(text: string, width: number): string[] {
  const clean = printable(text).trimEnd();
  const indent = clean.length - clean.trimStart().length < width / 2 ? clean.length - clean.trimStart().length : 0;
  const pad = ' '.repeat(indent);
  const room = width - indent;
  const out: string[] = [];
  let rest = clean.trimStart();
  while (rest.length > room) {
    let cut = rest.lastIndexOf(' ', room);
    if (cut <= 0) cut = room;
    out.push(pad + rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  out.push(pad + rest);
  return out;
}

class Slip {
  readonly lines: PrintLine[] = [];
  constructor(readonly columns: number) {}

  line(text: string, style: Partial<Omit<PrintLine, 'text'>> = {}): void {
    const big = style.big ?? false;
    for (const part of wrap(text, big ? Math.floor(this.columns / 2) : this.columns)) {
      this.lines.push({ text: part, align: style.align ?? 'left', bold: style.bold ?? false, big });
    }
  }

  /** `left ........ right` on one line; the left part wraps above when both do not fit. */
  pair(left: string, right: string, bold = false): void {
    const r = printable(right);
    const room = this.columns - r.length - 1;
    const parts = wrap(left, Math.max(room, 1));
    const last = parts.pop() ?? '';
    for (const p of parts) this.lines.push({ text: p, align: 'left', bold, big: false });
    const gap = Math.max(this.columns - last.length - r.length, 1);
    this.lines.push({ text: `${last}${' '.repeat(gap)}${r}`, align: 'left', bold, big: false });
  }

  rule(): void {
    this.lines.push({ text: '-'.repeat(this.columns), align: 'left', bold: false, big: false });
  }
}

function header(slip: Slip, r: Receipt, title: string, locale: SpokenLocale): void {
  const words = RECEIPT_WORDS[locale.language];
  if (r.shop?.name) slip.line(r.shop.name, { align: 'center', bold: true });
  for (const l of r.shop?.lines ?? []) slip.line(l, { align: 'center' });
  if (r.copy) slip.line(`*** ${words.copy} ***`, { align: 'center', bold: true, big: true });
  slip.rule();
  slip.line(title, { bold: true });
  slip.line(r.number, { bold: true, big: true });
  slip.line(formatInstant(r.at, locale));
}

function footer(slip: Slip, r: Receipt, locale: SpokenLocale): void {
  const words = RECEIPT_WORDS[locale.language];
  slip.rule();
  slip.line(words.status[r.status], { bold: r.status !== 'confirmed' });
  slip.line(`${words.device} ${r.device}`);
  slip.line(`${words.op} ${r.opId} #${r.seq}`);
  slip.line(`${words.shift} ${r.shift}`);
  if (r.copy) slip.line(`*** ${words.copy} ***`, { align: 'center', bold: true, big: true });
}

function sale(slip: Slip, r: SaleReceipt, locale: SpokenLocale): void {
  const words = RECEIPT_WORDS[locale.language];
  const money = (n: number) => formatMoney(n, r.currency, locale.format);
  slip.rule();
  for (const l of r.lines) {
    slip.pair(`${l.qty} x ${l.name}`, money(l.qty * l.unitPrice));
    if (l.qty > 1) slip.line(`  @ ${money(l.unitPrice)}`);
    if (l.discount > 0) slip.pair(`  ${words.discount}`, money(-l.discount));
  }
  slip.rule();
  slip.pair(words.total, money(r.total), true);
  for (const t of r.tenders) {
    switch (t.type) {
      case 'cash':
        slip.pair(words.cash, money(t.amount));
        if (t.change > 0) {
          slip.pair(`  ${words.tendered}`, money(t.tendered));
          slip.pair(`  ${words.change}`, money(t.change));
        }
        break;
      case 'card':
        slip.pair(`${words.card} ${t.brand} ****${t.last4}`, money(t.amount));
        break;
      case 'wristband':
        slip.pair(`${words.wristband} ${t.wristband}`, money(t.amount));
        slip.pair(`  ${words.balanceAfter}`, money(t.balanceAfter));
        break;
    }
  }
  if (r.fiscal) {
    slip.rule();
    if (r.fiscal.number === null) slip.line(words.provisional, { bold: true });
    else slip.line(`${words.fiscalNumber} ${r.fiscal.number}`, { bold: true });
  }
}

function z(slip: Slip, r: ZReport, locale: SpokenLocale): void {
  const words = RECEIPT_WORDS[locale.language];
  const money = (n: number) => formatMoney(n, r.currency, locale.format);
  slip.line(`${words.clerk}: ${r.clerk}`);
  slip.line(`${words.opened}: ${formatInstant(r.openedAt, locale)}`);
  slip.line(`${words.closed}: ${formatInstant(r.at, locale)}`);
  slip.rule();
  slip.line(words.byKind, { bold: true });
  for (const k of r.kinds) slip.pair(`${k.count} x ${words.kinds[k.name] ?? k.name}`, money(k.amount));
  slip.line(words.byTender, { bold: true });
  for (const t of r.tenders) {
    const name =
      t.name === 'cash'
        ? words.cash
        : t.name === 'card'
          ? words.card
          : t.name === 'wristband'
            ? words.wristband
            : t.name;
    slip.pair(`${t.count} x ${name}`, money(t.amount));
  }
  slip.rule();
  slip.pair(words.openingFloat, money(r.openingFloat));
  slip.pair(words.cashIn, money(r.cashIn));
  slip.pair(words.cashOut, money(-r.cashOut));
  slip.pair(words.expectedCash, money(r.expectedCash), true);
  slip.pair(words.countedCash, money(r.countedCash), true);
  slip.pair(words.variance, money(r.variance), true);
}

function moneyOut(slip: Slip, r: MoneyOutSlip, locale: SpokenLocale): void {
  const words = RECEIPT_WORDS[locale.language];
  const money = (n: number) => formatMoney(n, r.currency, locale.format);
  slip.rule();
  const what =
    r.reference.kind === 'ticket'
      ? words.ticket
      : r.reference.kind === 'topup'
        ? words.topUp
        : r.reference.kind === 'cash_movement'
          ? words.cashMovement
          : words.sale;
  slip.line(`${what} ${r.reference.number ?? r.reference.id}`, { bold: true });
  if (r.reference.number !== null) slip.line(`  ${r.reference.id}`);
  if (r.wristband) {
    slip.line(`${words.wristband} ${r.wristband.uid}`);
    slip.pair(words.balanceAfter, money(r.wristband.balanceAfter));
  }
  for (const l of r.lines) slip.line(`  ${words.line} ${l.line + 1} x ${l.qty}`);
  slip.rule();
  // Money out of the drawer prints negative; a correction bringing cash back in (`drawer: 'in'`) positive.
  const sign = r.drawer === 'in' ? 1 : -1;
  slip.pair(words.total, money(sign * r.amount), true);
  if (r.cash > 0) slip.pair(words.cash, money(sign * r.cash));
  if (r.card) {
    const which = r.card.brand && r.card.last4 ? ` ${r.card.brand} ****${r.card.last4}` : '';
    slip.pair(`${words.card}${which}`, money(-r.card.amount));
  }
  if (r.slip === 'payout') {
    slip.line(r.authorization === null ? words.paidOffline : `${words.authorization} ${r.authorization}`);
  }
  if (r.reason) slip.line(`${words.reason}: ${r.reason}`);
  if (r.staff) slip.line(`${words.staff}: ${r.staff}`);
  if (r.approvedBy) slip.line(`${words.approvedBy}: ${r.approvedBy}`);
}

/** The receipt as printed lines (default 80 mm paper). */
export function layoutReceipt(receipt: Receipt, options: LayoutOptions): PrintLine[] {
  const slip = new Slip(COLUMNS[options.paper ?? 80]);
  const words = RECEIPT_WORDS[options.locale.language];
  if (receipt.type === 'sale') {
    header(slip, receipt, words.receipt, options.locale);
    sale(slip, receipt, options.locale);
  } else if (receipt.type === 'slip') {
    header(slip, receipt, words.slips[receipt.slip], options.locale);
    moneyOut(slip, receipt, options.locale);
  } else {
    header(slip, receipt, words.zReport, options.locale);
    z(slip, receipt, options.locale);
  }
  footer(slip, receipt, options.locale);
  return slip.lines;
}
