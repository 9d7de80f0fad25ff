/**
 * The applier of `shift.opened`: a new open shift named by the op's id. A
 * shift of the device still open is a broken rule (raised once per such
 * shift), not a reason to refuse the fact.
 */
import { openShift } from '@holdfast/domain';
import type { Op, ShiftOpenedBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';

export function applyShiftOpened(op: Op, body: ShiftOpenedBody, ctx: ApplyContext): void {
  for (const other of ctx.openShifts()) {
    ctx.shiftRule(op, 'shift_already_open', `shift ${other.id} was still open when shift ${op.id} opened`);
  }
  ctx.addShift({
    ...openShift(op.id, body),
    device: ctx.device.id,
    openedAt: op.at,
    closedAt: null,
    expectedCash: null,
    variance: null,
  });
  ctx.ledger(op, op.kind, op.id, body.currency, body.openingFloat, { clerk: body.clerk });
}
