/**
 * Operator routes for the catalog and price lists
 * (docs/catalog-and-stock.md). Registered inside the operator-guarded
 * `/v1/admin` scope by build-app.ts; who may call them is in
 * operator-access.ts (`catalog.write`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HoldfastService } from '../holdfast-service.js';

/** The operator the guard identified, else the shared operator token's "operator". */
function changedBy(request: FastifyRequest): string {
  const operator = (request as FastifyRequest & { operator?: { name?: unknown } }).operator;
  return typeof operator?.name === 'string' ? operator.name : 'operator';
}

export function catalogRoutes(admin: FastifyInstance, service: HoldfastService): void {
  admin.get('/catalog/items', async () => service.catalog.listItems());

  admin.put('/catalog/items', async (request) => {
    const answer = await service.catalog.upsertItems(request.body, changedBy(request));
    request.log.info({ items: answer.items.length }, 'catalog items upserted');
    return answer;
  });

  admin.get('/price-lists', async (request) =>
    service.catalog.priceLists((request.query as { location?: unknown }).location),
  );

  admin.post('/price-lists', async (request, reply) => {
    const list = await service.catalog.publish(request.body, changedBy(request));
    request.log.info({ location: list.location, version: list.version }, 'price list published');
    return reply.code(201).send(list);
  });
}
