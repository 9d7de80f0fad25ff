/**
 * A cash movement in or out of a drawer, as the server projects it.
 */
export interface CashMovementRecord {
  opId: string;
  device: string;
  seq: number;
  shiftId: string;
  currency: string;
  direction: 'in' | 'out';
  reason: string;
  amount: number;
  deviceAt: number;
  appliedAt: number;
}
