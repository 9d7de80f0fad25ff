/**
 * Cash corrections (docs/corrections.md, "Cash corrections"): each
 * `cash.corrected` op as recorded against the `cash.moved` it names, so
 * that a movement is never corrected for more than it moved, across all
 * its corrections.
 */

export interface CashCorrectionRecord {
  opId: string;
  /** Id of the `cash.moved` op corrected (it may be unknown to the server: the row still counts). */
  movement: string;
  device: string;
  seq: number;
  shiftId: string;
  currency: string;
  direction: 'in' | 'out';
  /** Cash moved back, minor units. */
  amount: number;
  deviceAt: number;
  recordedAt: number;
}

/** A stored cash movement, as a correction is judged against it. */
export interface CashMovementFact {
  id: string;
  device: string;
  shift: string;
  currency: string;
  direction: 'in' | 'out';
  amount: number;
  /** The movement's reason (float_in, paid_out, ...): the account its correction reverses. */
  reason: string;
}

/** What ingest knows of the movements a batch's corrections name, and their corrections stored before. */
export interface CashCorrectionFacts {
  movements: ReadonlyMap<string, CashMovementFact>;
  /** Each movement's corrections stored, in record order. */
  corrections: ReadonlyMap<string, readonly CashCorrectionRecord[]>;
}
