/**
 * The loyalty operator API through HTTP (Fastify inject, SQLite in
 * memory): members created and looked up, adjustments audited with the
 * operator who made them, a viewer refused, and coded errors for bad input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoyaltyMemberView } from '../model/loyalty.js';
import type { AuditRow } from '../model/operator.js';
import { createHarness, type Harness } from '../testing/harness.js';

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await createHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

describe('loyalty operator API', () => {
  it('creates, looks up, adjusts (audited, once per id) and answers coded errors', () =>
    withHarness(async (h) => {
      const sup = await h.operator('sup-1', 'supervisor');
      const viewer = await h.operator('view-1', 'viewer');
      const created = await h.request('POST', '/v1/admin/loyalty/members', {
        headers: sup,
        payload: { member: 'CARD0001', name: 'Ana' },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const again = await h.request<{ code: string }>('POST', '/v1/admin/loyalty/members', {
        headers: sup,
        payload: { member: 'CARD0001', name: 'Bea' },
      });
      assert.deepEqual([again.status, again.body.code], [409, 'loyalty_member_exists']);
      const badId = await h.request<{ code: string; field: string }>('POST', '/v1/admin/loyalty/members', {
        headers: sup,
        payload: { member: 'card-1', name: 'Bea' },
      });
      assert.deepEqual([badId.status, badId.body.code, badId.body.field], [400, 'invalid_request', 'body.member']);
      const refused = await h.request<{ code: string }>('POST', '/v1/admin/loyalty/members', {
        headers: viewer,
        payload: { member: 'CARD0002', name: 'Cy' },
      });
      assert.deepEqual([refused.status, refused.body.code], [403, 'forbidden']);

      const adjust = (payload: unknown) =>
        h.request<LoyaltyMemberView & { code?: string; field?: string }>(
          'POST',
          '/v1/admin/loyalty/members/CARD0001/adjust',
          { headers: sup, payload },
        );
      const ok = await adjust({ points: 25, reason: 'welcome bonus', id: 'welcome-1' });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.account.balance, 25);
      assert.equal(ok.body.entries[0]?.actor, 'sup-1');
      assert.equal(
        (await adjust({ points: 25, reason: 'welcome bonus', id: 'welcome-1' })).body.code,
        'loyalty_adjustment_exists',
      );
      const zero = await adjust({ points: 0, reason: 'nothing' });
      assert.deepEqual([zero.status, zero.body.code, zero.body.field], [400, 'loyalty_points_invalid', 'body.points']);
      const frac = await adjust({ points: 2.5, reason: 'half' });
      assert.deepEqual([frac.status, frac.body.field], [400, 'body.points']);
      const unknown = await h.request<{ code: string }>('POST', '/v1/admin/loyalty/members/NOBODY01/adjust', {
        headers: sup,
        payload: { points: 5, reason: 'x' },
      });
      assert.deepEqual([unknown.status, unknown.body.code], [404, 'loyalty_member_unknown']);

      const view = await h.request<LoyaltyMemberView>('GET', '/v1/admin/loyalty/members/CARD0001', { headers: viewer });
      assert.equal(view.status, 200);
      assert.deepEqual(
        [view.body.account.earned, view.body.account.redeemed, view.body.account.adjusted, view.body.account.balance],
        [0, 0, 25, 25],
      );
      const list = await h.request<{ members: { member: string }[] }>('GET', '/v1/admin/loyalty/members', {
        headers: viewer,
      });
      assert.deepEqual(
        list.body.members.map((m) => m.member),
        ['CARD0001'],
      );
      const audit = await h.request<{ items: AuditRow[] }>('GET', '/v1/admin/audit?action=loyalty.adjust', {
        admin: true,
      });
      const entries = audit.body.items.filter((a) => a.action === 'loyalty.adjust');
      assert.ok(entries.length >= 1);
      assert.equal(entries[0]?.actorName, 'sup-1');
      assert.equal((entries[0]?.detail as Record<string, unknown> | null)?.reason, 'welcome bonus');
    }));
});
