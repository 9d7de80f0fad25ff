/**
 * Betting tickets after their online approval (docs/betting.md): the ticket
 * projection, its state history, event results and payouts.
 *
 *   accepted ──results──▶ won | lost | void | push ──ticket.paid──▶ paid
 *      │                   (won, void and push pay: void/push the stake back)
 *      └──ticket.voided (window + supervisor)──▶ voided
 *
 * A ticket row is created when `POST /v1/authorize` approves it (its id is
 * the `ticket.issued` op id); every change of state appends a
 * `ticket_events` row (at most one per state) and moves the projection on
 * with a guarded UPDATE (`WHERE state = <from>`): never an edit of history.
 */
import type { BetSelection, PayoutReceipt, SelectionResult, TicketOutcome } from '@holdfast/protocol';

export type TicketState = 'accepted' | TicketOutcome | 'paid' | 'voided';
/** The states a ticket is paid from (void and push: the stake back). */
export const PAYABLE_STATES: readonly TicketState[] = ['won', 'void', 'push'];

export interface TicketRecord {
  ticketId: string;
  device: string;
  authorizationId: string;
  currency: string;
  stake: number;
  potentialPayout: number;
  selections: BetSelection[];
  acceptedAt: number;
  state: TicketState;
  /** What the settled ticket pays (0 if lost); null until settled. */
  payout: number | null;
  settledAt: number | null;
}

/** A ticket's change of state, as appended to its history. */
export interface TicketEventRecord {
  ticketId: string;
  state: TicketState;
  at: number;
  /** What caused it: `results:<event>`, an op id, or `authorize:<op id>`. */
  source: string;
  amount: number | null;
  detail: Record<string, unknown>;
}

/** One selection's result as the results input recorded it. */
export interface EventResultRecord {
  event: string;
  market: string;
  selection: string;
  result: SelectionResult;
  recordedAt: number;
}

/** A payout made: one per ticket (the unique key that makes a second payout impossible). */
export interface TicketPayoutRecord {
  opId: string;
  ticketId: string;
  device: string;
  amount: number;
  currency: string;
  mode: 'online' | 'offline';
  authorizationId: string | null;
  at: number;
}

export function receiptOf(p: TicketPayoutRecord): PayoutReceipt {
  return {
    ticket: p.ticketId,
    opId: p.opId,
    device: p.device,
    amount: p.amount,
    currency: p.currency,
    at: p.at,
    mode: p.mode,
  };
}

/** What ingest knows of a ticket a `ticket.paid` or `ticket.voided` op names. */
export interface TicketFact {
  ticket: TicketRecord;
  payout: TicketPayoutRecord | null;
}

/** A change of a ticket's state the ingest plan writes (offline payout, void). */
export interface TicketChange {
  ticketId: string;
  from: TicketState;
  event: TicketEventRecord;
  payout: TicketPayoutRecord | null;
  /** Liability to release on each of the ticket's selections (a void): its potential payout. */
  release: { currency: string; selections: BetSelection[]; amount: number } | null;
}

/** A ticket as the operator API shows it: the projection, its history and its payout. */
export interface TicketView extends TicketRecord {
  history: TicketEventRecord[];
  paid: PayoutReceipt | null;
}

/** What recording an event's results did. */
export interface ResultsOutcome {
  event: string;
  /** Selections whose result was new (the others were the same result again: no-ops). */
  recorded: number;
  unchanged: number;
  /** Tickets settled by this call, by outcome. */
  settled: { won: number; lost: number; void: number; push: number };
  /** Liability released by this call, minor units, summed over selections. */
  released: number;
}

/** Why `ticket` cannot be paid `amount` now, or null (shared by the online decision and the ingest check). */
export function payoutProblem(
  ticket: TicketRecord,
  amount: number,
  currency: string,
): { reason: string; message: string } | null {
  const id = ticket.ticketId;
  if (ticket.state === 'paid') return { reason: 'ticket_paid', message: `ticket ${id} was paid already` };
  if (ticket.state === 'accepted') return { reason: 'ticket_unsettled', message: `ticket ${id} is not settled yet` };
  if (ticket.state === 'lost') return { reason: 'ticket_lost', message: `ticket ${id} lost: it pays nothing` };
  if (ticket.state === 'voided')
    return { reason: 'ticket_voided', message: `ticket ${id} was voided (its stake refunded)` };
  if (!PAYABLE_STATES.includes(ticket.state))
    return { reason: 'ticket_unsettled', message: `ticket ${id} is ${ticket.state}` };
  if (currency !== ticket.currency || amount !== ticket.payout) {
    return {
      reason: 'payout_mismatch',
      message: `ticket ${id} pays ${ticket.payout} ${ticket.currency}, not ${amount} ${currency}`,
    };
  }
  return null;
}
