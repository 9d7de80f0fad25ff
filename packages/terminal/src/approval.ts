/**
 * The approver named in a ticket void's body (`approvedBy`). Where the
 * till's location has a staff roster, the void also needs a supervisor's
 * PIN-verified approval (`terminal.approve`, STAFF_RULES), which the
 * recorder stamps on the envelope's `actor`; the body's name is what a till
 * without a roster has, and the server reads the envelope's approver first
 * (server/src/ingest/approval.ts).
 */
import { VoidRefusedError } from './errors.js';

/** `body` with `approvedBy` set; refuses a missing approver or the clerk approving their own op. */
export function withApproval<B extends object>(
  body: B,
  approvedBy: string | undefined,
  clerk: string,
): B & { approvedBy: string } {
  if (typeof approvedBy !== 'string' || approvedBy.length === 0) {
    throw new VoidRefusedError("a ticket void needs a supervisor's approval (approvedBy)");
  }
  if (approvedBy === clerk) {
    throw new VoidRefusedError(`${approvedBy} is the clerk of this shift; another supervisor must approve`);
  }
  return { ...body, approvedBy };
}
