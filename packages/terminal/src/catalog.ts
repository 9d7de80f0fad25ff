/**
 * TillCatalog: the price list of the terminal's location, kept in the
 * journal for offline selling (docs/catalog-and-stock.md).
 *
 * The device feed delivers the location's signed price list (items,
 * prices, promotions) when a newer version exists; it is verified with the
 * pinned policy keys, checked against the device's location and stored in
 * journal meta in the feed page's transaction. `line()` prices a sale line
 * from it at the device clock, recording the SKU and the version it was
 * priced under: the server honours the price even if the list was
 * superseded while the lane was offline, and reports the difference.
 */
import type { Clock } from '@holdfast/domain';
import {
  type CatalogItem,
  type FeedPriceList,
  type Placement,
  type PolicyKeySet,
  type PriceList,
  priceAt,
  type SaleLine,
  ValidationError,
  verifyPriceList,
} from '@holdfast/protocol';
import type { Journal } from './journal.js';
import { META } from './journal-schema.js';

export type CatalogErrorCode = 'no_price_list' | 'sku_unknown' | 'not_priced';

/** A sale line the price list cannot price; nothing was recorded. */
export class CatalogError extends Error {
  override readonly name = 'CatalogError';
  constructor(
    readonly code: CatalogErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class TillCatalog {
  readonly #journal: Journal;
  readonly #clock: Clock;
  readonly #keys: () => PolicyKeySet | null;
  readonly #placement: () => Placement | null;
  #list: FeedPriceList | null | undefined;

  constructor(options: {
    journal: Journal;
    clock: Clock;
    keys: () => PolicyKeySet | null;
    placement: () => Placement | null;
  }) {
    this.#journal = options.journal;
    this.#clock = options.clock;
    this.#keys = options.keys;
    this.#placement = options.placement;
  }

  /** The price list held, or null if none was ever delivered. */
  priceList(): FeedPriceList | null {
    if (this.#list === undefined) {
      const raw = this.#journal.getMeta(META.priceList);
      this.#list = raw === null ? null : (JSON.parse(raw) as FeedPriceList);
    }
    return this.#list;
  }

  /** The version held (0: none), sent with each feed request. */
  version(): number {
    return this.priceList()?.version ?? 0;
  }

  /**
   * The meta entry that stores a price list from a feed answer, checked
   * first: its signature verifies with a pinned policy key and it is for
   * this device's location. Null when it is not newer than the one held.
   * Throws ValidationError naming what is wrong.
   */
  priceListMeta(
    signed: unknown,
    placement?: Placement | null,
  ): { meta: Record<string, string>; list: FeedPriceList } | null {
    const list = verifyPriceList(signed, this.#keys() ?? {});
    const location = (placement ?? this.#placement())?.location ?? null;
    if (location !== null && list.location !== location) {
      throw new ValidationError('priceList.location', `this device's location ${location}`, list.location);
    }
    if (list.version <= this.version()) return null;
    return { meta: { [META.priceList]: JSON.stringify(list) }, list };
  }

  /** After the list's meta committed: hold it. */
  committed(list: FeedPriceList): void {
    this.#list = list;
  }

  /** The catalog item of `sku` in the list held, or null. */
  item(sku: string): CatalogItem | null {
    return this.priceList()?.items.find((i) => i.sku === sku) ?? null;
  }

  /** The price of one unit of `sku` now (a promotion in force counts), or null. */
  priceOf(sku: string, at: number = this.#clock.now()): number | null {
    const held = this.priceList();
    return held === null ? null : priceAt(asPriceList(held), sku, at);
  }

  /**
   * A sale line of `qty` × `sku` priced from the list held at the device
   * clock, naming the list's version. Throws CatalogError when no list is
   * held, the SKU is not in it, or it has no price now.
   */
  line(sku: string, qty: number, discount?: number): SaleLine {
    const held = this.priceList();
    if (held === null) throw new CatalogError('no_price_list', 'no price list has been delivered to this terminal');
    const item = this.item(sku);
    if (item === null) throw new CatalogError('sku_unknown', `SKU ${sku} is not in price list ${held.version}`);
    const price = this.priceOf(sku);
    if (price === null) throw new CatalogError('not_priced', `SKU ${sku} has no price now in list ${held.version}`);
    return {
      sku,
      name: item.name,
      qty,
      unitPrice: price,
      priceList: held.version,
      ...(discount !== undefined ? { discount } : {}),
    };
  }
}

function asPriceList(list: FeedPriceList): PriceList {
  return { ...list, publishedAt: list.issuedAt, publishedBy: '' };
}
