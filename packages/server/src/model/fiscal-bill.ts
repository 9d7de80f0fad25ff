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
  /** The jurisdiction of the bill's location when it was enrolled (FISCAL_JURISDICTIONS), or null: the server's default. */
  jurisdiction: string | null;
  /** The bill's registration deadline, ms from its issue; null: the server's default (--fiscal-deadline-hours). */
  deadlineMs: number | null;
  /** 0, then 1, 2 … after each resubmission by an operator (the idempotency key's suffix: fiscalSubmissionKey). */
  submission: number;
  /** The seller tax id an operator corrected for a resubmission; null: the server's (--fiscal-tax-id). */
  sellerTaxId: string | null;
  /** True when the authority refused it for good (nothing registered; no retry): a fiscal_refused alarm. */
  refused: boolean;
  /** How an operator settled a rejected bill for good: cancelled (with a credit note), non_fiscal (accepted without a number); null otherwise. */
  resolution: FiscalResolution | null;
}

export type FiscalResolution = 'cancelled' | 'non_fiscal';

/**
 * Registration deadlines per jurisdiction, hours from the bill's issue.
 * ILLUSTRATIVE ONLY: each figure is a simplification of a rule that has
 * exceptions, changes over time and varies by taxpayer; a deployment
 * must check its own (docs/e-invoicing.md, "Per-jurisdiction deadlines").
 */
export const FISCAL_JURISDICTIONS: Readonly<Record<string, { name: string; deadlineHours: number }>> = Object.freeze({
  MX: { name: 'Mexico, CFDI', deadlineHours: 72 },
  IN: { name: 'India, IRN', deadlineHours: 24 },
  BR: { name: 'Brazil, NFC-e (contingency)', deadlineHours: 24 },
  CO: { name: 'Colombia, DIAN (contingency)', deadlineHours: 48 },
});

/** The jurisdiction set for a location by an operator. */
export interface FiscalJurisdictionSetting {
  location: string;
  jurisdiction: string;
  setBy: string;
  setAt: number;
}

/** Operators' actions on a rejected (or refused) bill (docs/e-invoicing.md, "Rejected bills"). */
export const FISCAL_BILL_ACTIONS = ['resubmit', 'cancel', 'non_fiscal'] as const;
export type FiscalBillActionKind = (typeof FISCAL_BILL_ACTIONS)[number];

export interface FiscalBillActionRequest {
  /** The action's id (fiscal_bill_actions), also the base of the exception actions it records. */
  id: string;
  opId: string;
  action: FiscalBillActionKind;
  note: string;
  /** resubmit only: the corrected seller tax id (null: as before). */
  sellerTaxId: string | null;
  by: string;
  at: number;
}

/** One audited action on a bill, as stored (append-only). */
export interface FiscalBillAction {
  id: string;
  opId: string;
  action: FiscalBillActionKind;
  note: string;
  /** What the bill was before: its rejection, submission, and the correction. */
  data: Record<string, unknown>;
  by: string;
  at: number;
}

export type FiscalBillActionResult =
  | { kind: 'done'; bill: FiscalBill; actions: FiscalBillAction[]; creditNote: string | null }
  | { kind: 'not_found' }
  | { kind: 'not_rejected'; bill: FiscalBill };

/** Why a credit note is issued: a correction op of the sale, or an operator's cancellation of a rejected bill. */
export type FiscalCreditReason = 'sale.refunded' | 'sale.voided' | 'wallet.refunded' | 'cancel';

/**
 * A credit note: money given back on a bill (a refund or void of its
 * sale), or the cancellation of a rejected bill, registered with the
 * authority after its bill, through its own outbox (fiscal_credit_notes).
 */
export interface FiscalCreditNote {
  /** The correction op's id, or `cancel-<bill op id>`. */
  opId: string;
  billOpId: string;
  reason: FiscalCreditReason;
  device: string;
  issuedAt: number;
  currency: string;
  /** Money credited, minor units (> 0). */
  total: number;
  enrolledAt: number;
  state: FiscalBillState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  claimedBy: string | null;
  claimExpiresAt: number | null;
  fiscalNumber: string | null;
  fiscalSequence: number | null;
  registeredAt: number | null;
  rejectCode: string | null;
  rejectReason: string | null;
  /** The bill's fiscal number (null for a cancelled bill, which has none) and provisional number. */
  billFiscalNumber: string | null;
  billProvisionalNumber: string;
  /** The seller tax id an operator corrected on the bill (the note goes with it), or null: the server's. */
  billSellerTaxId: string | null;
}

/** A permanent refusal: the authority will never accept the document as sent; nothing registered. */
export interface FiscalRefusalRequest {
  opId: string;
  owner: string;
  code: string;
  reason: string;
  at: number;
  exceptionId: string;
}

export interface FiscalDeadlineQuery {
  now: number;
  /** The default registration deadline, ms from the bill's issue (a bill with its jurisdiction's deadline uses that). */
  deadlineMs: number;
  /** A warning once this much of it has passed, ms (a bill with its own deadline: the same share of it). */
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

/** What recording an answer for a credit note did (as FiscalRecordResult for a bill). */
export type FiscalNoteRecordResult =
  | { kind: 'recorded'; note: FiscalCreditNote }
  | { kind: 'same'; note: FiscalCreditNote }
  | { kind: 'conflict'; note: FiscalCreditNote }
  | { kind: 'unknown_bill' };
