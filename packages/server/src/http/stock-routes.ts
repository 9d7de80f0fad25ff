/**
 * Operator API for stock, under /v1/admin (docs/catalog-and-stock.md):
 *
 *   GET /stock?location=                      tracked levels, by location and SKU
 *   GET /stock/moves?location=&after=&limit=  movements in the order applied
 */
import { refString } from '@holdfast/protocol';
import type { FastifyInstance } from 'fastify';
import type { HoldfastService } from '../holdfast-service.js';
import { intQuery } from './params.js';

function locationQuery(query: unknown): string | null {
  const raw = (query as Record<string, unknown> | undefined)?.location;
  if (raw === undefined || raw === '') return null;
  return refString().parse(raw, 'query.location');
}

export function registerStockRoutes(admin: FastifyInstance, service: HoldfastService): void {
  admin.get('/stock', async (request) => ({ levels: await service.stock.levels(locationQuery(request.query)) }));

  admin.get('/stock/moves', async (request) => {
    const after = intQuery(request.query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
    const limit = intQuery(request.query, 'limit', { min: 1, max: 1000, fallback: 100 });
    return service.stock.moves({ location: locationQuery(request.query), after, limit });
  });
}
