/**
 * The catalog and price lists (model/catalog.ts), for every backend. Items
 * are upserted by SKU; a price list is checked against the stored catalog
 * and appended as its location's next version, in one transaction (two
 * publishers at once: PostgreSQL's unique violation on (location, version)
 * runs the loser again, SQLite has one writer).
 */
import type { CatalogItem, PriceList, PriceListRequest } from '@holdfast/protocol';
import { type CatalogFacts, checkPriceList, priceListOf, type StoredCatalogItem } from '../../../model/catalog.js';
import { int } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { CATALOG_ITEMS, catalogItemOf, PRICE_LISTS, priceListOfRow } from '../tables/catalog.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';

/** Creates or updates `items` by SKU; returns them as stored. */
export function* upsertCatalogItems(
  d: SqlDialect,
  items: readonly CatalogItem[],
  now: number,
  by: string,
): SqlOperation<StoredCatalogItem[]> {
  const sql = insertSql(CATALOG_ITEMS, d, {
    tail: `ON CONFLICT (sku) DO UPDATE SET name = excluded.name, tax_category = excluded.tax_category,
           unit = excluded.unit, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  });
  const stored: StoredCatalogItem[] = [];
  for (const item of items) {
    const record: StoredCatalogItem = { ...item, updatedAt: now, updatedBy: by };
    yield* run(sql, valuesOf(CATALOG_ITEMS, record, d));
    stored.push(record);
  }
  return stored;
}

/** Every catalog item, by SKU. */
export function* listCatalogItems(): SqlOperation<StoredCatalogItem[]> {
  return (yield* all('SELECT * FROM catalog_items ORDER BY sku')).map(catalogItemOf);
}

/**
 * Checks `request` against the stored catalog and `now` (checkPriceList:
 * `unknown_sku`, `ends_in_past`) and appends it as the location's next
 * version. Nothing is stored when a check fails.
 */
export function* publishPriceList(
  d: SqlDialect,
  request: PriceListRequest,
  now: number,
  by: string,
): SqlOperation<PriceList> {
  const skus = new Set<string>();
  for (const r of yield* all('SELECT sku FROM catalog_items')) skus.add(r.sku as string);
  checkPriceList(request, skus, now);
  const v = yield* one('SELECT coalesce(max(version), 0) AS version FROM price_lists WHERE location = $1', [
    request.location,
  ]);
  const list = priceListOf(request, int(v?.version) + 1, now, by);
  yield* run(insertSql(PRICE_LISTS, d), valuesOf(PRICE_LISTS, list, d));
  return list;
}

/** The location's price-list version (0: none published). */
export function* priceListVersion(location: string): SqlOperation<number> {
  const v = yield* one('SELECT coalesce(max(version), 0) AS version FROM price_lists WHERE location = $1', [location]);
  return int(v?.version);
}

/** Every version of the location's price list, oldest first. */
export function* listPriceLists(location: string): SqlOperation<PriceList[]> {
  return (yield* all('SELECT * FROM price_lists WHERE location = $1 ORDER BY version', [location])).map(priceListOfRow);
}

/** What ingest needs to judge catalog sale lines (model/catalog.ts CatalogFacts): the location's lists, the known SKUs among `skus`. */
export function* catalogFacts(
  d: SqlDialect,
  location: string | null,
  skus: readonly string[],
): SqlOperation<CatalogFacts> {
  const lists = location === null ? [] : yield* listPriceLists(location);
  const known = new Set<string>();
  if (skus.length > 0) {
    for (const r of yield* all(`SELECT sku FROM catalog_items WHERE ${d.inList('sku', '$1')}`, [d.list(skus)])) {
      known.add(r.sku as string);
    }
  }
  return { lists, skus: known };
}
