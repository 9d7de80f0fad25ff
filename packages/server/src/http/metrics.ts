/**
 * GET /metrics: Prometheus exposition of this process (prom-client).
 *
 * One registry per app, so many servers in one process (tests) never share
 * series. Counters of this process (HTTP answers, ingest, admission) are
 * kept in memory; the store's gauges (forwarding backlog and deadlines,
 * open exceptions, device lag) are read from storage on each scrape, with a
 * few aggregate queries and one read of the device list.
 *
 * Per-device lag is not a gauge labelled by every device (one series per
 * terminal grows without bound and outlives revoked devices); it is two
 * histograms over the fleet (ops behind, time since last contact) and a
 * gauge for only the `topLagging` devices furthest behind. Metric names are
 * listed in docs/operations.md "Metrics".
 *
 * Off unless a metrics token is configured: the scraper sends it as a
 * bearer token, distinct from the operator token (a scraper must not be
 * able to revoke devices).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { HOUR_MS } from '../forwarding/forwarding-deadline.js';
import type { HoldfastService } from '../holdfast-service.js';
import type { Admission, Lane } from './admission.js';
import { LANE_HEADER } from './admission.js';

export const METRICS_PATH = '/metrics';

export interface MetricsOptions {
  /** Bearer token the scraper sends (at least 16 characters). */
  token: string;
  /** The forwarding deadline in hours, to report how close the oldest payment is to it (default 72). */
  deadlineHours?: number;
  /** "Due soon" window of the forwarding backlog, hours (default 24). */
  dueWithinHours?: number;
  /** How many of the devices furthest behind get their own series (default 10). */
  topLagging?: number;
}

const OP_STATUSES = ['accepted', 'duplicate', 'conflict', 'fork', 'rejected'] as const;

/** The answer to a batch, by HTTP status, as counted per lane. */
function batchAnswer(status: number): string {
  if (status < 300) return 'ingested';
  if (status === 503) return 'overloaded';
  if (status === 429) return 'rate_limited';
  return status >= 500 ? 'error' : 'refused';
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The scraper's bearer token, compared in constant time. */
function scraperGuard(token: string) {
  if (token.length < 16) throw new RangeError('metrics token must be at least 16 characters');
  const expected = digest(token);
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (.+)$/.exec(header) : null;
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new ProtocolError('unauthorized', `${METRICS_PATH} needs "Authorization: Bearer <metrics token>"`);
    }
  };
}

export function registerMetrics(
  app: FastifyInstance,
  service: HoldfastService,
  admission: Admission,
  options: MetricsOptions,
): Registry {
  const registry = new Registry();
  // Standard names (process_*, nodejs_*), so stock Node.js dashboards work unchanged.
  collectDefaultMetrics({ register: registry });
  const deadlineMs = (options.deadlineHours ?? 72) * HOUR_MS;
  const dueWithinHours = options.dueWithinHours ?? 24;
  const topLagging = options.topLagging ?? 10;
  const registers = [registry];

  const httpRequests = new Counter({
    name: 'holdfast_http_requests_total',
    help: 'HTTP answers by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'holdfast_http_request_duration_seconds',
    help: 'Time from request to answer, by route template',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const batchAnswers = new Counter({
    name: 'holdfast_ingest_batch_answers_total',
    help: 'Answers to POST /v1/batches by lane and answer (ingested, overloaded, rate_limited, refused, error)',
    labelNames: ['lane', 'answer'] as const,
    registers,
  });
  const ingestBatches = new Counter({
    name: 'holdfast_ingest_batches_total',
    help: 'Batches ingested by this process',
    registers,
  });
  const ingestOps = new Counter({
    name: 'holdfast_ingest_ops_total',
    help: 'Ops ingested by this process, by result status',
    labelNames: ['status'] as const,
    registers,
  });
  const admissionTotals = new Counter({
    name: 'holdfast_admission_decisions_total',
    help: 'Admission decisions: admitted (by lane), overloaded (503), rate_limited (429), abandoned (client gone)',
    labelNames: ['decision', 'lane'] as const,
    registers,
  });
  const inProgress = new Gauge({
    name: 'holdfast_admission_in_progress',
    help: 'Batches admitted and not answered yet, by lane',
    labelNames: ['lane'] as const,
    registers,
  });
  const queued = new Gauge({
    name: 'holdfast_ingest_queued',
    help: 'Admitted batches waiting for an ingest slot, by lane',
    labelNames: ['lane'] as const,
    registers,
  });
  const running = new Gauge({ name: 'holdfast_ingest_running', help: 'Batches being ingested now', registers });
  const ingestMean = new Gauge({
    name: 'holdfast_ingest_mean_seconds',
    help: "Exponentially weighted mean of one batch's ingest time",
    registers,
  });
  const storageQueue = new Gauge({
    name: 'holdfast_storage_queue_depth',
    help: 'Storage calls waiting for their turn (SQLite thread queue, PostgreSQL pool waiters)',
    registers,
  });
  const forwardingPending = new Gauge({
    name: 'holdfast_forwarding_pending',
    help: 'Offline-approved payments not yet settled or refused by the processor',
    registers,
  });
  const forwardingOldest = new Gauge({
    name: 'holdfast_forwarding_oldest_deadline_seconds',
    help: "Seconds until the oldest pending payment's forwarding deadline of `deadline_hours` (negative: missed; absent: none pending)",
    labelNames: ['deadline_hours'] as const,
    registers,
  });
  const forwardingDue = new Gauge({
    name: 'holdfast_forwarding_due_soon',
    help: 'Pending payments whose forwarding deadline falls within `within_hours` (or has passed)',
    labelNames: ['within_hours'] as const,
    registers,
  });
  const openExceptions = new Gauge({
    name: 'holdfast_exceptions_open',
    help: 'Exceptions without a resolving action, by type',
    labelNames: ['type'] as const,
    registers,
  });
  const devices = new Gauge({
    name: 'holdfast_devices',
    help: 'Enrolled devices by state (active, revoked)',
    labelNames: ['state'] as const,
    registers,
  });
  const behind = new Histogram({
    name: 'holdfast_device_ops_behind',
    help: 'Active devices by ops they recorded that the server does not hold yet (latestSeq - highWater)',
    buckets: [0, 1, 10, 100, 1000, 10000],
    registers,
  });
  const sinceSeen = new Histogram({
    name: 'holdfast_device_last_seen_age_seconds',
    help: 'Active devices that have synced, by time since their last batch',
    buckets: [60, 300, 900, 3600, 6 * 3600, 24 * 3600, 3 * 86400, 7 * 86400],
    registers,
  });
  const behindTop = new Gauge({
    name: 'holdfast_device_ops_behind_top',
    help: `Ops behind of the ${topLagging} active devices furthest behind (only devices with ops behind)`,
    labelNames: ['device'] as const,
    registers,
  });
  const seenTypes = new Set<string>();

  app.addHook('onResponse', async (request: FastifyRequest, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    httpDuration.observe({ route }, reply.elapsedTime / 1000);
    if (request.method === 'POST' && route === '/v1/batches') {
      const length = request.headers['content-length'];
      const lane: Lane =
        request.holdfastTicket?.lane ??
        admission.laneOf(request.headers[LANE_HEADER], length && /^\d+$/.test(length) ? Number(length) : null);
      batchAnswers.inc({ lane, answer: batchAnswer(reply.statusCode) });
    }
  });

  /** Sets every scrape-time value: process counters as they stand, then the store's gauges. */
  async function refresh(): Promise<void> {
    const counters = service.counters;
    ingestBatches.reset();
    ingestBatches.inc(counters.batches);
    for (const status of OP_STATUSES) {
      ingestOps.remove({ status });
      ingestOps.inc({ status }, counters[status]);
    }
    const load = admission.snapshot();
    admissionTotals.reset();
    for (const lane of ['live', 'backlog'] as const) {
      admissionTotals.inc({ decision: 'admitted', lane }, load.totals.admitted[lane]);
      inProgress.set({ lane }, load.admitted[lane]);
      queued.set({ lane }, load.queued[lane]);
    }
    admissionTotals.inc({ decision: 'overloaded', lane: 'any' }, load.totals.overloaded);
    admissionTotals.inc({ decision: 'rate_limited', lane: 'any' }, load.totals.rateLimited);
    admissionTotals.inc({ decision: 'abandoned', lane: 'any' }, load.totals.abandoned);
    running.set(load.running);
    ingestMean.set(load.ingestMs / 1000);
    storageQueue.set(service.storageQueueDepth());

    const now = service.now();
    const [gauges, statuses] = await Promise.all([
      service.operationalGauges({ dueBaseBefore: now + dueWithinHours * HOUR_MS - deadlineMs }),
      service.devices.list(),
    ]);
    forwardingPending.set(gauges.forwarding.pending);
    forwardingOldest.reset();
    if (gauges.forwarding.oldestBase !== null) {
      forwardingOldest.set(
        { deadline_hours: String(deadlineMs / HOUR_MS) },
        (gauges.forwarding.oldestBase + deadlineMs - now) / 1000,
      );
    }
    forwardingDue.set({ within_hours: String(dueWithinHours) }, gauges.forwarding.dueSoon);
    for (const type of Object.keys(gauges.openExceptions)) seenTypes.add(type);
    for (const type of seenTypes) openExceptions.set({ type }, gauges.openExceptions[type] ?? 0);

    const active = statuses.filter((d) => d.revokedAt === null);
    devices.set({ state: 'active' }, active.length);
    devices.set({ state: 'revoked' }, statuses.length - active.length);
    behind.reset();
    sinceSeen.reset();
    behindTop.reset();
    for (const d of active) {
      behind.observe(d.behind);
      if (d.lastSeenAt !== null) sinceSeen.observe(Math.max(0, now - d.lastSeenAt) / 1000);
    }
    const worst = active
      .filter((d) => d.behind > 0)
      .sort((a, b) => b.behind - a.behind || a.id.localeCompare(b.id))
      .slice(0, topLagging);
    for (const d of worst) behindTop.set({ device: d.id }, d.behind);
  }

  void app.register(async (scope) => {
    scope.addHook('onRequest', scraperGuard(options.token));
    scope.get(METRICS_PATH, async (_request, reply) => {
      await refresh();
      void reply.header('content-type', registry.contentType);
      return registry.metrics();
    });
  });
  return registry;
}
