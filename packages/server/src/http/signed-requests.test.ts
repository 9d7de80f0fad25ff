/**
 * Every signed terminal request (batch, status query, policy, feed, online
 * authorization) passes one gate (device-auth.ts): issue 15 #8 and #4.
 */
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  answerProblem,
  authorizeMessage,
  ChainBuilder,
  feedRequestMessage,
  generateDeviceKeys,
  importPrivateKey,
  type OnlineRequest,
  policyRequestMessage,
  queryMessage,
  refusalAnswer,
  signBatch,
  signMessage,
  uuidv7,
} from '@holdfast/protocol';
import { createHarness, type Harness, T0, type TestDevice } from '../testing/harness.js';
import { authorizeBody } from '../testing/payments.js';

const randomId = () => uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));

/** One signed request of each route from device `d`, signed with `key` (d's own key unless told). */
function requests(d: TestDevice, key: KeyObject = d.privateKey) {
  const at = T0;
  const ids = [randomId()];
  const shift = d.chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 0 });
  const opId = randomId();
  const card = { kind: 'card', amount: 100, currency: 'EUR', token: 'tok_test_4242', brand: 'visa', last4: '4242' };
  return {
    '/v1/batches': signBatch(d.id, [shift], key, T0, d.chain.seq),
    '/v1/ops/query': { device: d.id, ids, at, sig: signMessage(queryMessage(d.id, ids, at), key) },
    '/v1/policy': { device: d.id, at, sig: signMessage(policyRequestMessage(d.id, at), key) },
    '/v1/feed': { device: d.id, after: 0, at, sig: signMessage(feedRequestMessage(d.id, 0, at), key) },
    '/v1/authorize': {
      ...authorizeBody(d, opId, card as OnlineRequest),
      sig: signMessage(authorizeMessage(d.id, opId, T0, card as OnlineRequest), key),
    },
  };
}

/** A device that never enrolled: its own key pair, an id the server never issued. */
function stranger(): TestDevice {
  const keys = generateDeviceKeys();
  const id = randomId();
  const privateKey = importPrivateKey(keys.privateKey);
  const chain = new ChainBuilder(id, privateKey, { now: () => T0 });
  return { id, keys, privateKey, chain } as TestDevice;
}

/** The answer with the device id taken out: what an attacker could compare. */
async function answer(h: Harness, route: string, payload: unknown, id: string) {
  const res = await h.request('POST', route, { payload });
  return { status: res.status, body: JSON.stringify(res.body).replaceAll(id, '<id>') };
}

describe('signed terminal requests: one answer for unknown, revoked and forged', () => {
  it('a forged signature gets the same answer whatever the id: unknown, revoked, or enrolled', async () => {
    const h = await createHarness();
    try {
      const live = await h.enrollDevice('live');
      const revoked = await h.enrollDevice('revoked');
      const revoke = await h.request('POST', `/v1/admin/devices/${revoked.id}/revoke`, {
        admin: true,
        payload: { reason: 'reported stolen at gate 3' },
      });
      assert.equal(revoke.status, 200);
      const attacker = importPrivateKey(generateDeviceKeys().privateKey);
      const nobody = stranger();
      for (const route of ['/v1/batches', '/v1/ops/query', '/v1/policy', '/v1/feed', '/v1/authorize'] as const) {
        const answers = [
          await answer(h, route, requests(live, attacker)[route], live.id),
          await answer(h, route, requests(revoked, attacker)[route], revoked.id),
          await answer(h, route, requests(nobody, attacker)[route], nobody.id),
          // A stranger signing with its own (never enrolled) key.
          await answer(h, route, requests(nobody)[route], nobody.id),
        ];
        for (const a of answers) assert.deepEqual(a, answers[0], `${route}: ${JSON.stringify(answers)}`);
        assert.equal(answers[0]?.status, 401, route);
        assert.doesNotMatch(answers[0]?.body ?? '', /revoked|stolen/, route);
      }
    } finally {
      await h.close();
    }
  });

  it('only a request validly signed by a revoked device learns that it was revoked, and why', async () => {
    const h = await createHarness();
    try {
      const revoked = await h.enrollDevice('revoked');
      await h.request('POST', `/v1/admin/devices/${revoked.id}/revoke`, { admin: true, payload: { reason: 'stolen' } });
      for (const route of ['/v1/batches', '/v1/ops/query', '/v1/policy', '/v1/feed', '/v1/authorize'] as const) {
        const res = await h.request('POST', route, { payload: requests(revoked)[route] });
        assert.deepEqual([res.status, res.error.code], [403, 'device_revoked'], route);
        assert.match(res.error.message, /stolen/, route);
      }
    } finally {
      await h.close();
    }
  });

  it('a revoked device re-running its used enrollment token is refused, and gets no placement', async () => {
    const h = await createHarness();
    try {
      const token = await h.newToken('till');
      const keys = generateDeviceKeys();
      const first = await h.enroll(token, keys);
      assert.equal(first.status, 200);
      await h.request('POST', `/v1/admin/devices/${first.body.deviceId}/revoke`, {
        admin: true,
        payload: { reason: 'stolen' },
      });
      const again = await h.enroll(token, keys);
      assert.deepEqual([again.status, again.error.code], [403, 'device_revoked'], JSON.stringify(again.body));
      assert.equal((again.body as unknown as Record<string, unknown>).placement, undefined);
    } finally {
      await h.close();
    }
  });
});

describe('signed answers', () => {
  it('signs batch and status answers with its policy key, bound to the request, and says so at enrollment', async () => {
    const h = await createHarness();
    try {
      const token = await h.newToken('till');
      const keys = generateDeviceKeys();
      const enrolled = await h.enroll(token, keys);
      assert.equal(enrolled.status, 200);
      assert.equal(enrolled.body.signsAnswers, true);
      const pinned = enrolled.body.policyKeys ?? {};
      const privateKey = importPrivateKey(keys.privateKey);
      const d = enrolled.body.deviceId;
      const chain = new ChainBuilder(d, privateKey, { now: () => h.clock.now() });
      const batch = chain.batch([chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 0 })]);
      const res = await h.send(batch);
      assert.equal(res.status, 200);
      assert.equal(answerProblem('batches', batch.sig, res.body, pinned), null);
      // Bound to its request: shown for another request, or for another route, it does not verify.
      const other = chain.batch(batch.ops, 2);
      assert.match(answerProblem('batches', other.sig, res.body, pinned) ?? '', /does not verify/);
      assert.match(answerProblem('ops/query', batch.sig, res.body, pinned) ?? '', /does not verify/);
      // Changed in any way, it does not verify.
      const changed = { ...res.body, highWater: res.body.highWater + 1 };
      assert.match(answerProblem('batches', batch.sig, changed, pinned) ?? '', /does not verify/);
      // A duplicate answer is signed too (for its own request).
      const again = chain.batch(batch.ops);
      const dup = await h.send(again);
      assert.equal(answerProblem('batches', again.sig, dup.body, pinned), null);

      const ids = [batch.ops[0]?.id ?? ''];
      const query = { device: d, ids, at: T0, sig: signMessage(queryMessage(d, ids, T0), privateKey) };
      const answer = await h.request('POST', '/v1/ops/query', { payload: query });
      assert.equal(answer.status, 200);
      assert.equal(answerProblem('ops/query', query.sig, answer.body, pinned), null);
      assert.match(answerProblem('ops/query', query.sig, answer.body, {}) ?? '', /not one pinned/);
    } finally {
      await h.close();
    }
  });

  it('signs device_revoked, bound to the refused request; never unknown_device (a bad signature gets one too)', async () => {
    const h = await createHarness();
    try {
      const token = await h.newToken('till');
      const keys = generateDeviceKeys();
      const enrolled = await h.enroll(token, keys);
      const pinned = enrolled.body.policyKeys ?? {};
      const privateKey = importPrivateKey(keys.privateKey);
      const d = enrolled.body.deviceId;
      await h.request('POST', `/v1/admin/devices/${d}/revoke`, { admin: true, payload: { reason: 'stolen' } });
      const chain = new ChainBuilder(d, privateKey, { now: () => h.clock.now() });
      const batch = chain.batch([chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 0 })]);
      const res = await h.send(batch);
      assert.deepEqual([res.status, res.error.code], [403, 'device_revoked']);
      const refusal = res.body as unknown as Record<string, unknown>;
      const signed = { ...refusalAnswer(res.error), serverKey: refusal.serverKey, serverSig: refusal.serverSig };
      assert.equal(answerProblem('batches', batch.sig, signed, pinned), null);
      assert.match(answerProblem('batches', chain.batch(batch.ops, 2).sig, signed, pinned) ?? '', /does not verify/);
      assert.match(answerProblem('ops/query', batch.sig, signed, pinned) ?? '', /does not verify/);
      const ids = [batch.ops[0]?.id ?? ''];
      const query = { device: d, ids, at: T0, sig: signMessage(queryMessage(d, ids, T0), privateKey) };
      const queried = await h.request('POST', '/v1/ops/query', { payload: query });
      const q = queried.body as unknown as Record<string, unknown>;
      assert.equal(
        answerProblem(
          'ops/query',
          query.sig,
          { ...refusalAnswer(queried.error), serverKey: q.serverKey, serverSig: q.serverSig },
          pinned,
        ),
        null,
      );
      // The same request with its body changed (the signature no longer verifies): unknown_device, unsigned.
      const tampered = { ...batch, sentAt: batch.sentAt + 1 };
      const refused = await h.send(tampered);
      assert.deepEqual([refused.status, refused.error.code], [401, 'unknown_device']);
      assert.equal((refused.body as unknown as Record<string, unknown>).serverSig, undefined);
    } finally {
      await h.close();
    }
  });

  it('signs feed and policy answers as a whole, bound to the request: replayed, moved or changed, they do not verify', async () => {
    const h = await createHarness();
    try {
      const token = await h.newToken('till');
      const keys = generateDeviceKeys();
      const enrolled = await h.enroll(token, keys);
      assert.equal(enrolled.status, 200);
      const pinned = enrolled.body.policyKeys ?? {};
      const privateKey = importPrivateKey(keys.privateKey);
      const d = enrolled.body.deviceId;
      const feedAt = (at: number) => ({
        device: d,
        after: 0,
        at,
        sig: signMessage(feedRequestMessage(d, 0, at), privateKey),
      });
      const policyAt = (at: number) => ({ device: d, at, sig: signMessage(policyRequestMessage(d, at), privateKey) });

      const feed = feedAt(T0);
      const feedRes = await h.request('POST', '/v1/feed', { payload: feed });
      assert.equal(feedRes.status, 200, JSON.stringify(feedRes.body));
      assert.equal(answerProblem('feed', feed.sig, feedRes.body, pinned), null);
      // The same answer for the next request (a replay), or as a policy answer: no.
      assert.match(answerProblem('feed', feedAt(T0 + 1).sig, feedRes.body, pinned) ?? '', /does not verify/);
      assert.match(answerProblem('policy', feed.sig, feedRes.body, pinned) ?? '', /does not verify/);
      // A forged item, or a later serverTime: no.
      const body = feedRes.body as { items: unknown[]; serverTime: number };
      const item = { pos: 1, type: 'wristband.blocked', opId: 'x', device: d, at: T0, data: { wristband: '04A1B2C3' } };
      assert.match(answerProblem('feed', feed.sig, { ...body, items: [item] }, pinned) ?? '', /does not verify/);
      assert.match(
        answerProblem('feed', feed.sig, { ...body, serverTime: body.serverTime + 1 }, pinned) ?? '',
        /does not verify/,
      );

      const policy = policyAt(T0);
      const policyRes = await h.request('POST', '/v1/policy', { payload: policy });
      assert.equal(policyRes.status, 200, JSON.stringify(policyRes.body));
      assert.equal(answerProblem('policy', policy.sig, policyRes.body, pinned), null);
      assert.match(answerProblem('policy', policyAt(T0 + 1).sig, policyRes.body, pinned) ?? '', /does not verify/);
      const p = policyRes.body as { serverTime: number };
      assert.match(
        answerProblem('policy', policy.sig, { ...p, serverTime: p.serverTime + 1 }, pinned) ?? '',
        /does not verify/,
      );
      assert.match(answerProblem('policy', policy.sig, { ...p, serverSig: undefined }, pinned) ?? '', /not signed/);
    } finally {
      await h.close();
    }
  });
});
