/**
 * The one place the terminal attaches an approver to an op that needs one
 * (today a ticket void). Staff sign-in and supervisor approval at the till
 * are being built on another branch; until then the approver is a staff id
 * the caller passes, put in the op body as `approvedBy`. The integrator
 * moves this onto the staff mechanism (the envelope's actor) here.
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
