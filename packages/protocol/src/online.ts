/**
 * Online authorization: what a terminal asks the server in real time before
 * it records an op that must not happen offline (a card charge authorized
 * now, a betting ticket), and what the server answers (docs/protocol.md,
 * "POST /v1/authorize").
 *
 * The terminal generates the op id (UUIDv7) and makes a pending
 * authorization durable BEFORE it asks; the op id is the idempotency key of
 * the question forever. The same op id with the same `request` gets the
 * stored answer (never a second charge, never a second ticket liability);
 * the same op id with another request is refused (`op_id_reused`).
 */

import { checkTicketSelections, currencyCode, TICKET_FIELDS } from './bet.js';
import { canonicalHash } from './hash.js';
import { MAX_AMOUNT } from './money.js';
import { epochMs, uuid } from './op.js';
import { CARD_FIELDS } from './op-kinds.js';
import * as s from './schema.js';
import { SIGNATURE_PATTERN } from './signature-patterns.js';

/** A card charge the terminal wants authorized now (the processor decides). */
export const cardAuthorizationSchema = s.object({
  kind: s.literal('card'),
  amount: s.int({ min: 1, max: MAX_AMOUNT }),
  currency: currencyCode(),
  ...CARD_FIELDS,
});

/** A betting ticket the terminal wants accepted (the server's real-time risk rules decide). */
export const ticketAuthorizationSchema = s.refine(
  s.object({ kind: s.literal('ticket'), ...TICKET_FIELDS }),
  checkTicketSelections,
);

/**
 * Paying a settled ticket, confirmed in real time (docs/betting.md): the
 * server pays each ticket once; a second payout is declined with the first
 * one's receipt (`firstPayout`).
 */
export const payoutAuthorizationSchema = s.object({
  kind: s.literal('payout'),
  /** Id of the ticket's `ticket.issued` op. */
  ticket: uuid(),
  /** The settled payout the terminal means to pay, minor units. */
  amount: s.int({ min: 1, max: MAX_AMOUNT }),
  currency: currencyCode(),
});
export type PayoutAuthorization = s.Infer<typeof payoutAuthorizationSchema>;

export const onlineRequestSchema = s.taggedUnion('kind', {
  card: cardAuthorizationSchema,
  ticket: ticketAuthorizationSchema,
  payout: payoutAuthorizationSchema,
});
export type OnlineRequest = s.Infer<typeof onlineRequestSchema>;
export type CardAuthorization = s.Infer<typeof cardAuthorizationSchema>;
export type TicketAuthorization = s.Infer<typeof ticketAuthorizationSchema>;

/** The body of `POST /v1/authorize`. */
export const authorizeRequestSchema = s.object({
  device: uuid(),
  /** The op id the terminal generated and made durable before asking: the idempotency key. */
  opId: uuid(),
  /** Device clock when asked (evidence; part of the signed message). */
  at: epochMs(),
  /** Signature over authorizeMessage(device, opId, at, request). */
  sig: s.string({
    minLength: 86,
    maxLength: 86,
    pattern: SIGNATURE_PATTERN,
    patternRule: 'Ed25519 signature, base64url (86 characters)',
  }),
  request: onlineRequestSchema,
});
export type AuthorizeRequest = s.Infer<typeof authorizeRequestSchema>;

/** What a signature on `POST /v1/authorize` covers: the device asks about op `opId`, at device time `at`. */
export function authorizeMessage(device: string, opId: string, at: number, request: OnlineRequest) {
  return { ctx: 'holdfast.authorize.v1', device, opId, at, request } as const;
}

/** The hash that tells a retry (same request) from a reused op id (another request). */
export function onlineRequestHash(request: OnlineRequest): string {
  return canonicalHash(request);
}

export const AUTHORIZE_STATUSES = ['approved', 'declined', 'pending'] as const;
export type AuthorizeStatus = (typeof AUTHORIZE_STATUSES)[number];

/** The server's answer to `POST /v1/authorize`. */
export interface AuthorizeResponse {
  opId: string;
  kind: OnlineRequest['kind'];
  /**
   * approved: record the op now, with this op id and decision online/approved.
   * declined: final; record nothing. pending: the outcome is not known yet
   * (the processor did not answer in time); ask again with the same op id.
   */
  status: AuthorizeStatus;
  /** The server's authorization id (approved only); a ticket op carries it as `authorization`. */
  authorizationId?: string;
  /** Why it was declined (declined only), e.g. `liability_cap` or a processor decline code. */
  reason?: string;
  /** Human-readable detail of a decline. */
  message?: string;
  /** Ticket only: stake × Π odds, what the ticket op records. */
  potentialPayout?: number;
  /** Payout declined because the ticket was paid already: the receipt of the payout that was made. */
  firstPayout?: PayoutReceipt;
  /** True when this answer was stored before (an earlier request with the same op id). */
  replayed: boolean;
  serverTime: number;
}

/** The receipt of a ticket's payout: who paid it, when, how much. */
export interface PayoutReceipt {
  ticket: string;
  /** The payout op's id. */
  opId: string;
  device: string;
  amount: number;
  currency: string;
  /** Server time the payout was confirmed (online) or ingested (offline). */
  at: number;
  /** online: confirmed through POST /v1/authorize; offline: recorded at the shop's risk. */
  mode: 'online' | 'offline';
}
