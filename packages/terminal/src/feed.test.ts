/**
 * The terminal's side of the device feed, against the fake server: offline
 * exposure released by settlement notices, post-authorization declines the
 * clerk sees, items kept for other modules, paging, the placement learned
 * from the server, and a page applied with its cursor or not at all.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MANUAL_CLOCK_START, settle } from '@holdfast/domain/testing';
import { generateDeviceKeys, type RiskPolicy, signPolicy, uuidv7 } from '@holdfast/protocol';
import { FeedError, SimulatedCrashError } from './errors.js';
import type { FeedNotice, PostAuthDecline } from './feed.js';
import type { CrashPoint } from './journal.js';
import { createHarness, type Harness, openTill } from './testing/harness.js';

const SERVER_KEY = generateDeviceKeys();
const KEY_ID = 'k1';
const PLACEMENT = { merchant: 'acme', location: 'north', event: null };
const HOUR = 3_600_000;

function policy(version = 1): RiskPolicy {
  const issuedAt = MANUAL_CLOCK_START - 1000 + version;
  return {
    v: 1,
    id: uuidv7(issuedAt, new Uint8Array(10).fill(version)),
    version,
    issuedAt,
    validFrom: issuedAt - 60_000,
    expiresAt: issuedAt + 24 * HOUR,
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    offline: {
      maxOfflineMs: 4 * HOUR,
      device: { maxAmount: 50_000, maxCount: 20 },
      tenders: { card: { floorLimit: 5000, instrument: { maxAmount: 20_000, maxCount: 10, velocity: null } } },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
}

const signed = (version = 1) => signPolicy(policy(version), SERVER_KEY.privateKey, KEY_ID);

/** An enforcing terminal placed by the server (no placement option), holding the policy, with a shift open. */
async function enforcing(): Promise<Harness> {
  const h = await createHarness({ enroll: false, autoSync: false, offlineCardPolicy: 'enforce' });
  h.server.policyKeys = { [KEY_ID]: SERVER_KEY.publicKey };
  h.server.policy = signed();
  await h.terminal.enroll(h.server.createToken());
  await h.clock.tick(); // the poll an enforcing terminal starts on enrolling
  h.server.placements.set(h.terminal.deviceId as string, PLACEMENT);
  await h.terminal.pollFeed();
  await h.terminal.refreshPolicy();
  openTill(h.terminal);
  return h;
}

const card = (amount: number, token: string, last4 = '4242') => ({
  type: 'card' as const,
  amount,
  token,
  brand: 'visa' as const,
  last4,
});

function sale(...tenders: { type: 'card' | 'cash'; amount: number }[]) {
  const total = tenders.reduce((sum, t) => sum + t.amount, 0);
  return { lines: [{ sku: 'X', name: 'X', qty: 1, unitPrice: total }], tenders: tenders as never };
}

describe('device feed (terminal)', () => {
  test('the placement comes from the server; the option overrides it', async () => {
    const h = await enforcing();
    try {
      assert.deepEqual(h.terminal.placement(), PLACEMENT);
      h.terminal.recordSale(sale(card(1000, 'tok_test_a')));
      // The server moves the device to another merchant: the policy no longer covers it.
      h.server.placements.set(h.terminal.deviceId as string, { merchant: 'globex', location: null, event: null });
      await h.terminal.pollFeed();
      assert.equal(h.terminal.placement()?.merchant, 'globex');
      assert.throws(() => h.terminal.recordSale(sale(card(1000, 'tok_test_a'))), /policy_scope|does not cover/);
      const overridden = await h.reopen({ placement: PLACEMENT });
      assert.deepEqual(overridden.placement(), PLACEMENT, 'the placement option wins');
      overridden.recordSale(sale(card(1000, 'tok_test_a')));
    } finally {
      await h.cleanup();
    }
  });

  test('settlements release exposure; a decline is recorded once and the op needs attention', async () => {
    const h = await enforcing();
    try {
      const t = h.terminal;
      const one = t.recordSale(sale(card(1000, 'tok_test_a')));
      // A split sale: cash, then two cards (tender indexes 1 and 2; exposure keys id and id/1).
      const split = t.recordSale(
        sale(
          { type: 'cash', amount: 500, tendered: 500 } as never,
          card(2000, 'tok_test_b'),
          card(3000, 'tok_test_c', '1111'),
        ),
      );
      assert.equal(t.offlineExposure().amount, 6000);
      await t.syncNow();
      assert.equal(t.opState(split.id), 'confirmed');

      const declined: PostAuthDecline[] = [];
      const notices: FeedNotice[] = [];
      t.on('postAuthDecline', (d) => declined.push(d));
      t.on('feedItem', (n) => notices.push(n));
      h.server.settlePayment(one.id, 0);
      h.server.settlePayment(split.id, 2, 'stolen_card');
      const first = await t.pollFeed();
      assert.equal(first.released, 2);
      assert.deepEqual([...t.offlineExposure().approvals.keys()], [split.id], 'the first card of the split is held');
      assert.equal(t.offlineExposure().amount, 2000);
      assert.deepEqual(
        t.postAuthDeclines().map((d) => [d.opId, d.tenderIndex, d.amount, d.brand, d.last4, d.declineCode]),
        [[split.id, 2, 3000, 'visa', '1111', 'stolen_card']],
      );
      assert.deepEqual(declined, t.postAuthDeclines());
      assert.equal(t.opState(split.id), 'needs_attention');
      assert.equal(t.opState(one.id), 'confirmed');
      assert.deepEqual(notices, []);

      h.server.settlePayment(split.id, 1);
      const second = await t.pollFeed();
      assert.equal(second.released, 1);
      assert.equal(t.offlineExposure().amount, 0);
      assert.equal(t.postAuthDeclines().length, 1);
      assert.equal(declined.length, 1);
      const again = await t.pollFeed();
      assert.deepEqual([again.applied, again.released, again.cursor], [0, 0, 3]);

      const reopened = await h.reopen();
      assert.equal(reopened.offlineExposure().amount, 0, 'the release is durable');
      assert.equal(reopened.opState(split.id), 'needs_attention');
      assert.equal(reopened.feedCursor(), 3);
    } finally {
      await h.cleanup();
    }
  });

  test('items it does not handle are kept in feed_items and emitted; payment items of another device too', async () => {
    const h = await enforcing();
    try {
      const notices: FeedNotice[] = [];
      h.terminal.on('feedItem', (n) => notices.push(n));
      const blocked = h.server.pushFeedEvent('0198f3a2-0000-7000-8000-000000000001', 'wristband.blocked', 'op-1', {
        wristband: 'wb-1',
        reason: 'overspend',
        exceptionId: 'x1',
      });
      await h.terminal.pollFeed();
      assert.deepEqual(notices, [blocked]);
      assert.deepEqual(h.terminal.feedItems(), [blocked]);
      assert.deepEqual(h.terminal.feedItems(blocked.pos), []);
    } finally {
      await h.cleanup();
    }
  });

  test('pages: one poll reads every page; the cursor is the last position', async () => {
    const h = await enforcing();
    try {
      h.server.feedPageSize = 2;
      for (let i = 0; i < 5; i++) h.server.pushFeedEvent('d', 'wristband.blocked', `op-${i}`, { wristband: `wb-${i}` });
      const before = h.server.requests.feeds;
      const result = await h.terminal.pollFeed();
      assert.deepEqual([result.pages, result.notices.length, result.cursor, result.more], [3, 5, 5, false]);
      assert.equal(h.server.requests.feeds - before, 3);
      assert.deepEqual(
        h.terminal.feedItems().map((n) => n.opId),
        ['op-0', 'op-1', 'op-2', 'op-3', 'op-4'],
      );
    } finally {
      await h.cleanup();
    }
  });

  test('a refused feed request throws FeedError and applies nothing', async () => {
    const h = await enforcing();
    try {
      h.server.pushFeedEvent('d', 'wristband.blocked', 'op-1', {});
      h.server.revoke(h.terminal.deviceId as string);
      await assert.rejects(
        h.terminal.pollFeed(),
        (e: unknown) => e instanceof FeedError && e.serverCode === 'device_revoked',
      );
      assert.deepEqual([h.terminal.feedCursor(), h.terminal.feedItems().length], [0, 0]);
    } finally {
      await h.cleanup();
    }
  });

  test('a newer policy named by the feed is fetched', async () => {
    const h = await enforcing();
    try {
      h.server.policy = signed(2);
      await h.terminal.pollFeed();
      await settle();
      await h.clock.tick();
      assert.equal(h.terminal.riskPolicy()?.policy.version, 2);
    } finally {
      await h.cleanup();
    }
  });

  for (const point of ['feed:before-commit', 'feed:after-commit'] as CrashPoint[]) {
    test(`power cut at ${point}: a page is applied with its cursor or not at all, and once`, async () => {
      const h = await enforcing();
      try {
        const op = h.terminal.recordSale(sale(card(1000, 'tok_test_a')));
        await h.terminal.syncNow();
        h.server.settlePayment(op.id, 0, 'card_blocked');
        let cut = false;
        const crashing = await h.reopen({
          crashHook: (p) => {
            if (cut || p !== point) return false;
            cut = true;
            return true;
          },
        });
        await assert.rejects(crashing.pollFeed(), SimulatedCrashError);
        const recovered = await h.reopen({ crashHook: undefined as never });
        const applied = point === 'feed:after-commit';
        assert.deepEqual(
          [recovered.feedCursor(), recovered.offlineExposure().amount, recovered.postAuthDeclines().length],
          applied ? [1, 0, 1] : [0, 1000, 0],
        );
        await recovered.pollFeed();
        assert.deepEqual(
          [recovered.feedCursor(), recovered.offlineExposure().amount, recovered.postAuthDeclines().length],
          [1, 0, 1],
          'after the next poll: applied once',
        );
      } finally {
        await h.cleanup();
      }
    });
  }
});
