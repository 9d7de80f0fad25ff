/**
 * BrowserFeed's checks (browser-feed.ts) on Node's WebCrypto, on a real
 * journal (better-sqlite3), with the server's answers made here so every
 * refusal can be provoked: a roster or price list signed by a key not
 * pinned, changed after signing, or for another location is refused on its
 * own (the one held stays, the items still apply); an inconsistent page
 * applies nothing, not even its cursor.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import {
  type FeedPriceList,
  type FeedResponse,
  generateDeviceKeys,
  type Roster,
  signPriceList,
  signRoster,
} from '@holdfast/protocol';
import { Journal } from '@holdfast/terminal';
import { META, WristbandStore } from '@holdfast/terminal/portable';
import { BrowserFeed } from './browser-feed.js';

const POLICY = generateDeviceKeys();
const STRANGER = generateDeviceKeys();
const PLACEMENT = { merchant: 'acme', location: 'north', event: null };

function roster(version: number, location = 'north'): Roster {
  return {
    v: 1,
    location,
    version,
    issuedAt: 1,
    staff: [{ id: 'ana', name: 'Ana', role: 'clerk', pin: null, badge: null }],
  };
}

function priceList(version: number, location = 'north'): FeedPriceList {
  return {
    v: 1,
    location,
    version,
    currency: 'EUR',
    from: 0,
    until: null,
    issuedAt: 1,
    items: [{ sku: 'COFFEE', name: 'Coffee', taxCategory: 'standard', unit: 'each' }],
    prices: [{ sku: 'COFFEE', price: 350 }],
    promotions: [],
  } as FeedPriceList;
}

/** A journal pinning POLICY as key k1, and a feed over a transport answering `answers` in turn. */
async function withFeed(
  answers: Array<Partial<FeedResponse> & { next: number }>,
  fn: (feed: BrowserFeed, journal: Journal, poll: () => ReturnType<BrowserFeed['poll']>) => Promise<void>,
  onNotice?: (journal: Journal) => (type: string, data: unknown, now: number) => void,
): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-browser-feed-'));
  const journal = Journal.open(dir);
  try {
    journal.setMeta({
      [META.policyKeys]: JSON.stringify({ k1: POLICY.publicKey }),
      [META.placement]: JSON.stringify(PLACEMENT),
    });
    const transport = {
      fetchFeed: async () => {
        const body = answers.shift();
        if (!body) throw new Error('no more answers');
        return { ok: true as const, status: 200, body: { items: [], more: false, ...body } as FeedResponse };
      },
    };
    const feed = new BrowserFeed({
      journal: journal as never,
      transport: transport as never,
      timeoutMs: 1000,
      ...(onNotice ? { onNotice: onNotice(journal) } : {}),
    });
    const key = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const credentials = { deviceId: '00000000-0000-4000-8000-000000000001', key: (key as CryptoKeyPair).privateKey };
    await fn(feed, journal, () => feed.poll(credentials, () => 1_000));
  } finally {
    journal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a roster and price list signed by a pinned key are stored with the cursor', async () => {
  await withFeed(
    [
      {
        next: 3,
        items: [{ pos: 3, type: 'wristband.blocked', opId: 'x', device: 'd', at: 1, data: { uid: 'u' } }],
        roster: signRoster(roster(1), POLICY.privateKey, 'k1'),
        priceList: signPriceList(priceList(1), POLICY.privateKey, 'k1'),
      },
    ],
    async (feed, _journal, poll) => {
      const result = await poll();
      assert.equal(result.rosterRefused, null);
      assert.equal(result.priceListRefused, null);
      assert.equal(feed.cursor(), 3);
      assert.equal(feed.roster()?.version, 1);
      assert.equal(feed.priceList()?.prices[0]?.price, 350);
    },
  );
});

test('a roster or list by an unpinned key, changed after signing, or for elsewhere is refused on its own', async () => {
  const changed = signRoster(roster(2), POLICY.privateKey, 'k1');
  changed.roster.staff[0] = { ...(changed.roster.staff[0] as Roster['staff'][number]), role: 'manager' };
  await withFeed(
    [
      {
        next: 1,
        roster: signRoster(roster(1), POLICY.privateKey, 'k1'),
        priceList: signPriceList(priceList(1), POLICY.privateKey, 'k1'),
      },
      {
        next: 2,
        roster: signRoster(roster(2), STRANGER.privateKey, 'k9'),
        priceList: signPriceList(priceList(2), STRANGER.privateKey, 'k1'),
      },
      { next: 3, roster: changed, priceList: signPriceList(priceList(3, 'south'), POLICY.privateKey, 'k1') },
      { next: 4, roster: signRoster(roster(4, 'south'), POLICY.privateKey, 'k1') },
    ],
    async (feed, _journal, poll) => {
      await poll();
      const unpinned = await poll();
      assert.match(unpinned.rosterRefused ?? '', /roster\.keyId/);
      assert.match(unpinned.priceListRefused ?? '', /priceList\.sig.*does not verify/);
      const tampered = await poll();
      assert.match(tampered.rosterRefused ?? '', /roster\.sig.*does not verify/);
      assert.match(tampered.priceListRefused ?? '', /priceList\.location/);
      const elsewhere = await poll();
      assert.match(elsewhere.rosterRefused ?? '', /roster\.location/);
      assert.equal(feed.cursor(), 4, 'the pages still applied');
      assert.equal(feed.roster()?.version, 1, 'the roster held stays');
      assert.equal(feed.priceList()?.version, 1, 'the list held stays');
    },
  );
});

test('an inconsistent page applies nothing, not even its roster or cursor', async () => {
  await withFeed(
    [
      {
        next: 2,
        items: [{ pos: 5, type: 'wristband.blocked', opId: 'x', device: 'd', at: 1, data: {} }],
        roster: signRoster(roster(1), POLICY.privateKey, 'k1'),
      },
    ],
    async (feed, journal, poll) => {
      await assert.rejects(poll(), (e: Error) => e.name === 'BrowserFeedError' && /items\[0\]: pos 5/.test(e.message));
      assert.equal(feed.cursor(), 0);
      assert.equal(feed.roster(), null);
      assert.equal((journal.prepare('SELECT COUNT(*) AS n FROM feed_items').get() as { n: number }).n, 0);
    },
  );
});

test('wristband blocks and unblocks from the feed reach the block list, in the transaction of the page', async () => {
  const UID = '04A1B2C3D4E5F6';
  const item = (pos: number, type: string) => ({
    pos,
    type,
    opId: `op${pos}`,
    device: 'other',
    at: pos,
    data: { wristband: UID, reason: 'overspend' },
  });
  await withFeed(
    [
      { next: 1, items: [item(1, 'wristband.blocked')] },
      { next: 2, items: [item(2, 'wristband.unblocked')] },
    ],
    async (_feed, journal, poll) => {
      const store = new WristbandStore(journal);
      await poll();
      assert.equal(store.isBlocked(UID)?.reason, 'overspend');
      await poll();
      assert.equal(store.isBlocked(UID), null);
    },
    (journal) => {
      const store = new WristbandStore(journal);
      return (type, data, now) => {
        if (type.startsWith('wristband.')) store.applyNotice(type, data, now);
      };
    },
  );
});
