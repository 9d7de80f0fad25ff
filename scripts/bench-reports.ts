#!/usr/bin/env node
// Time to answer each report over a day of catalog sales (docs/reports.md):
// SQLite file through the HTTP API, `lanes` devices at one location, each
// sale two lines of a 1,000-item catalog with tax rates, one sale in 20
// refunded; every report read twice, the second figure kept (warm cache);
// wall time and the process's CPU time (the box is shared: wall time waits for a core).
//
//   node --conditions=holdfast-src --import tsx scripts/bench-reports.ts [sales=20000] [lanes=20]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Op } from '../packages/protocol/src/index.ts';
import { SqliteStorage } from '../packages/server/src/index.ts';
import { createHarness, saleBody } from '../packages/server/src/testing/harness.ts';

const SALES = Number(process.argv[2] ?? 20_000);
const LANES = Number(process.argv[3] ?? 20);
const BATCH = 100;
const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-reports-'));
const h = await createHarness({ storage: new SqliteStorage({ path: join(dir, 'server.db') }) });
const sku = (i: number) => `SKU-${String(i).padStart(6, '0')}`;
const items = Array.from({ length: 1_000 }, (_, i) => ({
  sku: sku(i),
  name: `Item ${i}`,
  taxCategory: i % 2 === 0 ? 'standard' : 'reduced',
  unit: 'each',
}));
await h.request('PUT', '/v1/admin/catalog/items', { admin: true, payload: { items } });
await h.request('PUT', '/v1/admin/catalog/tax-rates', {
  admin: true,
  payload: {
    rates: [
      { category: 'standard', rate: 2100 },
      { category: 'reduced', rate: 1000 },
    ],
  },
});
const started = performance.now();
for (let lane = 0; lane < LANES; lane++) {
  const d = await h.enrollDevice(`lane-${lane}`);
  await h.request('POST', `/v1/admin/devices/${d.id}/placement`, {
    admin: true,
    payload: { merchant: 'acme', location: 'stadium', event: null },
  });
  const open = d.openShift();
  let ops: Op[] = [open];
  const per = Math.ceil(SALES / LANES);
  for (let i = 0; i < per; i++) {
    const a = (lane * 31 + i * 7) % 1_000;
    const b = (a + 500) % 1_000;
    const lines = [
      { sku: sku(a), name: `Item ${a}`, qty: 1 + (i % 3), unitPrice: 100 + a },
      { sku: sku(b), name: `Item ${b}`, qty: 1, unitPrice: 100 + b },
    ];
    const total = lines.reduce((s, l) => s + l.qty * l.unitPrice, 0);
    const sale = d.chain.next('sale.recorded', saleBody(open.id, total, { lines }));
    ops.push(sale);
    if (i % 20 === 19) {
      ops.push(
        d.chain.next('sale.refunded', {
          shift: open.id,
          sale: sale.id,
          currency: 'EUR',
          lines: [{ line: 0, qty: 1 }],
          amount: 100 + a,
          tender: 'cash',
        }),
      );
    }
    if (ops.length >= BATCH) {
      const answer = await h.send(d.batch(ops));
      if (answer.status !== 200) throw new Error(JSON.stringify(answer.body));
      ops = [];
    }
  }
  if (ops.length > 0) await h.send(d.batch(ops));
}
console.log(`ingested ${SALES} sales on ${LANES} lanes in ${((performance.now() - started) / 1000).toFixed(1)} s`);
const today = new Date(h.clock.now()).toISOString().slice(0, 10);
for (const path of [
  'sales?by=item',
  'sales?by=day',
  'sales?by=lane',
  'sales?by=item&format=csv',
  'outages',
  'accounting?by=day',
  'accounting?by=shift&format=csv',
]) {
  const url = `/v1/admin/reports/${path}${path.includes('?') ? '&' : '?'}from=${today}`;
  let ms = 0;
  let cpu = 0;
  let bytes = 0;
  for (let round = 0; round < 2; round++) {
    const t = performance.now();
    const c = process.cpuUsage();
    const res = await h.app.inject({ method: 'GET', url, headers: h.adminHeaders });
    ms = performance.now() - t;
    const used = process.cpuUsage(c);
    cpu = (used.user + used.system) / 1000;
    bytes = res.body.length;
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
  }
  console.log(
    `${path.padEnd(32)} ${ms.toFixed(0).padStart(6)} ms wall ${cpu.toFixed(0).padStart(6)} ms CPU ${(bytes / 1024).toFixed(0).padStart(7)} kB`,
  );
}
await h.close();
rmSync(dir, { recursive: true, force: true });
