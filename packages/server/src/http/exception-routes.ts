/**
 * Operator routes about exceptions: the list with each exception's actions
 * and status, recording an action, and the decline-rate report. Registered
 * inside the operator-guarded `/v1/admin` scope by build-app.ts.
 */
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyInstance } from 'fastify';
import { exceptionFilterOf, parseExceptionAction, reportRangeOf } from '../exceptions/exception-requests.js';
import type { HoldfastService } from '../holdfast-service.js';
import type { DeclineReportRow } from '../model/decline-report.js';
import type { ExceptionView } from '../model/exception-action.js';
import { intQuery, uuidParam } from './params.js';

export interface DeclineReport {
  from: number;
  to: number;
  rows: DeclineReportRow[];
}

export function exceptionRoutes(admin: FastifyInstance, service: HoldfastService): void {
  admin.get('/exceptions', async (request) => {
    const after = intQuery(request.query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
    const limit = intQuery(request.query, 'limit', { min: 1, max: 1000, fallback: 100 });
    return service.storage.listExceptionViews(exceptionFilterOf(request.query, after, limit));
  });

  admin.post('/exceptions/:id/actions', async (request): Promise<ExceptionView> => {
    const id = uuidParam((request.params as { id?: unknown }).id, 'id');
    const body = parseExceptionAction(request.body);
    const outcome = await service.storage.recordExceptionAction({
      id: service.newId(),
      exceptionId: id,
      action: body.action,
      note: body.note,
      amount: body.amount ?? null,
      by: body.by,
      at: service.clock.now(),
    });
    switch (outcome.outcome) {
      case 'not_found':
        throw new ProtocolError('not_found', `no exception ${id}`, { field: 'id' });
      case 'already_resolved': {
        const resolution = outcome.exception.actions.find((a) => a.resolves);
        throw new ProtocolError(
          'already_resolved',
          `exception ${id} was already resolved (${resolution?.action ?? '?'} by ${resolution?.by ?? '?'}); actions are not taken after a resolution`,
          { field: 'id' },
        );
      }
      case 'invalid':
        throw new ProtocolError('invalid_request', outcome.message, { field: outcome.field, rule: outcome.rule });
      case 'recorded': {
        const action = outcome.exception.actions[outcome.exception.actions.length - 1];
        request.log.info(
          {
            exception: id,
            action: action?.action,
            by: action?.by,
            amount: action?.amount,
            status: outcome.exception.status,
          },
          'exception action recorded',
        );
        return outcome.exception;
      }
    }
  });

  admin.get('/reports/declines', async (request): Promise<DeclineReport> => {
    const { from, to } = reportRangeOf(request.query, service.clock.now());
    return { from, to, rows: await service.storage.declineReport(from, to) };
  });
}
