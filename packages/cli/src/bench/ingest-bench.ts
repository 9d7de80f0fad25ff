/**
 * Ingest throughput: batches of 500 signed ops from several devices, as the
 * server receives them (JSON text), applied exactly once — in process through
 * the service (SQLite on the calling thread), and over real HTTP on loopback to
 * `holdfast server` in its own process as deployed (SQLite on its storage
 * thread, with group commit) — beside the baseline of a raw
 * batched SQLite insert of the same op rows (500 per transaction) on the same
 * durability settings (WAL, synchronous=FULL).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Batch,
  ChainBuilder,
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  type Op,
  signMessage,
} from '@holdfast/protocol';
import { HoldfastService, SqliteStorage } from '@holdfast/server';
import Database from 'better-sqlite3';
import { BenchHttpClient } from './bench-http-client.js';
import { byDevice, type Enroller, httpEnroller, sendLanes } from './http-ingest.js';
import { ServerChild } from './server-child.js';

export interface IngestResult {
  devices: number;
  batchSize: number;
  ops: number;
  serviceOpsPerSec: number;
  httpOpsPerSec: number;
  rawInsertOpsPerSec: number;
  ratioService: number;
  ratioHttp: number;
}

/** Signed batches of sales from several devices; `enroll` (re)enrolls them with a service and rebuilds the chains. */
export interface Workload {
  batches: { device: string; text: string; ops: Op[] }[];
  enroll: (service: Enroller) => Promise<void>;
}

export function buildWorkload(devices: number, batchesPerDevice: number, batchSize: number): Workload {
  const batches: Workload['batches'] = [];
  const identities: { keys: ReturnType<typeof generateDeviceKeys>; chain: ChainBuilder; batches: Batch[] }[] = [];
  for (let d = 0; d < devices; d++) {
    const keys = generateDeviceKeys();
    identities.push({ keys, chain: new ChainBuilder('', keys.privateKey), batches: [] });
  }
  return {
    batches,
    async enroll(service) {
      batches.length = 0;
      const perDevice: { device: string; text: string; ops: Op[] }[][] = [];
      for (const identity of identities) {
        const { token } = await service.createEnrollmentToken({});
        const sig = signMessage(
          enrollmentMessage(token, identity.keys.publicKey),
          importPrivateKey(identity.keys.privateKey),
        );
        const { deviceId } = await service.enroll({ token, publicKey: identity.keys.publicKey, sig });
        const chain = new ChainBuilder(deviceId, identity.keys.privateKey);
        const shift = chain.next('shift.opened', { clerk: 'bench', currency: 'EUR', openingFloat: 0 });
        const list: { device: string; text: string; ops: Op[] }[] = [];
        for (let b = 0; b < batchesPerDevice; b++) {
          const ops: Op[] = b === 0 ? [shift] : [];
          while (ops.length < batchSize) {
            const card = ops.length % 2 === 0;
            ops.push(
              chain.next('sale.recorded', {
                shift: shift.id,
                currency: 'EUR',
                lines: [
                  { sku: 'BEER-05', name: 'Beer 0.5l', qty: 2, unitPrice: 650 },
                  { sku: 'PRETZEL', name: 'Pretzel', qty: 1, unitPrice: 450 },
                ],
                total: 1750,
                tenders: card
                  ? [{ type: 'card', amount: 1750, token: 'tok_4242424242', brand: 'visa', last4: '4242' }]
                  : [{ type: 'cash', amount: 1750, tendered: 2000 }],
              }),
            );
          }
          list.push({ device: deviceId, text: JSON.stringify(chain.batch(ops)), ops });
        }
        perDevice.push(list);
      }
      // Interleave devices, as a busy server sees them.
      for (let b = 0; b < batchesPerDevice; b++)
        for (const list of perDevice) if (list[b]) batches.push(list[b] as (typeof list)[number]);
    },
  };
}

async function openService(path: string): Promise<{ service: HoldfastService; storage: SqliteStorage }> {
  const storage = new SqliteStorage({ path });
  await storage.migrate();
  return { service: new HoldfastService({ storage }), storage };
}

export async function benchIngest(devices = 4, batchesPerDevice = 10, batchSize = 500): Promise<IngestResult> {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-ingest-'));
  try {
    const workload = buildWorkload(devices, batchesPerDevice, batchSize);
    const ops = devices * batchesPerDevice * batchSize;

    // In process: JSON text → parse → verify → one transaction per batch.
    const a = await openService(join(dir, 'service.db'));
    await workload.enroll(a.service);
    let t0 = performance.now();
    for (const batch of workload.batches) {
      const response = await a.service.ingest(JSON.parse(batch.text));
      if (response.results.some((r) => r.status !== 'accepted')) throw new Error('bench: an op was not accepted');
    }
    const serviceSeconds = (performance.now() - t0) / 1000;
    await a.storage.close();

    // Over HTTP on loopback to `holdfast server` in its own process, as deployed (SQLite on its storage
    // thread, group commit): one connection per device, each sending its batches in order.
    const operatorToken = randomBytes(24).toString('hex');
    const server = await ServerChild.start(join(dir, 'server'), operatorToken, 60_000, [
      '--body-limit',
      String(16 * 1024 * 1024),
    ]);
    const client = new BenchHttpClient(server.url, devices);
    let httpSeconds: number;
    try {
      await workload.enroll(httpEnroller(client, operatorToken));
      t0 = performance.now();
      await sendLanes('ingest', [client], byDevice(workload.batches));
      httpSeconds = (performance.now() - t0) / 1000;
    } finally {
      client.close();
      await server.stop();
    }

    // Baseline: the same op rows, raw, 500 per transaction.
    const raw = new Database(join(dir, 'raw.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    raw.exec(`CREATE TABLE ops (id TEXT PRIMARY KEY, device TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL,
      kind TEXT NOT NULL, envelope TEXT NOT NULL, status TEXT NOT NULL, result TEXT NOT NULL, received_at INTEGER NOT NULL,
      UNIQUE (device, seq))`);
    const insert = raw.prepare('INSERT INTO ops VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const result = JSON.stringify({ status: 'accepted', at: Date.now() });
    const insertBatch = raw.transaction((rows: Op[]) => {
      for (const op of rows)
        insert.run(op.id, op.device, op.seq, op.hash, op.kind, JSON.stringify(op), 'accepted', result, Date.now());
    });
    t0 = performance.now();
    for (const batch of workload.batches) insertBatch(batch.ops);
    const rawSeconds = (performance.now() - t0) / 1000;
    raw.close();

    const serviceOpsPerSec = ops / serviceSeconds;
    const httpOpsPerSec = ops / httpSeconds;
    const rawInsertOpsPerSec = ops / rawSeconds;
    return {
      devices,
      batchSize,
      ops,
      serviceOpsPerSec,
      httpOpsPerSec,
      rawInsertOpsPerSec,
      ratioService: serviceOpsPerSec / rawInsertOpsPerSec,
      ratioHttp: httpOpsPerSec / rawInsertOpsPerSec,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
