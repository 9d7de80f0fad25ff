/**
 * Operator API for loyalty members, under /v1/admin (docs/loyalty.md):
 *
 *   GET  /loyalty/members                          every member's account
 *   POST /loyalty/members { member, name }         a new member, no points
 *   GET  /loyalty/members/:member                  account and entries
 *   POST /loyalty/members/:member/adjust { points, reason, id? }
 *                                                  an audited adjustment (accept a loss, claw back, correct)
 *   GET  /loyalty/outbox?member=                   the code sender's outbox (simulated delivery)
 */
import { memberId, ProtocolError, schema as s } from '@holdfast/protocol';
import type { FastifyInstance } from 'fastify';
import type { HoldfastService } from '../holdfast-service.js';

export const createMemberSchema = s.object({
  member: memberId(),
  name: s.string({ minLength: 1, maxLength: 200 }),
});

export const adjustPointsSchema = s.object({
  /** Signed, non-zero: points added (negative: taken back). */
  points: s.int({ min: -1_000_000_000, max: 1_000_000_000 }),
  reason: s.string({ minLength: 1, maxLength: 500 }),
  /** Makes a retried request apply once (default: a new id per request). */
  id: s.optional(s.string({ minLength: 1, maxLength: 64 })),
});

const memberParam = (value: unknown) => memberId().parse(value, 'member');

export function registerLoyaltyRoutes(admin: FastifyInstance, service: HoldfastService): void {
  admin.get('/loyalty/members', async () => ({ members: await service.loyalty.list() }));

  admin.post('/loyalty/members', async (request) => {
    const body = createMemberSchema.parse(request.body, 'body');
    return service.loyalty.create(body.member, body.name);
  });

  admin.get('/loyalty/members/:member', async (request) =>
    service.loyalty.get(memberParam((request.params as { member?: unknown }).member)),
  );

  admin.get('/loyalty/outbox', async (request) => {
    const raw = (request.query as { member?: unknown }).member;
    const member = raw === undefined ? null : memberId().parse(raw, 'query.member');
    return { messages: await service.loyalty.outbox(member) };
  });

  admin.post('/loyalty/members/:member/adjust', async (request) => {
    const member = memberParam((request.params as { member?: unknown }).member);
    const body = adjustPointsSchema.parse(request.body, 'body');
    if (body.points === 0) {
      throw new ProtocolError('loyalty_points_invalid', 'an adjustment must move at least 1 point', {
        field: 'body.points',
        rule: 'non-zero integer',
      });
    }
    // The actor is who authenticated (operator-access.ts), not a name the body declares.
    const by = request.operator?.name;
    if (by === undefined) throw new ProtocolError('unauthorized', 'not signed in');
    const view = await service.loyalty.adjust(member, body, by);
    request.log.info({ member, points: body.points, by }, 'loyalty points adjusted');
    return view;
  });
}
