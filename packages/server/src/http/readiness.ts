/**
 * GET /v1/ready, apart from GET /v1/health: health says the process answers
 * (liveness: restart it if not); ready says it should get traffic now
 * (readiness: the store takes a write transaction, every migration this
 * build knows is applied; a server shutting down refuses connections or
 * answers 503). A load
 * balancer or Kubernetes readinessProbe uses this one; see
 * docs/operations.md "Health and readiness".
 */
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyInstance } from 'fastify';
import type { HoldfastService } from '../holdfast-service.js';

export function registerReadiness(app: FastifyInstance, service: HoldfastService): void {
  // Shutting down needs no check here: from app.close() on, Fastify closes the
  // listener and answers requests still arriving on open connections 503.
  app.get('/v1/ready', async () => {
    let probe: Awaited<ReturnType<HoldfastService['readiness']>>;
    try {
      probe = await service.readiness();
    } catch (error) {
      throw new ProtocolError('not_ready', `the store cannot be written: ${(error as Error).message}`);
    }
    if (probe.migrationsApplied < probe.migrationsKnown) {
      throw new ProtocolError(
        'not_ready',
        `migrations pending: ${probe.migrationsApplied} of ${probe.migrationsKnown} applied (run holdfast migrate)`,
      );
    }
    const { storage, time } = await service.health();
    return { status: 'ready', storage, migrations: probe.migrationsApplied, time };
  });
}
