/**
 * A sale as the server projects it (one row per accepted sale.recorded).
 */
export interface SaleRecord {
  opId: string;
  device: string;
  seq: number;
  shiftId: string;
  currency: string;
  total: number;
  cash: number;
  card: number;
  lines: number;
  deviceAt: number;
  appliedAt: number;
}
