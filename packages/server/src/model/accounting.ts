/**
 * The accounting export (issue 12 point 5, docs/reports.md): one balanced
 * journal entry per applied money op, from the same `ReportInput` as the
 * sales reports, grouped per UTC day (device time) or per shift, with the
 * chart of accounts below. Pure, and checked by `checkJournal`: every entry
 * balanced, and the entries' total equal to the money the ledger applied.
 */
import { CASH_MOVEMENT_REASONS, type CashMovementReason } from '@holdfast/protocol';
import { dayOf, type LineFact, lineFacts, type ReportEvent, type ReportInput } from './reports.js';

/** The chart of accounts: number → name and kind. */
export const CHART_OF_ACCOUNTS = {
  '1000': { name: 'Cash in drawers', kind: 'asset' },
  '1050': { name: 'Cash in transit (safe, bank, float)', kind: 'asset' },
  '1100': { name: 'Card receivable (processor)', kind: 'asset' },
  '2100': { name: 'Wristband stored value', kind: 'liability' },
  '2200': { name: 'Tax payable', kind: 'liability' },
  '2300': { name: 'Paid-ins to be allocated', kind: 'liability' },
  '4000': { name: 'Sales revenue (net of tax)', kind: 'revenue' },
  '4100': { name: 'Sales returns and voids (net of tax)', kind: 'contra-revenue' },
  '4200': { name: 'Betting stakes', kind: 'revenue' },
  '5200': { name: 'Betting payouts', kind: 'expense' },
  '6000': { name: 'Paid-outs from drawers', kind: 'expense' },
} as const;
export type Account = keyof typeof CHART_OF_ACCOUNTS;

/** The ledger event types that move money, and so have a journal entry. */
export const JOURNAL_TYPES = [
  'sale.recorded',
  'sale.voided',
  'sale.refunded',
  'wallet.refunded',
  'wallet.topped_up',
  'ticket.issued',
  'ticket.paid',
  'ticket.voided',
  'cash.moved',
  'cash.corrected',
] as const;

export interface JournalLine {
  account: Account;
  debit: number;
  credit: number;
}

/** One balanced entry: the money of one applied op. */
export interface JournalEntry {
  opId: string;
  type: string;
  day: string;
  shiftId: string | null;
  device: string;
  location: string | null;
  currency: string;
  /** The money the op moved (the ledger event's amount); Σ debit = Σ credit = amount. */
  amount: number;
  lines: JournalLine[];
}

/** One account's sums over a group of entries. */
export interface JournalTotal {
  account: Account;
  name: string;
  debit: number;
  credit: number;
}

export interface JournalGroup {
  /** A UTC day (YYYY-MM-DD) or a shift id. */
  key: string;
  currency: string;
  entries: number;
  amount: number;
  accounts: JournalTotal[];
}

export interface AccountingExport {
  by: 'day' | 'shift';
  from: number;
  to: number;
  location: string | null;
  chart: typeof CHART_OF_ACCOUNTS;
  groups: JournalGroup[];
  entries: JournalEntry[];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
function num(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : 0;
}

/** Debits and credits into lines: zero sides dropped, one line per account and side. */
function linesOf(debits: [Account, number][], credits: [Account, number][]): JournalLine[] {
  const out: JournalLine[] = [];
  for (const [account, v] of debits) if (v !== 0) out.push({ account, debit: v, credit: 0 });
  for (const [account, v] of credits) if (v !== 0) out.push({ account, debit: 0, credit: v });
  return out;
}

/** The tax inside an op's money: the sum over its line facts, never more than the money. */
function taxSplit(facts: readonly LineFact[] | undefined, amount: number): number {
  const tax = (facts ?? []).reduce((sum, f) => sum + (f.tax ?? 0), 0);
  return Math.min(tax, amount);
}

function entryLines(e: ReportEvent, amount: number, tax: number): JournalLine[] {
  const d = e.data;
  const b = e.body;
  switch (e.type) {
    case 'sale.recorded': {
      const cash = num(d.cash);
      const card = num(d.card);
      const wallet = amount - cash - card;
      return linesOf(
        [
          ['1000', cash],
          ['1100', card],
          ['2100', wallet],
        ],
        [
          ['4000', amount - tax],
          ['2200', tax],
        ],
      );
    }
    case 'sale.voided': {
      const cash = num(d.cash);
      return linesOf(
        [
          ['4100', amount - tax],
          ['2200', tax],
        ],
        [
          ['1000', cash],
          ['1100', amount - cash],
        ],
      );
    }
    case 'sale.refunded':
      return linesOf(
        [
          ['4100', amount - tax],
          ['2200', tax],
        ],
        [[str(d.tender) === 'card' ? '1100' : '1000', amount]],
      );
    case 'wallet.refunded':
      return linesOf(
        [
          ['4100', amount - tax],
          ['2200', tax],
        ],
        [['2100', amount]],
      );
    case 'wallet.topped_up':
      return linesOf([[str(d.paid) === 'card' ? '1100' : '1000', amount]], [['2100', amount]]);
    case 'ticket.issued':
      return linesOf([['1000', amount]], [['4200', amount]]);
    case 'ticket.paid':
      return linesOf([['5200', amount]], [['1000', amount]]);
    case 'ticket.voided':
      return linesOf([['4200', amount]], [['1000', amount]]);
    case 'cash.moved': {
      const reason = str(b.reason) as CashMovementReason;
      const other: Account = reason === 'paid_in' ? '2300' : reason === 'paid_out' ? '6000' : '1050';
      return CASH_MOVEMENT_REASONS[reason] === 'in' || str(d.direction) === 'in'
        ? linesOf([['1000', amount]], [[other, amount]])
        : linesOf([[other, amount]], [['1000', amount]]);
    }
    // A cash movement corrected (docs/corrections.md): the drawer against the account the movement used
    // (its reason, in the ledger event's data; the transit account when the movement is unknown).
    case 'cash.corrected': {
      const reason = str(d.movementReason);
      const other: Account = reason === 'paid_in' ? '2300' : reason === 'paid_out' ? '6000' : '1050';
      return str(d.direction) === 'in'
        ? linesOf([['1000', amount]], [[other, amount]])
        : linesOf([[other, amount]], [['1000', amount]]);
    }
    default:
      return [];
  }
}

/** One journal entry per applied money op of `input` (location filter applied), in ledger order. */
export function journalEntries(input: ReportInput, location: string | null): JournalEntry[] {
  const facts = new Map<string, LineFact[]>();
  for (const f of lineFacts(input)) {
    const list = facts.get(f.opId);
    if (list) list.push(f);
    else facts.set(f.opId, [f]);
  }
  const types = new Set<string>(JOURNAL_TYPES);
  const out: JournalEntry[] = [];
  for (const e of input.events) {
    if (!types.has(e.type) || e.currency === null || e.amount === null || e.amount === 0) continue;
    if (location !== null && e.location !== location) continue;
    const tax = taxSplit(facts.get(e.opId), e.amount);
    out.push({
      opId: e.opId,
      type: e.type,
      day: dayOf(e.deviceAt),
      shiftId: e.shiftId,
      device: e.device,
      location: e.location,
      currency: e.currency,
      amount: e.amount,
      lines: entryLines(e, e.amount, tax),
    });
  }
  return out;
}

/** The export: entries and their sums per account, per day or per shift and currency. */
export function accountingExport(input: ReportInput, by: 'day' | 'shift', location: string | null): AccountingExport {
  const entries = journalEntries(input, location);
  const groups = new Map<string, { group: JournalGroup; accounts: Map<Account, JournalTotal> }>();
  for (const e of entries) {
    const key = by === 'day' ? e.day : (e.shiftId ?? '');
    const id = `${key}\u0000${e.currency}`;
    let g = groups.get(id);
    if (!g) {
      g = { group: { key, currency: e.currency, entries: 0, amount: 0, accounts: [] }, accounts: new Map() };
      groups.set(id, g);
    }
    g.group.entries++;
    g.group.amount += e.amount;
    for (const l of e.lines) {
      let t = g.accounts.get(l.account);
      if (!t) {
        t = { account: l.account, name: CHART_OF_ACCOUNTS[l.account].name, debit: 0, credit: 0 };
        g.accounts.set(l.account, t);
      }
      t.debit += l.debit;
      t.credit += l.credit;
    }
  }
  const list = [...groups.values()].map(({ group, accounts }) => ({
    ...group,
    accounts: [...accounts.values()].sort((a, b) => a.account.localeCompare(b.account)),
  }));
  list.sort((a, b) => a.key.localeCompare(b.key) || a.currency.localeCompare(b.currency));
  return { by, from: input.from, to: input.to, location, chart: CHART_OF_ACCOUNTS, groups: list, entries };
}

/** A way the export disagrees with itself or with the ledger. */
export interface JournalViolation {
  opId: string | null;
  problem: string;
}

/**
 * Checks an export against the ledger events it was built from: every entry
 * balanced (Σ debit = Σ credit = its amount, no negative side, known
 * accounts), exactly one entry per money event with the event's amount and
 * currency, none for anything else, and every group's sums equal to its
 * entries'. Empty when all holds.
 */
export function checkJournal(
  exported: AccountingExport,
  ledger: readonly Pick<ReportEvent, 'opId' | 'type' | 'currency' | 'amount' | 'location'>[],
): JournalViolation[] {
  const out: JournalViolation[] = [];
  const types = new Set<string>(JOURNAL_TYPES);
  const want = new Map<string, { currency: string; amount: number }>();
  for (const e of ledger) {
    if (!types.has(e.type) || e.currency === null || e.amount === null || e.amount === 0) continue;
    if (exported.location !== null && e.location !== exported.location) continue;
    want.set(e.opId, { currency: e.currency, amount: e.amount });
  }
  const seen = new Set<string>();
  for (const entry of exported.entries) {
    if (seen.has(entry.opId)) out.push({ opId: entry.opId, problem: 'more than one entry for the op' });
    seen.add(entry.opId);
    let debit = 0;
    let credit = 0;
    for (const l of entry.lines) {
      if (!(l.account in CHART_OF_ACCOUNTS)) out.push({ opId: entry.opId, problem: `unknown account ${l.account}` });
      if (l.debit < 0 || l.credit < 0 || !Number.isSafeInteger(l.debit) || !Number.isSafeInteger(l.credit)) {
        out.push({ opId: entry.opId, problem: `account ${l.account}: sides must be non-negative integers` });
      }
      debit += l.debit;
      credit += l.credit;
    }
    if (debit !== credit) out.push({ opId: entry.opId, problem: `not balanced: debits ${debit}, credits ${credit}` });
    const w = want.get(entry.opId);
    if (!w) out.push({ opId: entry.opId, problem: 'an entry for no money event of the ledger' });
    else if (w.amount !== debit || w.currency !== entry.currency || w.amount !== entry.amount) {
      out.push({
        opId: entry.opId,
        problem: `entry moves ${debit} ${entry.currency}, the ledger applied ${w.amount} ${w.currency}`,
      });
    }
  }
  for (const id of want.keys())
    if (!seen.has(id)) out.push({ opId: id, problem: 'a ledger money event with no entry' });
  const sums = new Map<string, { amount: number; debit: number; credit: number }>();
  for (const e of exported.entries) {
    const id = `${exported.by === 'day' ? e.day : (e.shiftId ?? '')}\u0000${e.currency}`;
    const s = sums.get(id) ?? { amount: 0, debit: 0, credit: 0 };
    s.amount += e.amount;
    for (const l of e.lines) {
      s.debit += l.debit;
      s.credit += l.credit;
    }
    sums.set(id, s);
  }
  for (const g of exported.groups) {
    const s = sums.get(`${g.key}\u0000${g.currency}`);
    const debit = g.accounts.reduce((a, t) => a + t.debit, 0);
    const credit = g.accounts.reduce((a, t) => a + t.credit, 0);
    if (!s || s.amount !== g.amount || s.debit !== debit || s.credit !== credit || debit !== credit) {
      out.push({
        opId: null,
        problem: `group ${g.key} ${g.currency}: sums disagree with its entries or do not balance`,
      });
    }
  }
  return out;
}
