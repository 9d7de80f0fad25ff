/**
 * The accounting export (docs/reports.md):
 *
 *   journal-balanced  the server's journal (accountingExport over the stored
 *                     ledger and ops) has one balanced entry per money event
 *                     with the event's amount (checkJournal), and, per
 *                     currency, its cash-in-drawers and card accounts move
 *                     exactly what the accepted ops' bodies say was paid in
 *                     and out in cash and by card — recomputed here from the
 *                     envelopes, not from the ledger's own figures
 *
 * Tax is left out (the rates are not part of the truth); it splits revenue
 * from tax payable and moves no tender account.
 */
import { accountingExport, checkJournal, type ReportEvent, type ReportInput } from '@holdfast/server';
import type { Truth } from '../truth.js';
import type { Violation } from '../violation.js';

type Body = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) ? v : 0);

/** Cash and card paid in (+) or out (−) by one accepted op, from its body alone. */
function tenderFlow(kind: string, b: Body): { cash: number; card: number } {
  switch (kind) {
    case 'sale.recorded': {
      const tenders = Array.isArray(b.tenders) ? (b.tenders as Body[]) : [];
      const sum = (type: string) => tenders.filter((t) => t.type === type).reduce((s, t) => s + num(t.amount), 0);
      return { cash: sum('cash'), card: sum('card') };
    }
    case 'sale.voided':
      return { cash: -num(b.cash), card: -num(b.card) };
    case 'sale.refunded':
      return b.tender === 'card' ? { cash: 0, card: -num(b.amount) } : { cash: -num(b.amount), card: 0 };
    case 'wallet.topped_up':
      return b.paid === 'card' ? { cash: 0, card: num(b.amount) } : { cash: num(b.amount), card: 0 };
    case 'wallet.topup_reversed':
      return b.tender === 'card' ? { cash: 0, card: -num(b.amount) } : { cash: -num(b.amount), card: 0 };
    case 'ticket.issued':
      return { cash: num(b.stake), card: 0 };
    case 'ticket.paid':
    case 'ticket.voided':
      return { cash: -num(b.amount), card: 0 };
    case 'cash.moved':
    case 'cash.corrected':
      return { cash: b.direction === 'in' ? num(b.amount) : -num(b.amount), card: 0 };
    default:
      return { cash: 0, card: 0 };
  }
}

export function accountingRules(truth: Truth): Violation[] {
  const s = truth.server;
  const ops = new Map<string, { kind: string; at: number; body: Body }>();
  for (const row of s.ops) {
    if (row.status !== 'accepted') continue;
    try {
      const op = JSON.parse(row.envelope) as { at?: unknown; body?: Body };
      ops.set(row.id, { kind: row.kind, at: num(op.at), body: op.body ?? {} });
    } catch {
      // a malformed envelope is other rules' business
    }
  }
  const events: ReportEvent[] = [];
  for (const l of s.ledger) {
    const op = ops.get(l.opId);
    if (!op || op.kind !== l.type) continue;
    events.push({
      opId: l.opId,
      device: l.device,
      lane: l.device,
      location: s.placements.get(l.device) ?? null,
      seq: l.seq,
      type: l.type,
      shiftId: l.shiftId,
      currency: typeof op.body.currency === 'string' ? op.body.currency : null,
      amount: l.amount,
      data: l.data,
      body: op.body,
      deviceAt: op.at,
      receivedAt: op.at,
    });
  }
  const sales: ReportInput['sales'] = {};
  for (const [id, op] of ops) if (op.kind === 'sale.recorded') sales[id] = op.body as never;
  const input: ReportInput = { from: 0, to: Number.MAX_SAFE_INTEGER, events, sales, categories: {}, rates: {} };
  const exported = accountingExport(input, 'day', null);
  const out: Violation[] = checkJournal(exported, events).map((v) => ({
    rule: 'journal-balanced' as const,
    ...(v.opId ? { opId: v.opId } : {}),
    message: v.problem,
  }));
  const want = new Map<string, { cash: number; card: number }>();
  for (const op of ops.values()) {
    const currency = typeof op.body.currency === 'string' ? op.body.currency : null;
    if (currency === null) continue;
    const flow = tenderFlow(op.kind, op.body);
    const w = want.get(currency) ?? { cash: 0, card: 0 };
    w.cash += flow.cash;
    w.card += flow.card;
    want.set(currency, w);
  }
  const got = new Map<string, { cash: number; card: number }>();
  for (const e of exported.entries) {
    const g = got.get(e.currency) ?? { cash: 0, card: 0 };
    for (const l of e.lines) {
      if (l.account === '1000') g.cash += l.debit - l.credit;
      if (l.account === '1100') g.card += l.debit - l.credit;
    }
    got.set(e.currency, g);
  }
  for (const currency of new Set([...want.keys(), ...got.keys()])) {
    const w = want.get(currency) ?? { cash: 0, card: 0 };
    const g = got.get(currency) ?? { cash: 0, card: 0 };
    if (w.cash !== g.cash || w.card !== g.card) {
      out.push({
        rule: 'journal-balanced',
        message: `${currency}: the journal moves cash ${g.cash} and card ${g.card}; the accepted ops paid cash ${w.cash} and card ${w.card}`,
      });
    }
  }
  return out;
}
