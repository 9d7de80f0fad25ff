/**
 * The catalog and price lists (docs/catalog-and-stock.md): the rules of a
 * publication (checked against what is stored) and how a sale line is
 * judged against the lists of its location. Pure.
 */
import {
  type CatalogItem,
  listInForce,
  type Op,
  type PriceList,
  type PriceListRequest,
  ProtocolError,
  priceAt,
  type SaleBody,
} from '@holdfast/protocol';

/** A catalog item as stored: the item and who changed it last, when. */
export interface StoredCatalogItem extends CatalogItem {
  updatedAt: number;
  updatedBy: string;
}

/**
 * Checks a price-list publication against the catalog and the clock.
 * Throws ProtocolError `unknown_sku` (naming the field) for a SKU not in
 * `known`, `ends_in_past` for a list or promotion ending at or before `now`.
 */
export function checkPriceList(request: PriceListRequest, known: ReadonlySet<string>, now: number): void {
  for (const [i, p] of request.prices.entries()) {
    if (!known.has(p.sku)) {
      throw new ProtocolError('unknown_sku', `prices[${i}]: SKU ${p.sku} is not in the catalog`, {
        field: `prices[${i}].sku`,
      });
    }
  }
  if (request.until !== undefined && request.until <= now) {
    throw new ProtocolError('ends_in_past', `the price list would end at ${request.until}, at or before now (${now})`, {
      field: 'until',
    });
  }
  for (const [i, p] of (request.promotions ?? []).entries()) {
    if (p.until <= now) {
      throw new ProtocolError('ends_in_past', `promotions[${i}] would end at ${p.until}, at or before now (${now})`, {
        field: `promotions[${i}].until`,
      });
    }
  }
}

/** The stored list a publication makes, given its version. */
export function priceListOf(request: PriceListRequest, version: number, now: number, by: string): PriceList {
  return {
    location: request.location,
    version,
    currency: request.currency,
    from: request.from ?? now,
    until: request.until ?? null,
    prices: request.prices,
    promotions: request.promotions ?? [],
    publishedAt: now,
    publishedBy: by,
  };
}

/** A sale line priced from a list, judged against the list in force when it was sold. */
export interface LinePricing {
  opId: string;
  device: string;
  lineIndex: number;
  sku: string;
  qty: number;
  /** The version the terminal sold under. */
  soldUnder: number;
  unitPrice: number;
  /** The version in force at the sale's time, or null if none was. */
  inForce: number | null;
  /** The price under the list in force at the sale's time, or null when that list does not price the SKU. */
  expectedPrice: number | null;
  /** Stale: sold at a price other than the one in force (an older list, an ended promotion). */
  stale: boolean;
  /** (unitPrice − expectedPrice) × qty for a stale line (positive: the customer paid more), else 0. */
  difference: number;
  /** Why the line could not be judged: the SKU or the version is unknown. */
  unknown: 'sku' | 'version' | null;
}

/**
 * Judges every line of a sale that names a price-list version. `lists`
 * are the versions of the device's location, `skus` the catalog's SKUs.
 * A stale line is a fact: reported, never refused.
 */
export function judgeSaleLines(
  op: Pick<Op, 'id' | 'device' | 'at'>,
  body: SaleBody,
  lists: readonly PriceList[],
  skus: ReadonlySet<string>,
): LinePricing[] {
  const out: LinePricing[] = [];
  const inForce = listInForce(lists, op.at);
  for (const [lineIndex, line] of body.lines.entries()) {
    if (line.priceList === undefined) continue;
    const base = {
      opId: op.id,
      device: op.device,
      lineIndex,
      sku: line.sku,
      qty: line.qty,
      soldUnder: line.priceList,
      unitPrice: line.unitPrice,
      inForce: inForce?.version ?? null,
    };
    const unknown = !skus.has(line.sku) ? 'sku' : !lists.some((l) => l.version === line.priceList) ? 'version' : null;
    const expected = inForce === null ? null : priceAt(inForce, line.sku, op.at);
    const stale = unknown === null && expected !== null && expected !== line.unitPrice;
    out.push({
      ...base,
      expectedPrice: expected,
      stale,
      difference: stale ? (line.unitPrice - (expected as number)) * line.qty : 0,
      unknown,
    });
  }
  return out;
}

/** What ingest needs to judge a batch's catalog sale lines: the device location's lists and the SKUs the batch names that exist. */
export interface CatalogFacts {
  lists: readonly PriceList[];
  skus: ReadonlySet<string>;
}

/** The SKUs of the batch's sale lines that name a price-list version (empty: no catalog facts needed). */
export function catalogRefs(ops: readonly Op[]): string[] {
  const skus = new Set<string>();
  for (const op of ops) {
    if (op.kind !== 'sale.recorded' || !Array.isArray(op.body.lines)) continue;
    for (const line of op.body.lines as unknown[]) {
      const l = line as { sku?: unknown; priceList?: unknown };
      if (l.priceList !== undefined && typeof l.sku === 'string') skus.add(l.sku);
    }
  }
  return [...skus];
}
