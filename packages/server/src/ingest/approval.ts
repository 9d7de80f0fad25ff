/**
 * Approvals at the till, behind one function: which op kinds need a
 * supervisor's approval, and who approved an op.
 *
 * Staff identities (who is a supervisor, at which location, when) are being
 * built on another branch; until they land, an op that needs approval
 * carries the approver's staff id in its body (`approvedBy`), and an
 * envelope field `actor: { staff, approvedBy }` is read first if present.
 * The integrator moves `approverOf` onto the staff mechanism and adds the
 * role check (the approver existed, was a supervisor at that location at
 * that time) here; the appliers only call `approvalProblem`.
 */
import type { Op, OpKind } from '@holdfast/protocol';

/** The role an approver of each kind must have. */
export const REQUIRES_APPROVAL: Partial<Record<OpKind, 'supervisor'>> = {
  'ticket.voided': 'supervisor',
};

/** The staff id that approved `op`, or null if it carries none. */
export function approverOf(op: Op): string | null {
  const actor = (op as { actor?: { approvedBy?: unknown } }).actor;
  if (actor && typeof actor.approvedBy === 'string' && actor.approvedBy.length > 0) return actor.approvedBy;
  const approvedBy = op.body.approvedBy;
  return typeof approvedBy === 'string' && approvedBy.length > 0 ? approvedBy : null;
}

/**
 * Why `op`'s approval does not hold, or null: a kind that needs one must
 * name an approver, and the approver cannot be the clerk who recorded it
 * (`clerk`, the shift's clerk, when known).
 */
export function approvalProblem(op: Op, clerk: string | null): string | null {
  const role = REQUIRES_APPROVAL[op.kind as OpKind];
  if (role === undefined) return null;
  const approver = approverOf(op);
  if (approver === null) return `${op.kind} needs a ${role}'s approval and names no approver`;
  if (clerk !== null && approver === clerk) {
    return `${op.kind} was approved by ${approver}, the clerk who recorded it; a ${role} must approve`;
  }
  return null;
}
