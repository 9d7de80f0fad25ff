/**
 * Betting tickets after their approval, for every backend (model/ticket.ts,
 * docs/betting.md). Each operation runs inside one transaction of its
 * caller's; what makes it safe with several server processes on
 * PostgreSQL:
 *
 *   - a ticket row is locked (`forUpdate`) before its state is read for a
 *     change, and every change is a guarded UPDATE (`WHERE state = <from>`)
 *     whose row count is checked: a ticket moves out of a state once;
 *   - `ticket_events` is unique per (ticket, state) and `ticket_payouts`
 *     per ticket: even a path that forgot a lock could not settle or pay
 *     twice (the unique violation aborts it; PostgreSQL's driver runs the
 *     transaction again, and it then sees the winner's row);
 *   - locks are taken in one order: device (ingest), ticket rows in id
 *     order, then selection liability rows in selectionKey order.
 */
import {
  type BetSelection,
  formatMoney,
  ProtocolError,
  type SelectionResult,
  settleTicket,
  type TicketOutcome,
} from '@holdfast/protocol';
import type { BettingConfig } from '../../../authorize/betting-config.js';
import { selectionKey } from '../../../authorize/ticket-rules.js';
import {
  type EventResultRecord,
  payoutProblem,
  type ResultsOutcome,
  receiptOf,
  type TicketChange,
  type TicketEventRecord,
  type TicketFact,
  type TicketPayoutRecord,
  type TicketRecord,
  type TicketState,
  type TicketView,
} from '../../../model/ticket.js';
import { int } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import {
  EVENT_RESULTS,
  TICKET_EVENTS,
  TICKET_PAYOUTS,
  TICKET_SELECTIONS,
  TICKETS,
  ticketEventOf,
  ticketOf,
  ticketPayoutOf,
} from '../tables/tickets.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';

/** Records a ticket the server just approved (inside the authorization's transaction): issued, then accepted. */
export function* insertAcceptedTicket(d: SqlDialect, ticket: TicketRecord, requestedAt: number): SqlOperation<void> {
  yield* run(insertSql(TICKETS, d), valuesOf(TICKETS, ticket, d));
  for (const selection of ticket.selections) {
    const row = { ticketId: ticket.ticketId, currency: ticket.currency, selection };
    yield* run(insertSql(TICKET_SELECTIONS, d), valuesOf(TICKET_SELECTIONS, row, d));
  }
  const source = `authorize:${ticket.ticketId}`;
  yield* appendEvent(d, {
    ticketId: ticket.ticketId,
    state: 'accepted',
    at: ticket.acceptedAt,
    source,
    amount: ticket.stake,
    detail: { requestedAt, authorizationId: ticket.authorizationId, potentialPayout: ticket.potentialPayout },
  });
}

function* appendEvent(d: SqlDialect, e: TicketEventRecord): SqlOperation<void> {
  yield* run(insertSql(TICKET_EVENTS, d), valuesOf(TICKET_EVENTS, e, d));
}

/** Moves a locked ticket from `from` to `to`; throws if it was not in `from` (a lock was missing: nothing is written). */
function* moveState(
  ticketId: string,
  from: TicketState,
  to: TicketState,
  settle?: { payout: number; at: number },
): SqlOperation<void> {
  const changed = settle
    ? yield* run('UPDATE tickets SET state = $1, payout = $2, settled_at = $3 WHERE ticket_id = $4 AND state = $5', [
        to,
        settle.payout,
        settle.at,
        ticketId,
        from,
      ])
    : yield* run('UPDATE tickets SET state = $1 WHERE ticket_id = $2 AND state = $3', [to, ticketId, from]);
  if (changed !== 1) throw new Error(`ticket ${ticketId} was not ${from} when moving it to ${to}`);
}

/** Takes `amount` off the liability of each selection (in selectionKey order: the lock order). */
function* releaseLiability(currency: string, selections: readonly BetSelection[], amount: number): SqlOperation<void> {
  const refs = selections
    .map((x) => ({ currency, event: x.event, market: x.market, selection: x.selection }))
    .sort((a, b) => (selectionKey(a) < selectionKey(b) ? -1 : 1));
  for (const ref of refs) {
    const changed = yield* run(
      `UPDATE selection_liability SET liability = liability - $5, tickets = tickets - 1
       WHERE currency = $1 AND event = $2 AND market = $3 AND selection = $4 AND liability >= $5 AND tickets >= 1`,
      [ref.currency, ref.event, ref.market, ref.selection, amount],
    );
    if (changed !== 1) {
      throw new Error(`selection ${JSON.stringify(ref)} holds less than the ${amount} to release`);
    }
  }
}

function* lockedTicket(d: SqlDialect, ticketId: string): SqlOperation<TicketRecord | null> {
  const row = yield* one(`SELECT * FROM tickets WHERE ticket_id = $1${d.forUpdate}`, [ticketId]);
  return row ? ticketOf(row, d) : null;
}

function* payoutOfTicket(ticketId: string): SqlOperation<TicketPayoutRecord | null> {
  const row = yield* one('SELECT * FROM ticket_payouts WHERE ticket_id = $1', [ticketId]);
  return row ? ticketPayoutOf(row) : null;
}

/**
 * Records an event's results and settles every open ticket they decide,
 * in one transaction (see Storage.recordResults). The same result again is
 * a no-op; another result for a selection already resulted is refused
 * with `result_conflict` and nothing is written.
 */
export function* recordResults(
  d: SqlDialect,
  event: string,
  results: readonly { market: string; selection: string; result: SelectionResult }[],
  now: number,
): SqlOperation<ResultsOutcome> {
  const outcome: ResultsOutcome = {
    event,
    recorded: 0,
    unchanged: 0,
    settled: { won: 0, lost: 0, void: 0, push: 0 },
    released: 0,
  };
  for (const r of results) {
    const stored = yield* one(
      `SELECT result FROM event_results WHERE event = $1 AND market = $2 AND selection = $3${d.forUpdate}`,
      [event, r.market, r.selection],
    );
    if (stored) {
      if (stored.result !== r.result) {
        throw new ProtocolError(
          'result_conflict',
          `${event}/${r.market}/${r.selection} was settled as ${String(stored.result)}; ${r.result} would re-settle it (a correction is not done by posting results again)`,
          { field: 'results' },
        );
      }
      outcome.unchanged++;
      continue;
    }
    const record: EventResultRecord = {
      event,
      market: r.market,
      selection: r.selection,
      result: r.result,
      recordedAt: now,
    };
    yield* run(insertSql(EVENT_RESULTS, d), valuesOf(EVENT_RESULTS, record, d));
    outcome.recorded++;
  }
  const open = yield* all(
    `SELECT DISTINCT s.ticket_id FROM ticket_selections s JOIN tickets t ON t.ticket_id = s.ticket_id
     WHERE s.event = $1 AND t.state = 'accepted' ORDER BY s.ticket_id`,
    [event],
  );
  for (const { ticket_id } of open) {
    const ticket = yield* lockedTicket(d, ticket_id as string);
    // Settled or voided since the scan, by someone else.
    if (ticket?.state !== 'accepted') continue;
    const known = yield* all(
      `SELECT s.event, s.market, s.selection, r.result FROM ticket_selections s
       LEFT JOIN event_results r ON r.event = s.event AND r.market = s.market AND r.selection = s.selection
       WHERE s.ticket_id = $1`,
      [ticket.ticketId],
    );
    const resultOf = new Map(
      known.map((k) => [
        JSON.stringify([k.event, k.market, k.selection]),
        (k.result as SelectionResult | null) ?? null,
      ]),
    );
    const settled = settleTicket(
      ticket.stake,
      ticket.selections.map((x) => ({
        odds: x.odds,
        result: resultOf.get(JSON.stringify([x.event, x.market, x.selection])) ?? null,
      })),
    );
    if (!settled) continue;
    yield* settle(d, ticket, settled.outcome, settled.payout, now, `results:${event}`);
    outcome.settled[settled.outcome]++;
    outcome.released += ticket.potentialPayout * ticket.selections.length;
  }
  return outcome;
}

function* settle(
  d: SqlDialect,
  ticket: TicketRecord,
  to: TicketOutcome,
  payout: number,
  now: number,
  source: string,
): SqlOperation<void> {
  yield* moveState(ticket.ticketId, 'accepted', to, { payout, at: now });
  yield* appendEvent(d, { ticketId: ticket.ticketId, state: to, at: now, source, amount: payout, detail: {} });
  yield* releaseLiability(ticket.currency, ticket.selections, ticket.potentialPayout);
}

/** A payout request as the authorizer passes it. */
export interface PayoutAsk {
  opId: string;
  device: string;
  ticket: string;
  amount: number;
  currency: string;
  authorizationId: string;
  now: number;
}

export type PayoutDecision =
  | { status: 'approved'; payout: TicketPayoutRecord; replayed: boolean }
  | { status: 'declined'; reason: string; message: string; firstPayout: TicketPayoutRecord | null };

/**
 * Decides a payout in one transaction with the ticket row locked: approved
 * (the payout stored, the ticket paid) only for a won, void or push ticket
 * not paid yet, for exactly its settled payout. A second payout of one
 * ticket waits for the first's lock and is declined `ticket_paid` with the
 * first one's receipt. The same op id asked again gets the stored approval.
 */
export function* authorizePayout(d: SqlDialect, ask: PayoutAsk): SqlOperation<PayoutDecision> {
  const mine = yield* one('SELECT * FROM ticket_payouts WHERE op_id = $1', [ask.opId]);
  if (mine) {
    const stored = ticketPayoutOf(mine);
    if (stored.device !== ask.device || stored.ticketId !== ask.ticket || stored.amount !== ask.amount) {
      throw new ProtocolError('op_id_reused', `op id ${ask.opId} was already asked about with a different request`, {
        field: 'opId',
      });
    }
    return { status: 'approved', payout: stored, replayed: true };
  }
  const ticket = yield* lockedTicket(d, ask.ticket);
  const decline = (reason: string, message: string, firstPayout: TicketPayoutRecord | null = null): PayoutDecision => ({
    status: 'declined',
    reason,
    message,
    firstPayout,
  });
  if (!ticket) return decline('unknown_ticket', `no accepted ticket ${ask.ticket}`);
  const problem = payoutProblem(ticket, ask.amount, ask.currency);
  if (problem) {
    const first = problem.reason === 'ticket_paid' ? yield* payoutOfTicket(ticket.ticketId) : null;
    const message = first
      ? `${problem.message}: ${formatMoney(first.amount, first.currency)} by device ${first.device} at ${new Date(first.at).toISOString()} (op ${first.opId})`
      : problem.message;
    return decline(problem.reason, message, first);
  }
  const payout: TicketPayoutRecord = {
    opId: ask.opId,
    ticketId: ticket.ticketId,
    device: ask.device,
    amount: ask.amount,
    currency: ask.currency,
    mode: 'online',
    authorizationId: ask.authorizationId,
    at: ask.now,
  };
  yield* writeChange(d, {
    ticketId: ticket.ticketId,
    from: ticket.state,
    event: {
      ticketId: ticket.ticketId,
      state: 'paid',
      at: ask.now,
      source: ask.opId,
      amount: ask.amount,
      detail: { device: ask.device, mode: 'online' },
    },
    payout,
    release: null,
  });
  return { status: 'approved', payout, replayed: false };
}

/** Applies one planned change: the guarded state move, its history row, the payout, the liability released. */
export function* writeChange(d: SqlDialect, change: TicketChange): SqlOperation<void> {
  yield* moveState(change.ticketId, change.from, change.event.state);
  yield* appendEvent(d, change.event);
  if (change.payout) yield* run(insertSql(TICKET_PAYOUTS, d), valuesOf(TICKET_PAYOUTS, change.payout, d));
  if (change.release)
    yield* releaseLiability(change.release.currency, change.release.selections, change.release.amount);
}

/** Writes the ticket changes of an ingest plan (inside the ingest transaction, after the facts were locked). */
export function* writeTicketChanges(d: SqlDialect, changes: readonly TicketChange[]): SqlOperation<void> {
  for (const change of changes) yield* writeChange(d, change);
}

/**
 * Inside an ingest transaction: the tickets `ids` (locked, in id order),
 * each with its payout, and the newest betting configuration.
 */
export function* loadTicketFacts(
  d: SqlDialect,
  ids: readonly string[],
): SqlOperation<{ tickets: Map<string, TicketFact>; config: BettingConfig | null }> {
  const tickets = new Map<string, TicketFact>();
  for (const id of [...new Set(ids)].sort()) {
    const ticket = yield* lockedTicket(d, id);
    if (ticket) tickets.set(id, { ticket, payout: yield* payoutOfTicket(id) });
  }
  const row = yield* one('SELECT config FROM betting_configs ORDER BY version DESC LIMIT 1');
  return { tickets, config: row ? (d.readJson(row.config) as BettingConfig) : null };
}

/** A ticket with its history and payout; null if the server never accepted it. */
export function* getTicket(d: SqlDialect, ticketId: string): SqlOperation<TicketView | null> {
  const row = yield* one('SELECT * FROM tickets WHERE ticket_id = $1', [ticketId]);
  if (!row) return null;
  const history = (yield* all('SELECT * FROM ticket_events WHERE ticket_id = $1 ORDER BY pos', [ticketId])).map((r) =>
    ticketEventOf(r, d),
  );
  const payout = yield* payoutOfTicket(ticketId);
  return { ...ticketOf(row, d), history, paid: payout ? receiptOf(payout) : null };
}

/** Every ticket with its history and payout, by id (the simulator's checker and the operator list). */
export function* listTickets(d: SqlDialect): SqlOperation<TicketView[]> {
  const rows = yield* all('SELECT * FROM tickets ORDER BY ticket_id');
  const events = yield* all('SELECT * FROM ticket_events ORDER BY pos');
  const payouts = yield* all('SELECT * FROM ticket_payouts');
  const historyOf = new Map<string, TicketEventRecord[]>();
  for (const r of events) {
    const e = ticketEventOf(r, d);
    const list = historyOf.get(e.ticketId) ?? [];
    list.push(e);
    historyOf.set(e.ticketId, list);
  }
  const paidOf = new Map(payouts.map((r) => [r.ticket_id as string, receiptOf(ticketPayoutOf(r))]));
  return rows.map((r) => {
    const t = ticketOf(r, d);
    return { ...t, history: historyOf.get(t.ticketId) ?? [], paid: paidOf.get(t.ticketId) ?? null };
  });
}

/** Count of results stored for an event (tests, the operator's view). */
export function* countResults(event: string): SqlOperation<number> {
  return int((yield* one('SELECT count(*) AS n FROM event_results WHERE event = $1', [event]))?.n);
}
