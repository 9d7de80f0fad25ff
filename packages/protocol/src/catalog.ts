import { MAX_AMOUNT } from './money.js';
import * as s from './schema.js';
import { refString } from './wire-strings.js';

/** A SKU: 1..64 letters, digits and `_ . : / -`. */
export const SKU_PATTERN = /^[A-Za-z0-9_.:/-]{1,64}$/;
export const skuString = () =>
  s.string({
    minLength: 1,
    maxLength: 64,
    pattern: SKU_PATTERN,
    patternRule: 'SKU of 1..64 letters, digits and _.:/-',
  });

/** Units an item is sold in. */
export const CATALOG_UNITS = ['each', 'kg', 'g', 'l', 'ml', 'm', 'hour'] as const;
export type CatalogUnit = (typeof CATALOG_UNITS)[number];

/** A price-list version number (1, 2, ... per location). */
export const priceListVersion = () => s.int({ min: 1, max: 2_147_483_647 });
/** A price: minor units of one unit of the item, 0..MAX_AMOUNT (a negative or fractional price is refused). */
export const priceAmount = () => s.int({ min: 0, max: MAX_AMOUNT });
/** A time, epoch milliseconds. */
const epochMs = () => s.int({ min: 0, max: 8_640_000_000_000_000 });

export const catalogItemSchema = s.object({
  sku: skuString(),
  name: s.string({ minLength: 1, maxLength: 200 }),
  /** The tax category the item is taxed under (e.g. "standard", "reduced", "zero"); the tax rate is the jurisdiction's. */
  taxCategory: refString(),
  unit: s.oneOf(CATALOG_UNITS),
});
export type CatalogItem = s.Infer<typeof catalogItemSchema>;

/** Items created or updated in one request (by SKU: a known SKU is updated). */
export const catalogItemsRequestSchema = s.object({
  items: s.array(catalogItemSchema, { minItems: 1, maxItems: 10_000 }),
});

export const priceEntrySchema = s.object({ sku: skuString(), price: priceAmount() });
export type PriceEntry = s.Infer<typeof priceEntrySchema>;

/** A promotion: the item's price between `from` (inclusive) and `until` (exclusive). */
export const promotionSchema = s.refine(
  s.object({ sku: skuString(), price: priceAmount(), from: epochMs(), until: epochMs() }),
  (p) => (p.until <= p.from ? ['until', `after from (${p.from})`] : null),
);
export type Promotion = s.Infer<typeof promotionSchema>;

/**
 * An operator publishes a location's price list: the whole list, which
 * becomes the location's next version. `from` defaults to now; `until`,
 * when given, ends the list (a sale after it has no price in this list).
 */
export const priceListRequestSchema = s.refine(
  s.object({
    location: refString(),
    currency: s.string({ minLength: 3, maxLength: 3, pattern: /^[A-Z]{3}$/, patternRule: 'ISO 4217 code' }),
    from: s.optional(epochMs()),
    until: s.optional(epochMs()),
    prices: s.array(priceEntrySchema, { minItems: 1, maxItems: 20_000 }),
    promotions: s.optional(s.array(promotionSchema, { minItems: 0, maxItems: 5_000 })),
  }),
  (l) => {
    if (l.from !== undefined && l.until !== undefined && l.until <= l.from) return ['until', `after from (${l.from})`];
    const seen = new Set<string>();
    for (const [i, p] of l.prices.entries()) {
      if (seen.has(p.sku)) return [`prices[${i}].sku`, 'each SKU at most once per list'];
      seen.add(p.sku);
    }
    for (const [i, p] of (l.promotions ?? []).entries()) {
      if (!seen.has(p.sku)) return [`promotions[${i}].sku`, 'a SKU priced in this list'];
    }
    return null;
  },
);
export type PriceListRequest = s.Infer<typeof priceListRequestSchema>;

/** A published price-list version of one location, as stored and as a terminal holds it. */
export interface PriceList {
  location: string;
  version: number;
  currency: string;
  /** When the list takes effect, epoch ms. */
  from: number;
  /** When it ends (exclusive), or null. */
  until: number | null;
  prices: PriceEntry[];
  promotions: Promotion[];
  publishedAt: number;
  publishedBy: string;
}

/**
 * The price of `sku` under `list` at time `at`: a promotion in force at
 * `at` (the lowest if several), else the list's price; null when the list
 * does not price the SKU or is not in force at `at`.
 */
export function priceAt(list: PriceList, sku: string, at: number): number | null {
  if (at < list.from || (list.until !== null && at >= list.until)) return null;
  const base = list.prices.find((p) => p.sku === sku);
  if (!base) return null;
  let price = base.price;
  for (const p of list.promotions) {
    if (p.sku === sku && p.from <= at && at < p.until && p.price < price) price = p.price;
  }
  return price;
}

/**
 * The list in force at `at` among a location's versions: the highest
 * version whose `from` is at or before `at` and which has not ended. Null
 * when none is.
 */
export function listInForce(lists: readonly PriceList[], at: number): PriceList | null {
  let best: PriceList | null = null;
  for (const l of lists) {
    if (l.from > at || (l.until !== null && at >= l.until)) continue;
    if (best === null || l.version > best.version) best = l;
  }
  return best;
}

// ---- the signed price list of the device feed ------------------------------------------

export const PRICE_LIST_FORMAT = 1;
const PRICE_LIST_SIGNATURE_CONTEXT = 'holdfast-price-list-v1';

/**
 * A location's price list as the device feed carries it: the version, its
 * prices and promotions, and the catalog items it prices (what the till
 * shows and sells by SKU). Signed with a policy key, as a roster is.
 */
export const feedPriceListSchema = s.object({
  v: s.literal(PRICE_LIST_FORMAT),
  location: refString(),
  version: priceListVersion(),
  currency: s.string({ minLength: 3, maxLength: 3, pattern: /^[A-Z]{3}$/, patternRule: 'ISO 4217 code' }),
  from: epochMs(),
  until: s.nullable(epochMs()),
  issuedAt: epochMs(),
  items: s.array(catalogItemSchema, { maxItems: 20_000 }),
  prices: s.array(priceEntrySchema, { maxItems: 20_000 }),
  promotions: s.array(promotionSchema, { maxItems: 5_000 }),
});
export type FeedPriceList = s.Infer<typeof feedPriceListSchema>;

export const signedPriceListSchema = s.object({
  list: feedPriceListSchema,
  keyId: s.string({ minLength: 1, maxLength: 64 }),
  sig: s.string({ minLength: 86, maxLength: 86 }),
});
export type SignedPriceList = s.Infer<typeof signedPriceListSchema>;

export function priceListMessage(list: FeedPriceList) {
  return { ctx: PRICE_LIST_SIGNATURE_CONTEXT, list } as const;
}
