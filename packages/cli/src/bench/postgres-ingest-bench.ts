/**
 * Ingest throughput on PostgreSQL: the ingest figure's signed batches of 500
 * (ingest-bench.ts), sent over HTTP by several devices at once (each its
 * batches in order, one at a time) to `processes` (default PG_PROCESSES, two)
 * `holdfast server --database-url` child processes sharing one database,
 * requests spread over them. Timed until every batch is answered 200 with
 * every op accepted.
 *
 * Baseline in the same run, on the same PostgreSQL: the same op rows, raw,
 * into a fresh database's `ops` table of the same shape (no foreign key: it
 * has no devices table), one 500-row `INSERT … SELECT FROM unnest(…)` per
 * batch (one statement, one transaction), one connection per device, as
 * concurrent as the HTTP run.
 *
 * PostgreSQL is `startTestPostgres()`: `DATABASE_URL` if set, otherwise an
 * embedded cluster (fsync off — so both sides skip the disk flush alike).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Op } from '@holdfast/protocol';
import { PostgresStorage } from '@holdfast/server';
import { startTestPostgres, type TestPostgres } from '@holdfast/server/testing/postgres';
import { BenchHttpClient } from './bench-http-client.js';
import { byDevice, httpEnroller, sendLanes } from './http-ingest.js';
import { buildWorkload } from './ingest-bench.js';
import { ServerChild } from './server-child.js';

/** Server processes of the `pg` figure unless `--pg-processes` says otherwise. */
export const PG_PROCESSES = 2;
/** The most `--pg-processes` accepts (each is a Node process with its own pool on the same PostgreSQL). */
export const MAX_PG_PROCESSES = 16;

export interface PgIngestResult {
  opsPerSec: number;
  rawInsertOpsPerSec: number;
  /** opsPerSec / rawInsertOpsPerSec. */
  ratio: number;
  processes: number;
  devices: number;
  batches: number;
  ops: number;
}

/** PostgreSQL could not be started (or reached): the figure is skipped, not failed. */
export class PostgresUnavailableError extends Error {
  override readonly name = 'PostgresUnavailableError';
}

export interface PgIngestOptions {
  devices?: number;
  batchesPerDevice?: number;
  batchSize?: number;
  /** `holdfast server` processes sharing the database (default PG_PROCESSES). */
  processes?: number;
  /** Called after the run, servers stopped, PostgreSQL still up: the ingest database and every op sent (tests). */
  inspect?: (databaseUrl: string, sent: Op[]) => Promise<void>;
}

const RAW_DDL = `CREATE TABLE ops (
  id TEXT COLLATE "C" PRIMARY KEY,
  device TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL,
  hash TEXT COLLATE "C" NOT NULL,
  kind TEXT NOT NULL,
  envelope TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
  result TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  UNIQUE (device, seq)
)`;

const RAW_INSERT = `INSERT INTO ops (id, device, seq, hash, kind, envelope, status, result, received_at)
  SELECT t.*, $9::bigint
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
    AS t(id, device, seq, hash, kind, envelope, status, result)`;

export async function benchPgIngest(options: PgIngestOptions = {}): Promise<PgIngestResult> {
  const { devices = 4, batchesPerDevice = 10, batchSize = 500, processes = PG_PROCESSES } = options;
  if (!Number.isInteger(processes) || processes < 1 || processes > MAX_PG_PROCESSES)
    throw new RangeError(`bench pg: processes must be an integer from 1 to ${MAX_PG_PROCESSES}, got ${processes}`);
  let started: TestPostgres | null = null;
  let databaseUrl: string;
  try {
    started = await startTestPostgres();
    databaseUrl = await started.newDatabase();
  } catch (error) {
    await started?.stop().catch(() => undefined);
    throw new PostgresUnavailableError(`PostgreSQL could not start: ${String(error).split('\n')[0]}`, {
      cause: error,
    });
  }
  const postgres = started;
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-pg-'));
  const servers: ServerChild[] = [];
  const clients: BenchHttpClient[] = [];
  let raw: PostgresStorage | null = null;
  try {
    const operatorToken = randomBytes(24).toString('hex');
    const serverArgs = ['--database-url', databaseUrl, '--body-limit', String(16 * 1024 * 1024)];
    // The first migrates; the others start on the migrated database.
    for (let i = 0; i < processes; i++) {
      servers.push(await ServerChild.start(join(dir, `server-${i}`), operatorToken, 60_000, serverArgs));
      clients.push(new BenchHttpClient(servers[i]?.url as string, devices));
    }

    const workload = buildWorkload(devices, batchesPerDevice, batchSize);
    await workload.enroll(httpEnroller(clients[0] as BenchHttpClient, operatorToken));
    const ops = workload.batches.reduce((n, b) => n + b.ops.length, 0);
    const lanes = byDevice(workload.batches);

    // Each device sends its batches one at a time, in order; request k of device d goes to process (d + k) % processes.
    let t0 = performance.now();
    await sendLanes('pg', clients, lanes);
    const httpSeconds = (performance.now() - t0) / 1000;
    for (const client of clients) client.close();
    await Promise.all(servers.map((s) => s.stop()));
    const sent = workload.batches.flatMap((b) => b.ops);
    if (options.inspect) await options.inspect(databaseUrl, sent);

    // Baseline: the same rows, raw, 500 per statement, a connection per device.
    const rawDb = new PostgresStorage({ connectionString: await postgres.newDatabase(), pool: { max: devices } });
    raw = rawDb;
    await rawDb.query(RAW_DDL);
    const result = JSON.stringify({ status: 'accepted', at: Date.now() });
    const rows = lanes.map((lane) =>
      lane.map((batch) => {
        const o = batch.ops;
        return [
          o.map((op) => op.id),
          o.map((op) => op.device),
          o.map((op) => op.seq),
          o.map((op) => op.hash),
          o.map((op) => op.kind),
          o.map((op) => JSON.stringify(op)),
          o.map(() => 'accepted'),
          o.map(() => result),
        ];
      }),
    );
    t0 = performance.now();
    await Promise.all(
      rows.map(async (lane) => {
        for (const params of lane) await rawDb.query(RAW_INSERT, [...params, Date.now()]);
      }),
    );
    const rawSeconds = (performance.now() - t0) / 1000;
    const [stored] = await rawDb.query<{ n: number }>('SELECT count(*)::int AS n FROM ops');
    if (stored?.n !== ops) throw new Error(`bench pg: raw insert stored ${stored?.n} of ${ops} rows`);

    const opsPerSec = ops / httpSeconds;
    const rawInsertOpsPerSec = ops / rawSeconds;
    return {
      opsPerSec,
      rawInsertOpsPerSec,
      ratio: opsPerSec / rawInsertOpsPerSec,
      processes,
      devices,
      batches: workload.batches.length,
      ops,
    };
  } finally {
    for (const client of clients) client.close();
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    await raw?.close().catch(() => undefined);
    await postgres.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}
