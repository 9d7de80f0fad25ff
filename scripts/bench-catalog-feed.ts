#!/usr/bin/env node
// A large catalog in the device feed (docs/catalog-and-stock.md, "Large
// catalogs"): 10,000 items on one location's price list, then 1,000 price
// changes published as the next version, pushed to 200 terminals.
// Measures, on the server (SQLite, through the HTTP API): publishing, and
// building + signing the feed's price list for each of the 200 feed polls;
// the size of the price list in a feed answer (JSON bytes) and for all 200;
// and on a terminal (FakeServer answering, real journal): the time one
// feed poll takes to verify, store and apply the new list, and to price a
// line from it.
//
//   node --conditions=holdfast-src --import tsx scripts/bench-catalog-feed.ts [items=10000] [changes=1000] [terminals=200]
import { gzipSync } from 'node:zlib';
import type { SignedPriceList } from '../packages/protocol/src/index.ts';
import { createHarness as serverHarness } from '../packages/server/src/testing/harness.ts';
import { createHarness as terminalHarness } from '../packages/terminal/src/testing/harness.ts';

const ITEMS = Number(process.argv[2] ?? 10_000);
const CHANGES = Number(process.argv[3] ?? 1_000);
const TERMINALS = Number(process.argv[4] ?? 200);

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const sku = (i: number) => `SKU-${String(i).padStart(6, '0')}`;

const server = await serverHarness();
const items = Array.from({ length: ITEMS }, (_, i) => ({
  sku: sku(i),
  name: `Item number ${i} of the stadium catalog`,
  taxCategory: i % 3 === 0 ? 'reduced' : 'standard',
  unit: 'each',
}));
let t = process.hrtime.bigint();
for (let i = 0; i < items.length; i += 5_000) {
  const put = await server.request('PUT', '/v1/admin/catalog/items', {
    admin: true,
    payload: { items: items.slice(i, i + 5_000) },
  });
  if (put.status !== 200) throw new Error(JSON.stringify(put.body));
}
const upsertMs = ms(t);
const prices = items.map((item, i) => ({ sku: item.sku, price: 100 + (i % 900) * 10 }));
const publish = async (list: { sku: string; price: number }[]) => {
  const start = process.hrtime.bigint();
  const answer = await server.request('POST', '/v1/admin/price-lists', {
    admin: true,
    payload: { location: 'stadium', currency: 'EUR', prices: list },
  });
  if (answer.status !== 201) throw new Error(JSON.stringify(answer.body));
  return ms(start);
};
const publishV1Ms = await publish(prices);
// 1,000 price changes: the next version differs from the first in CHANGES prices.
const changed = prices.map((p, i) => (i % Math.floor(ITEMS / CHANGES) === 0 ? { ...p, price: p.price + 50 } : p));
const publishV2Ms = await publish(changed);

// The signing key exists once a device enrolled; create it as enrollment does.
const keys = (await server.service.policyKeys()) as Record<string, string>;
t = process.hrtime.bigint();
let signed: SignedPriceList | null = null;
for (let i = 0; i < TERMINALS; i++) {
  signed = await server.service.catalog.priceListFor('stadium', 1, server.clock.now());
}
const serverBuildMs = ms(t);
if (!signed) throw new Error('no price list built');
await server.close();

const json = JSON.stringify(signed);
const bytes = Buffer.byteLength(json);
const gzipBytes = gzipSync(json).length;

// One terminal applying it: a feed poll answered with the list (FakeServer), verified, stored, applied.
const till = await terminalHarness({ enroll: false, autoSync: false });
till.server.policyKeys = keys;
const { deviceId } = await till.terminal.enroll(till.server.createToken('till-1'), 'till-1');
till.server.placements.set(deviceId, { merchant: 'acme', location: 'stadium', event: null });
till.server.priceList = signed;
t = process.hrtime.bigint();
const polled = await till.terminal.pollFeed();
const applyMs = ms(t);
if (polled.priceListRefused !== null || till.terminal.catalog.version() !== 2) throw new Error('list not applied');
// The till's clock to the list's time (the harnesses' manual clocks start apart).
till.clock.advance(Math.max(0, signed.list.from - till.clock.now()));
t = process.hrtime.bigint();
for (let i = 0; i < 1_000; i++) till.terminal.catalog.line(sku((i * 7) % ITEMS), 1);
const lineUs = (ms(t) / 1_000) * 1_000;
await till.cleanup();

console.log(
  JSON.stringify(
    {
      items: ITEMS,
      priceChanges: CHANGES,
      terminals: TERMINALS,
      upsertItemsMs: Math.round(upsertMs),
      publishV1Ms: Math.round(publishV1Ms),
      publishV2Ms: Math.round(publishV2Ms),
      feedListBytes: bytes,
      feedListGzipBytes: gzipBytes,
      allTerminalsMB: Number(((bytes * TERMINALS) / 1e6).toFixed(1)),
      allTerminalsGzipMB: Number(((gzipBytes * TERMINALS) / 1e6).toFixed(1)),
      serverBuildSignPerTerminalMs: Number((serverBuildMs / TERMINALS).toFixed(1)),
      serverBuildSignAllMs: Math.round(serverBuildMs),
      terminalPollApplyMs: Math.round(applyMs),
      terminalPriceLineUs: Number(lineUs.toFixed(1)),
    },
    null,
    2,
  ),
);
