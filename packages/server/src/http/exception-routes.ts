/**
 * Operator routes about exceptions: the list with each exception's actions
 * and status, recording an action, and the decline-rate report. Registered
 * inside the operator-guarded `/v1/admin` scope by build-app.ts.
 */
import { isLocaleTag, negotiateLocale, type SpokenLocale } from '@holdfast/domain';
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { exceptionFilterOf, parseExceptionAction, reportRangeOf } from '../exceptions/exception-requests.js';
import { describeException, type ExceptionText } from '../exceptions/exception-text.js';
import type { HoldfastService } from '../holdfast-service.js';
import type { ExceptionView } from '../model/exception-action.js';
import type { DeclineReport } from '../services/exception-desk.js';
import { intQuery, uuidParam } from './params.js';

/** An exception as an operator reads it: as stored, plus its words in their language. */
export type DisplayedException = ExceptionView & { display: ExceptionText };

/**
 * The caller's locale: `?lang=` if given (one BCP 47 tag, refused naming
 * `query.lang` when malformed), else the Accept-Language header. A language
 * Holdfast does not speak falls back to English (the answer says which).
 */
function localeOf(request: FastifyRequest): SpokenLocale {
  const lang = (request.query as Record<string, unknown> | undefined)?.lang;
  if (lang === undefined || lang === '') return negotiateLocale(request.headers['accept-language']);
  if (typeof lang !== 'string' || !isLocaleTag(lang)) {
    throw new ProtocolError('invalid_request', 'query parameter lang must be one language tag such as es or pt-BR', {
      field: 'query.lang',
      rule: 'a BCP 47 language tag',
    });
  }
  return negotiateLocale(lang);
}

const displayed = (e: ExceptionView, locale: SpokenLocale): DisplayedException => ({
  ...e,
  display: describeException(e, locale),
});

export function exceptionRoutes(admin: FastifyInstance, service: HoldfastService): void {
  admin.get('/exceptions', async (request) => {
    const after = intQuery(request.query, 'after', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
    const limit = intQuery(request.query, 'limit', { min: 1, max: 1000, fallback: 100 });
    const page = await service.exceptions.list(exceptionFilterOf(request.query, after, limit));
    const locale = localeOf(request);
    return { ...page, items: page.items.map((e) => displayed(e, locale)) };
  });

  admin.post('/exceptions/:id/actions', async (request): Promise<DisplayedException> => {
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
    return displayed(exception, localeOf(request));
  });

  admin.get('/reports/declines', async (request): Promise<DeclineReport> => {
    return service.exceptions.declineReport(reportRangeOf(request.query, service.now()));
  });
}
