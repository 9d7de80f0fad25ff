/**
 * The stock tables (model/stock.ts): `stock_levels` (one row per location
 * and SKU; the quantity is derived on read) and `stock_moves` (every
 * movement, unique by move id, append-only).
 */
import type { StockLevelRecord, StockMoveRecord } from '../../../model/stock.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { defineTable } from '../table.js';

export const STOCK_LEVELS = defineTable<StockLevelRecord>('stock_levels', {
  location: ['text', (l) => l.location],
  sku: ['text', (l) => l.sku],
  tracked: ['boolean', (l) => l.tracked],
  received: ['bigint', (l) => l.received],
  sold: ['bigint', (l) => l.sold],
  adjusted: ['bigint', (l) => l.adjusted],
  counted: ['bigint', (l) => l.counted],
  episodes: ['bigint', (l) => l.episodes],
  short_episode: ['bigint', (l) => l.shortEpisode],
  updated_at: ['bigint', (l) => l.updatedAt],
});

export function stockLevelOf(r: Row, d: SqlDialect): StockLevelRecord {
  const received = int(r.received);
  const sold = int(r.sold);
  const adjusted = int(r.adjusted);
  const counted = int(r.counted);
  return {
    location: r.location as string,
    sku: r.sku as string,
    tracked: d.readBoolean(r.tracked),
    received,
    sold,
    adjusted,
    counted,
    qty: received - sold + adjusted + counted,
    episodes: int(r.episodes),
    shortEpisode: intOrNull(r.short_episode),
    updatedAt: int(r.updated_at),
  };
}

export const STOCK_MOVES = defineTable<StockMoveRecord>(
  'stock_moves',
  {
    move_id: ['text', (m) => m.moveId],
    location: ['text', (m) => m.location],
    sku: ['text', (m) => m.sku],
    kind: ['text', (m) => m.kind],
    delta: ['bigint', (m) => m.delta],
    after: ['bigint', (m) => m.after],
    op_id: ['text', (m) => m.opId],
    device: ['text', (m) => m.device],
    seq: ['bigint', (m) => m.seq],
    episode: ['bigint', (m) => m.episode],
    note: ['text', (m) => m.note],
    device_at: ['bigint', (m) => m.deviceAt],
    at: ['bigint', (m) => m.at],
  },
  ['pos'],
);

export function stockMoveOf(r: Row): StockMoveRecord {
  return {
    moveId: r.move_id as string,
    location: r.location as string,
    sku: r.sku as string,
    kind: r.kind as StockMoveRecord['kind'],
    delta: int(r.delta),
    after: int(r.after),
    opId: r.op_id as string,
    device: r.device as string,
    seq: int(r.seq),
    episode: intOrNull(r.episode),
    note: textOrNull(r.note),
    deviceAt: int(r.device_at),
    at: int(r.at),
  };
}
