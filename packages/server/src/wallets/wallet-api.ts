/**
 * Operator API for wristband wallets, under /v1/admin (operator token):
 *
 *   GET  /wallets?after=<uid>&limit=1..1000&blocked=true|false   accounts by uid
 *   GET  /wallets/:uid                                           account, entries, blocked state
 *   POST /wallets/:uid/unblock { reason, device? }               lifts a block: `wristband.unblocked` ledger event
 */
import { ProtocolError, schema as s, wristbandUid } from '@holdfast/protocol';
import type { FastifyInstance } from 'fastify';
import type { HoldfastService } from '../holdfast-service.js';
import { intQuery } from '../http/params.js';

export const unblockSchema = s.object({
  reason: s.string({ minLength: 1, maxLength: 500 }),
  /** The device the ledger event names (default: the device whose op blocked it). */
  device: s.optional(s.string({ minLength: 36, maxLength: 36 })),
});

const uidParam = (value: unknown, field: string) => wristbandUid().parse(value, field);

export function registerWalletRoutes(admin: FastifyInstance, service: HoldfastService): void {
  admin.get('/wallets', async (request) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const limit = intQuery(query, 'limit', { min: 1, max: 1000, fallback: 100 });
    const after = query.after === undefined || query.after === '' ? undefined : uidParam(query.after, 'query.after');
    let blocked: boolean | undefined;
    if (query.blocked !== undefined && query.blocked !== '') {
      if (query.blocked !== 'true' && query.blocked !== 'false') {
        throw new ProtocolError('invalid_request', 'query parameter blocked must be true or false', {
          field: 'query.blocked',
          rule: 'true or false',
        });
      }
      blocked = query.blocked === 'true';
    }
    const wallets = await service.wallets.list({
      limit,
      ...(after !== undefined ? { after } : {}),
      ...(blocked !== undefined ? { blocked } : {}),
    });
    return { wallets, next: wallets.length === limit ? (wallets[wallets.length - 1]?.wristband ?? null) : null };
  });

  admin.get('/wallets/:uid', async (request) => {
    const uid = uidParam((request.params as { uid?: unknown }).uid, 'uid');
    return service.wallets.get(uid);
  });

  admin.post('/wallets/:uid/unblock', async (request) => {
    const uid = uidParam((request.params as { uid?: unknown }).uid, 'uid');
    const body = unblockSchema.parse(request.body, 'body');
    const outcome = await service.wallets.unblock(uid, body);
    if (outcome.unblockedNow) request.log.warn({ wristband: uid, reason: body.reason }, 'wristband unblocked');
    return outcome;
  });
}
