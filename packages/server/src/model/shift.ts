/**
 * A till shift as the server projects it from shift.opened, sales, cash movements and shift.closed.
 */
import type { Shift } from '@holdfast/domain';

/** A shift as projected on the server. */
export interface ShiftRecord extends Shift {
  device: string;
  openedAt: number;
  closedAt: number | null;
  expectedCash: number | null;
  variance: number | null;
}
