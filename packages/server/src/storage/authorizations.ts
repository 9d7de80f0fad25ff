/**
 * Online authorizations as stored (POST /v1/authorize; server/src/authorize/):
 * one row per op id, the terminal's idempotency key. Shared by every
 * backend, with the pure decisions they apply inside their transactions.
 *
 *   card:   begin (pending) ──processor answered──▶ approved | declined
 *                 │ outcome unknown: stays pending; the next request
 *                 ▼ with the same op id asks the processor by key first
 *   ticket: decided in ONE transaction with the liability rows locked:
 *           approved (liability added) | declined
 *
 * A final row never changes again.
 */
import type { OnlineRequest } from '@holdfast/protocol';
import type { BettingConfig, BettingConfigRecord, SelectionLiability } from '../authorize/betting-config.js';
import { decideTicket, type SelectionRef, selectionKey } from '../authorize/ticket-rules.js';
import type { AuthorizationRecord } from '../model/authorization.js';
import type { TicketRecord } from '../model/ticket.js';

export type { BettingConfig, BettingConfigRecord, SelectionLiability };

/**
 * The ticket decision written for `pending` (a new row), given the config
 * and the liability held on its selections: the final row, and the
 * liability to add per selection (empty for a decline).
 */
export function decidePendingTicket(
  pending: AuthorizationRecord,
  config: BettingConfig | null,
  held: ReadonlyMap<string, number>,
  now: number,
): { record: AuthorizationRecord; adds: { ref: SelectionRef; key: string; amount: number }[] } {
  if (pending.request.kind !== 'ticket') throw new Error('decidePendingTicket: not a ticket request');
  const decision = decideTicket(pending.request, config, held);
  if (decision.status === 'declined') {
    return {
      record: {
        ...pending,
        status: 'declined',
        reason: decision.reason,
        message: decision.message,
        potentialPayout: decision.potentialPayout,
        decidedAt: now,
      },
      adds: [],
    };
  }
  return {
    record: { ...pending, status: 'approved', potentialPayout: decision.potentialPayout, decidedAt: now },
    adds: decision.selections.map((ref) => ({ ref, key: selectionKey(ref), amount: decision.potentialPayout })),
  };
}

/** A stored row (either backend; `request` is JSON text on SQLite, an object on PostgreSQL). */
type Row = Record<string, unknown>;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function toAuthorization(r: Row): AuthorizationRecord {
  return {
    opId: r.op_id as string,
    device: r.device as string,
    kind: r.kind as AuthorizationRecord['kind'],
    requestHash: r.request_hash as string,
    request: (typeof r.request === 'string' ? JSON.parse(r.request) : r.request) as OnlineRequest,
    status: r.status as AuthorizationRecord['status'],
    authorizationId: r.authorization_id as string,
    reason: (r.reason as string | null) ?? null,
    message: (r.message as string | null) ?? null,
    amount: Number(r.amount),
    currency: r.currency as string,
    potentialPayout: num(r.potential_payout),
    processorId: (r.processor_id as string | null) ?? null,
    createdAt: Number(r.created_at),
    decidedAt: num(r.decided_at),
  };
}

/** Column values in INSERT order (op_id … decided_at). */
export function authorizationValues(a: AuthorizationRecord): unknown[] {
  return [
    a.opId,
    a.device,
    a.kind,
    a.requestHash,
    JSON.stringify(a.request),
    a.status,
    a.authorizationId,
    a.reason,
    a.message,
    a.amount,
    a.currency,
    a.potentialPayout,
    a.processorId,
    a.createdAt,
    a.decidedAt,
  ];
}

/** The ticket an approved ticket authorization accepts (its id is the op id of its `ticket.issued`). */
export function acceptedTicketOf(a: AuthorizationRecord, now: number): TicketRecord {
  if (a.request.kind !== 'ticket' || a.status !== 'approved' || a.potentialPayout === null) {
    throw new Error('acceptedTicketOf: not an approved ticket authorization');
  }
  return {
    ticketId: a.opId,
    device: a.device,
    authorizationId: a.authorizationId,
    currency: a.request.currency,
    stake: a.request.stake,
    potentialPayout: a.potentialPayout,
    selections: a.request.selections,
    acceptedAt: now,
    state: 'accepted',
    payout: null,
    settledAt: null,
  };
}
