/**
 * The store summary an operator reads for a quick look.
 */
export interface SalesSummary {
  currency: string;
  sales: number;
  total: number;
  cash: number;
  card: number;
}

export interface StoreSummary {
  devices: number;
  revokedDevices: number;
  opsAccepted: number;
  opsRejected: number;
  ledgerEvents: number;
  sales: SalesSummary[];
  openShifts: number;
  closedShifts: number;
  exceptions: Record<string, number>;
}
