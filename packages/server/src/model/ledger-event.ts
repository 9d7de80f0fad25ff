/**
 * The ledger: the append-only record of what every applied op meant for money.
 */
/** One append-only ledger entry. */
export interface LedgerEvent {
  opId: string;
  device: string;
  seq: number;
  type: string;
  shiftId: string | null;
  currency: string | null;
  /** The event's main amount in minor units (a sale's total, a movement's amount), or null. */
  amount: number | null;
  data: Record<string, unknown>;
  /** Device clock when the op was recorded: evidence only. */
  deviceAt: number;
  appliedAt: number;
}
