/**
 * The approval an op records, read in one place for the appliers.
 *
 * Which kinds need whose approval is STAFF_RULES (domain/src/staff-rules.ts),
 * shared with the terminal. Whether the approver really had that role at
 * that location at that time is the staff check at ingest (staff-check.ts,
 * for locations with a roster). What holds everywhere, roster or not, is
 * checked here: an op that needs an approval names an approver, and the
 * approver is not the clerk who recorded it.
 */
import { approvalNeeded } from '@holdfast/domain';
import type { Op, OpBodies, OpKind } from '@holdfast/protocol';

/** The staff id that approved `op`, or null if it carries none. */
export function approverOf(op: Op): string | null {
  if (op.actor?.approvedBy) return op.actor.approvedBy;
  // Tills before the staff envelope named the approver in the void's body.
  const approvedBy = op.body.approvedBy;
  return typeof approvedBy === 'string' && approvedBy.length > 0 ? approvedBy : null;
}

/**
 * Why `op`'s approval does not hold, or null: a kind that needs one must
 * name an approver, and the approver cannot be the clerk who recorded it
 * (`clerk`, the shift's clerk, when known).
 */
export function approvalProblem(op: Op, clerk: string | null): string | null {
  const kind = op.kind as OpKind;
  const role = approvalNeeded(kind, op.body as OpBodies[typeof kind]);
  if (role === null) return null;
  const approver = approverOf(op);
  if (approver === null) return `${op.kind} needs a ${role}'s approval and names no approver`;
  if (clerk !== null && approver === clerk) {
    return `${op.kind} was approved by ${approver}, the clerk who recorded it; a ${role} must approve`;
  }
  return null;
}
