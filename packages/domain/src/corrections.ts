/**
 * Governed corrections of a sale (docs/corrections.md), as pure rules
 * shared by the terminal, which refuses a correction it can see is wrong,
 * and the server, which judges the facts at ingest across devices.
 *
 * A correction is a new fact naming the sale by its op id; the sale itself
 * never changes. Three kinds correct a sale: `sale.voided` (the whole sale,
 * its cash and card parts), `sale.refunded` (whole or some lines, cash or
 * card) and `wallet.refunded` (money credited back onto the wristband that
 * paid). Across all of them, never more than the sale's total; per line,
 * never more units than the sale sold.
 */
import type { OpBodies, RefundLine, SaleBody } from '@holdfast/protocol';
import { tenderSplit } from './shift.js';

/** The kinds that correct a sale. */
export const CORRECTION_KINDS = ['sale.voided', 'sale.refunded', 'wallet.refunded'] as const;
export type CorrectionKind = (typeof CORRECTION_KINDS)[number];

export function isCorrectionKind(kind: string): kind is CorrectionKind {
  return (CORRECTION_KINDS as readonly string[]).includes(kind);
}

/** A sale as corrections are judged against it. */
export interface SaleFact {
  /** Id of the `sale.recorded` op. */
  id: string;
  device: string;
  shift: string;
  currency: string;
  total: number;
  lines: readonly { qty: number; unitPrice: number; discount?: number }[];
  cash: number;
  card: number;
  wristband: number;
}

/** One correction of a sale, as judged and counted. */
export interface CorrectionFact {
  opId: string;
  kind: CorrectionKind;
  /** The sale it corrects. */
  sale: string;
  device: string;
  shift: string;
  currency: string;
  /** Money given back, minor units (a void: its cash and card parts). */
  amount: number;
  /** The lines given back (a line refund), or null: an amount not bound to lines. */
  lines: readonly RefundLine[] | null;
}

/** What a broken correction rule is: over the sale's total, or otherwise invalid. */
export interface CorrectionProblem {
  code: 'refund_over_sale' | 'refund_invalid' | 'sale_void_invalid';
  message: string;
}

/** The sale fact of a recorded sale. */
export function saleFactOf(id: string, device: string, body: SaleBody): SaleFact {
  const { cash, card, wristband } = tenderSplit(body);
  return {
    id,
    device,
    shift: body.shift,
    currency: body.currency,
    total: body.total,
    lines: body.lines.map((l) => ({
      qty: l.qty,
      unitPrice: l.unitPrice,
      ...(l.discount !== undefined ? { discount: l.discount } : {}),
    })),
    cash,
    card,
    wristband,
  };
}

/** The correction fact of an op of a correcting kind. */
export function correctionFactOf<K extends CorrectionKind>(
  opId: string,
  device: string,
  kind: K,
  body: OpBodies[K],
): CorrectionFact {
  const b = body as OpBodies[CorrectionKind];
  const amount =
    kind === 'sale.voided'
      ? (b as OpBodies['sale.voided']).cash + (b as OpBodies['sale.voided']).card
      : (b as { amount: number }).amount;
  const lines = kind === 'sale.refunded' ? ((b as OpBodies['sale.refunded']).lines ?? null) : null;
  return { opId, kind, sale: b.sale, device, shift: b.shift, currency: b.currency, amount, lines };
}

/**
 * The most `qty` units of line `index` may give back: that share of the
 * line's value after its discount, rounded up (the sale's total bounds the
 * sum across refunds, so rounding never gives back more than was paid).
 */
export function lineRefundable(sale: SaleFact, index: number, qty: number): number {
  const line = sale.lines[index];
  if (!line) return 0;
  const value = line.qty * line.unitPrice - (line.discount ?? 0);
  return Math.ceil((value * qty) / line.qty);
}

/** Money already given back of `sale` by `prior` corrections. */
export function correctedAmount(prior: readonly CorrectionFact[]): number {
  let sum = 0;
  for (const c of prior) sum += c.amount;
  return sum;
}

/** What is still refundable of `sale` after `prior`. */
export function refundableLeft(sale: SaleFact, prior: readonly CorrectionFact[]): number {
  return Math.max(0, sale.total - correctedAmount(prior));
}

/**
 * The rules `next` breaks given its sale and the corrections of that sale
 * counted before it (`prior`, in order); empty when it holds. Approval is
 * not judged here (STAFF_RULES and the approval checks do it).
 */
export function correctionProblems(
  sale: SaleFact,
  prior: readonly CorrectionFact[],
  next: CorrectionFact,
): CorrectionProblem[] {
  const problems: CorrectionProblem[] = [];
  const invalid = next.kind === 'sale.voided' ? 'sale_void_invalid' : 'refund_invalid';
  if (next.currency !== sale.currency) {
    problems.push({ code: invalid, message: `in ${next.currency}, the sale was in ${sale.currency}` });
  }
  if (prior.some((c) => c.kind === 'sale.voided')) {
    problems.push({ code: invalid, message: `sale ${sale.id} was already voided` });
  }
  if (next.kind === 'sale.voided') {
    if (next.device !== sale.device || next.shift !== sale.shift) {
      problems.push({ code: 'sale_void_invalid', message: `a sale is voided in its own shift (${sale.shift}) only` });
    }
    if (prior.some((c) => c.kind !== 'sale.voided')) {
      problems.push({
        code: 'sale_void_invalid',
        message: `sale ${sale.id} was already partly refunded: refund the rest`,
      });
    }
  }
  if (next.kind === 'sale.refunded' && next.lines) {
    let linesValue = 0;
    for (const l of next.lines) {
      const soldLine = sale.lines[l.line];
      if (!soldLine) {
        problems.push({ code: 'refund_invalid', message: `line ${l.line}: the sale has ${sale.lines.length} lines` });
        continue;
      }
      let given = l.qty;
      for (const c of prior) for (const p of c.lines ?? []) if (p.line === l.line) given += p.qty;
      if (given > soldLine.qty) {
        problems.push({
          code: 'refund_over_sale',
          message: `line ${l.line}: ${given} units given back, ${soldLine.qty} sold`,
        });
      }
      linesValue += lineRefundable(sale, l.line, l.qty);
    }
    const allKnown = next.lines.every((l) => sale.lines[l.line] !== undefined);
    if (allKnown && next.amount > linesValue) {
      problems.push({
        code: 'refund_over_sale',
        message: `${next.amount} given back for lines worth ${linesValue}`,
      });
    }
  }
  const already = correctedAmount(prior);
  if (already + next.amount > sale.total) {
    problems.push({
      code: 'refund_over_sale',
      message: `${already + next.amount} given back across corrections of a sale of ${sale.total}`,
    });
  }
  return problems;
}

/**
 * The rules a void breaks against its sale's tenders: a void gives back
 * exactly the sale's cash and card parts (its wristband part goes back by
 * `wallet.refunded`).
 */
export function voidTenderProblems(sale: SaleFact, body: OpBodies['sale.voided']): CorrectionProblem[] {
  if (body.cash === sale.cash && body.card === sale.card) return [];
  return [
    {
      code: 'sale_void_invalid',
      message: `void gives back cash ${body.cash} and card ${body.card}; the sale took cash ${sale.cash} and card ${sale.card}`,
    },
  ];
}
