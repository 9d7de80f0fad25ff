/**
 * `catalog_items`: the merchant's items by SKU (the latest definition;
 * who changed it last, when). `price_lists`: every published price-list
 * version of every location, append-only, the prices and promotions as
 * JSON (docs/catalog-and-stock.md).
 */
import type { CatalogUnit, PriceEntry, PriceList, Promotion } from '@holdfast/protocol';
import type { StoredCatalogItem } from '../../../model/catalog.js';
import { int, intOrNull, type Row } from '../../rows.js';
import { defineTable } from '../table.js';

export const CATALOG_ITEMS = defineTable<StoredCatalogItem>('catalog_items', {
  sku: ['text', (i) => i.sku],
  name: ['text', (i) => i.name],
  tax_category: ['text', (i) => i.taxCategory],
  unit: ['text', (i) => i.unit],
  updated_at: ['bigint', (i) => i.updatedAt],
  updated_by: ['text', (i) => i.updatedBy],
});

export function catalogItemOf(r: Row): StoredCatalogItem {
  return {
    sku: r.sku as string,
    name: r.name as string,
    taxCategory: r.tax_category as string,
    unit: r.unit as CatalogUnit,
    updatedAt: int(r.updated_at),
    updatedBy: r.updated_by as string,
  };
}

export const PRICE_LISTS = defineTable<PriceList>('price_lists', {
  location: ['text', (l) => l.location],
  version: ['bigint', (l) => l.version],
  currency: ['text', (l) => l.currency],
  valid_from: ['bigint', (l) => l.from],
  valid_until: ['bigint', (l) => l.until],
  prices: ['text', (l) => JSON.stringify(l.prices)],
  promotions: ['text', (l) => JSON.stringify(l.promotions)],
  published_at: ['bigint', (l) => l.publishedAt],
  published_by: ['text', (l) => l.publishedBy],
});

export function priceListOfRow(r: Row): PriceList {
  return {
    location: r.location as string,
    version: int(r.version),
    currency: r.currency as string,
    from: int(r.valid_from),
    until: intOrNull(r.valid_until),
    prices: JSON.parse(r.prices as string) as PriceEntry[],
    promotions: JSON.parse(r.promotions as string) as Promotion[],
    publishedAt: int(r.published_at),
    publishedBy: r.published_by as string,
  };
}
