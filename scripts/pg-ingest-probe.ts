// Where a PostgreSQL ingest spends its time (docs/scaling.md, docs/performance.md):
// the bench's signed batches of sales ingested in process, one at a time, through
// HoldfastService on PostgresStorage (startTestPostgres: DATABASE_URL or embedded).
// Prints ops/s, CPU per 1,000 ops of this process and of the PostgreSQL backends
// (from /proc, Linux), and the time and count of each statement; EXPLAIN=name[,name]
// (holdfast_ingest_write, holdfast_ingest_facts, …) prints EXPLAIN (ANALYZE, BUFFERS)
// of the first such statement, run in a savepoint that is rolled back.
//
//   node --conditions=holdfast-src --import tsx scripts/pg-ingest-probe.ts
//   DEVICES=4 BATCHES=10 SIZE=500 (defaults)    SIZE=1 BATCHES=200: live batches of one op
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { buildWorkload } from '../packages/cli/src/bench/ingest-bench.ts';
import { HoldfastService, PostgresStorage } from '../packages/server/src/index.ts';
import { startTestPostgres } from '../packages/server/src/testing/postgres.ts';

type QueryConfig = { name?: string; text: string; values?: unknown[] };
type Query = (this: pg.Client, config: string | QueryConfig, values?: unknown, callback?: unknown) => unknown;

const devices = Number(process.env.DEVICES ?? 4);
const batches = Number(process.env.BATCHES ?? 10);
const size = Number(process.env.SIZE ?? 500);
const explain = new Set(process.env.EXPLAIN?.split(',').filter(Boolean) ?? []);

// Every statement timed by name (or its first words), on every connection.
const stats = new Map<string, { n: number; ms: number }>();
const original = pg.Client.prototype.query as unknown as Query;
(pg.Client.prototype as unknown as { query: Query }).query = function (config, values, callback) {
  // The pool's own callback-style calls (connecting, …) pass straight through, untimed.
  if (typeof values === 'function' || typeof callback === 'function')
    return original.call(this, config, values, callback);
  return timed.call(this, config, values);
};

async function timed(this: pg.Client, config: string | QueryConfig, values?: unknown): Promise<pg.QueryResult> {
  const key =
    typeof config === 'string'
      ? config.slice(0, 60).replace(/\s+/g, ' ')
      : (config.name ?? config.text.slice(0, 60).replace(/\s+/g, ' '));
  if (typeof config === 'object' && config.name && explain.delete(config.name)) {
    await original.call(this, 'SAVEPOINT probe');
    const plan = (await original.call(this, {
      text: `EXPLAIN (ANALYZE, BUFFERS) ${config.text}`,
      values: config.values ?? [],
    })) as pg.QueryResult;
    console.log(`--- EXPLAIN ${config.name}\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}`);
    await original.call(this, 'ROLLBACK TO SAVEPOINT probe');
  }
  const t = performance.now();
  const result = (await original.call(this, config, values)) as pg.QueryResult;
  const s = stats.get(key) ?? { n: 0, ms: 0 };
  s.n++;
  s.ms += performance.now() - t;
  stats.set(key, s);
  return result;
}

/** utime + stime of a process in ms (clock ticks of 10 ms), 0 if it is gone or /proc is absent. */
function cpuMs(pid: number): number {
  try {
    const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] as string).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

const server = await startTestPostgres();
try {
  const storage = new PostgresStorage({ connectionString: await server.newDatabase() });
  await storage.migrate();
  const service = new HoldfastService({ storage });
  const workload = buildWorkload(devices, batches, size);
  await workload.enroll(service);
  const backends = async () =>
    (await storage.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).map(
      (r) => r.pid,
    );
  const before = new Map((await backends()).map((pid) => [pid, cpuMs(pid)]));
  const cpu0 = process.cpuUsage();
  stats.clear();
  const t0 = performance.now();
  for (const batch of workload.batches) {
    const response = await service.ingest(JSON.parse(batch.text));
    if (response.results.some((r) => r.status !== 'accepted')) throw new Error('an op was not accepted');
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  let pgCpu = 0;
  for (const pid of await backends()) pgCpu += cpuMs(pid) - (before.get(pid) ?? 0);
  const ops = workload.batches.reduce((n, b) => n + b.ops.length, 0);
  const per1000 = (x: number) => ((x * 1000) / ops).toFixed(1);
  console.log(
    `${ops} ops in ${workload.batches.length} batches, one at a time: ${ms.toFixed(0)} ms, ${((ops * 1000) / ms).toFixed(0)} ops/s, ${((workload.batches.length * 1000) / ms).toFixed(0)} batches/s`,
  );
  console.log(
    `CPU per 1,000 ops: this process ${per1000((cpu.user + cpu.system) / 1000)} ms, PostgreSQL backends ${per1000(pgCpu)} ms`,
  );
  let sum = 0;
  for (const [key, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) {
    sum += s.ms;
    console.log(
      `${s.ms.toFixed(0).padStart(7)} ms ${String(s.n).padStart(6)}× ${(s.ms / s.n).toFixed(2).padStart(8)} ms  ${key}`,
    );
  }
  console.log(`statements ${sum.toFixed(0)} ms of ${ms.toFixed(0)} ms`);
  await storage.close();
} finally {
  await server.stop();
}
