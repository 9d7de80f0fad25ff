#!/usr/bin/env node
// Loyalty at the till and at ingest (docs/loyalty.md), in one run on one
// server (SQLite file) with a real terminal over the in-process transport:
// the time of one online redemption (redeem, the code read from the outbox,
// confirm, record), and ingest throughput of sales with a points op (online
// and offline redemptions) beside plain sales, each synced in one go.
//
//   node --conditions=holdfast-src --import tsx scripts/bench-loyalty.ts [sales=500]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HoldfastService, SqliteStorage } from '../packages/server/src/index.ts';
import { inProcessTransport } from '../packages/sim/src/in-process-transport.ts';
import { Terminal } from '../packages/terminal/src/index.ts';

const N = Number(process.argv[2] ?? 500);
const MEMBERS = 50;
const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-loyalty-'));
const storage = new SqliteStorage({ path: join(dir, 'server.db') });
await storage.migrate();
const service = new HoldfastService({ storage });
const member = (i: number) => `BENCH${String(i % MEMBERS).padStart(4, '0')}`;
for (let i = 0; i < MEMBERS; i++) {
  await service.loyalty.create(member(i), member(i));
  await service.loyalty.adjust(member(i), { points: 1_000_000, reason: 'bench' }, 'bench');
}
await service.issuePolicy({
  scope: { merchant: 'acme', location: null, event: null, devices: null },
  currency: 'EUR',
  expiresAt: Date.now() + 86_400_000,
  offline: { maxOfflineMs: 3_600_000, device: { maxAmount: 0, maxCount: 0 }, tenders: {} },
  online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: 100 },
  loyalty: { pointsPerUnit: 1, perMinor: 100, offlineCap: 100 },
});
const t = Terminal.open({ dataDir: join(dir, 'till'), transport: inProcessTransport(service), autoSync: false });
await t.enroll((await service.createEnrollmentToken({ merchant: 'acme' })).token, 'bench');
await t.refreshPolicy();
t.openShift({ clerk: 'bench', currency: 'EUR', openingFloat: 0 });
const sell = () =>
  t.recordSale({
    lines: [{ sku: 'A', name: 'A', qty: 1, unitPrice: 1_234 }],
    tenders: [{ type: 'cash', amount: 1_234, tendered: 1_234 }],
  }).id;
const timed = async (fn: () => Promise<void> | void) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

const online = await timed(async () => {
  for (let i = 0; i < N; i++) {
    const sale = sell();
    const pending = await t.requestLoyaltyRedemption(member(i), 150);
    const code = (await service.loyalty.outbox(member(i))).at(-1)?.code ?? '';
    const confirmed = await t.confirmLoyaltyRedemption(pending, code);
    t.recordLoyaltyPoints({ member: member(i), sale, knownBalance: 1_000_000, online: confirmed });
  }
});
const syncOnline = await timed(() => t.syncNow().then(() => undefined));
await timed(() => {
  for (let i = 0; i < N; i++) {
    t.recordLoyaltyPoints({ member: member(i), sale: sell(), knownBalance: 1_000_000, redeem: 50 });
  }
});
const syncOffline = await timed(() => t.syncNow().then(() => undefined));
await timed(() => {
  for (let i = 0; i < N; i++) sell();
});
const syncPlain = await timed(() => t.syncNow().then(() => undefined));
const exceptions = (await storage.listExceptions(0, 10)).items.map((x) => x.type);
console.log(
  JSON.stringify({
    sales: N,
    onlineRedemptionMs: Number((online / N).toFixed(2)),
    ingestOpsPerS: {
      salesWithOnlinePoints: Math.round((2 * N) / (syncOnline / 1000)),
      salesWithOfflinePoints: Math.round((2 * N) / (syncOffline / 1000)),
      plainSales: Math.round(N / (syncPlain / 1000)),
    },
    pending: t.status().pending,
    exceptions,
  }),
);
await t.close();
await storage.close();
rmSync(dir, { recursive: true, force: true });
