/**
 * Operator routes for staff at the till (docs/staff-and-roles.md): the
 * roster of a location, adding, changing and removing members, setting a
 * PIN or a badge, and the roster history. Registered inside the
 * operator-guarded `/v1/admin` scope by build-app.ts. A PIN or badge in a
 * request body is never logged.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { HoldfastService } from '../holdfast-service.js';

/**
 * Who made a change, for the roster history: the operator the guard
 * identified (named operator accounts set `request.operator`), else the
 * shared operator token's "operator".
 */
function changedBy(request: FastifyRequest): string {
  const operator = (request as FastifyRequest & { operator?: { name?: unknown } }).operator;
  return typeof operator?.name === 'string' ? operator.name : 'operator';
}

const idOf = (request: FastifyRequest): unknown => (request.params as { id?: unknown }).id;

export function staffRoutes(admin: FastifyInstance, service: HoldfastService): void {
  admin.get('/staff', async (request) => service.staff.list((request.query as { location?: unknown }).location));

  admin.get('/staff/history', async (request) => {
    const query = request.query as { location?: unknown; staff?: unknown };
    return service.staff.history(query.location, query.staff);
  });

  admin.post('/staff', async (request, reply) => {
    const answer = await service.staff.add(request.body, changedBy(request));
    request.log.info(
      { staff: answer.member.id, location: answer.member.location, version: answer.version },
      'staff added',
    );
    return reply.code(201).send(answer);
  });

  admin.patch('/staff/:id', async (request) => {
    const answer = await service.staff.update(String(idOf(request)), request.body, changedBy(request));
    request.log.info(
      { staff: answer.member.id, role: answer.member.role, version: answer.version },
      'staff role changed',
    );
    return answer;
  });

  admin.post('/staff/:id/pin', async (request) => {
    const answer = await service.staff.setPin(String(idOf(request)), request.body, changedBy(request));
    request.log.info({ staff: answer.member.id, version: answer.version }, 'staff PIN set');
    return answer;
  });

  admin.post('/staff/:id/badge', async (request) => {
    const answer = await service.staff.setBadge(String(idOf(request)), request.body, changedBy(request));
    request.log.info({ staff: answer.member.id, version: answer.version }, 'staff badge set');
    return answer;
  });

  admin.delete('/staff/:id', async (request) => {
    const answer = await service.staff.remove(String(idOf(request)), changedBy(request));
    request.log.warn(
      { staff: answer.member.id, location: answer.member.location, version: answer.version },
      'staff removed',
    );
    return answer;
  });
}
