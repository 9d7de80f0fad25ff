/**
 * The rules of a cash correction (docs/corrections.md, "Cash corrections"),
 * shared by the till, which refuses what breaks them, and the server, which
 * raises an exception for a fact recorded offline that broke them (the fact
 * stands).
 *
 * Policy: a `cash.moved` recorded wrongly is never edited. A
 * `cash.corrected` names it and moves cash the opposite way, on the till
 * that recorded the movement (the drawer it moved), in the movement's
 * currency, for at most what the movement moved less what its earlier
 * corrections moved back. It is recorded in the shift open at the time, so
 * its drawer effect lands in that shift's expected cash.
 */
import { formatMoney } from '@holdfast/protocol';

/** A `cash.moved` as a correction is judged against it. */
export interface CashMovementRef {
  id: string;
  /** The device that recorded it. */
  device: string;
  currency: string;
  direction: 'in' | 'out';
  amount: number;
}

/** A correction as judged: what it names, where it was recorded and how much it moves back. */
export interface CashCorrectionRef {
  movement: string;
  device: string;
  currency: string;
  direction: 'in' | 'out';
  amount: number;
}

export interface CashCorrectionProblem {
  code: 'cash_correction_invalid' | 'cash_correction_over';
  message: string;
}

/** What is left of `movement` to correct after `correctedBefore` moved back. */
export function cashCorrectableLeft(movement: CashMovementRef, correctedBefore: number): number {
  return Math.max(0, movement.amount - correctedBefore);
}

/**
 * What `next` breaks, given its movement (undefined: unknown) and the amount
 * its earlier corrections moved back. Empty when it is within the rules.
 */
export function cashCorrectionProblems(
  movement: CashMovementRef | undefined,
  correctedBefore: number,
  next: CashCorrectionRef,
): CashCorrectionProblem[] {
  if (movement === undefined) {
    return [{ code: 'cash_correction_invalid', message: `cash movement ${next.movement} is unknown` }];
  }
  const problems: CashCorrectionProblem[] = [];
  if (movement.device !== next.device) {
    problems.push({
      code: 'cash_correction_invalid',
      message: `the movement was recorded on device ${movement.device}: only that till's drawer is corrected`,
    });
  }
  if (movement.direction === next.direction) {
    problems.push({
      code: 'cash_correction_invalid',
      message: `the movement moved cash ${movement.direction}: its correction moves it ${movement.direction === 'in' ? 'out' : 'in'}`,
    });
  }
  if (movement.currency !== next.currency) {
    problems.push({
      code: 'cash_correction_invalid',
      message: `the movement was in ${movement.currency}, not ${next.currency}`,
    });
    return problems;
  }
  const money = (n: number) => formatMoney(n, next.currency);
  if (next.amount > cashCorrectableLeft(movement, correctedBefore)) {
    problems.push({
      code: 'cash_correction_over',
      message:
        correctedBefore > 0
          ? `${money(next.amount)} is above what is left of the movement (${money(movement.amount)}, ${money(correctedBefore)} corrected before)`
          : `${money(next.amount)} is above the movement (${money(movement.amount)})`,
    });
  }
  return problems;
}
