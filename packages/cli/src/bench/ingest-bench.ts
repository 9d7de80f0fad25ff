/**
 * Ingest throughput: batches of 500 signed ops from several devices, as the
 * server receives them (JSON text), applied exactly once — in process through
 * the service, and over real HTTP on loopback — beside the baseline of a raw
 * batched SQLite insert of the same op rows (500 per transaction) on the same
 * durability settings (WAL, synchronous=FULL).
 */
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
import { buildApp, HoldfastService, SqliteStorage } from '@holdfast/server';
import Database from 'better-sqlite3';

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

/** What enrollment needs: a service in process, or the same two calls over HTTP. */
export type Enroller = Pick<HoldfastService, 'createEnrollmentToken' | 'enroll'>;

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

    // Over HTTP on loopback: one client per device, each sending its batches in order.
    const b = await openService(join(dir, 'http.db'));
    await workload.enroll(b.service);
    const app = buildApp({
      service: b.service,
      operatorToken: 'bench-operator-token-0123456789',
      bodyLimit: 16 * 1024 * 1024,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v1/batches`;
    const byDevice = new Map<string, string[]>();
    for (const batch of workload.batches)
      byDevice.set(batch.device, [...(byDevice.get(batch.device) ?? []), batch.text]);
    t0 = performance.now();
    await Promise.all(
      [...byDevice.values()].map(async (texts) => {
        for (const text of texts) {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
          if (res.status !== 200) throw new Error(`bench: HTTP ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        }
      }),
    );
    const httpSeconds = (performance.now() - t0) / 1000;
    await app.close();
    await b.storage.close();

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
