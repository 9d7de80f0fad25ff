/**
 * The operator's view of stock (docs/catalog-and-stock.md, "Stock"): the
 * levels per location and SKU and the movements that made them. Stock is
 * moved by ops recorded at the tills (receiving, counting, adjustment,
 * sales), never by an operator request; a shortfall is resolved through
 * its exception's actions.
 */
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

  moves(filter: StockMoveFilter): Promise<Page<StockMoveRecord & { pos: number }>> {
    return this.#storage.listStockMoves(filter);
  }
}
