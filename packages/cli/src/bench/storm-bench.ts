/**
 * Reconnection storm: T terminals, each holding Q ops recorded during an
 * outage, all come back at once to one real `holdfast server` process
 * (SQLite, its own process). Each drains its backlog in seq order, batches
 * of up to 500, one request at a time, honouring 429/503 + Retry-After and
 * retrying what got no answer, over a bounded keep-alive socket pool.
 * Meanwhile a few live terminals record a sale every ~100 ms and send it at
 * once; their latency (recorded → 200 answer, waits included) is the figure,
 * beside the baseline of `GET /v1/health` on the same idle server. They run
 * on a thread of their own, as tills are devices of their own
 * (storm-tills-worker.ts).
 *
 *   setup ──▶ build backlog ──▶ baseline ──▶ storm ──▶ drained | deadline
 *   (enroll    (workers:         (health,      (T drains +
 *    T + L)     hash, sign)       idle sales)   live sales)
 *
 * Batches are sent as the Terminal SDK sends them: `POST /v1/batches`, with
 * `holdfast-lane: live` when the SDK's `laneOf` says so (fresh sales at the
 * head of the journal; never a 500-op backlog batch, whose ops are stamped
 * as recorded during a 30-minute outage), and the SDK's retry rule: the
 * server's stated retry time exactly, else backoff with full jitter.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BenchHttpClient, sleep } from './bench-http-client.js';
import { ServerChild } from './server-child.js';
import { type LatencySummary, summarize } from './stats.js';
import { buildBacklog } from './storm-backlog.js';
import { deliver, enroll, mapLimit, type Tally } from './storm-client.js';
import { startTills, type Tills } from './storm-tills.js';

export interface StormOptions {
  terminals: number;
  opsPerTerminal: number;
  /** Connections the backlog terminals share (the client's pool). */
  sockets?: number;
  liveTerminals?: number;
  /** Mean time between two sales of one live terminal. */
  liveIntervalMs?: number;
  /** After this the storm is stopped and reported as not drained. */
  deadlineMs?: number;
  batchSize?: number;
  /** The SDK's default request timeout. */
  requestTimeoutMs?: number;
  /** Progress lines (stderr in the command). */
  log?: (line: string) => void;
}

export interface StormResponses {
  ok: number;
  status429: number;
  status503: number;
  other5xx: number;
  timeouts: number;
  networkErrors: number;
}

export interface StormResult {
  terminals: number;
  opsPerTerminal: number;
  ops: number;
  sockets: number;
  liveTerminals: number;
  enrollSeconds: number;
  buildSeconds: number;
  buildOpsPerSec: number;
  drained: boolean;
  /** Start of the storm until every backlog op was answered accepted/duplicate (or the deadline). */
  drainSeconds: number;
  remainingOps: number;
  opsPerSec: number;
  /** Baseline: `GET /v1/health` round trip on the idle server, before the storm. */
  health: LatencySummary;
  /**
   * `GET /v1/health` every ~100 ms during the storm, on its own connection:
   * how long the server's event loop stalls (diagnosis, not a target).
   */
  healthDuringStorm: LatencySummary & { max: number };
  /** Live sales on the idle server, before the storm (context, not the baseline). */
  idleSale: LatencySummary;
  /** Live sales during the storm: recorded → 200 answer, 429/503 waits and retries included. */
  liveSale: LatencySummary;
  /** Live sales recorded but not answered when the storm ended (non-zero only after the deadline). */
  liveUnconfirmed: number;
  ratioP50: number;
  ratioP99: number;
  responses: StormResponses;
  serverRssStartMiB: number | null;
  serverRssPeakMiB: number | null;
  /** Most connections seen waiting to be accepted by the server (sampled every 100 ms; null off Linux). */
  acceptQueuePeak: number | null;
  /** From `GET /v1/admin/summary` after the storm. */
  server: {
    opsAccepted: number;
    expectedAccepted: number;
    duplicates: number;
    batches: number;
    /** Batches admitted per lane since start (`GET /v1/admin/load`); null if the server has no admission control. */
    admitted: { live: number; backlog: number } | null;
  };
  /** This process's event-loop delay p99 during the storm: large values would inflate the latencies. */
  clientLoopDelayP99Ms: number;
}

export async function benchStorm(options: StormOptions): Promise<StormResult> {
  const {
    terminals,
    opsPerTerminal,
    liveTerminals = 4,
    liveIntervalMs = 100,
    deadlineMs = 180_000,
    batchSize = 500,
    requestTimeoutMs = 10_000,
    log = () => undefined,
  } = options;
  const sockets = Math.min(options.sockets ?? 256, terminals);
  const ops = terminals * opsPerTerminal;
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-storm-'));
  const operatorToken = randomBytes(24).toString('hex');
  const auth = { authorization: `Bearer ${operatorToken}` };
  const clients: BenchHttpClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  // Aborted at the deadline, or on a failure: every loop and request below stops.
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per waiting terminal
  let server: ServerChild | null = null;
  let tills: Tills | null = null;
  try {
    server = await ServerChild.start(join(dir, 'server'), operatorToken);
    const running = server;
    const setup = new BenchHttpClient(server.url, 16);
    // The backlog terminals share the pool; the live tills have connections of their own (storm-tills-worker.ts).
    const pool = new BenchHttpClient(server.url, sockets);
    clients.push(setup, pool);
    const tally: Tally = { status: new Map(), timeouts: 0, networkErrors: 0 };

    let t0 = performance.now();
    const labels = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    const devices = await mapLimit(labels('storm', terminals), 16, (l) => enroll(setup, operatorToken, l));
    const liveDevices = await mapLimit(labels('live', liveTerminals), 16, (l) => enroll(setup, operatorToken, l));
    const enrollSeconds = (performance.now() - t0) / 1000;
    log(`storm: ${terminals + liveTerminals} devices enrolled in ${enrollSeconds.toFixed(1)} s; building ${ops} ops…`);

    t0 = performance.now();
    const backlog = await buildBacklog(devices, opsPerTerminal, batchSize);
    const buildSeconds = (performance.now() - t0) / 1000;
    log(`storm: backlog built in ${buildSeconds.toFixed(1)} s; baseline on the idle server…`);

    // Baseline: the raw round trip on this server, idle (the first 20 warm up).
    const healthMs: number[] = [];
    for (let i = 0; i < 220; i++) {
      const start = performance.now();
      const res = await setup.request('GET', '/v1/health');
      if (res.status !== 200) throw new Error(`storm: health HTTP ${res.status}`);
      if (i >= 20) healthMs.push(performance.now() - start);
    }
    // The live tills and the health probe run on a thread of their own (storm-tills-worker.ts).
    tills = await startTills(server.url, liveDevices, liveIntervalMs, requestTimeoutMs);
    await sleep(Math.max(2000, liveIntervalMs * 20));

    // The storm: what is counted from here on is the storm's alone.
    log(`storm: ${terminals} terminals × ${opsPerTerminal} ops come back at once (${sockets} sockets)…`);
    const rssStart = server.memoryMiB('VmRSS');
    let rssPeakSampled = rssStart ?? 0;
    let acceptQueuePeak = running.acceptQueue();
    timers.push(
      setInterval(() => {
        rssPeakSampled = Math.max(rssPeakSampled, running.memoryMiB('VmRSS') ?? 0);
        const queued = running.acceptQueue();
        if (queued !== null) acceptQueuePeak = Math.max(acceptQueuePeak ?? 0, queued);
      }, 100),
    );
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    timers.push(setTimeout(() => stop.abort(), deadlineMs));
    let confirmed = 0;
    const count = (code: number) => tally.status.get(code) ?? 0;
    timers.push(
      setInterval(() => {
        log(
          `storm: ${confirmed}/${ops} ops answered; 429 ${count(429)}, 503 ${count(503)}, no answer ${tally.timeouts}`,
        );
      }, 5000),
    );
    const sender = { client: pool, tally, signal: stop.signal, timeoutMs: requestTimeoutMs };
    const idleSale = summarize(await tills.storm());
    t0 = performance.now();
    try {
      await Promise.all(
        backlog.map(async ({ batches, lanes }) => {
          for (const [b, body] of batches.entries()) {
            const expected = Math.min(batchSize, opsPerTerminal - b * batchSize);
            const results = await deliver(sender, body, lanes[b] ?? 'backlog');
            if (!results) return;
            if (results.length !== expected || results.some((r) => r.status !== 'accepted' && r.status !== 'duplicate'))
              throw new Error(`storm: unexpected results ${JSON.stringify(results).slice(0, 300)}`);
            confirmed += expected;
          }
        }),
      );
    } catch (error) {
      stop.abort();
      throw error;
    }
    const drainSeconds = (performance.now() - t0) / 1000;
    loopDelay.disable();
    const tilled = await tills.finish(stop.signal.aborted);
    for (const [code, n] of tilled.status) tally.status.set(code, (tally.status.get(code) ?? 0) + n);
    tally.timeouts += tilled.timeouts;
    tally.networkErrors += tilled.networkErrors;
    const liveSale = summarize(tilled.latencies);
    const health = summarize(healthMs);
    const healthDuringStorm = { ...summarize(tilled.probeMs), max: Math.max(0, ...tilled.probeMs) };

    const summary = await setup.request('GET', '/v1/admin/summary', { headers: auth, timeoutMs: 60_000 });
    if (summary.status !== 200) throw new Error(`storm: summary HTTP ${summary.status}`);
    const stored = JSON.parse(summary.text) as { opsAccepted: number; ingest: { duplicate: number; batches: number } };
    const load = await setup.request('GET', '/v1/admin/load', { headers: auth, timeoutMs: 60_000 });
    const admitted =
      load.status === 200
        ? (JSON.parse(load.text) as { totals: { admitted: { live: number; backlog: number } } }).totals.admitted
        : null;
    const peak = server.memoryMiB('VmHWM') ?? (rssPeakSampled || null);
    const other5xx = [...tally.status].reduce((n, [code, c]) => n + (code >= 500 && code !== 503 ? c : 0), 0);
    return {
      terminals,
      opsPerTerminal,
      ops,
      sockets,
      liveTerminals,
      enrollSeconds,
      buildSeconds,
      buildOpsPerSec: ops / buildSeconds,
      drained: confirmed === ops,
      drainSeconds,
      remainingOps: ops - confirmed,
      opsPerSec: confirmed / drainSeconds,
      health,
      healthDuringStorm,
      idleSale,
      liveSale,
      liveUnconfirmed: tilled.unconfirmed,
      ratioP50: liveSale.p50 / health.p50,
      ratioP99: liveSale.p99 / health.p99,
      responses: {
        ok: count(200),
        status429: count(429),
        status503: count(503),
        other5xx,
        timeouts: tally.timeouts,
        networkErrors: tally.networkErrors,
      },
      serverRssStartMiB: rssStart,
      serverRssPeakMiB: peak,
      acceptQueuePeak,
      server: {
        opsAccepted: stored.opsAccepted,
        expectedAccepted: confirmed + tilled.confirmed,
        duplicates: stored.ingest.duplicate,
        batches: stored.ingest.batches,
        admitted,
      },
      clientLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    };
  } finally {
    stop.abort();
    await tills?.terminate();
    for (const timer of timers) clearTimeout(timer);
    for (const client of clients) client.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
