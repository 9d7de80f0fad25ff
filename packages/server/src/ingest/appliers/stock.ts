/**
 * The appliers of the stock ops (docs/catalog-and-stock.md, "Stock"):
 * `stock.received` adds a delivery, `stock.counted` sets the level to what
 * was counted, `stock.adjusted` moves it by a signed delta. Each is a ledger
 * event (no money) and one movement of the device location's level, keyed
 * by the op, so it is applied once. A stock op naming another location than
 * the device's, or a SKU not in the catalog, is stored but not applied:
 * `stock_unapplied` says why (ingest/stock-plan.ts).
 */
import type { Op, StockAdjustedBody, StockCountedBody, StockReceivedBody } from '@holdfast/protocol';
import type { ApplyContext } from '../apply-context.js';

export function applyStockReceived(op: Op, body: StockReceivedBody, ctx: ApplyContext): void {
  ctx.ledger(op, op.kind, null, null, null, { ...body });
  ctx.stock.stockOp(op, 'receive', body);
}

export function applyStockCounted(op: Op, body: StockCountedBody, ctx: ApplyContext): void {
  ctx.ledger(op, op.kind, null, null, null, { ...body });
  ctx.stock.stockOp(op, 'count', body);
}

export function applyStockAdjusted(op: Op, body: StockAdjustedBody, ctx: ApplyContext): void {
  ctx.ledger(op, op.kind, null, null, null, { ...body });
  ctx.stock.stockOp(op, 'adjust', body);
}
