/**
 * Operator routes of the ticket lifecycle (docs/betting.md), registered on
 * the admin scope by build-app.ts:
 *
 *   POST /v1/admin/events/:event/results   results in, tickets settled
 *   GET  /v1/admin/tickets                 every accepted ticket, its history and payout
 *   GET  /v1/admin/tickets/:id             one ticket
 *   GET  /v1/admin/sales/:id/corrections   a sale's voids and refunds, held or counted (docs/corrections.md)
 */
import { ProtocolError } from '@holdfast/protocol';
import type { FastifyInstance } from 'fastify';
import type { HoldfastService } from '../holdfast-service.js';
import { uuidParam } from './params.js';

export function registerTicketRoutes(admin: FastifyInstance, service: HoldfastService): void {
  admin.post('/events/:event/results', async (request) => {
    const event = (request.params as { event?: unknown }).event;
    const outcome = await service.recordResults(event, request.body);
    request.log.info(outcome, 'event results recorded');
    return outcome;
  });

  admin.get('/tickets', async () => ({ tickets: await service.listTickets() }));

  admin.get('/tickets/:id', async (request) => {
    const id = uuidParam((request.params as { id?: unknown }).id, 'id');
    const ticket = await service.getTicket(id);
    if (!ticket) throw new ProtocolError('not_found', `no accepted ticket ${id}`);
    return ticket;
  });

  // Sale corrections (docs/corrections.md): every void and refund of a sale, held or counted, and
  // where their card parts are at the processor.
  admin.get('/sales/:id/corrections', async (request) => {
    const id = uuidParam((request.params as { id?: unknown }).id, 'id');
    const corrections = await service.getSaleCorrections(id);
    let counted = 0;
    for (const c of corrections) if (c.state === 'counted') counted += c.amount;
    return { sale: id, counted, corrections, cardRefunds: await service.listCardRefunds(id) };
  });
}
