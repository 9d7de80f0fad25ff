/**
 * The HTTP API (Fastify): terminal endpoints, operator endpoints, health.
 * See docs/protocol.md for every route, body and error.
 */
import { PROTOCOL_VERSION, ProtocolError, policyRef, revokeRequestSchema } from '@holdfast/protocol';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { HoldfastService } from '../holdfast-service.js';
import { registerWalletRoutes } from '../wallets/wallet-api.js';
import { AbandonedError, type AdmissionOptions, LANE_HEADER, type Lane } from './admission.js';
import { errorHandler } from './error-handler.js';
import { exceptionRoutes } from './exception-routes.js';
import { operatorGuard } from './operator-auth.js';
import { intQuery, uuidParam } from './params.js';
import { registerTicketRoutes } from './ticket-routes.js';

/** Default largest request body: 500 ops of a few KiB each fit with room to spare. */
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

export interface BuildAppOptions {
  service: HoldfastService;
  operatorToken: string;
  bodyLimit?: number;
  /** Fastify/pino logger options; false for silence. */
  logger?: FastifyServerOptions['logger'];
  /**
   * Backpressure and priority for ingest (see admission.ts). Defaults suit
   * the storage: one batch at a time on SQLite, several on PostgreSQL.
   */
  admission?: Partial<AdmissionOptions>;
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
  }
}

function contentLength(header: string | undefined): number | null {
  if (header === undefined || !/^\d{1,12}$/.test(header)) return null;
  return Number(header);
}

export function buildApp(options: BuildAppOptions): FastifyInstance {
  const { service } = options;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // Reject "__proto__" / "constructor.prototype" keys instead of stripping them silently.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
  });
  // Fastify parses text/plain by default; every endpoint takes JSON only (415 otherwise).
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request) => {
    throw new ProtocolError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
  });

  app.get('/v1/health', async () => {
    const { storage, time } = await service.health();
    return { status: 'ok', protocol: PROTOCOL_VERSION, storage, time };
  });

  app.post('/v1/enroll', async (request) => service.enroll(request.body));

  const admission = service.ingestAdmission(options.admission);
  const releaseIfDone = (ticket: Ticket) => {
    if (ticket.closed && !ticket.working && !ticket.released) {
      ticket.released = true;
      admission.release(ticket.lane);
    }
  };

  // Admission is decided before the body is read, so a refused batch costs almost nothing.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' || request.routeOptions.url !== '/v1/batches') return;
    const lane = admission.laneOf(request.headers[LANE_HEADER], contentLength(request.headers['content-length']));
    admission.admit(lane);
    const ticket: Ticket = { lane, closed: false, working: false, released: false };
    request.holdfastTicket = ticket;
    reply.raw.once('close', () => {
      ticket.closed = true;
      releaseIfDone(ticket);
    });
  });

  app.post('/v1/batches', async (request) => {
    const ticket = request.holdfastTicket as Ticket;
    const body = request.body as { device?: unknown } | null;
    const device = typeof body === 'object' && body !== null && typeof body.device === 'string' ? body.device : null;
    ticket.working = true;
    let entered = false;
    try {
      if (device !== null) {
        admission.enterDevice(device);
        entered = true;
      }
      return await ingestBatch(request, ticket);
    } finally {
      if (entered && device !== null) admission.leaveDevice(device);
      ticket.working = false;
      releaseIfDone(ticket);
    }
  });

  async function ingestBatch(request: FastifyRequest, ticket: Ticket) {
    const lane = ticket.lane;
    let response: Awaited<ReturnType<HoldfastService['ingest']>>;
    try {
      response = await admission.run(
        lane,
        () => service.ingest(request.body),
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
      admin.addHook('onRequest', operatorGuard(options.operatorToken));

      admin.post('/enrollment-tokens', async (request) => service.createEnrollmentToken(request.body));

      admin.get('/devices', async () => ({ devices: await service.devices.list() }));

      admin.get('/devices/:id', async (request) => {
        const id = uuidParam((request.params as { id?: unknown }).id, 'id');
        return service.devices.status(id);
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

      admin.get('/ops/:id', async (request) => {
        const id = uuidParam((request.params as { id?: unknown }).id, 'id');
        return service.ledger.op(id);
      });

      admin.get('/ledger', async (request) => {
        const after = intQuery(request.query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
        const limit = intQuery(request.query, 'limit', { min: 1, max: 1000, fallback: 100 });
        return service.ledger.events(after, limit);
      });

      exceptionRoutes(admin, service);

      admin.get('/shifts', async (request) => {
        const raw = (request.query as Record<string, unknown>).device;
        const device = raw === undefined ? null : uuidParam(raw, 'query.device');
        return { shifts: await service.ledger.shifts(device) };
      });

      registerWalletRoutes(admin, service);

      admin.get('/load', async () => admission.snapshot());

      admin.get('/summary', async () => service.summary());
    },
    { prefix: '/v1/admin' },
  );

  return app;
}
