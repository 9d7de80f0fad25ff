/**
 * `holdfast bench`: performance figures, each beside a baseline measured in
 * the same run on the same machine (this machine is shared and noisy, so
 * ratios are what to compare).
 */

import { intFlag, parseFlags } from '../args.js';
import { benchIngest } from '../bench/ingest-bench.js';
import { benchPending } from '../bench/pending-rss-bench.js';
import { benchRecordLatency } from '../bench/record-latency-bench.js';
import { round } from '../bench/stats.js';
import { os } from '../os-info.js';

export const BENCH_HELP = `holdfast bench [--record-ops N] [--devices D] [--batches B] [--pending N] [--json]

Measures, each beside a same-run baseline:
  terminal record latency p50/p99 vs a raw durable SQLite insert of the same row;
  ingest throughput, batches of 500 ops (in process and over HTTP on loopback)
    vs a raw batched SQLite insert of the same rows;
  terminal SDK memory with N pending ops (a long outage's backlog), in a child process.
  --record-ops N   ops recorded for the latency figure     default 2000
  --devices D      devices sending batches                 default 4
  --batches B      batches of 500 per device               default 10
  --pending N      pending ops for the memory figure       default 100000 (0 skips)
  --json           print one JSON object`;

export async function benchCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    'record-ops': { type: 'string' },
    devices: { type: 'string' },
    batches: { type: 'string' },
    pending: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (flags.help) {
    console.log(BENCH_HELP);
    return 0;
  }
  const recordOps = intFlag(flags, 'record-ops', 2000, 10, 1_000_000);
  const devices = intFlag(flags, 'devices', 4, 1, 100);
  const batches = intFlag(flags, 'batches', 10, 1, 1000);
  const pendingOps = intFlag(flags, 'pending', 100_000, 0, 10_000_000);
  const log = (s: string) => {
    if (!flags.json) console.error(s);
  };
  log(`machine: ${os()}`);
  log(`record latency: ${recordOps} ops…`);
  const record = await benchRecordLatency(recordOps);
  log(`ingest: ${devices} devices × ${batches} batches × 500 ops…`);
  const ingest = await benchIngest(devices, batches, 500);
  let pending = null;
  if (pendingOps > 0) {
    log(`terminal with ${pendingOps} pending ops (recording them one by one, durably)…`);
    pending = await benchPending(pendingOps);
  }
  const result = { machine: os(), recordLatency: record, ingest, pending };
  if (flags.json) {
    console.log(JSON.stringify(result, null, 2));
    return 0;
  }
  const ms = (x: number) => `${round(x, 3)} ms`;
  const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')} ops/s`;
  console.log(
    [
      '',
      'figure                                   ours                baseline            ratio',
      `terminal record p50                      ${ms(record.terminal.p50).padEnd(20)}${ms(record.rawInsert.p50).padEnd(20)}${round(record.ratioP50, 2)}×   (raw durable SQLite insert)`,
      `terminal record p99                      ${ms(record.terminal.p99).padEnd(20)}${ms(record.rawInsert.p99).padEnd(20)}${round(record.ratioP99, 2)}×`,
      `ingest, batches of 500, in process       ${rate(ingest.serviceOpsPerSec).padEnd(20)}${rate(ingest.rawInsertOpsPerSec).padEnd(20)}${round(ingest.ratioService, 3)}×   (raw batched SQLite insert)`,
      `ingest, batches of 500, HTTP loopback    ${rate(ingest.httpOpsPerSec).padEnd(20)}${rate(ingest.rawInsertOpsPerSec).padEnd(20)}${round(ingest.ratioHttp, 3)}×`,
      ...(pending
        ? [
            `terminal RSS, ${pending.pending} pending ops     ${`${round(pending.rssMiB, 1)} MiB`.padEnd(20)}${`${round(pending.baselineRssMiB, 1)} MiB`.padEnd(20)}(empty process; journal ${round(pending.journalMiB, 1)} MiB, status() ${round(pending.statusMs, 2)} ms)`,
          ]
        : []),
    ].join('\n'),
  );
  return 0;
}
