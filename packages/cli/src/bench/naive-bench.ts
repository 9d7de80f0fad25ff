/**
 * Ours vs the naive design: the same op rows (the ingest bench's workload:
 * D devices × B batches × 500 sales) sent over keep-alive HTTP on loopback,
 * one sequential request stream per device as a fleet would — to the real
 * Holdfast server (`buildApp` + `HoldfastService` + `SqliteStorage`, signed
 * batches of 500), and to the naive one-op-per-request server with an
 * idempotency-key table (`naive-server.ts`, which says what it leaves out).
 *
 * Both run in this process on fresh databases with the same durability
 * (WAL, synchronous=FULL) and the same client; rounds alternate which goes
 * first so a noisy neighbour hits both alike.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, HoldfastService, SqliteStorage } from '@holdfast/server';
import type { FastifyInstance } from 'fastify';
import { BenchHttpClient } from './bench-http-client.js';
import { buildWorkload, type Workload } from './ingest-bench.js';
import { buildNaiveServer } from './naive-server.js';

export interface NaiveResult {
  devices: number;
  batchSize: number;
  /** Ops per round (each side sends all of them once per round). */
  ops: number;
  rounds: number;
  /** Holdfast over HTTP, signed batches of `batchSize`: ops answered per second, all rounds. */
  oursOpsPerSec: number;
  /** The naive server, one op per request. */
  naiveOpsPerSec: number;
  /** ours / naive. */
  ratio: number;
  oursRoundsOpsPerSec: number[];
  naiveRoundsOpsPerSec: number[];
  /** Ops the Holdfast server accepted (summary), over all rounds: ops × rounds when correct. */
  oursAccepted: number;
  /** Rows the naive server stored, over all rounds: ops × rounds each when correct. */
  naiveStored: { ops: number; keys: number };
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** One stream per device, in the workload's order. */
function byDevice<I extends { device: string }, T>(items: readonly I[], pick: (item: I) => T[]): T[][] {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const stream = map.get(item.device) ?? [];
    stream.push(...pick(item));
    map.set(item.device, stream);
  }
  return [...map.values()];
}

/** Sends the workload to a fresh Holdfast server; returns seconds and ops accepted. */
async function runOurs(workload: Workload, path: string): Promise<{ seconds: number; accepted: number }> {
  const storage = new SqliteStorage({ path });
  await storage.migrate();
  const service = new HoldfastService({ storage });
  await workload.enroll(service);
  const app = buildApp({ service, operatorToken: 'bench-operator-token-0123456789', bodyLimit: 16 * 1024 * 1024 });
  const url = await listen(app);
  const streams = byDevice(workload.batches, (b) => [b.text]);
  const client = new BenchHttpClient(url, streams.length);
  try {
    const t0 = performance.now();
    await Promise.all(
      streams.map(async (texts) => {
        for (const text of texts) {
          const res = await client.request('POST', '/v1/batches', { body: text, timeoutMs: 60_000 });
          if (res.status !== 200) throw new Error(`bench: HTTP ${res.status} ${res.text}`);
          const body = JSON.parse(res.text) as { results: { status: string }[] };
          if (body.results.some((r) => r.status !== 'accepted')) throw new Error('bench: an op was not accepted');
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, accepted: (await storage.summary()).opsAccepted };
  } finally {
    client.close();
    await app.close();
    await storage.close();
  }
}

/** Sends the same op rows, one per request, to a fresh naive server. */
async function runNaive(workload: Workload, path: string): Promise<{ seconds: number; ops: number; keys: number }> {
  const naive = buildNaiveServer(path);
  const url = await listen(naive.app);
  // Serialized beforehand, as the batches are for ours.
  const streams = byDevice(workload.batches, (b) => b.ops.map((op) => ({ key: op.id, text: JSON.stringify(op) })));
  const client = new BenchHttpClient(url, streams.length);
  try {
    const t0 = performance.now();
    await Promise.all(
      streams.map(async (requests) => {
        for (const { key, text } of requests) {
          const res = await client.request('POST', '/ops', {
            body: text,
            headers: { 'idempotency-key': key },
            timeoutMs: 60_000,
          });
          if (res.status !== 200) throw new Error(`bench: naive HTTP ${res.status} ${res.text}`);
          if ((JSON.parse(res.text) as { status?: string }).status !== 'accepted')
            throw new Error(`bench: naive answered ${res.text}`);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, ...naive.counts() };
  } finally {
    client.close();
    await naive.close();
  }
}

export async function benchNaive(
  devices = 4,
  batchesPerDevice = 10,
  batchSize = 500,
  rounds = 2,
): Promise<NaiveResult> {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-naive-'));
  try {
    const workload = buildWorkload(devices, batchesPerDevice, batchSize);
    const ops = devices * batchesPerDevice * batchSize;
    const ours: number[] = [];
    const naive: number[] = [];
    let oursAccepted = 0;
    const naiveStored = { ops: 0, keys: 0 };
    for (let r = 0; r < rounds; r++) {
      const runOnce = async (which: 'ours' | 'naive') => {
        if (which === 'ours') {
          const run = await runOurs(workload, join(dir, `ours-${r}.db`));
          ours.push(run.seconds);
          oursAccepted += run.accepted;
        } else {
          // Round 0 runs ours first, whose enrollment builds the rows; the naive server gets the same rows.
          const run = await runNaive(workload, join(dir, `naive-${r}.db`));
          naive.push(run.seconds);
          naiveStored.ops += run.ops;
          naiveStored.keys += run.keys;
        }
      };
      const order: ('ours' | 'naive')[] = r % 2 === 0 ? ['ours', 'naive'] : ['naive', 'ours'];
      for (const which of order) await runOnce(which);
    }
    const total = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    const oursOpsPerSec = (ops * rounds) / total(ours);
    const naiveOpsPerSec = (ops * rounds) / total(naive);
    return {
      devices,
      batchSize,
      ops,
      rounds,
      oursOpsPerSec,
      naiveOpsPerSec,
      ratio: oursOpsPerSec / naiveOpsPerSec,
      oursRoundsOpsPerSec: ours.map((s) => ops / s),
      naiveRoundsOpsPerSec: naive.map((s) => ops / s),
      oursAccepted,
      naiveStored,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
