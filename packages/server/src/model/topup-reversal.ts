/**
 * Wristband top-up reversals (docs/wristbands.md, "Top-up reversal"): each
 * `wallet.topup_reversed` op as recorded against the top-up it names, so
 * that a top-up is never reversed for more than it loaded, across all its
 * reversals, whatever device recorded them.
 */

export interface TopUpReversalRecord {
  opId: string;
  /** Id of the `wallet.topped_up` op reversed (it may be unknown to the server: the row still counts). */
  topup: string;
  device: string;
  seq: number;
  shiftId: string;
  wristband: string;
  currency: string;
  /** Money given back in cash, minor units. */
  amount: number;
  deviceAt: number;
  recordedAt: number;
}

/** A stored top-up, as a reversal is judged against it. */
export interface TopUpFact {
  id: string;
  device: string;
  shift: string;
  wristband: string;
  currency: string;
  amount: number;
  paid: 'cash' | 'card';
}

/** What ingest knows of the top-ups a batch's reversals name, and their reversals stored before. */
export interface TopUpFacts {
  topUps: ReadonlyMap<string, TopUpFact>;
  /** Each top-up's reversals stored, in record order. */
  reversals: ReadonlyMap<string, readonly TopUpReversalRecord[]>;
}
