/**
 * Signed feed and policy answers (docs/protocol.md §2, "Signed answers"): a
 * terminal enrolled with a server that signs answers applies nothing from a
 * `/v1/feed` or `/v1/policy` answer the server did not sign for that very
 * request. Such an answer is no answer: the poll or refresh fails as a
 * transport failure would (retried later), the cursor, blocks, declines
 * and the last-contact time offline approvals count from are unchanged.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MANUAL_CLOCK_START } from '@holdfast/domain/testing';
import {
  type FeedResponse,
  generateDeviceKeys,
  importPrivateKey,
  type PolicyResponse,
  type RiskPolicy,
  signPolicy,
  uuidv7,
} from '@holdfast/protocol';
import { NeedsOnlineError, TransportError } from './errors.js';
import { cardSale, createHarness, type Harness, openTill } from './testing/harness.js';
import type { Transport, TransportResult } from './transport.js';

const SERVER_KEY = generateDeviceKeys();
const KEY_ID = 'k1';
const HOUR = 3_600_000;
const PLACEMENT = { merchant: 'acme', location: null, event: null };

function policy(): RiskPolicy {
  const issuedAt = MANUAL_CLOCK_START - 1000;
  return {
    v: 1,
    id: uuidv7(issuedAt, new Uint8Array(10).fill(1)),
    version: 1,
    issuedAt,
    validFrom: issuedAt - 60_000,
    expiresAt: issuedAt + 24 * HOUR,
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    offline: {
      maxOfflineMs: 4 * HOUR,
      device: { maxAmount: 10_000, maxCount: 10 },
      tenders: { card: { floorLimit: 5000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
}

/** Rewrites of the server's answers by someone on the path; absent: passed through. */
interface Path {
  policy?: (res: TransportResult<PolicyResponse>) => TransportResult<PolicyResponse>;
  feed?: (res: TransportResult<FeedResponse>) => TransportResult<FeedResponse>;
  /** Every genuine policy answer, in order (to replay one later). */
  policies: TransportResult<PolicyResponse>[];
}

function onThePath(h: Harness, path: Path): Transport {
  const server = h.server;
  return {
    enroll: (req) => server.enroll(req),
    sendBatch: (batch) => server.sendBatch(batch),
    queryOps: (query) => server.queryOps(query),
    fetchPolicy: async (req) => {
      const res = await server.fetchPolicy(req);
      path.policies.push(res);
      return path.policy ? path.policy(res) : res;
    },
    fetchFeed: async (req) => {
      const res = await server.fetchFeed(req);
      return path.feed ? path.feed(res) : res;
    },
    ping: () => server.ping(),
  };
}

/** An enforcing terminal enrolled with a server that signs answers, holding its policy, till open. */
async function signingServer(path: Path): Promise<Harness> {
  const h = await createHarness({ enroll: false, autoSync: false, offlineCardPolicy: 'enforce', placement: PLACEMENT });
  h.server.policyKeys = { [KEY_ID]: SERVER_KEY.publicKey };
  h.server.answerKey = { id: KEY_ID, privateKey: importPrivateKey(SERVER_KEY.privateKey) };
  h.server.policy = signPolicy(policy(), SERVER_KEY.privateKey, KEY_ID);
  const terminal = await h.reopen({ transport: onThePath(h, path), autoSync: false, offlineCardPolicy: 'enforce' });
  await terminal.enroll(h.server.createToken());
  await terminal.refreshPolicy();
  openTill(terminal);
  return h;
}

function card(amount: number) {
  const sale = cardSale(amount);
  return {
    ...sale,
    tenders: [{ type: 'card' as const, amount, token: 'tok_test_a', brand: 'visa' as const, last4: '4242' }],
  };
}

const unverifiable = (what: string) => (error: unknown) =>
  error instanceof TransportError && error.message.startsWith(`unverifiable ${what} answer`);

function unsigned<T extends object>(body: T): T {
  const { serverKey: _k, serverSig: _s, ...rest } = body as T & { serverKey?: string; serverSig?: string };
  return rest as T;
}

describe('signed policy answers', () => {
  for (const [name, forge] of [
    // The genuine answer to the FIRST request, shown again: its signature is bound to that request.
    ['a genuine answer to an earlier request, replayed', (path: Path) => path.policies[0] as TransportResult<never>],
    [
      'the current answer without its signature',
      (_path: Path, res: TransportResult<PolicyResponse>) => (res.ok ? { ...res, body: unsigned(res.body) } : res),
    ],
    [
      'the current answer with a later serverTime',
      (_path: Path, res: TransportResult<PolicyResponse>) =>
        res.ok ? { ...res, body: { ...res.body, serverTime: res.body.serverTime + HOUR } } : res,
    ],
  ] as const) {
    test(`${name} is no server contact: offline approvals still end at maxOfflineMs`, async () => {
      const path: Path = { policies: [] };
      const h = await signingServer(path);
      try {
        h.clock.advance(4 * HOUR + 1);
        path.policy = (res) => forge(path, res);
        await assert.rejects(h.terminal.refreshPolicy(), unverifiable('policy'));
        assert.throws(
          () => h.terminal.recordSale(card(100)),
          (e: unknown) => e instanceof NeedsOnlineError && e.rule === 'max_offline_duration',
        );
        // The server's own answer is contact again.
        delete path.policy;
        await h.terminal.refreshPolicy();
        h.terminal.recordSale(card(100));
        assert.equal(h.terminal.offlineExposure().amount, 100);
      } finally {
        await h.cleanup();
      }
    });
  }
});

describe('signed feed answers', () => {
  test('a block dropped from the answer, or one added to it, changes nothing on the till', async () => {
    const path: Path = { policies: [] };
    const h = await signingServer(path);
    try {
      const device = h.terminal.deviceId as string;
      h.server.pushFeedEvent(device, 'wristband.blocked', 'op-1', {
        wristband: '04A1B2C3D4E5F6',
        reason: 'overspend',
        exceptionId: 'x1',
      });
      // Someone hides the block: the answer no longer verifies, nothing is applied, the cursor stays.
      path.feed = (res) => (res.ok ? { ...res, body: { ...res.body, items: [], next: res.body.next } } : res);
      await assert.rejects(h.terminal.pollFeed(), unverifiable('feed'));
      assert.deepEqual([h.terminal.feedCursor(), h.terminal.blockedWristbands().length], [0, 0]);
      // Someone adds a block of their own to the genuine answer: refused too, the real block is not applied either.
      path.feed = (res) => {
        if (!res.ok) return res;
        const forged = {
          ...res.body.items[0],
          pos: 2,
          opId: 'op-2',
          data: { wristband: '04FFEEDDCCBBAA', reason: 'overspend', exceptionId: 'x2' },
        };
        return { ...res, body: { ...res.body, items: [...res.body.items, forged as never], next: 2 } };
      };
      await assert.rejects(h.terminal.pollFeed(), unverifiable('feed'));
      assert.deepEqual([h.terminal.feedCursor(), h.terminal.blockedWristbands().length], [0, 0]);
      // The server's own answer applies, once.
      delete path.feed;
      await h.terminal.pollFeed();
      assert.deepEqual(
        [h.terminal.feedCursor(), h.terminal.blockedWristbands().map((b) => b.wristband)],
        [1, ['04A1B2C3D4E5F6']],
      );
    } finally {
      await h.cleanup();
    }
  });

  test('an unsigned answer carrying a decline of a sale is not applied', async () => {
    const path: Path = { policies: [] };
    const h = await signingServer(path);
    try {
      const sale = h.terminal.recordSale(card(500));
      await h.terminal.syncNow();
      const genuine = h.server.settlePayment(sale.id, 0);
      // The settlement is rewritten into a decline with the signature stripped.
      path.feed = (res) =>
        res.ok
          ? {
              ...res,
              body: unsigned({
                ...res.body,
                items: res.body.items.map((i) => ({
                  ...i,
                  type: 'payment.declined',
                  data: { ...i.data, declineCode: '05' },
                })),
              }),
            }
          : res;
      await assert.rejects(h.terminal.pollFeed(), unverifiable('feed'));
      assert.deepEqual(h.terminal.postAuthDeclines(), []);
      assert.equal(h.terminal.offlineExposure().amount, 500, 'nothing released either');
      delete path.feed;
      await h.terminal.pollFeed();
      assert.deepEqual([h.terminal.postAuthDeclines(), h.terminal.offlineExposure().amount], [[], 0]);
      assert.equal(h.terminal.feedCursor(), genuine.pos);
    } finally {
      await h.cleanup();
    }
  });

  test('a genuine feed answer replayed for the next request is refused', async () => {
    const path: Path = { policies: [] };
    const h = await signingServer(path);
    try {
      h.server.pushFeedEvent('0198f3a2-0000-7000-8000-000000000001', 'wristband.blocked', 'op-1', {
        wristband: '04A1B2C3D4E5F6',
        reason: 'overspend',
        exceptionId: 'x1',
      });
      let first: TransportResult<FeedResponse> | null = null;
      path.feed = (res) => {
        first ??= res;
        return first;
      };
      await h.terminal.pollFeed();
      assert.equal(h.terminal.feedCursor(), 1);
      // The same signed answer replayed for the next request (a later cursor): refused, nothing changes.
      h.server.pushFeedEvent('0198f3a2-0000-7000-8000-000000000001', 'wristband.unblocked', 'op-2', {
        wristband: '04A1B2C3D4E5F6',
      });
      await assert.rejects(h.terminal.pollFeed(), unverifiable('feed'));
      assert.equal(h.terminal.feedCursor(), 1);
    } finally {
      await h.cleanup();
    }
  });
});
