/**
 * The HTTP API (Fastify): terminal endpoints, operator endpoints, health.
 * See docs/protocol.md for every route, body and error.
 */
import { PROTOCOL_VERSION, ProtocolError, revokeRequestSchema, ValidationError } from '@holdfast/protocol';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { HoldfastService } from '../holdfast-service.js';
import { errorHandler } from './error-handler.js';
import { operatorGuard } from './operator-auth.js';
import { intQuery, uuidParam } from './params.js';

/** Default largest request body: 500 ops of a few KiB each fit with room to spare. */
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

export interface BuildAppOptions {
  service: HoldfastService;
  operatorToken: string;
  bodyLimit?: number;
  /** Fastify/pino logger options; false for silence. */
  logger?: FastifyServerOptions['logger'];
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
    await service.storage.ping();
    return { status: 'ok', protocol: PROTOCOL_VERSION, storage: service.storage.kind, time: service.clock.now() };
  });

  app.post('/v1/enroll', async (request) => service.enroll(request.body));

  app.post('/v1/batches', async (request) => {
    const response = await service.ingest(request.body);
    const counts: Record<string, number> = {};
    for (const r of response.results) counts[r.status] = (counts[r.status] ?? 0) + 1;
    request.log.info(
      { device: response.device, ops: response.results.length, ...counts, highWater: response.highWater },
      'batch ingested',
    );
    return response;
  });

  app.post('/v1/ops/query', async (request) => service.queryOps(request.body));

  void app.register(
    async (admin) => {
      admin.addHook('onRequest', operatorGuard(options.operatorToken));

      admin.post('/enrollment-tokens', async (request) => service.createEnrollmentToken(request.body));

      admin.get('/devices', async () => ({ devices: await service.storage.listDeviceStatuses() }));

      admin.get('/devices/:id', async (request) => {
        const id = uuidParam((request.params as { id?: unknown }).id, 'id');
        const status = await service.storage.deviceStatus(id);
        if (!status) throw new ProtocolError('not_found', `no device ${id}`);
        return status;
      });

      admin.post('/devices/:id/revoke', async (request) => {
        const id = uuidParam((request.params as { id?: unknown }).id, 'id');
        let reason: string;
        try {
          reason = revokeRequestSchema.parse(request.body).reason;
        } catch (error) {
          if (error instanceof ValidationError) throw ProtocolError.fromValidation(error);
          throw error;
        }
        const device = await service.storage.revokeDevice(id, reason, service.clock.now());
        if (!device) throw new ProtocolError('not_found', `no device ${id}`);
        request.log.warn({ device: id, reason }, 'device revoked');
        return service.storage.deviceStatus(id);
      });

      admin.get('/ops/:id', async (request) => {
        const id = uuidParam((request.params as { id?: unknown }).id, 'id');
        const stored = await service.storage.getOp(id);
        if (!stored) throw new ProtocolError('not_found', `no op ${id}`);
        return stored;
      });

      admin.get('/ledger', async (request) => {
        const after = intQuery(request.query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
        const limit = intQuery(request.query, 'limit', { min: 1, max: 1000, fallback: 100 });
        return service.storage.listLedger(after, limit);
      });

      admin.get('/exceptions', async (request) => {
        const after = intQuery(request.query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
        const limit = intQuery(request.query, 'limit', { min: 1, max: 1000, fallback: 100 });
        return service.storage.listExceptions(after, limit);
      });

      admin.get('/shifts', async (request) => {
        const raw = (request.query as Record<string, unknown>).device;
        const device = raw === undefined ? null : uuidParam(raw, 'query.device');
        return { shifts: await service.storage.listShifts(device) };
      });

      admin.get('/summary', async () => ({ ...(await service.storage.summary()), ingest: service.counters }));
    },
    { prefix: '/v1/admin' },
  );

  return app;
}
