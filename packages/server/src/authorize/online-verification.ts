/**
 * Checks, at ingest, that an op claiming an online approval matches one the
 * server gave (pure: the planner calls it with the authorization loaded as
 * a fact). An op that fails is still stored — it is a fact the terminal
 * recorded — but raises an `online_unverified` alarm: a tampered or broken
 * terminal, or one that printed a ticket the server never accepted.
 */
import {
  type Decision,
  type OnlineRequest,
  onlineRequestHash,
  type SaleBody,
  type TicketIssuedBody,
} from '@holdfast/protocol';
import type { AuthorizationRecord } from '../model/authorization.js';

/** What the planner needs of a stored authorization. */
export type AuthorizationFact = Pick<
  AuthorizationRecord,
  'opId' | 'device' | 'kind' | 'status' | 'requestHash' | 'authorizationId'
>;

/** True if `op` needs its authorization loaded: it claims an online decision, or is a kind that always needs one. */
export function claimsOnline(op: { kind: string; decision: Decision }): boolean {
  return op.decision.mode === 'online' || op.kind === 'ticket.issued';
}

/** The online request a recorded ticket stands for (what the terminal must have asked). */
export function ticketRequestOf(body: TicketIssuedBody): OnlineRequest {
  return { kind: 'ticket', stake: body.stake, currency: body.currency, selections: body.selections };
}

/**
 * Why the op's online claim does not hold, or null if it does (or it makes
 * none). `body` is the parsed body of a `sale.recorded` or `ticket.issued`.
 */
export function onlineProblem(
  op: { id: string; kind: string; decision: Decision },
  body: SaleBody | TicketIssuedBody,
  device: string,
  fact: AuthorizationFact | undefined,
): string | null {
  const approvedOnline = op.decision.mode === 'online' && op.decision.outcome === 'approved';
  if (op.kind === 'ticket.issued' && !approvedOnline) {
    return `ticket.issued recorded with decision ${op.decision.mode}/${op.decision.outcome}; a ticket needs an online approval`;
  }
  if (!approvedOnline) return null;
  if (!fact) return `op claims an online approval but the server never authorized op id ${op.id}`;
  if (fact.device !== device) return `the authorization of op id ${op.id} was given to another device`;
  if (fact.status !== 'approved') return `the authorization of op id ${op.id} is ${fact.status}, not approved`;
  let request: OnlineRequest;
  if (op.kind === 'ticket.issued') {
    const ticket = body as TicketIssuedBody;
    if (fact.kind !== 'ticket') return `op id ${op.id} was authorized as a ${fact.kind}, not a ticket`;
    if (ticket.authorization !== fact.authorizationId) {
      return `ticket carries authorization ${ticket.authorization}, the server approved ${fact.authorizationId}`;
    }
    request = ticketRequestOf(ticket);
  } else if (op.kind === 'sale.recorded') {
    const sale = body as SaleBody;
    if (fact.kind !== 'card') return `op id ${op.id} was authorized as a ${fact.kind}, not a card payment`;
    const cards = sale.tenders.filter((t) => t.type === 'card');
    const card = cards[0];
    if (cards.length !== 1 || card === undefined || card.type !== 'card') {
      return `an online-approved sale must have exactly one card tender, this one has ${cards.length}`;
    }
    request = {
      kind: 'card',
      amount: card.amount,
      currency: sale.currency,
      token: card.token,
      brand: card.brand,
      last4: card.last4,
    };
  } else {
    return `op kind ${op.kind} is never authorized online`;
  }
  if (onlineRequestHash(request) !== fact.requestHash) {
    return `op ${op.id} does not match what the server authorized (amount, currency, card or selections differ)`;
  }
  return null;
}
