/**
 * Stock as the server keeps it (docs/catalog-and-stock.md, "Stock"): one
 * level per location and SKU, and every movement that made it, each keyed
 * by the op (and line) that caused it so it is applied once.
 *
 * A level is tracked from the first stock op applied to it (a receiving, a
 * count, an adjustment); sales of an item never stocked at a location (a
 * service, an item the shop does not count) move nothing.
 */

export type StockMoveKind = 'receive' | 'count' | 'adjust' | 'sale';

/** A location's stock of one SKU. `qty` = received − sold + adjusted + counted (derived, never written on its own). */
export interface StockLevelRecord {
  location: string;
  sku: string;
  /** False for a row only reserved by a stock op not yet applied: such a level moves nothing. */
  tracked: boolean;
  received: number;
  sold: number;
  /** Σ adjustments (signed). */
  adjusted: number;
  /** Σ differences set by counts (signed). */
  counted: number;
  qty: number;
  /** Oversell episodes opened so far (numbered 1, 2, …). */
  episodes: number;
  /** The open episode's number while the level is below zero after a sale; null otherwise. */
  shortEpisode: number | null;
  /** Server clock. */
  updatedAt: number;
}

/** One movement of a level, unique by `moveId` (`<op id>` or `<op id>:<line>` for a sale line). */
export interface StockMoveRecord {
  moveId: string;
  location: string;
  sku: string;
  kind: StockMoveKind;
  /** Signed change of the level. */
  delta: number;
  /** The level after this movement. */
  after: number;
  opId: string;
  device: string;
  seq: number;
  /** The oversell episode a sale movement belongs to (it sold what was not there); null otherwise. */
  episode: number | null;
  /** An adjustment's reason, a receiving's reference; null otherwise. */
  note: string | null;
  deviceAt: number;
  at: number;
}

/** What ingest loads for stock: the device's location and its levels the batch names, locked. */
export interface StockFacts {
  location: string | null;
  /** By SKU, at `location`. */
  levels: ReadonlyMap<string, StockLevelRecord>;
  /** The SKUs named by the batch's stock ops that are catalog items. */
  catalogSkus: ReadonlySet<string>;
}

/** A sale that joined an oversell episode opened by an earlier batch: added to its `stock_shortfall` exception. */
export interface StockShortfallJoin {
  dedupeKey: string;
  order: ShortfallOrder;
}

/** One sale of an oversell episode as the `stock_shortfall` exception names it. */
export interface ShortfallOrder {
  sale: string;
  device: string;
  seq: number;
  line: number;
  qty: number;
  /** The level after this sale (negative). */
  after: number;
}

/** The dedupe of an episode's exception (without the `stock_shortfall:` prefix). */
export function shortfallDedupe(location: string, sku: string, episode: number): string {
  return `${location}:${sku}:${episode}`;
}

/** A fresh level: tracked once a stock op is applied to it. */
export function emptyLevel(location: string, sku: string, now: number): StockLevelRecord {
  return {
    location,
    sku,
    tracked: false,
    received: 0,
    sold: 0,
    adjusted: 0,
    counted: 0,
    qty: 0,
    episodes: 0,
    shortEpisode: null,
    updatedAt: now,
  };
}

/** A page request of stock movements. */
export interface StockMoveFilter {
  location: string | null;
  after: number;
  limit: number;
}
