/**
 * `holdfast bench`: performance figures, each beside a baseline measured in
 * the same run on the same machine (this machine is shared and noisy, so
 * ratios are what to compare).
 */

import { intFlag, parseFlags, stringFlag, UsageError } from '../args.js';
import { benchIngest } from '../bench/ingest-bench.js';
import { benchNaive } from '../bench/naive-bench.js';
import { benchPending } from '../bench/pending-rss-bench.js';
import {
  benchPgIngest,
  MAX_PG_PROCESSES,
  PG_PROCESSES,
  type PgIngestResult,
  PostgresUnavailableError,
} from '../bench/postgres-ingest-bench.js';
import { benchRecordLatency } from '../bench/record-latency-bench.js';
import { round } from '../bench/stats.js';
import { benchStorm } from '../bench/storm-bench.js';
import { os } from '../os-info.js';

/** Figure names for `--only`, in the order they run. */
export const BENCH_FIGURES = ['record', 'ingest', 'pg', 'naive', 'storm', 'pending'] as const;
type Figure = (typeof BENCH_FIGURES)[number];

export const BENCH_HELP = `holdfast bench [--only LIST] [--record-ops N] [--devices D] [--batches B] [--pending N]
               [--pg-processes LIST] [--storm 0|1] [--storm-terminals T] [--storm-ops Q] [--storm-sockets S] [--storm-deadline SECONDS] [--json]

Measures, each beside a same-run baseline:
  terminal record latency p50/p99 vs a raw durable SQLite insert of the same row;
  ingest throughput, batches of 500 ops (in process and over HTTP on loopback)
    vs a raw batched SQLite insert of the same rows;
  pg: the same batches over HTTP to ${PG_PROCESSES} server processes on one PostgreSQL (embedded,
    or DATABASE_URL) vs a raw batched insert of the same rows on that PostgreSQL
    (--pg-processes 1,2,4: once per count, each on a fresh PostgreSQL beside its own baseline);
  naive: the same rows, batches of 500 over HTTP vs one op per request with an
    idempotency-key table (the conventional design);
  storm: T terminals × Q queued ops return at once to one server process; time to
    drain, live-sale latency p50/p99 vs GET /v1/health on the idle server, 429/503/5xx,
    the server's peak RSS;
  terminal SDK memory with N pending ops (a long outage's backlog), in a child process.
  --only LIST          figures to run, comma-separated: ${BENCH_FIGURES.join(',')}   default all
  --record-ops N       ops recorded for the latency figure             default 10000
  --devices D          devices sending batches (ingest, pg, naive)     default 4 (pg: 8)
  --batches B          batches of 500 per device (ingest, pg, naive)   default 10
  --pending N          pending ops for the memory figure               default 100000 (0 skips)
  --pg-processes LIST  server processes for pg, comma-separated counts default ${PG_PROCESSES} (1 – ${MAX_PG_PROCESSES})
  --storm 0|1          run the storm figure                            default 1 (0 skips)
  --storm-terminals T  terminals returning at once                     default 1000
  --storm-ops Q        queued ops per terminal                         default 1000
  --storm-sockets S    connections the returning terminals share       default 256
  --storm-deadline S   give up (report drained: false) after S seconds default 180
  --json               print one JSON object`;

function parseOnly(raw: string | undefined): Set<Figure> {
  if (raw === undefined) return new Set(BENCH_FIGURES);
  const names = raw.split(',').map((n) => n.trim());
  for (const name of names) {
    if (!(BENCH_FIGURES as readonly string[]).includes(name))
      throw new UsageError(`--only takes figure names from ${BENCH_FIGURES.join(', ')}; got "${name}"`);
  }
  return new Set(names as Figure[]);
}

/** `--pg-processes 1,2,4`: distinct counts from 1 to MAX_PG_PROCESSES, in the order given. */
export function parsePgProcesses(raw: string | undefined): number[] {
  if (raw === undefined) return [PG_PROCESSES];
  const counts: number[] = [];
  for (const part of raw.split(',')) {
    const text = part.trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1 || n > MAX_PG_PROCESSES)
      throw new UsageError(
        `--pg-processes takes comma-separated process counts from 1 to ${MAX_PG_PROCESSES}; got "${text}"`,
      );
    if (counts.includes(n)) throw new UsageError(`--pg-processes names ${n} twice`);
    counts.push(n);
  }
  return counts;
}

export async function benchCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    'record-ops': { type: 'string' },
    devices: { type: 'string' },
    batches: { type: 'string' },
    pending: { type: 'string' },
    'pg-processes': { type: 'string' },
    only: { type: 'string' },
    storm: { type: 'string' },
    'storm-terminals': { type: 'string' },
    'storm-ops': { type: 'string' },
    'storm-sockets': { type: 'string' },
    'storm-deadline': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (flags.help) {
    console.log(BENCH_HELP);
    return 0;
  }
  const recordOps = intFlag(flags, 'record-ops', 10_000, 10, 1_000_000);
  const devices = intFlag(flags, 'devices', 4, 1, 100);
  const batches = intFlag(flags, 'batches', 10, 1, 1000);
  const pendingOps = intFlag(flags, 'pending', 100_000, 0, 10_000_000);
  const only = parseOnly(stringFlag(flags, 'only'));
  const pgProcesses = parsePgProcesses(stringFlag(flags, 'pg-processes'));
  const storm = intFlag(flags, 'storm', 1, 0, 1) === 1;
  const stormTerminals = intFlag(flags, 'storm-terminals', 1000, 1, 100_000);
  const stormOps = intFlag(flags, 'storm-ops', 1000, 1, 1_000_000);
  const stormSockets = intFlag(flags, 'storm-sockets', 256, 1, 10_000);
  const stormDeadline = intFlag(flags, 'storm-deadline', 180, 1, 86_400);
  const log = (s: string) => {
    if (!flags.json) console.error(s);
  };
  log(`machine: ${os()}`);
  let record = null;
  if (only.has('record')) {
    log(`record latency: ${recordOps} ops…`);
    record = await benchRecordLatency(recordOps);
  }
  let ingest = null;
  if (only.has('ingest')) {
    log(`ingest: ${devices} devices × ${batches} batches × 500 ops…`);
    ingest = await benchIngest(devices, batches, 500);
  }
  let pg: PgIngestResult | { skipped: string } | null = null;
  /** Every `--pg-processes` count's result, in the order given (only when more than one count was asked for). */
  let pgByProcesses: PgIngestResult[] | null = null;
  if (only.has('pg')) {
    // Two processes want more than 4 batches in flight; 8 devices unless --devices says otherwise.
    const pgDevices = stringFlag(flags, 'devices') === undefined ? 8 : devices;
    const results: PgIngestResult[] = [];
    try {
      for (const processes of pgProcesses) {
        log(`pg: ${pgDevices} devices × ${batches} batches × 500 ops, HTTP, PostgreSQL, ${processes} processes…`);
        results.push(await benchPgIngest({ devices: pgDevices, batchesPerDevice: batches, batchSize: 500, processes }));
      }
      // `pg` is the default count's figure when it was measured, else the first count's.
      pg = results.find((r) => r.processes === PG_PROCESSES) ?? results[0] ?? null;
      if (results.length > 1) pgByProcesses = results;
    } catch (error) {
      if (!(error instanceof PostgresUnavailableError)) throw error;
      pg = { skipped: error.message };
      log(`pg: skipped, ${error.message}`);
    }
  }
  let naive = null;
  if (only.has('naive')) {
    log(`naive: the same ${devices * batches * 500} ops, batches of 500 vs one op per request, 2 rounds…`);
    naive = await benchNaive(devices, batches, 500);
  }
  let stormResult = null;
  if (only.has('storm') && storm) {
    log(`storm: ${stormTerminals} terminals × ${stormOps} queued ops, one server process…`);
    stormResult = await benchStorm({
      terminals: stormTerminals,
      opsPerTerminal: stormOps,
      sockets: stormSockets,
      deadlineMs: stormDeadline * 1000,
      log,
    });
  }
  let pending = null;
  if (only.has('pending') && pendingOps > 0) {
    log(`terminal with ${pendingOps} pending ops (recording them one by one, durably)…`);
    pending = await benchPending(pendingOps);
  }
  const result = {
    machine: os(),
    recordLatency: record,
    ingest,
    pg,
    ...(pgByProcesses ? { pgByProcesses } : {}),
    naive,
    storm: stormResult,
    pending,
  };
  if (flags.json) {
    console.log(JSON.stringify(result, null, 2));
    return 0;
  }
  const ms = (x: number) => `${round(x, 3)} ms`;
  const rate = (x: number) => `${Math.round(x).toLocaleString('en-US')} ops/s`;
  const row = (label: string, ours: string, baseline: string, note: string) =>
    `${label.padEnd(40)} ${ours.padEnd(19)} ${baseline.padEnd(19)} ${note}`.trimEnd();
  const s = (x: number) => `${round(x, 1)} s`;
  const mib = (x: number | null) => (x === null ? 'n/a' : `${round(x, 1)} MiB`);
  console.log(
    [
      '',
      'figure                                   ours                baseline            ratio',
      ...(record
        ? [
            `terminal record p50                      ${ms(record.terminal.p50).padEnd(20)}${ms(record.rawInsert.p50).padEnd(20)}${round(record.ratioP50, 2)}×   (raw durable SQLite insert)`,
            `terminal record p99                      ${ms(record.terminal.p99).padEnd(20)}${ms(record.rawInsert.p99).padEnd(20)}${round(record.ratioP99, 2)}×`,
          ]
        : []),
      ...(ingest
        ? [
            `ingest, batches of 500, in process       ${rate(ingest.serviceOpsPerSec).padEnd(20)}${rate(ingest.rawInsertOpsPerSec).padEnd(20)}${round(ingest.ratioService, 3)}×   (raw batched SQLite insert)`,
            `ingest, batches of 500, HTTP loopback    ${rate(ingest.httpOpsPerSec).padEnd(20)}${rate(ingest.rawInsertOpsPerSec).padEnd(20)}${round(ingest.ratioHttp, 3)}×`,
          ]
        : []),
      ...(pg && 'skipped' in pg
        ? [row('ingest, batches of 500, HTTP, PostgreSQL', 'skipped', '', `(${pg.skipped})`)]
        : (pgByProcesses ?? (pg ? [pg] : [])).map((r) =>
            row(
              'ingest, batches of 500, HTTP, PostgreSQL',
              rate(r.opsPerSec),
              rate(r.rawInsertOpsPerSec),
              `${round(r.ratio, 3)}×   (${r.processes} server process${r.processes === 1 ? '' : 'es'}; raw batched PostgreSQL insert)`,
            ),
          )),
      ...(naive
        ? [
            row(
              'vs naive: HTTP, same rows',
              rate(naive.oursOpsPerSec),
              rate(naive.naiveOpsPerSec),
              `${round(naive.ratio, 2)}×   (one op per request + idempotency-key table)`,
            ),
          ]
        : []),
      ...(stormResult
        ? [
            row(
              `storm ${stormResult.terminals}×${stormResult.opsPerTerminal}: drained in`,
              stormResult.drained ? s(stormResult.drainSeconds) : `NOT drained, ${s(stormResult.drainSeconds)}`,
              '',
              stormResult.drained ? '' : `(${stormResult.remainingOps} ops left at the deadline)`,
            ),
            row('storm: ingest rate', rate(stormResult.opsPerSec), '', `(${stormResult.sockets} sockets shared)`),
            row(
              'storm: live sale p50',
              ms(stormResult.liveSale.p50),
              ms(stormResult.health.p50),
              `${round(stormResult.ratioP50, 1)}×   (GET /v1/health, idle; idle sale p50 ${ms(stormResult.idleSale.p50)})`,
            ),
            row(
              'storm: live sale p99',
              ms(stormResult.liveSale.p99),
              ms(stormResult.health.p99),
              `${round(stormResult.ratioP99, 1)}×   (idle sale p99 ${ms(stormResult.idleSale.p99)})`,
            ),
            row(
              'storm: GET /v1/health p99, max',
              `${ms(stormResult.healthDuringStorm.p99)}, ${ms(stormResult.healthDuringStorm.max)}`,
              ms(stormResult.health.p99),
              `(during the storm; accept queue peak ${stormResult.acceptQueuePeak ?? 'n/a'})`,
            ),
            row(
              'storm: server peak RSS',
              mib(stormResult.serverRssPeakMiB),
              mib(stormResult.serverRssStartMiB),
              '(server before the storm)',
            ),
            row(
              'storm: answers',
              `429 ${stormResult.responses.status429}, 503 ${stormResult.responses.status503}`,
              '',
              `other 5xx ${stormResult.responses.other5xx}, no answer ${stormResult.responses.timeouts + stormResult.responses.networkErrors}, duplicates ${stormResult.server.duplicates}`,
            ),
          ]
        : []),
      ...(pending
        ? [
            `terminal RSS, ${pending.pending} pending ops     ${`${round(pending.rssMiB, 1)} MiB`.padEnd(20)}${`${round(pending.baselineRssMiB, 1)} MiB`.padEnd(20)}(empty process; journal ${round(pending.journalMiB, 1)} MiB, status() ${round(pending.statusMs, 2)} ms)`,
            `terminal RSS, same, --max-semi-space-size=1 ${`${round(pending.rssSmallYoungGenMiB, 1)} MiB`.padEnd(20)}${`${round(pending.baselineRssMiB, 1)} MiB`.padEnd(20)}(V8 young generation capped; the SDK's data is the same)`,
          ]
        : []),
    ].join('\n'),
  );
  return 0;
}
