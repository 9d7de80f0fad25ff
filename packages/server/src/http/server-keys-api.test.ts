/**
 * Server signing-key rotation over HTTP (Fastify inject; issue 15, key
 * lifecycle): only an admin rotates; answers name public keys only; after a
 * rotation answers are signed by the new key, the policy answer carries the
 * key set signed by the old key (so a terminal that pinned only the old key
 * learns the new one, and nothing else), the policy the old key signed is
 * still answered and verifies, and the old key leaves the set when its
 * overlap ends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  answerProblem,
  type PolicyDraft,
  type PolicyKeySet,
  type PolicyResponse,
  policyRequestMessage,
  signMessage,
  verifyKeySet,
  verifyPolicy,
} from '@holdfast/protocol';
import { SERVER_KEY_OVERLAP_MS, type ServerKeyView } from '../services/policy-desk.js';
import { createHarness, type Harness, T0, type TestDevice } from '../testing/harness.js';

const DAY = 86_400_000;

const DRAFT: PolicyDraft = {
  scope: { merchant: 'acme', location: null, event: null, devices: null },
  currency: 'EUR',
  expiresAt: T0 + DAY,
  offline: {
    maxOfflineMs: 3_600_000,
    device: { maxAmount: 20_000, maxCount: 10 },
    tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
  },
  online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
};

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await createHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

async function fetchPolicy(h: Harness, d: TestDevice): Promise<PolicyResponse> {
  const at = h.clock.now();
  const res = await h.request<PolicyResponse>('POST', '/v1/policy', {
    payload: { device: d.id, at, sig: signMessage(policyRequestMessage(d.id, at), d.privateKey) },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

type Rotated = { active: ServerKeyView; retired: ServerKeyView | null };

describe('server signing-key rotation', () => {
  it('only an admin may rotate; the answers and the list carry public keys only', () =>
    withHarness(async (h) => {
      await h.enrollDevice('bar-1');
      for (const role of ['viewer', 'supervisor', 'auditor'] as const) {
        const headers = await h.operator(`op-${role}`, role);
        const refused = await h.request('POST', '/v1/admin/server-keys/rotate', { headers });
        assert.equal(refused.status, 403, `${role}: ${JSON.stringify(refused.body)}`);
      }
      assert.equal(
        (await h.request<{ keys: ServerKeyView[] }>('GET', '/v1/admin/server-keys', { admin: true })).body.keys.length,
        1,
      );
      const res = await h.request<Rotated>('POST', '/v1/admin/server-keys/rotate', { admin: true });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const list = await h.request<{ keys: ServerKeyView[] }>('GET', '/v1/admin/server-keys', { admin: true });
      assert.deepEqual(list.body.keys, [res.body.retired, res.body.active]);
      for (const text of [JSON.stringify(res.body), JSON.stringify(list.body)]) assert.doesNotMatch(text, /private/i);
    }));

  it('a terminal that pinned the old key learns the new one from the policy answer and keeps its old policy', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice('bar-1');
      const placed = await h.request('POST', `/v1/admin/devices/${d.id}/placement`, {
        admin: true,
        payload: { merchant: 'acme', location: null, event: null },
      });
      assert.equal(placed.status, 200, JSON.stringify(placed.body));
      const issued = await h.request('POST', '/v1/admin/policies', { admin: true, payload: DRAFT });
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      const before = await fetchPolicy(h, d);
      const pinned: PolicyKeySet = before.keys;
      assert.equal(Object.keys(pinned).length, 1);

      h.clock.advance(1_000);
      const rotatedAt = h.clock.now();
      const { body: rotated } = await h.request<Rotated>('POST', '/v1/admin/server-keys/rotate', { admin: true });
      assert.deepEqual(Object.keys(pinned), [rotated.retired?.id]);
      assert.equal(rotated.retired?.retiredAt, rotatedAt + SERVER_KEY_OVERLAP_MS);

      // A batch answer is now signed by the new key: no answer to a terminal that pinned only the old one.
      const shift = d.openShift();
      const batch = d.batch([shift]);
      const answer = await h.send(batch);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal((answer.body as { serverKey?: string }).serverKey, rotated.active.id);
      assert.match(answerProblem('batches', batch.sig, answer.body, pinned) ?? '', /not one pinned/);

      // The policy answer: the old key's policy, and the key set signed by the old key.
      const after = await fetchPolicy(h, d);
      assert.deepEqual(after.policy, before.policy);
      const learned = verifyKeySet(after.keySet, pinned);
      assert.ok(learned.ok, JSON.stringify(learned));
      assert.deepEqual(learned.set.keys, {
        [rotated.retired?.id ?? '']: rotated.retired?.publicKey,
        [rotated.active.id]: rotated.active.publicKey,
      });
      assert.deepEqual(after.keys, learned.set.keys);
      assert.equal(answerProblem('batches', batch.sig, answer.body, learned.set.keys), null);
      assert.ok(after.policy);
      verifyPolicy(after.policy, new Map(Object.entries(learned.set.keys)));

      // The overlap over: the old key leaves the set; the set verifies with the new key alone.
      h.clock.advance(SERVER_KEY_OVERLAP_MS);
      const later = await fetchPolicy(h, d);
      assert.deepEqual(Object.keys(later.keys), [rotated.active.id]);
      const next = verifyKeySet(later.keySet, learned.set.keys);
      assert.ok(next.ok);
      assert.deepEqual(next.set.keys, { [rotated.active.id]: rotated.active.publicKey });
      assert.equal(verifyKeySet(later.keySet, pinned).ok, false, 'no longer signed by the old key');
    }));
});
