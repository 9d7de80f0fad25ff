/**
 * The applier of `cash.corrected`: a `cash.moved` recorded wrongly, undone
 * in whole or part by cash moved the opposite way (docs/corrections.md,
 * "Cash corrections"). The cash moves in the drawer of the shift it names
 * (shift reducer); moving out more than the drawer should hold is applied
 * and raised as `insufficient_cash`. The correction is judged against its
 * movement and the corrections before it, and its approval (a supervisor,
 * neither the shift's clerk nor the staff member who recorded it). What it
 * breaks is raised; the fact stands.
 */
import { expectedCash } from '@holdfast/domain';
import { type CashCorrectedBody, formatMoney, type Op } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';
import { approvalProblem, approverOf } from '../approval.js';

export function applyCashCorrected(op: Op, body: CashCorrectedBody, ctx: ApplyContext): void {
  const shift = ctx.requireShift(op, body.shift, 'cash correction');
  if (shift) {
    const held = expectedCash(shift);
    const moved = ctx.applyShift(op, shift, 'cash.corrected', body);
    if (moved && body.direction === 'out' && held < body.amount) {
      ctx.shiftRule(
        op,
        'insufficient_cash',
        `drawer held ${formatMoney(held, body.currency)}, ${formatMoney(body.amount, body.currency)} moved out`,
      );
    }
  }
  const approver = approverOf(op);
  ctx.ledger(op, op.kind, body.shift, body.currency, body.amount, {
    movement: body.movement,
    direction: body.direction,
    reason: body.reason,
    movementReason: ctx.cashCorrections.movementReason(body.movement),
    approvedBy: approver,
  });
  const problem =
    approvalProblem(op, shift?.clerk ?? null) ??
    (approver !== null && approver === op.actor?.staff
      ? `cash.corrected was approved by ${approver}, who recorded it; another supervisor must approve`
      : null);
  ctx.cashCorrections.correct(op, body, problem === null ? [] : [problem]);
}
