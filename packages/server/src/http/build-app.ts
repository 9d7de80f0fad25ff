/**
 * The HTTP API (Fastify): terminal endpoints, operator endpoints, health.
 * See docs/protocol.md for every route, body and error.
 */

import {
  BATCH_MAX_BYTES,
  BATCH_MAX_OPS,
  PROTOCOL_VERSION,
  ProtocolError,
  policyRef,
  revokeRequestSchema,
} from '@holdfast/protocol';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { BootstrapTokens } from '../bootstrap-token.js';
import {
  DEFAULT_DEADLINE_WARN_FRACTION,
  DEFAULT_FORWARD_DEADLINE_HOURS,
  deadlineSettings,
} from '../forwarding/forwarding-deadline.js';
import type { HoldfastService } from '../holdfast-service.js';
import type { SignedBatch } from '../model/batch.js';
import { registerWalletRoutes } from '../wallets/wallet-api.js';
import { AbandonedError, type AdmissionOptions, LANE_HEADER, type Lane } from './admission.js';
import { catalogRoutes } from './catalog-routes.js';
import { registerConsole } from './console-files.js';
import { type EdgeOptions, edgeOptions, edgeServerOptions } from './edge.js';
import { registerEdges, requestIdOf, traceBindings } from './edges.js';
import { errorHandler } from './error-handler.js';
import { exceptionRoutes } from './exception-routes.js';
import { registerFiscalRoutes } from './fiscal-routes.js';
import { parseJsonBody } from './json-body.js';
import { liveRoutes } from './live-routes.js';
import { registerLoyaltyRoutes } from './loyalty-routes.js';
import { type MetricsOptions, registerMetrics } from './metrics.js';
import { registerOpenApi } from './openapi/register-openapi.js';
import { operatorAccess } from './operator-access.js';
import { operatorRoutes } from './operator-routes.js';
import { intQuery, uuidParam } from './params.js';
import { registerReadiness } from './readiness.js';
import { reportRoutes } from './report-routes.js';
import { CHARGED_STATUSES, SourceLimiter, type SourceLimitOptions } from './source-limit.js';
import { staffRoutes } from './staff-routes.js';
import { registerStockRoutes } from './stock-routes.js';
import { registerTicketRoutes } from './ticket-routes.js';
import { registerTill } from './till-files.js';

/** Default largest request body: 500 ops of a few KiB each fit with room to spare. */
export const DEFAULT_BODY_LIMIT = BATCH_MAX_BYTES;

export interface BuildAppOptions {
  service: HoldfastService;
  /** The bootstrap operator credential (acts as admin): a token, or a reloadable BootstrapTokens. */
  operatorToken: string | BootstrapTokens;
  bodyLimit?: number;
  /** Fastify/pino logger options; false for silence. */
  logger?: FastifyServerOptions['logger'];
  /**
   * Backpressure and priority for ingest (see admission.ts). Defaults suit
   * the storage: one batch at a time on SQLite, several on PostgreSQL.
   */
  admission?: Partial<AdmissionOptions>;
  /** Origins whose browsers may call the API (CORS); none by default. See http/edges.ts. */
  corsOrigins?: readonly string[];
  /** GET /metrics for a scraper holding this token; absent: no /metrics route. See http/metrics.ts. */
  metrics?: MetricsOptions;
  /** Serve HTTPS with this certificate and key (PEM) instead of plain HTTP (see tls.ts). */
  https?: { cert: Buffer; key: Buffer };
  /** Timeouts and the connection cap (see edge.ts; defaults DEFAULT_EDGE). */
  edge?: Partial<EdgeOptions>;
  /** The limit on refused requests per source address (see source-limit.ts). */
  sourceLimit?: Partial<SourceLimitOptions>;
  /** The built operator console served at /console/ (console-files.ts); default packages/web/dist/console. */
  consoleDir?: string;
  /** The forwarder's deadline in hours (default 72), for GET /v1/admin/forwarding/deadlines. */
  forwardDeadlineHours?: number;
  /** The built till app served at /till/ (till-files.ts); default packages/web/dist/till. */
  tillDir?: string;
}

/** Per-request admission state: released once the answer is gone and the work is done. */
interface Ticket {
  lane: Lane;
  closed: boolean;
  working: boolean;
  released: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    holdfastTicket?: Ticket;
    holdfastLane?: Lane;
  }
}

function contentLength(header: string | undefined): number | null {
  if (header === undefined || !/^\d{1,12}$/.test(header)) return null;
  return Number(header);
}

export function buildApp(options: BuildAppOptions): FastifyInstance {
  const { service } = options;
  const bootstrap =
    typeof options.operatorToken === 'string'
      ? new BootstrapTokens({ token: options.operatorToken, now: () => service.now() })
      : options.operatorToken;
  const edge = edgeOptions(options.edge);
  const app = Fastify({
    // HTTPS changes only the server Fastify creates, not the app: the instance is typed as the HTTP one.
    ...((options.https ? { https: options.https } : {}) as object),
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Reject "__proto__" / "constructor.prototype" keys instead of stripping them silently.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Fastify's own 503 while closing has its own body; ours (below) answers the documented shape.
    return503OnClosing: false,
    ...edgeServerOptions(edge),
    // X-Request-Id: the client's if acceptable, else a fresh one; echoed on every answer and logged as reqId.
    requestIdHeader: false,
    genReqId: requestIdOf,
    childLoggerFactory: (logger, bindings, childOptions, raw) =>
      logger.child({ ...bindings, ...traceBindings(raw) }, childOptions),
  });
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw new ProtocolError('overloaded', 'the server is shutting down; retry shortly');
  });
  app.server.maxConnections = edge.maxConnections;
  registerEdges(app, { corsOrigins: options.corsOrigins ?? [] });
  registerOpenApi(app);
  // Fastify parses text/plain by default; every endpoint takes JSON only (415 otherwise).
  app.removeContentTypeParser('text/plain');
  const admission = service.ingestAdmission(options.admission);
  const isBatch = (request: FastifyRequest) => request.method === 'POST' && request.routeOptions.url === '/v1/batches';
  // Strict UTF-8, no duplicate member names (json-body.ts).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      // A batch whose lane filled up while its body arrived is refused before it is parsed: in a storm most
      // batches are refused, and parsing each (a 500-op batch is ~1 MiB of objects) only to drop it cost
      // CPU and, under load, memory. Only admitted batches are ever held parsed.
      if (isBatch(request)) {
        const lane = request.holdfastLane ?? 'backlog';
        refuseIfFull(lane);
        // Parsed at its turn (admission.parse): a live batch's at once, backlog ones one per turn of the event loop.
        admission
          .parse(lane, () => parseJsonBody(body as Buffer))
          .then(
            (value) => done(null, value),
            (error: unknown) => done(error as Error, undefined),
          );
        return;
      }
      done(null, parseJsonBody(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.setErrorHandler(errorHandler);

  // Refused requests are charged to their source address; an address over its limit is refused up front.
  const sources = new SourceLimiter(options.sourceLimit ?? {}, { now: () => service.now() });
  app.addHook('onRequest', async (request) => {
    sources.check(request.ip);
  });
  app.addHook('onResponse', async (request, reply) => {
    if (CHARGED_STATUSES.has(reply.statusCode)) sources.charge(request.ip);
  });
  app.setNotFoundHandler((request) => {
    // Named, but never echoed whole: an answer is no larger than its request's first 100 characters of path.
    const path = (request.url.split('?')[0] ?? '').slice(0, 100);
    throw new ProtocolError('not_found', `no route ${request.method.slice(0, 10)} ${path}`);
  });

  // Advertised, so a client never builds a request the server refuses unread (docs/protocol.md 4.4).
  const limits = { bodyBytes: options.bodyLimit ?? DEFAULT_BODY_LIMIT, batchOps: BATCH_MAX_OPS };
  app.get('/v1/health', async () => {
    const { storage, time } = await service.health();
    return { status: 'ok', protocol: PROTOCOL_VERSION, storage, time, limits };
  });
  registerReadiness(app, service);
  registerConsole(app, options.consoleDir);
  registerTill(app, options.tillDir);

  app.post('/v1/enroll', async (request) => service.enroll(request.body));

  if (options.metrics) registerMetrics(app, service, admission, options.metrics);
  /** Throws 503 overloaded (with a booked retry time) if `lane` is full now; takes no slot. */
  function refuseIfFull(lane: Lane): void {
    if (admission.wouldRefuse(lane)) admission.admit(lane);
  }
  const releaseIfDone = (ticket: Ticket) => {
    if (ticket.closed && !ticket.working && !ticket.released) {
      ticket.released = true;
      admission.release(ticket.lane);
    }
  };

  // A lane already full as the headers arrive is refused before the body is read: a refusal costs almost nothing.
  app.addHook('onRequest', async (request) => {
    if (!isBatch(request)) return;
    const lane = admission.laneOf(request.headers[LANE_HEADER], contentLength(request.headers['content-length']));
    request.holdfastLane = lane;
    refuseIfFull(lane);
  });

  // The slot is taken only once the whole body has arrived: a client dribbling its body holds none.
  app.addHook('preHandler', async (request, reply) => {
    if (!isBatch(request)) return;
    const lane = request.holdfastLane ?? 'backlog';
    admission.admit(lane);
    const ticket: Ticket = { lane, closed: false, working: false, released: false };
    request.holdfastTicket = ticket;
    const closed = () => {
      ticket.closed = true;
      releaseIfDone(ticket);
    };
    if (reply.raw.closed || request.raw.socket?.destroyed) closed();
    else reply.raw.once('close', closed);
  });

  app.post('/v1/batches', async (request) => {
    const ticket = request.holdfastTicket as Ticket;
    ticket.working = true;
    let device: string | null = null;
    try {
      const verified = await admission.prepare(ticket.lane, async () => service.verifyBatch(request.body));
      // Only a batch whose signature verified is counted against its device (and creates state for it).
      admission.enterDevice(verified.device);
      device = verified.device;
      return await ingestBatch(request, ticket, verified);
    } finally {
      if (device !== null) admission.leaveDevice(device);
      ticket.working = false;
      releaseIfDone(ticket);
    }
  });

  async function ingestBatch(request: FastifyRequest, ticket: Ticket, verified: SignedBatch) {
    const lane = ticket.lane;
    let response: Awaited<ReturnType<HoldfastService['ingest']>>;
    try {
      response = await admission.run(
        lane,
        () => service.ingestVerified(verified),
        () => ticket.closed,
      );
    } catch (error) {
      // Nobody is listening; answer as for any refusal (nothing was applied) without logging an error.
      if (error instanceof AbandonedError) throw new ProtocolError('overloaded', error.message);
      throw error;
    }
    const counts: Record<string, number> = {};
    for (const r of response.results) counts[r.status] = (counts[r.status] ?? 0) + 1;
    request.log.info(
      { device: response.device, lane, ops: response.results.length, ...counts, highWater: response.highWater },
      'batch ingested',
    );
    return response;
  }

  app.post('/v1/ops/query', async (request) => service.queryOps(request.body));

  app.post('/v1/policy', async (request) => service.fetchPolicy(request.body));

  app.post('/v1/feed', async (request) => service.fetchFeed(request.body));
  app.post('/v1/shifts/z-report', async (request) => service.shiftReport(request.body));
  app.post('/v1/devices/rotate-key', async (request) => service.rotateDeviceKey(request.body));
  app.post('/v1/loyalty', async (request) => service.loyaltyAsk(request.body));
  app.post('/v1/authorize', async (request) => {
    const answer = await service.authorize(request.body);
    request.log.info(
      { opId: answer.opId, kind: answer.kind, status: answer.status, reason: answer.reason, replayed: answer.replayed },
      'online authorization',
    );
    return answer;
  });

  void app.register(
    async (admin) => {
      // Who may call what (ROUTE_RULES) and the audit of every operator action: operator-access.ts.
      operatorAccess(admin, { accounts: service.operators, bootstrap });
      operatorRoutes(admin, service.operators, () => service.now());

      admin.post('/enrollment-tokens', async (request) => service.createEnrollmentToken(request.body));

      admin.get('/devices', async () => ({ devices: await service.devices.list() }));

      admin.get('/devices/:id', async (request) => {
        const id = uuidParam((request.params as { id?: unknown }).id, 'id');
        return service.devices.status(id);
      });

      admin.get('/devices/:id/ops', async (request) => {
        const id = uuidParam((request.params as { id?: unknown }).id, 'id');
        const before = intQuery(request.query, 'before', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
        const limit = intQuery(request.query, 'limit', { min: 1, max: 200, fallback: 50 });
        const status = (request.query as Record<string, unknown>).status;
        if (status !== undefined && status !== 'accepted' && status !== 'rejected') {
          throw new ProtocolError('invalid_request', 'query parameter status must be accepted or rejected', {
            field: 'query.status',
            rule: 'accepted or rejected',
          });
        }
        return service.ledger.deviceOps(id, { before: before === 0 ? null : before, limit, status: status ?? null });
      });

      admin.post('/devices/:id/revoke', async (request) => {
        const id = uuidParam((request.params as { id?: unknown }).id, 'id');
        const { reason } = revokeRequestSchema.parse(request.body);
        const status = await service.devices.revoke(id, reason);
        request.log.warn({ device: id, reason }, 'device revoked');
        return status;
      });

      admin.post('/devices/:id/placement', async (request) => {
        const id = uuidParam((request.params as { id?: unknown }).id, 'id');
        const status = await service.setPlacement(id, request.body);
        request.log.info({ device: id, placement: status.placement }, 'device placed');
        return status;
      });

      admin.post('/policies', async (request) => {
        const signed = await service.issuePolicy(request.body);
        const { scope, currency, validFrom, expiresAt } = signed.policy;
        request.log.info(
          { policy: policyRef(signed.policy), keyId: signed.keyId, scope, currency, validFrom, expiresAt },
          'risk policy issued',
        );
        return signed;
      });

      admin.get('/policies', async () => service.listPolicies());

      admin.post('/policies/dry-run', async (request) => service.dryRunPolicy(request.body));

      admin.get('/server-keys', async () => service.listServerKeys());
      admin.post('/server-keys/rotate', async (request) => {
        const rotated = await service.rotateServerKey();
        request.log.info(
          {
            active: rotated.active.id,
            retired: rotated.retired?.id ?? null,
            retiredAt: rotated.retired?.retiredAt ?? null,
          },
          'server signing key rotated',
        );
        return rotated;
      });

      admin.put('/betting', async (request) => {
        const stored = await service.setBettingConfig(request.body);
        request.log.info({ version: stored.version }, 'betting configuration set');
        return stored;
      });

      admin.get('/betting', async () => service.bettingStatus());

      registerTicketRoutes(admin, service);

      admin.get('/exposure', async (request) => {
        // Epoch ms as the protocol bounds it (years 2000..2200); a future `at` reads the bound ahead of time.
        const at = intQuery(request.query, 'at', {
          min: 946_684_800_000,
          max: 7_258_118_400_000,
          fallback: service.now(),
        });
        return service.exposure(at);
      });

      admin.get('/forwarding/deadlines', async (request) => {
        const limit = intQuery(request.query, 'limit', { min: 1, max: 1000, fallback: 200 });
        const hours = options.forwardDeadlineHours ?? DEFAULT_FORWARD_DEADLINE_HOURS;
        const deadlineMs = deadlineSettings(hours, DEFAULT_DEADLINE_WARN_FRACTION).deadlineMs;
        return { deadlineHours: hours, items: await service.forwardingDeadlines(limit, deadlineMs) };
      });

      admin.get('/ops/:id', async (request) => {
        const id = uuidParam((request.params as { id?: unknown }).id, 'id');
        return service.ledger.op(id);
      });

      admin.get('/receipts/:number', async (request) => {
        const { number } = request.params as { number?: unknown };
        return service.ledger.receipt(typeof number === 'string' ? number : '');
      });

      admin.get('/ledger', async (request) => {
        const after = intQuery(request.query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
        const limit = intQuery(request.query, 'limit', { min: 1, max: 1000, fallback: 100 });
        // A time range (epoch ms of the server's clock when each event was applied): from ≤ appliedAt < to.
        const bound = { min: 0, max: 7_258_118_400_000, fallback: -1 };
        const from = intQuery(request.query, 'from', bound);
        const to = intQuery(request.query, 'to', bound);
        if (from < 0 && to < 0) return service.ledger.events(after, limit);
        const range = { from: Math.max(0, from), to: to < 0 ? bound.max : to };
        if (range.to <= range.from) {
          throw new ProtocolError(
            'invalid_request',
            `query parameter to (${range.to}) must be after from (${range.from})`,
            {
              field: 'query.to',
              rule: 'after from',
            },
          );
        }
        return service.ledger.events(after, limit, range);
      });

      exceptionRoutes(admin, service);

      admin.get('/shifts', async (request) => {
        const raw = (request.query as Record<string, unknown>).device;
        const device = raw === undefined ? null : uuidParam(raw, 'query.device');
        return { shifts: await service.ledger.shifts(device) };
      });

      admin.get('/shifts/:id/z-report', async (request) => {
        const id = uuidParam((request.params as { id?: unknown }).id, 'id');
        return service.ledger.zReport(id);
      });

      registerWalletRoutes(admin, service);
      registerLoyaltyRoutes(admin, service);
      registerFiscalRoutes(admin, service);
      staffRoutes(admin, service);
      catalogRoutes(admin, service);
      reportRoutes(admin, service);
      registerStockRoutes(admin, service);

      admin.get('/load', async () => ({
        ...admission.snapshot(),
        tracked: { devices: admission.trackedDevices, sources: sources.size },
      }));

      admin.get('/summary', async () => service.summary());

      liveRoutes(admin, service, admission);
    },
    { prefix: '/v1/admin' },
  );

  return app;
}
