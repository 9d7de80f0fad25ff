/**
 * Betting tickets (docs/betting.md), from what the server holds:
 *
 *   ticket-paid-once  no ticket paid twice: at most one accepted `ticket.paid`
 *                     op and one payout row per ticket, and a ticket is
 *                     `paid` exactly when it has its payout
 *   payout-amount     a settled ticket's payout, and what was paid, is
 *                     stake × Π odds rounded down per settleTicket (void and
 *                     push legs at 1.00), from the recorded results
 *   liability-held    each selection holds exactly the potential payouts of
 *                     the accepted (unsettled, not voided) tickets on it:
 *                     conserved while they are open, released when not
 *   ticket-history    each ticket's history starts accepted, names each
 *                     state once, and ends in the projection's state
 *   void-approved     every `ticket.voided` names an approver
 */
import { type SelectionResult, settleTicket } from '@holdfast/protocol';
import type { Truth } from '../truth.js';
import type { Violation } from '../violation.js';

const key = (...parts: string[]) => JSON.stringify(parts);

export function ticketRules(truth: Truth): Violation[] {
  const out: Violation[] = [];
  const s = truth.server;
  const accepted = new Set(s.ops.filter((o) => o.status === 'accepted').map((o) => o.id));
  const tickets = new Map(s.tickets.map((t) => [t.ticketId, t]));

  const paidOps = new Map<string, string[]>();
  for (const e of s.ledger) {
    if (!accepted.has(e.opId)) continue;
    if (e.type === 'ticket.paid') {
      const ticket = String(e.data.ticket);
      paidOps.set(ticket, [...(paidOps.get(ticket) ?? []), e.opId]);
    }
    if (e.type === 'ticket.voided' && (typeof e.data.approvedBy !== 'string' || e.data.approvedBy.length === 0)) {
      out.push({
        rule: 'void-approved',
        opId: e.opId,
        message: `ticket ${String(e.data.ticket)} voided with no approver`,
      });
    }
  }
  const payouts = new Map<string, number>();
  for (const p of s.ticketPayouts) payouts.set(p.ticketId, (payouts.get(p.ticketId) ?? 0) + 1);
  for (const [ticket, ops] of paidOps) {
    if (ops.length > 1) {
      out.push({
        rule: 'ticket-paid-once',
        opId: ops[1] as string,
        message: `ticket ${ticket} paid ${ops.length} times: ${ops.join(', ')}`,
      });
    }
  }
  for (const [ticket, n] of payouts) {
    if (n > 1) out.push({ rule: 'ticket-paid-once', message: `ticket ${ticket} has ${n} payouts stored` });
  }
  for (const t of s.tickets) {
    const hasPayout = payouts.has(t.ticketId);
    if ((t.state === 'paid') !== hasPayout) {
      out.push({
        rule: 'ticket-paid-once',
        message: `ticket ${t.ticketId} is ${t.state} with ${hasPayout ? 'a' : 'no'} payout stored`,
      });
    }
  }

  const results = new Map(
    s.eventResults.map((r) => [key(r.event, r.market, r.selection), r.result as SelectionResult]),
  );
  for (const t of s.tickets) {
    if (t.payout === null) continue;
    const settled = settleTicket(
      t.stake,
      t.selections.map((x) => ({ odds: x.odds, result: results.get(key(x.event, x.market, x.selection)) ?? null })),
    );
    if (!settled || settled.payout !== t.payout) {
      out.push({
        rule: 'payout-amount',
        message: `ticket ${t.ticketId} settled to pay ${t.payout}; its results give ${settled ? settled.payout : 'no settlement'}`,
      });
    }
  }
  for (const p of s.ticketPayouts) {
    const t = tickets.get(p.ticketId);
    if (!t || t.payout !== p.amount) {
      out.push({
        rule: 'payout-amount',
        opId: p.opId,
        message: `ticket ${p.ticketId} paid ${p.amount}; it pays ${t ? String(t.payout) : '(unknown ticket)'}`,
      });
    }
  }

  const expected = new Map<string, { liability: number; tickets: number }>();
  for (const t of s.tickets) {
    if (t.state !== 'accepted') continue;
    for (const x of t.selections) {
      const k = key(t.currency, x.event, x.market, x.selection);
      const held = expected.get(k) ?? { liability: 0, tickets: 0 };
      expected.set(k, { liability: held.liability + t.potentialPayout, tickets: held.tickets + 1 });
    }
  }
  const held = new Map(s.liabilities.map((l) => [key(l.currency, l.event, l.market, l.selection), l]));
  for (const k of new Set([...expected.keys(), ...held.keys()])) {
    const want = expected.get(k) ?? { liability: 0, tickets: 0 };
    const have = held.get(k) ?? { liability: 0, tickets: 0 };
    if (want.liability !== have.liability || want.tickets !== have.tickets) {
      out.push({
        rule: 'liability-held',
        message: `selection ${k} holds ${have.liability} on ${have.tickets} ticket(s); its open tickets make ${want.liability} on ${want.tickets}`,
      });
    }
  }

  const history = new Map<string, string[]>();
  for (const e of s.ticketEvents) history.set(e.ticketId, [...(history.get(e.ticketId) ?? []), e.state]);
  for (const t of s.tickets) {
    const states = history.get(t.ticketId) ?? [];
    const problem =
      states[0] !== 'accepted'
        ? 'does not start accepted'
        : new Set(states).size !== states.length
          ? 'names a state twice'
          : states[states.length - 1] !== t.state
            ? `ends ${String(states[states.length - 1])}, the ticket is ${t.state}`
            : null;
    if (problem) {
      out.push({ rule: 'ticket-history', message: `ticket ${t.ticketId}: history [${states.join(', ')}] ${problem}` });
    }
  }
  return out;
}
