/**
 * GET /v1/admin/live: the console's live charts as server-sent events.
 *
 * Every `every` ms (default 1000, 250..60000) one `sample` event carries the
 * counters /metrics and /v1/admin/load read — ingest totals, admission
 * answers (admitted, overloaded, rate-limited, abandoned), the queues, the
 * storage queue depth, the forwarding backlog and open exceptions — as they
 * stand; the console turns successive samples into rates. The stream ends
 * when the client goes or the server closes.
 */
import type { FastifyInstance } from 'fastify';
import type { HoldfastService, IngestCounters } from '../holdfast-service.js';
import type { OutageNotice } from '../services/report-desk.js';
import type { Admission, LoadSnapshot } from './admission.js';
import { intQuery } from './params.js';

export interface LiveSample {
  /** Server time of the sample (epoch ms). */
  at: number;
  ingest: IngestCounters;
  admission: LoadSnapshot;
  storageQueueDepth: number;
  forwarding: { pending: number; oldestBase: number | null };
  openExceptions: number;
  devices: { active: number; revoked: number; behind: number };
  /** The last outage notified since the server started (docs/reports.md), or null. */
  outage: OutageNotice | null;
}

async function sampleOf(service: HoldfastService, admission: Admission): Promise<LiveSample> {
  const now = service.now();
  const [gauges, devices] = await Promise.all([
    service.operationalGauges({ dueBaseBefore: now }),
    service.devices.list(),
  ]);
  const active = devices.filter((d) => d.revokedAt === null);
  return {
    at: now,
    ingest: { ...service.counters },
    admission: admission.snapshot(),
    storageQueueDepth: service.storageQueueDepth(),
    forwarding: { pending: gauges.forwarding.pending, oldestBase: gauges.forwarding.oldestBase },
    openExceptions: Object.values(gauges.openExceptions).reduce((a, b) => a + b, 0),
    devices: {
      active: active.length,
      revoked: devices.length - active.length,
      behind: active.reduce((a, d) => a + d.behind, 0),
    },
    outage: service.reports.lastOutageNotice,
  };
}

export function liveRoutes(admin: FastifyInstance, service: HoldfastService, admission: Admission): void {
  const streams = new Set<() => void>();
  admin.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });

  admin.get('/live', async (request, reply) => {
    const every = intQuery(request.query, 'every', { min: 250, max: 60_000, fallback: 1_000 });
    const first = await sampleOf(service, admission);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    let busy = false;
    const write = (sample: LiveSample) => raw.write(`event: sample\ndata: ${JSON.stringify(sample)}\n\n`);
    write(first);
    const timer = setInterval(() => {
      if (busy) return; // a slow store: skip a tick rather than pile up reads
      busy = true;
      sampleOf(service, admission)
        .then(write)
        .catch((error: unknown) => request.log.warn({ err: error }, 'live sample failed'))
        .finally(() => {
          busy = false;
        });
    }, every);
    const end = () => {
      clearInterval(timer);
      streams.delete(end);
      if (!raw.writableEnded) raw.end();
    };
    streams.add(end);
    raw.once('close', end);
  });
}
