/**
 * Fiscal bills (docs/e-invoicing.md): each accepted sale, as the server
 * registers it with the tax authority. `pending` until the authority's
 * answer is recorded, then `registered` (with its fiscal number, once,
 * never replaced) or `rejected` (an alarm for operators).
 */
export type FiscalBillState = 'pending' | 'registered' | 'rejected';

export interface FiscalBill {
  opId: string;
  device: string;
  seq: number;
  /** Device clock when the sale was recorded. */
  issuedAt: number;
  currency: string;
  total: number;
  lines: number;
  provisionalNumber: string;
  enrolledAt: number;
  state: FiscalBillState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  claimedBy: string | null;
  claimExpiresAt: number | null;
  fiscalNumber: string | null;
  /** The authority's sequence of the fiscal number (increasing in registration order). */
  fiscalSequence: number | null;
  registeredAt: number | null;
  rejectCode: string | null;
  rejectReason: string | null;
  /** Deadline stage already raised for this bill (fiscal_deadline), or null. */
  deadlineStage: 'warning' | 'missed' | null;
}

export interface FiscalDeadlineQuery {
  now: number;
  /** The jurisdiction's registration deadline, ms from the bill's issue. */
  deadlineMs: number;
  /** A warning once this much of it has passed, ms. */
  warnAfterMs: number;
  /** Bills judged per call at most: one exception id each (plain data: the query may cross to a storage thread). */
  exceptionIds: readonly string[];
}

/** The authority's final answer for a bill, as the submitter records it. */
export type FiscalOutcome =
  | { status: 'registered'; fiscalNumber: string; sequence: number; registeredAt: number }
  | { status: 'rejected'; rejectCode: string; reason: string; registeredAt: number };

export interface FiscalAnswerRequest {
  opId: string;
  outcome: FiscalOutcome;
  /** Server time of recording. */
  at: number;
  /** Id of the exception this may raise. */
  exceptionId: string;
}

/**
 * What recording an answer did: `recorded` (first answer), `same` (the
 * same answer again: nothing changes), `conflict` (a different answer for
 * a bill already answered: the first kept, an alarm raised), `unknown_bill`
 * (no such bill: nothing stored). `outOfOrder` when the fiscal number is
 * lower than one the device's earlier bill got (a warning raised).
 */
export type FiscalRecordResult =
  | { kind: 'recorded'; bill: FiscalBill; outOfOrder: boolean }
  | { kind: 'same'; bill: FiscalBill }
  | { kind: 'conflict'; bill: FiscalBill }
  | { kind: 'unknown_bill' };

export interface FiscalDeferRequest {
  opId: string;
  owner: string;
  attempts: number;
  nextAttemptAt: number;
  error: string;
}
