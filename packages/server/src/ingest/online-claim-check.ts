/**
 * The online claim check: why an accepted op's claim of an online approval
 * does not hold, for every op kind. Sales and tickets are the kinds the
 * server authorizes online (POST /v1/authorize): their claims are checked
 * against the authorization stored under the op's id (onlineProblem). Any
 * other kind claiming (but `ticket.paid`, whose applier checks it against
 * the payout stored with its ticket) an online approval was never charged or checked by
 * anyone, like a claim the server never gave.
 */
import type { Op, OpBodies, OpKind, SaleBody, TicketIssuedBody } from '@holdfast/protocol';
import { type AuthorizationFact, claimsOnline, onlineProblem } from '../authorize/online-verification.js';

export function onlineClaimProblem(
  op: Op,
  body: OpBodies[OpKind],
  device: string,
  fact: AuthorizationFact | undefined,
): string | null {
  if (op.kind === 'sale.recorded' || op.kind === 'ticket.issued') {
    return claimsOnline(op) ? onlineProblem(op, body as SaleBody | TicketIssuedBody, device, fact) : null;
  }
  // A payout's online claim is checked by its applier, against the payout stored with the ticket.
  if (op.kind === 'ticket.paid') return null;
  if (op.decision.mode !== 'online' || op.decision.outcome !== 'approved') return null;
  return `op kind ${op.kind} is never authorized online, yet claims it was`;
}
