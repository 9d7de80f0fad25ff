/**
 * Operator routes about exceptions: the list with each exception's actions
 * and status, recording an action, and the decline-rate report. Registered
 * inside the operator-guarded `/v1/admin` scope by build-app.ts.
 */
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyInstance } from 'fastify';
import { exceptionFilterOf, parseExceptionAction, reportRangeOf } from '../exceptions/exception-requests.js';
import type { HoldfastService } from '../holdfast-service.js';
import type { ExceptionView } from '../model/exception-action.js';
import type { DeclineReport } from '../services/exception-desk.js';
import { intQuery, uuidParam } from './params.js';

export function exceptionRoutes(admin: FastifyInstance, service: HoldfastService): void {
  admin.get('/exceptions', async (request) => {
    const after = intQuery(request.query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
    const limit = intQuery(request.query, 'limit', { min: 1, max: 1000, fallback: 100 });
    return service.exceptions.list(exceptionFilterOf(request.query, after, limit));
  });

  admin.post('/exceptions/:id/actions', async (request): Promise<ExceptionView> => {
    const id = uuidParam((request.params as { id?: unknown }).id, 'id');
    const body = parseExceptionAction(request.body);
    // The actor is who authenticated (operator-access.ts), not a name the body declares.
    const by = request.operator?.name;
    if (by === undefined) throw new ProtocolError('unauthorized', 'not signed in');
    const exception = await service.exceptions.act(id, body, by);
    const action = exception.actions[exception.actions.length - 1];
    request.log.info(
      { exception: id, action: action?.action, by: action?.by, amount: action?.amount, status: exception.status },
      'exception action recorded',
    );
    return exception;
  });

  admin.get('/reports/declines', async (request): Promise<DeclineReport> => {
    return service.exceptions.declineReport(reportRangeOf(request.query, service.now()));
  });
}
