/**
 * The catalog check at ingest (docs/catalog-and-stock.md): each sale line
 * that names a price-list version is judged against the lists of the
 * device's location (model/catalog.ts judgeSaleLines). The sale stands
 * whatever the answer:
 *
 *   - a line at a price other than the one in force when it was sold (an
 *     older list, an ended promotion) raises one `stale_price` (info) per
 *     sale, with each line's difference: counted and reported, never refused;
 *   - a line naming a SKU or version the server does not know raises one
 *     `catalog_unknown` (warning) per sale.
 */
import type { Op, SaleBody } from '@holdfast/protocol';
import { type CatalogFacts, judgeSaleLines } from '../model/catalog.js';
import type { ExceptionRecord } from '../model/exception.js';

export interface CatalogProblem {
  type: 'stale_price' | 'catalog_unknown';
  severity: ExceptionRecord['severity'];
  message: string;
  detail: Record<string, unknown>;
}

export function catalogProblems(op: Op, body: SaleBody, facts: CatalogFacts | undefined): CatalogProblem[] {
  if (!body.lines.some((l) => l.priceList !== undefined)) return [];
  const judged = judgeSaleLines(op, body, facts?.lists ?? [], facts?.skus ?? new Set());
  const problems: CatalogProblem[] = [];
  const unknown = judged.filter((l) => l.unknown !== null);
  if (unknown.length > 0) {
    problems.push({
      type: 'catalog_unknown',
      severity: 'warning',
      message: `sale ${op.id} (seq ${op.seq}) names ${unknown
        .map((l) => (l.unknown === 'sku' ? `SKU ${l.sku}` : `price list ${l.soldUnder}`))
        .join(', ')} unknown to the server; the sale stands`,
      detail: {
        currency: body.currency,
        lines: unknown.map((l) => ({ line: l.lineIndex, sku: l.sku, priceList: l.soldUnder, unknown: l.unknown })),
      },
    });
  }
  const stale = judged.filter((l) => l.stale);
  if (stale.length > 0) {
    const difference = stale.reduce((sum, l) => sum + l.difference, 0);
    problems.push({
      type: 'stale_price',
      severity: 'info',
      message: `sale ${op.id} (seq ${op.seq}) was priced from a superseded price (${stale.length} line(s)); honoured`,
      detail: {
        currency: body.currency,
        difference,
        lines: stale.map((l) => ({
          line: l.lineIndex,
          sku: l.sku,
          qty: l.qty,
          soldUnder: l.soldUnder,
          inForce: l.inForce,
          unitPrice: l.unitPrice,
          expectedPrice: l.expectedPrice,
          difference: l.difference,
        })),
      },
    });
  }
  return problems;
}
