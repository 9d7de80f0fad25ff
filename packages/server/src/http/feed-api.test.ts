/**
 * The device feed over HTTP (Fastify inject): `POST /v1/feed`, signed by
 * the device. What a terminal gets (its payment settlements with the card,
 * its placement, the policy in force), and every refusal naming its field:
 * a bad signature, an unknown or revoked device, a bad or foreign cursor, a
 * stale request time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type FeedResponse,
  feedRequestMessage,
  generateDeviceKeys,
  importPrivateKey,
  type PolicyDraft,
  policyRef,
  policyRequestMessage,
  type SignedPolicy,
  signMessage,
  uuidv7,
} from '@holdfast/protocol';
import { createHarness, type Harness, T0, type TestDevice } from '../testing/harness.js';
import { offlineSales } from '../testing/payments.js';

const DAY = 86_400_000;

function feedRequest(d: TestDevice, after: number, at: number, sig?: string) {
  return { device: d.id, after, at, sig: sig ?? signMessage(feedRequestMessage(d.id, after, at), d.privateKey) };
}

const fetchFeed = (h: Harness, payload: unknown) => h.request<FeedResponse>('POST', '/v1/feed', { payload });

const draft: PolicyDraft = {
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

describe('POST /v1/feed', () => {
  it("answers the device's settlements with their card, its placement and the policy in force; pages by cursor", () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice('bar-1');
      const placed = await h.request('POST', `/v1/admin/devices/${d.id}/placement`, {
        admin: true,
        payload: { merchant: 'acme', location: 'hall-a', event: null },
      });
      assert.equal(placed.status, 200);
      const issued = await h.request<SignedPolicy>('POST', '/v1/admin/policies', { admin: true, payload: draft });
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      const [ok, bad] = await offlineSales(h, d, [1_000, 2_500]);
      for (const [opId, declineCode] of [
        [ok, undefined],
        [bad, 'stolen_card'],
      ] as const) {
        await h.storage.settleOfflinePayment({
          payment: { opId: opId as string, tenderIndex: 0 },
          owner: 'fwd',
          settlement:
            declineCode === undefined
              ? { status: 'approved', processorId: 'auth_1', at: T0 + 10 }
              : { status: 'declined', processorId: 'auth_2', declineCode, at: T0 + 20 },
          exceptionId: uuidv7(T0, new Uint8Array(10).fill(declineCode ? 2 : 1)),
        });
      }

      const res = await fetchFeed(h, feedRequest(d, 0, h.clock.now()));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const feed = res.body;
      assert.deepEqual(
        feed.items.map(({ pos: _pos, ...item }) => item),
        [
          {
            type: 'payment.settled',
            opId: ok,
            device: d.id,
            at: T0 + 10,
            data: {
              tenderIndex: 0,
              amount: 1_000,
              currency: 'EUR',
              brand: 'visa',
              last4: '4242',
              processorId: 'auth_1',
              declineCode: null,
            },
          },
          {
            type: 'payment.declined',
            opId: bad,
            device: d.id,
            at: T0 + 20,
            data: {
              tenderIndex: 0,
              amount: 2_500,
              currency: 'EUR',
              brand: 'visa',
              last4: '4242',
              processorId: 'auth_2',
              declineCode: 'stolen_card',
            },
          },
        ],
      );
      assert.deepEqual(feed.placement, { merchant: 'acme', location: 'hall-a', event: null });
      assert.equal(feed.policy, policyRef(issued.body.policy));
      assert.equal(feed.more, false);
      assert.equal(feed.serverTime, h.clock.now());
      const again = await fetchFeed(h, feedRequest(d, feed.next, h.clock.now()));
      assert.equal(again.status, 200);
      assert.deepEqual([again.body.items, again.body.next], [[], feed.next], 'nothing new after the cursor');
    }));

  it('an unplaced device: placement and policy null', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice();
      const res = await fetchFeed(h, feedRequest(d, 0, h.clock.now()));
      assert.equal(res.status, 200);
      // The answer is signed as a whole (serverKey, serverSig: signed-requests.test.ts checks the signature).
      const { serverKey, serverSig, ...answer } = res.body as typeof res.body & {
        serverKey: string;
        serverSig: string;
      };
      assert.deepEqual([typeof serverKey, typeof serverSig], ['string', 'string']);
      assert.deepEqual(
        { ...answer, serverTime: 0 },
        { items: [], next: 0, more: false, placement: null, policy: null, reports: true, serverTime: 0 },
      );
    }));

  it('refuses a bad signature, a signature over another cursor, an unknown and a revoked device', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice();
      const now = h.clock.now();
      const other = importPrivateKey(generateDeviceKeys().privateKey);
      const cases: [unknown, number, string, string][] = [
        [feedRequest(d, 0, now, signMessage(feedRequestMessage(d.id, 0, now), other)), 401, 'unknown_device', 'sig'],
        [
          { ...feedRequest(d, 0, now), after: 5 }, // signed for cursor 0
          401,
          'unknown_device',
          'sig',
        ],
        [
          { ...feedRequest(d, 0, now), sig: signMessage(policyRequestMessage(d.id, now), d.privateKey) },
          401,
          'unknown_device',
          'sig',
        ],
        [{ ...feedRequest(d, 0, now), device: uuidv7(T0, new Uint8Array(10)) }, 401, 'unknown_device', 'sig'],
      ];
      for (const [payload, status, code, field] of cases) {
        const res = await fetchFeed(h, payload);
        assert.deepEqual([res.status, res.error.code, res.error.field], [status, code, field]);
      }
      await h.request('POST', `/v1/admin/devices/${d.id}/revoke`, { admin: true, payload: { reason: 'stolen' } });
      const revoked = await fetchFeed(h, feedRequest(d, 0, now));
      assert.deepEqual([revoked.status, revoked.error.code], [403, 'device_revoked']);
    }));

  it('refuses a malformed cursor, and one past the end of the ledger, naming `after`', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice();
      const open = d.openShift();
      await h.send(d.batch([open, d.sale(open.id, 100)]));
      const now = h.clock.now();
      for (const after of [-1, 1.5, '3', null]) {
        const res = await fetchFeed(h, { ...feedRequest(d, 0, now), after });
        assert.deepEqual(
          [res.status, res.error.code, res.error.field],
          [400, 'invalid_request', 'after'],
          String(after),
        );
      }
      const end = await fetchFeed(h, feedRequest(d, 2, now));
      assert.equal(end.status, 200, 'the ledger holds 2 events: cursor 2 is its end');
      const past = await fetchFeed(h, feedRequest(d, 3, now));
      assert.deepEqual([past.status, past.error.code, past.error.field], [400, 'invalid_request', 'after']);
      assert.match(past.error.rule ?? '', /at most 2/);
    }));

  it('answers whatever the request time: a device whose clock is wrong still reads its feed', () =>
    withHarness(async (h) => {
      const d = await h.enrollDevice();
      const now = h.clock.now();
      // A clock a day behind or ahead, with no batch that would have told the server its offset.
      for (const at of [now - 86_400_000, now, now + 86_400_000]) {
        assert.equal((await fetchFeed(h, feedRequest(d, 0, at))).status, 200, `at ${at - now} ms`);
      }
      // The time is still covered by the signature: changing it breaks the request.
      const signed = feedRequest(d, 0, now);
      const res = await fetchFeed(h, { ...signed, at: now + 1 });
      assert.deepEqual([res.status, res.error.code, res.error.field], [401, 'unknown_device', 'sig']);
    }));
});
