/**
 * Stock levels and movements, written once for both backends
 * (model/stock.ts, ingest/stock-plan.ts, docs/catalog-and-stock.md).
 *
 * Locks: an ingest locks its device, then the stock levels its ops name at
 * the device's location, in SKU order (`loadStockFacts`). A level a stock op
 * names is first created untracked if missing (an INSERT that skips a taken
 * key), so two tills receiving a new SKU at once both find the row and
 * queue on its lock instead of racing to create it. Movements are unique by
 * move id, so each is stored at most once.
 */

import { addShortfallOrder } from '../../../ingest/stock-plan.js';
import {
  emptyLevel,
  type StockFacts,
  type StockLevelRecord,
  type StockMoveRecord,
  type StockShortfallJoin,
} from '../../../model/stock.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { STOCK_LEVELS, STOCK_MOVES, stockLevelOf, stockMoveOf } from '../tables/stock.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';

/** Inside an ingest transaction: the levels at `location` of `opSkus` (created if catalog items) and `saleSkus`, locked. */
export function* loadStockFacts(
  d: SqlDialect,
  location: string,
  refs: { opSkus: readonly string[]; saleSkus: readonly string[] },
  now: number,
): SqlOperation<StockFacts> {
  const catalogSkus = new Set<string>();
  if (refs.opSkus.length > 0) {
    for (const r of yield* all(`SELECT sku FROM catalog_items WHERE ${d.inList('sku', '$1')}`, [d.list(refs.opSkus)])) {
      catalogSkus.add(r.sku as string);
    }
    for (const sku of [...catalogSkus].sort()) {
      yield* run(
        insertSql(STOCK_LEVELS, d, { ignoring: true }),
        valuesOf(STOCK_LEVELS, emptyLevel(location, sku, now), d),
      );
    }
  }
  const skus = [...new Set([...refs.opSkus, ...refs.saleSkus])].sort();
  const levels = new Map<string, StockLevelRecord>();
  if (skus.length > 0) {
    const rows = yield* all(
      `SELECT * FROM stock_levels WHERE location = $1 AND ${d.inList('sku', '$2')} ORDER BY sku${d.forUpdate}`,
      [location, d.list(skus)],
    );
    for (const r of rows) levels.set(r.sku as string, stockLevelOf(r, d));
  }
  return { location, levels, catalogSkus };
}

/** Writes an ingest plan's stock: movements, the levels' final state, and sales joining earlier episodes. */
export function* writeStock(
  d: SqlDialect,
  plan: {
    stockLevels: readonly StockLevelRecord[];
    stockMoves: readonly StockMoveRecord[];
    stockShortfallJoins: readonly StockShortfallJoin[];
  },
): SqlOperation<void> {
  for (const m of plan.stockMoves) yield* run(insertSql(STOCK_MOVES, d), valuesOf(STOCK_MOVES, m, d));
  for (const l of plan.stockLevels) {
    yield* run(
      `UPDATE stock_levels SET tracked = $3, received = $4, sold = $5, adjusted = $6, counted = $7,
         episodes = $8, short_episode = $9, updated_at = $10 WHERE location = $1 AND sku = $2`,
      [
        l.location,
        l.sku,
        d.writeBoolean(l.tracked),
        l.received,
        l.sold,
        l.adjusted,
        l.counted,
        l.episodes,
        l.shortEpisode,
        l.updatedAt,
      ],
    );
  }
  for (const join of plan.stockShortfallJoins) {
    const row = yield* one(`SELECT id, detail FROM exceptions WHERE dedupe_key = $1${d.forUpdate}`, [join.dedupeKey]);
    // The episode's exception was raised by the batch that opened it, under the same level lock.
    if (!row) throw new Error(`stock shortfall ${join.dedupeKey} joined before it was raised`);
    const detail = addShortfallOrder(d.readJson(row.detail) as Record<string, unknown>, join.order);
    yield* run('UPDATE exceptions SET occurrences = occurrences + 1, detail = $2 WHERE id = $1', [
      row.id,
      JSON.stringify(detail),
    ]);
  }
}

/** Every tracked level, by location and SKU; of one location if given. */
export function* listStockLevels(d: SqlDialect, location: string | null): SqlOperation<StockLevelRecord[]> {
  const rows = yield* all(
    `SELECT * FROM stock_levels WHERE tracked = TRUE
       AND (CAST($1 AS TEXT) IS NULL OR location = $1) ORDER BY location, sku`,
    [location],
  );
  return rows.map((r) => stockLevelOf(r, d));
}

/** Every movement (pos order), optionally of one location; at most `limit` after `after`. */
export function* listStockMoves(
  _d: SqlDialect,
  filter: { location: string | null; after: number; limit: number },
): SqlOperation<{ items: (StockMoveRecord & { pos: number })[]; next: number | null }> {
  const rows = yield* all(
    `SELECT * FROM stock_moves WHERE pos > $1 AND (CAST($2 AS TEXT) IS NULL OR location = $2) ORDER BY pos LIMIT $3`,
    [filter.after, filter.location, filter.limit],
  );
  const items = rows.map((r) => ({ ...stockMoveOf(r), pos: Number(r.pos) }));
  return { items, next: items.length === filter.limit ? (items[items.length - 1]?.pos ?? null) : null };
}
