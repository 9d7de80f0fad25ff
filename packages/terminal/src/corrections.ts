/**
 * Sale voids and refunds at the till (docs/corrections.md). The terminal
 * refuses, before anything is written, what it can see is wrong from its
 * own journal: the same rules as the server (domain corrections.ts) over
 * the sale and the corrections this terminal recorded. A sale recorded on
 * another terminal is refunded on the clerk's word (amount, card) and
 * judged by the server across devices when both have synced.
 */
import {
  type CorrectionFact,
  type CorrectionKind,
  correctionFactOf,
  correctionProblems,
  lineRefundable,
  refundableLeft,
  type SaleFact,
  type Shift,
  saleFactOf,
  voidTenderProblems,
} from '@holdfast/domain';
import type { CardTender, OpBodies, RefundLine, RefundTender, SaleBody, SaleRefundedBody } from '@holdfast/protocol';
import { CorrectionRefusedError } from './errors.js';
import type { Journal } from './journal.js';

/** The card a card refund goes back to. */
export type RefundCard = Pick<CardTender, 'token' | 'brand' | 'last4'>;

export interface RefundInput {
  /** Id of the `sale.recorded` op refunded (this terminal's or another's). */
  sale: string;
  /** Lines given back; absent: an amount (default: all that is left of a sale recorded here). */
  lines?: RefundLine[];
  amount?: number;
  tender: RefundTender;
  /** The card, for a card refund of a sale recorded elsewhere (a sale recorded here gives its own card). */
  card?: RefundCard;
  reason?: string;
}

/** The sale `id` as this journal recorded it, or null. */
function saleHere(journal: Journal, id: string): SaleFact | null {
  const entry = journal.getOp(id);
  if (entry?.kind !== 'sale.recorded') return null;
  return saleFactOf(id, entry.op.device, entry.op.body as SaleBody);
}

/** This journal's corrections of `sale`, as facts. */
function priorHere(journal: Journal, sale: string): CorrectionFact[] {
  return journal
    .correctionsOf(sale)
    .map((e) =>
      correctionFactOf(e.op.id, e.op.device, e.kind as CorrectionKind, e.op.body as OpBodies[CorrectionKind]),
    );
}

function refuseProblems(problems: readonly { code: CorrectionRefusedError['code']; message: string }[]): void {
  const first = problems[0];
  if (first) throw new CorrectionRefusedError(first.code, first.message);
}

/** The body of a void of `sale` (recorded here, in `shift`), refused if the rules say no. */
export function saleVoidBody(
  journal: Journal,
  device: string,
  shift: Shift,
  input: { sale: string; reason?: string },
): OpBodies['sale.voided'] {
  const sale = saleHere(journal, input.sale);
  if (!sale) {
    throw new CorrectionRefusedError(
      'sale_void_invalid',
      `sale ${input.sale} was not recorded on this terminal: only a sale of this shift can be voided (refund it instead)`,
    );
  }
  const body: OpBodies['sale.voided'] = {
    shift: shift.id,
    sale: sale.id,
    currency: sale.currency,
    cash: sale.cash,
    card: sale.card,
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
  };
  const fact = correctionFactOf('new', device, 'sale.voided', body);
  refuseProblems([...voidTenderProblems(sale, body), ...correctionProblems(sale, priorHere(journal, sale.id), fact)]);
  return body;
}

/** The body of a refund against `input.sale`, refused if what this terminal knows says no. */
export function saleRefundBody(journal: Journal, device: string, shift: Shift, input: RefundInput): SaleRefundedBody {
  const sale = saleHere(journal, input.sale);
  let amount = input.amount;
  let card = input.card;
  if (sale) {
    const prior = priorHere(journal, sale.id);
    const unknown = input.lines?.find((l) => sale.lines[l.line] === undefined);
    if (unknown) {
      throw new CorrectionRefusedError(
        'refund_invalid',
        `line ${unknown.line}: the sale has ${sale.lines.length} lines`,
      );
    }
    if (amount === undefined) {
      amount = input.lines
        ? input.lines.reduce((sum, l) => sum + lineRefundable(sale, l.line, l.qty), 0)
        : refundableLeft(sale, prior);
    }
    if (input.tender === 'card' && card === undefined) {
      const sold = journal.getOp(sale.id)?.op.body as SaleBody | undefined;
      const paid = sold?.tenders.find((t) => t.type === 'card');
      if (!paid) throw new CorrectionRefusedError('refund_invalid', `sale ${sale.id} was not paid by card`);
      card = { token: paid.token, brand: paid.brand, last4: paid.last4 };
    }
  }
  if (amount === undefined || amount <= 0) {
    throw new CorrectionRefusedError(
      sale ? 'refund_over_sale' : 'refund_invalid',
      sale
        ? `nothing is left to refund of sale ${sale.id}`
        : `sale ${input.sale} was not recorded here: give the amount to refund`,
    );
  }
  if (input.tender === 'card' && card === undefined) {
    throw new CorrectionRefusedError('refund_invalid', 'a card refund of a sale recorded elsewhere names the card');
  }
  const body: SaleRefundedBody = {
    shift: shift.id,
    sale: input.sale,
    currency: shift.currency,
    amount,
    tender: input.tender,
    ...(input.lines ? { lines: input.lines } : {}),
    ...(input.tender === 'card' && card ? { card } : {}),
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
  };
  if (sale) {
    const fact = correctionFactOf('new', device, 'sale.refunded', body);
    refuseProblems(correctionProblems(sale, priorHere(journal, sale.id), fact));
  }
  return body;
}
