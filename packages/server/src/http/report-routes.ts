/**
 * Operator routes for reports (docs/reports.md): sales by item, day,
 * location or lane; outages and their delta; the accounting export; each as
 * JSON or, with `?format=csv`, as CSV. And the tax rate of each catalog tax
 * category. Registered inside the operator-guarded `/v1/admin` scope by
 * build-app.ts; who may call them is in operator-access.ts.
 */
import { ProtocolError, REF_PATTERN } from '@holdfast/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { reportRangeOf } from '../exceptions/exception-requests.js';
import type { HoldfastService } from '../holdfast-service.js';
import { SALES_REPORT_KINDS, type SalesReportKind } from '../model/reports.js';
import { accountingCsv, type CsvTable, outagesCsv, salesCsv, toCsv } from '../services/report-desk.js';
import { intQuery } from './params.js';

type Query = Record<string, unknown>;

function invalid(field: string, rule: string, message: string): ProtocolError {
  return new ProtocolError('invalid_request', message, { field, rule });
}

function oneOf<T extends string>(q: Query, name: string, allowed: readonly T[], fallback: T): T {
  const raw = q[name];
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw === 'string' && (allowed as readonly string[]).includes(raw)) return raw as T;
  throw invalid(
    `query.${name}`,
    `one of ${allowed.join(', ')}`,
    `query parameter ${name} must be one of ${allowed.join(', ')}`,
  );
}

function locationOf(q: Query): string | null {
  const raw = q.location;
  if (raw === undefined || raw === '') return null;
  if (typeof raw === 'string' && REF_PATTERN.test(raw)) return raw;
  throw invalid(
    'query.location',
    'id of 1..64 letters, digits and _.:-',
    'query parameter location must be a location id (1..64 letters, digits and _.:-)',
  );
}

function csvOrJson<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  answer: T,
  csv: (a: T) => CsvTable,
): T | string {
  const format = oneOf(request.query as Query, 'format', ['json', 'csv'] as const, 'json');
  if (format === 'json') return answer;
  void reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}.csv"`);
  return toCsv(csv(answer));
}

/** The operator guard's name for the caller, else the shared operator token's "operator". */
function changedBy(request: FastifyRequest): string {
  const operator = (request as FastifyRequest & { operator?: { name?: unknown } }).operator;
  return typeof operator?.name === 'string' ? operator.name : 'operator';
}

export function reportRoutes(admin: FastifyInstance, service: HoldfastService): void {
  admin.get('/reports/sales', async (request, reply) => {
    const q = (request.query ?? {}) as Query;
    const by = oneOf<SalesReportKind>(q, 'by', SALES_REPORT_KINDS, 'day');
    const location = locationOf(q);
    const { from, to } = reportRangeOf(q, service.now());
    const report = await service.reports.sales(by, from, to, location);
    return csvOrJson(request, reply, `sales-by-${by}`, report, salesCsv);
  });

  admin.get('/reports/outages', async (request, reply) => {
    const q = (request.query ?? {}) as Query;
    const location = locationOf(q);
    const minutes = intQuery(q, 'thresholdMinutes', { min: 1, max: 7 * 24 * 60, fallback: 5 });
    const { from, to } = reportRangeOf(q, service.now());
    const report = await service.reports.outages(from, to, location, minutes * 60_000);
    return csvOrJson(request, reply, 'outages', report, outagesCsv);
  });

  admin.get('/reports/accounting', async (request, reply) => {
    const q = (request.query ?? {}) as Query;
    const by = oneOf(q, 'by', ['day', 'shift'] as const, 'day');
    const location = locationOf(q);
    const { from, to } = reportRangeOf(q, service.now());
    const exported = await service.reports.accounting(by, from, to, location);
    return csvOrJson(request, reply, `journal-by-${by}`, exported, accountingCsv);
  });

  admin.get('/catalog/tax-rates', async () => service.reports.taxRates());

  admin.put('/catalog/tax-rates', async (request) => {
    const answer = await service.reports.setTaxRates(request.body, changedBy(request));
    request.log.info({ rates: answer.rates.length }, 'tax rates set');
    return answer;
  });
}
