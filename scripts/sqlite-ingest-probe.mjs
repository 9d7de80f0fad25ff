// The SQLite storage thread's share of ingest, alone (docs/performance.md, "Ingest on SQLite"):
// the bench's signed batches of sales, verified first (not timed), then applied by
// SqliteStorage.ingestGroup in groups of GROUP batches, as the storage thread's group commit
// does. Builds given as repository roots alternate in one process (A B A B …, after a
// warm-up round each), so a comparison runs on the same load. Prints CPU and wall time per
// op of the storage work, min and median over the rounds. Each root needs `npm run build`.
//
//   node scripts/sqlite-ingest-probe.mjs /path/to/base-checkout .
//   ROUNDS=5 DEVICES=4 BATCHES=20 GROUP=4 (defaults)
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const roots = process.argv.slice(2).map((r) => resolve(r));
if (roots.length === 0) throw new Error('usage: node scripts/sqlite-ingest-probe.mjs ROOT [ROOT …]');
const rounds = Number(process.env.ROUNDS ?? 5);
const devices = Number(process.env.DEVICES ?? 4);
const batches = Number(process.env.BATCHES ?? 20);
const group = Number(process.env.GROUP ?? 4);

const builds = [];
for (const root of roots) {
  const { buildWorkload } = await import(join(root, 'packages/cli/dist/bench/ingest-bench.js'));
  const { HoldfastService, SqliteStorage } = await import(join(root, 'packages/server/dist/index.js'));
  builds.push({ root, buildWorkload, HoldfastService, SqliteStorage, cpu: [], wall: [] });
}

async function once(b) {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-sqlite-probe-'));
  try {
    const storage = new b.SqliteStorage({ path: join(dir, 'probe.db') });
    await storage.migrate();
    const service = new b.HoldfastService({ storage });
    const workload = b.buildWorkload(devices, batches, 500);
    await workload.enroll(service);
    const verified = [];
    for (const batch of workload.batches) verified.push(await service.verifyBatch(JSON.parse(batch.text)));
    let ops = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < verified.length; i += group) {
      const items = verified.slice(i, i + group).map((batch) => ({ batch, now: Date.now(), newId: randomUUID }));
      for (const outcome of storage.ingestGroup(items)) {
        if (!outcome.ok) throw outcome.error;
        if (outcome.value.results.some((r) => r.status !== 'accepted')) throw new Error('an op was not accepted');
        ops += outcome.value.results.length;
      }
    }
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await storage.close();
    return { cpu: (cpu.user + cpu.system) / ops, wall: (wall * 1000) / ops };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const b of builds) await once(b);
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < builds.length; k++) {
    const b = builds[(k + r) % builds.length];
    const x = await once(b);
    b.cpu.push(x.cpu);
    b.wall.push(x.wall);
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const f = (x) => x.toFixed(1).padStart(6);
for (const b of builds)
  console.log(
    `${b.root}: CPU µs/op min ${f(Math.min(...b.cpu))} median ${f(median(b.cpu))}; wall µs/op min ${f(Math.min(...b.wall))} median ${f(median(b.wall))}`,
  );
