/**
 * The operator's view of stock (docs/catalog-and-stock.md, "Stock"): the
 * levels per location and SKU and the movements that made them. Stock is
 * moved by ops recorded at the tills (receiving, counting, adjustment,
 * sales), never by an operator request; a shortfall is resolved through
 * its exception's actions.
 */
import type { FeedStock } from '@holdfast/protocol';
import type { DeviceRecord } from '../model/device.js';
import type { StockLevelRecord, StockMoveFilter, StockMoveRecord } from '../model/stock.js';
import type { Page, Storage } from '../storage/storage.js';

export class StockDesk {
  readonly #storage: Storage;

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  levels(location: string | null): Promise<StockLevelRecord[]> {
    return this.#storage.listStockLevels(location);
  }

  /**
   * The last-known stock a device gets in its feed: every tracked level of
   * its location, with the device's high-water mark as read before the
   * levels (its sales up to it are in them; a later one may be too, so the
   * till errs on the side of less stock). Null when the device is placed
   * nowhere, the location tracks nothing, or the device holds this version.
   */
  async feedFor(device: DeviceRecord, held: number | undefined): Promise<FeedStock | null> {
    if (device.location === null) return null;
    const throughSeq = device.highWater;
    const levels = await this.#storage.listStockLevels(device.location);
    if (levels.length === 0) return null;
    const version = levels.reduce((max, l) => Math.max(max, l.updatedAt), 0);
    if (version === held) return null;
    return {
      location: device.location,
      version,
      throughSeq,
      levels: levels.map((l) => ({ sku: l.sku, qty: l.qty })),
    };
  }

  moves(filter: StockMoveFilter): Promise<Page<StockMoveRecord & { pos: number }>> {
    return this.#storage.listStockMoves(filter);
  }
}
