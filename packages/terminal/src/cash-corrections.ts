/**
 * Cash corrections at the till (docs/corrections.md, "Cash corrections"):
 * a `cash.moved` recorded wrongly is corrected by a `cash.corrected` that
 * moves cash the opposite way in the shift open now. The terminal refuses,
 * before anything is written, what it can see is wrong from its own
 * journal, with the same rules as the server (domain cash-correction.ts):
 * a movement this till did not record, or more than is left of it after
 * the corrections this till recorded.
 */
import { type CashMovementRef, cashCorrectableLeft, cashCorrectionProblems, type Shift } from '@holdfast/domain';
import { type CashCorrectedBody, type CashMovedBody, parseBody } from '@holdfast/protocol';
import { CorrectionRefusedError } from './errors.js';
import type { Journal } from './journal.js';

export interface CashCorrectionInput {
  /** Id of the `cash.moved` op corrected (recorded on this till). */
  movement: string;
  /** Cash moved back; absent: all that is left of the movement. */
  amount?: number;
  /** What was wrong with the movement. */
  reason: string;
}

/** The movement `id` as this journal recorded it, or null. */
function movementHere(journal: Journal, id: string): CashMovementRef | null {
  const entry = journal.getOp(id);
  if (entry?.kind !== 'cash.moved') return null;
  const body = entry.op.body as CashMovedBody;
  return { id, device: entry.op.device, currency: body.currency, direction: body.direction, amount: body.amount };
}

/** What this journal's corrections of `movement` moved back. */
function correctedHere(journal: Journal, movement: string): number {
  const rows = journal
    .prepare(
      `SELECT json_extract(envelope, '$.body.amount') AS amount FROM ops
       WHERE kind = 'cash.corrected' AND json_extract(envelope, '$.body.movement') = ?`,
    )
    .all(movement) as { amount: number }[];
  return rows.reduce((sum, r) => sum + Number(r.amount), 0);
}

/** The body of a correction of `input.movement` in `shift`, refused as the till would refuse it. */
export function cashCorrectionBody(
  journal: Journal,
  device: string,
  shift: Shift,
  input: CashCorrectionInput,
): CashCorrectedBody {
  const movement = movementHere(journal, input.movement);
  if (movement === null) {
    throw new CorrectionRefusedError(
      'cash_correction_invalid',
      `cash movement ${input.movement} is not one this till recorded: only its own movements are corrected here`,
    );
  }
  const before = correctedHere(journal, movement.id);
  const left = cashCorrectableLeft(movement, before);
  if (input.amount === undefined && left === 0) {
    throw new CorrectionRefusedError(
      'cash_correction_over',
      `cash movement ${movement.id} is corrected in full already`,
    );
  }
  const body = parseBody('cash.corrected', {
    shift: shift.id,
    currency: shift.currency,
    movement: movement.id,
    direction: movement.direction === 'in' ? 'out' : 'in',
    amount: input.amount ?? left,
    reason: input.reason,
  });
  const [problem] = cashCorrectionProblems(movement, before, { ...body, device });
  if (problem) throw new CorrectionRefusedError(problem.code, problem.message);
  return body;
}
