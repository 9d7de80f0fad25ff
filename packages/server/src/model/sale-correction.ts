/**
 * Corrections of sales (docs/corrections.md): each `sale.voided`,
 * `sale.refunded` and `wallet.refunded` op as judged against the sale it
 * names. A correction whose sale the server has not stored yet (recorded
 * by another device that has not synced) is `held`, with a
 * `refund_unmatched` exception open, and judged when the sale arrives:
 * then it is `counted`, its exception resolved by the server.
 */
import type { CorrectionFact, CorrectionKind, SaleFact } from '@holdfast/domain';
import type { RefundLine } from '@holdfast/protocol';

export type SaleCorrectionState = 'held' | 'counted';

export interface SaleCorrectionRecord {
  opId: string;
  /** Id of the `sale.recorded` op corrected. */
  sale: string;
  kind: CorrectionKind;
  device: string;
  seq: number;
  shiftId: string;
  currency: string;
  /** Money given back, minor units (a void: its cash and card parts). */
  amount: number;
  lines: RefundLine[] | null;
  state: SaleCorrectionState;
  /** While held: the `refund_unmatched` exception raised for it. */
  heldException: string | null;
  deviceAt: number;
  recordedAt: number;
  /** When it was judged against its sale (server clock); null while held. */
  judgedAt: number | null;
}

/** A held correction judged once its sale arrived. */
export interface SaleCorrectionJudged {
  opId: string;
  judgedAt: number;
  /** The `refund_unmatched` exception the server resolves. */
  heldException: string | null;
  /** The sale op that arrived. */
  saleOp: string;
}

/** What ingest knows of the sales a batch's corrections name and of the corrections of the sales it records. */
export interface SaleFacts {
  /** The sales stored, by op id. */
  sales: ReadonlyMap<string, SaleFact>;
  /** Each sale's corrections stored (held or counted), in the order they were recorded. */
  corrections: ReadonlyMap<string, readonly SaleCorrectionRecord[]>;
}

/** The correction fact of a stored correction record. */
export function correctionOfRecord(r: SaleCorrectionRecord): CorrectionFact {
  return {
    opId: r.opId,
    kind: r.kind,
    sale: r.sale,
    device: r.device,
    shift: r.shiftId,
    currency: r.currency,
    amount: r.amount,
    lines: r.lines,
  };
}
