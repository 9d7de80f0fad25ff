/**
 * Operator API for e-invoicing, under /v1/admin (docs/e-invoicing.md):
 *
 *   GET  /fiscal/bills?state=&device=            bills: state, attempts, last error, rejection or refusal
 *   GET  /fiscal/bills/:opId                     one bill, its operators' actions and its credit notes
 *   POST /fiscal/bills/:opId/actions { action, note, sellerTaxId? }
 *                                                resubmit (corrected) | cancel (credit note) | non_fiscal, audited
 *   GET  /fiscal/credit-notes                    every credit note
 *   GET  /fiscal/jurisdictions                   the jurisdictions known (deadlines) and each location's
 *   PUT  /fiscal/jurisdictions/:location { jurisdiction }
 */
import { ProtocolError, schema as s } from '@holdfast/protocol';
import type { FastifyInstance } from 'fastify';
import type { HoldfastService } from '../holdfast-service.js';
import { FISCAL_BILL_ACTIONS } from '../model/fiscal-bill.js';

export const fiscalActionSchema = s.object({
  action: s.oneOf(FISCAL_BILL_ACTIONS),
  /** What was done and why: every action is explained. */
  note: s.string({ minLength: 1, maxLength: 2_000 }),
  /** resubmit only: the corrected seller tax id sent instead of the server's. */
  sellerTaxId: s.optional(s.string({ minLength: 1, maxLength: 64 })),
});

export const fiscalJurisdictionSchema = s.object({
  /** A key of FISCAL_JURISDICTIONS (GET /fiscal/jurisdictions lists them): MX, IN, BR, CO. */
  jurisdiction: s.string({ minLength: 2, maxLength: 8 }),
});

const ID = /^[A-Za-z0-9_.:-]{1,100}$/;

function idParam(value: unknown, name: string, max = 100): string {
  if (typeof value !== 'string' || value.length > max || !ID.test(value)) {
    throw new ProtocolError('invalid_request', `${name} must be 1..${max} of A-Z a-z 0-9 _ . : -`, {
      field: name,
      rule: `1..${max} of A-Z a-z 0-9 _ . : -`,
    });
  }
  return value;
}

function stateQuery(raw: unknown): 'pending' | 'registered' | 'rejected' | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw === 'pending' || raw === 'registered' || raw === 'rejected') return raw;
  throw new ProtocolError('invalid_request', 'query parameter state must be pending, registered or rejected', {
    field: 'query.state',
    rule: 'pending, registered or rejected',
  });
}

export function registerFiscalRoutes(admin: FastifyInstance, service: HoldfastService): void {
  admin.get('/fiscal/bills', async (request) => {
    const q = (request.query ?? {}) as Record<string, unknown>;
    const state = stateQuery(q.state);
    const device = q.device === undefined || q.device === '' ? undefined : idParam(q.device, 'query.device');
    return {
      bills: await service.fiscal.bills({
        ...(state === undefined ? {} : { state }),
        ...(device === undefined ? {} : { device }),
      }),
    };
  });

  admin.get('/fiscal/bills/:opId', async (request) =>
    service.fiscal.bill(idParam((request.params as { opId?: unknown }).opId, 'opId')),
  );

  admin.post('/fiscal/bills/:opId/actions', async (request) => {
    const opId = idParam((request.params as { opId?: unknown }).opId, 'opId');
    const body = fiscalActionSchema.parse(request.body ?? {}, 'body');
    // The actor is who authenticated (operator-access.ts), not a name the body declares.
    const by = request.operator?.name;
    if (by === undefined) throw new ProtocolError('unauthorized', 'not signed in');
    const answer = await service.fiscal.act(opId, body, by);
    request.log.info({ bill: opId, action: body.action, by, state: answer.bill.state }, 'fiscal bill action');
    return answer;
  });

  admin.get('/fiscal/credit-notes', async () => ({ creditNotes: await service.fiscal.creditNotes() }));

  admin.get('/fiscal/jurisdictions', async () => service.fiscal.jurisdictions());

  admin.put('/fiscal/jurisdictions/:location', async (request) => {
    const location = idParam((request.params as { location?: unknown }).location, 'location', 64);
    const body = fiscalJurisdictionSchema.parse(request.body ?? {}, 'body');
    const by = request.operator?.name;
    if (by === undefined) throw new ProtocolError('unauthorized', 'not signed in');
    return service.fiscal.setJurisdiction(location, body.jurisdiction, by);
  });
}
