/** Ledger events applied (server clock) at or after `from` and before `to`, epoch ms: the ledger search by time. */
export interface LedgerRange {
  from: number;
  to: number;
}
