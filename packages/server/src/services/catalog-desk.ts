/**
 * The catalog desk: what the operator routes under /v1/admin/catalog and
 * /v1/admin/price-lists call (docs/catalog-and-stock.md). Items are
 * created or updated by SKU; a price list is published whole as its
 * location's next version, checked against the stored catalog and the
 * clock (ProtocolError `unknown_sku`, `ends_in_past`; a negative or
 * fractional price is a ValidationError of the schema).
 */
import type { Clock } from '@holdfast/domain';
import {
  catalogItemsRequestSchema,
  PRICE_LIST_FORMAT,
  type PriceList,
  ProtocolError,
  priceListRequestSchema,
  refString,
  type SignedPriceList,
  signPriceList,
  ValidationError,
} from '@holdfast/protocol';
import type { StoredCatalogItem } from '../model/catalog.js';
import type { Storage } from '../storage/storage.js';

export class CatalogDesk {
  readonly #storage: Storage;
  readonly #clock: Clock;
  /**
   * The signed feed list last built per location: a version is never
   * changed once published (append-only), so every device of the location
   * polling for it gets the same signed bytes, built and signed once
   * (issuedAt is when it was signed), until a newer version or another key.
   */
  readonly #signed = new Map<string, SignedPriceList>();

  constructor(storage: Storage, clock: Clock) {
    this.#storage = storage;
    this.#clock = clock;
  }

  /** Creates or updates items by SKU (a SKU named twice in one request is refused). */
  async upsertItems(body: unknown, by: string): Promise<{ items: StoredCatalogItem[] }> {
    const { items } = catalogItemsRequestSchema.parse(body);
    const seen = new Set<string>();
    for (const [i, item] of items.entries()) {
      if (seen.has(item.sku)) {
        throw new ValidationError(`items[${i}].sku`, 'each SKU at most once per request', `SKU ${item.sku} repeated`);
      }
      seen.add(item.sku);
    }
    return { items: await this.#storage.upsertCatalogItems(items, this.#clock.now(), by) };
  }

  /** Every item, by SKU. */
  async listItems(): Promise<{ items: StoredCatalogItem[] }> {
    return { items: await this.#storage.listCatalogItems() };
  }

  /** Publishes a location's price list as its next version. */
  async publish(body: unknown, by: string): Promise<PriceList> {
    const request = priceListRequestSchema.parse(body);
    return this.#storage.publishPriceList(request, this.#clock.now(), by);
  }

  /**
   * The price list a device at `location` gets in its feed, signed with the
   * active policy key: null when the location has none, or the device
   * already holds the newest version (`held`). It carries the catalog items
   * the list prices.
   */
  async priceListFor(location: string | null, held: number | undefined, now: number): Promise<SignedPriceList | null> {
    if (location === null) return null;
    // Most polls hold the newest version: one small query, no list read.
    const version = await this.#storage.priceListVersion(location);
    if (version === 0 || version === held) return null;
    const [key] = await this.#storage.listServerKeys();
    if (!key) return null;
    const cached = this.#signed.get(location);
    if (cached && cached.list.version === version && cached.keyId === key.id) return cached;
    const lists = await this.#storage.listPriceLists(location);
    const list = lists.at(-1);
    if (!list || list.version === held) return null;
    const priced = new Set(list.prices.map((p) => p.sku));
    const items = (await this.#storage.listCatalogItems())
      .filter((i) => priced.has(i.sku))
      .map(({ sku, name, taxCategory, unit }) => ({ sku, name, taxCategory, unit }));
    const signed = signPriceList(
      {
        v: PRICE_LIST_FORMAT,
        location,
        version: list.version,
        currency: list.currency,
        from: list.from,
        until: list.until,
        issuedAt: now,
        items,
        prices: list.prices,
        promotions: list.promotions,
      },
      key.privateKey,
      key.id,
    );
    this.#signed.set(location, signed);
    return signed;
  }

  /** Every version of a location's price list, oldest first. */
  async priceLists(location: unknown): Promise<{ location: string; versions: PriceList[] }> {
    const loc = locationParam(location);
    return { location: loc, versions: await this.#storage.listPriceLists(loc) };
  }
}

function locationParam(value: unknown): string {
  try {
    return refString().parse(value, 'query.location');
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new ProtocolError('invalid_request', `query parameter location is required: ${error.message}`, {
        field: 'query.location',
        rule: error.rule,
      });
    }
    throw error;
  }
}
