/**
 * Real-time risk validation of a betting ticket: one pure function, so
 * every storage backend applies exactly the same rules inside its own
 * transaction (with the selections' liability rows locked) and the rules
 * can be tested at, under and over each limit without a database.
 *
 * Rules, in order (the first that fails is the decline reason):
 *
 *   betting_not_configured  no betting configuration was ever set
 *   currency_not_offered    no limits for the ticket's currency
 *   event_suspended         a selection's event is suspended
 *   market_suspended        a selection's event+market is suspended
 *   stake_below_min         stake < minStake
 *   stake_above_max         stake > maxStake
 *   payout_above_max        potential payout > maxPayout
 *   liability_cap           for some selection, held + potential payout > selectionLiabilityCap
 *
 * Liability counts the whole potential payout of a ticket on EVERY
 * selection it includes: an accumulator could pay out if all its
 * selections win, so each of them carries that worst case.
 */
import { potentialPayout, type TicketAuthorization } from '@holdfast/protocol';
import type { BettingConfig } from './betting-config.js';

export const TICKET_DECLINE_REASONS = [
  'betting_not_configured',
  'currency_not_offered',
  'event_suspended',
  'market_suspended',
  'stake_below_min',
  'stake_above_max',
  'payout_above_max',
  'liability_cap',
] as const;
export type TicketDeclineReason = (typeof TICKET_DECLINE_REASONS)[number];

/** A selection's liability key: currency, event, market, selection (JSON: no separator can collide). */
export interface SelectionRef {
  currency: string;
  event: string;
  market: string;
  selection: string;
}

export function selectionKey(ref: SelectionRef): string {
  return JSON.stringify([ref.currency, ref.event, ref.market, ref.selection]);
}

/** The selections of a ticket as liability keys, sorted (lock order: concurrent tickets never deadlock). */
export function ticketSelections(ticket: TicketAuthorization): SelectionRef[] {
  return ticket.selections
    .map((x) => ({ currency: ticket.currency, event: x.event, market: x.market, selection: x.selection }))
    .sort((a, b) => (selectionKey(a) < selectionKey(b) ? -1 : selectionKey(a) > selectionKey(b) ? 1 : 0));
}

export type TicketDecision =
  | { status: 'approved'; potentialPayout: number; selections: SelectionRef[] }
  | { status: 'declined'; reason: TicketDeclineReason; message: string; potentialPayout: number };

/**
 * Decides a ticket against the configuration and the liability already
 * held on its selections (`held`, by selectionKey; absent is 0).
 */
export function decideTicket(
  ticket: TicketAuthorization,
  config: BettingConfig | null,
  held: ReadonlyMap<string, number>,
): TicketDecision {
  const payout = potentialPayout(
    ticket.stake,
    ticket.selections.map((x) => x.odds),
  );
  const decline = (reason: TicketDeclineReason, message: string): TicketDecision => ({
    status: 'declined',
    reason,
    message,
    potentialPayout: payout,
  });
  if (config === null) return decline('betting_not_configured', 'no betting limits are configured on this server');
  const limits = config.limits.find((l) => l.currency === ticket.currency);
  if (!limits) return decline('currency_not_offered', `no betting limits for currency ${ticket.currency}`);
  const events = new Set(config.suspended.events);
  const markets = new Set(config.suspended.markets.map((m) => JSON.stringify([m.event, m.market])));
  for (const x of ticket.selections) {
    if (events.has(x.event)) return decline('event_suspended', `event ${x.event} is suspended`);
  }
  for (const x of ticket.selections) {
    if (markets.has(JSON.stringify([x.event, x.market]))) {
      return decline('market_suspended', `market ${x.market} of event ${x.event} is suspended`);
    }
  }
  if (ticket.stake < limits.minStake) {
    return decline('stake_below_min', `stake ${ticket.stake} is below the minimum ${limits.minStake}`);
  }
  if (ticket.stake > limits.maxStake) {
    return decline('stake_above_max', `stake ${ticket.stake} is above the maximum ${limits.maxStake}`);
  }
  if (payout > limits.maxPayout) {
    return decline('payout_above_max', `potential payout ${payout} is above the maximum ${limits.maxPayout}`);
  }
  const selections = ticketSelections(ticket);
  for (const ref of selections) {
    const now = held.get(selectionKey(ref)) ?? 0;
    if (now + payout > limits.selectionLiabilityCap) {
      return decline(
        'liability_cap',
        `selection ${ref.selection} of ${ref.event}/${ref.market} holds ${now} ${ticket.currency}; ` +
          `${payout} more would pass the cap of ${limits.selectionLiabilityCap}`,
      );
    }
  }
  return { status: 'approved', potentialPayout: payout, selections };
}
