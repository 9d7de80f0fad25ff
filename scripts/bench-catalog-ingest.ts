#!/usr/bin/env node
// Ingest throughput of catalog sales (lines naming a price-list version,
// judged against the location's price lists at ingest) beside plain
// free-text sales, in the same run, on the same server (SQLite file,
// through the HTTP API, one device per kind, batches of 50):
// docs/catalog-and-stock.md. A third of the catalog lines are sold from a
// superseded list, so stale_price exceptions are written too. A third kind,
// "stocked", sells the same catalog lines at a second location whose every
// item has a tracked stock level (received first), so each line is also a
// stock movement (docs/catalog-and-stock.md, "Stock"); with 3 units a line
// of each item received per round, some levels go below zero and raise
// stock_shortfall too.
//
//   node --conditions=holdfast-src --import tsx scripts/bench-catalog-ingest.ts [sales=3000] [items=1000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Op, SaleLine } from '../packages/protocol/src/index.ts';
import { SqliteStorage } from '../packages/server/src/index.ts';
import { createHarness, saleBody, type TestDevice } from '../packages/server/src/testing/harness.ts';

const SALES = Number(process.argv[2] ?? 3_000);
const ITEMS = Number(process.argv[3] ?? 1_000);
const BATCH = 50;
const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-catalog-'));
const h = await createHarness({ storage: new SqliteStorage({ path: join(dir, 'server.db') }) });
const sku = (i: number) => `SKU-${String(i).padStart(6, '0')}`;
const items = Array.from({ length: ITEMS }, (_, i) => ({
  sku: sku(i),
  name: `Item ${i}`,
  taxCategory: 'standard',
  unit: 'each',
}));
await h.request('PUT', '/v1/admin/catalog/items', { admin: true, payload: { items } });
const publish = (bump: number, location = 'stadium') =>
  h.request('POST', '/v1/admin/price-lists', {
    admin: true,
    payload: {
      location,
      currency: 'EUR',
      prices: items.map((it, i) => ({ sku: it.sku, price: 100 + i + bump })),
    },
  });
await publish(0);
await publish(0, 'stocked');
h.clock.advance(1_000);
await publish(10);
await publish(10, 'stocked');

async function placed(label: string, location = 'stadium'): Promise<TestDevice> {
  const d = await h.enrollDevice(label);
  await h.request('POST', `/v1/admin/devices/${d.id}/placement`, {
    admin: true,
    payload: { merchant: 'acme', location, event: null },
  });
  return d;
}

/** A till at the stocked location receives `qty` of every item (not timed). */
async function receive(qty: number): Promise<void> {
  const d = await placed(`stockroom-${h.clock.now()}`, 'stocked');
  for (let i = 0; i < ITEMS; i += BATCH) {
    const ops: Op[] = [];
    for (let n = i; n < Math.min(ITEMS, i + BATCH); n++) {
      ops.push(d.chain.next('stock.received', { location: 'stocked', sku: sku(n), qty }));
    }
    const answer = await h.send(d.batch(ops));
    if (answer.status !== 200) throw new Error(JSON.stringify(answer.body));
  }
  h.clock.advance(1);
}

async function run(d: TestDevice, lines: (n: number) => SaleLine[]): Promise<number> {
  const shift = d.openShift();
  await h.send(d.batch([shift]));
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < SALES; sent += BATCH) {
    const ops: Op[] = [];
    for (let n = sent; n < Math.min(SALES, sent + BATCH); n++) {
      const l = lines(n);
      const total = l.reduce((s, x) => s + x.qty * x.unitPrice, 0);
      ops.push(d.chain.next('sale.recorded', saleBody(shift.id, total, { lines: l })));
    }
    const answer = await h.send(d.batch(ops));
    if (answer.status !== 200) throw new Error(JSON.stringify(answer.body));
  }
  return SALES / (Number(process.hrtime.bigint() - start) / 1e9);
}

const plainLines = (n: number): SaleLine[] => [
  { sku: sku(n % ITEMS), name: 'Item', qty: 1, unitPrice: 100 + (n % ITEMS) + 10 },
  { sku: sku((n + 7) % ITEMS), name: 'Item', qty: 2, unitPrice: 100 + ((n + 7) % ITEMS) + 10 },
];
const catalogLines = (n: number): SaleLine[] => [
  { sku: sku(n % ITEMS), name: 'Item', qty: 1, unitPrice: 100 + (n % ITEMS) + 10, priceList: 2 },
  // Every third sale: the second line from the superseded list 1 (a stale price).
  n % 3 === 0
    ? { sku: sku((n + 7) % ITEMS), name: 'Item', qty: 2, unitPrice: 100 + ((n + 7) % ITEMS), priceList: 1 }
    : { sku: sku((n + 7) % ITEMS), name: 'Item', qty: 2, unitPrice: 100 + ((n + 7) % ITEMS) + 10, priceList: 2 },
];
// A warm-up run of each (discarded), then two rounds alternating; the best of each kind is reported.
await receive((3 * SALES) / ITEMS);
await run(await placed('warm-plain'), plainLines);
await run(await placed('warm-catalog'), catalogLines);
await run(await placed('warm-stocked', 'stocked'), catalogLines);
const plainRuns: number[] = [];
const catalogRuns: number[] = [];
const stockedRuns: number[] = [];
for (let round = 0; round < 2; round++) {
  plainRuns.push(await run(await placed(`plain-${round}`), plainLines));
  catalogRuns.push(await run(await placed(`catalog-${round}`), catalogLines));
  await receive((3 * SALES) / ITEMS);
  stockedRuns.push(await run(await placed(`stocked-${round}`, 'stocked'), catalogLines));
}
const plain = Math.max(...plainRuns);
const catalog = Math.max(...catalogRuns);
const stocked = Math.max(...stockedRuns);
const levels = await h.storage.listStockLevels('stocked');
const moves = (await h.storage.listStockMoves({ location: 'stocked', after: 0, limit: 1_000_000 })).items.length;
const shortfalls = (await h.storage.listExceptions(0, 100_000)).items.filter(
  (x) => x.type === 'stock_shortfall',
).length;
await h.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    sales: SALES,
    batch: BATCH,
    items: ITEMS,
    plainSalesPerSec: Math.round(plain),
    catalogSalesPerSec: Math.round(catalog),
    stockedSalesPerSec: Math.round(stocked),
    ratio: Number((catalog / plain).toFixed(2)),
    stockedRatio: Number((stocked / plain).toFixed(2)),
    plainRuns: plainRuns.map(Math.round),
    catalogRuns: catalogRuns.map(Math.round),
    stockedRuns: stockedRuns.map(Math.round),
    stockLevels: levels.length,
    stockMoves: moves,
    stockShortfalls: shortfalls,
  }),
);
