/**
 * The betting-ticket tables (model/ticket.ts): `tickets` (the projection),
 * `ticket_selections` (one row per selection, found by event at
 * settlement), `ticket_events` (the append-only history, one row per state),
 * `event_results` and `ticket_payouts` (unique per ticket: the one payout).
 */
import type { BetSelection } from '@holdfast/protocol';
import type {
  EventResultRecord,
  TicketEventRecord,
  TicketPayoutRecord,
  TicketRecord,
  TicketState,
} from '../../../model/ticket.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { defineTable } from '../table.js';

export const TICKETS = defineTable<TicketRecord>(
  'tickets',
  {
    ticket_id: ['text', (t) => t.ticketId],
    device: ['text', (t) => t.device],
    authorization_id: ['text', (t) => t.authorizationId],
    currency: ['text', (t) => t.currency],
    stake: ['bigint', (t) => t.stake],
    potential_payout: ['bigint', (t) => t.potentialPayout],
    selections: ['jsonb', (t) => JSON.stringify(t.selections)],
    accepted_at: ['bigint', (t) => t.acceptedAt],
    state: ['text', (t) => t.state],
  },
  ['payout', 'settled_at'],
);

export function ticketOf(r: Row, d: SqlDialect): TicketRecord {
  return {
    ticketId: r.ticket_id as string,
    device: r.device as string,
    authorizationId: r.authorization_id as string,
    currency: r.currency as string,
    stake: int(r.stake),
    potentialPayout: int(r.potential_payout),
    selections: d.readJson(r.selections) as BetSelection[],
    acceptedAt: int(r.accepted_at),
    state: r.state as TicketState,
    payout: intOrNull(r.payout),
    settledAt: intOrNull(r.settled_at),
  };
}

export interface TicketSelectionRow {
  ticketId: string;
  currency: string;
  selection: BetSelection;
}

export const TICKET_SELECTIONS = defineTable<TicketSelectionRow>('ticket_selections', {
  ticket_id: ['text', (x) => x.ticketId],
  currency: ['text', (x) => x.currency],
  event: ['text', (x) => x.selection.event],
  market: ['text', (x) => x.selection.market],
  selection: ['text', (x) => x.selection.selection],
  odds: ['int', (x) => x.selection.odds],
});

export const TICKET_EVENTS = defineTable<TicketEventRecord>(
  'ticket_events',
  {
    ticket_id: ['text', (e) => e.ticketId],
    state: ['text', (e) => e.state],
    at: ['bigint', (e) => e.at],
    source: ['text', (e) => e.source],
    amount: ['bigint', (e) => e.amount],
    detail: ['jsonb', (e) => JSON.stringify(e.detail)],
  },
  ['pos'],
);

export function ticketEventOf(r: Row, d: SqlDialect): TicketEventRecord {
  return {
    ticketId: r.ticket_id as string,
    state: r.state as TicketState,
    at: int(r.at),
    source: r.source as string,
    amount: intOrNull(r.amount),
    detail: d.readJson(r.detail) as Record<string, unknown>,
  };
}

export const EVENT_RESULTS = defineTable<EventResultRecord>('event_results', {
  event: ['text', (x) => x.event],
  market: ['text', (x) => x.market],
  selection: ['text', (x) => x.selection],
  result: ['text', (x) => x.result],
  recorded_at: ['bigint', (x) => x.recordedAt],
});

export const TICKET_PAYOUTS = defineTable<TicketPayoutRecord>('ticket_payouts', {
  op_id: ['text', (p) => p.opId],
  ticket_id: ['text', (p) => p.ticketId],
  device: ['text', (p) => p.device],
  amount: ['bigint', (p) => p.amount],
  currency: ['text', (p) => p.currency],
  mode: ['text', (p) => p.mode],
  authorization_id: ['text', (p) => p.authorizationId],
  at: ['bigint', (p) => p.at],
});

export function ticketPayoutOf(r: Row): TicketPayoutRecord {
  return {
    opId: r.op_id as string,
    ticketId: r.ticket_id as string,
    device: r.device as string,
    amount: int(r.amount),
    currency: r.currency as string,
    mode: r.mode as TicketPayoutRecord['mode'],
    authorizationId: textOrNull(r.authorization_id),
    at: int(r.at),
  };
}
