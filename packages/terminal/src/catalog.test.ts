/**
 * The price list at the till (catalog.ts): delivered by the feed, verified
 * and kept in the journal across a restart, sale lines priced from it
 * offline (a promotion while it runs), a forged or foreign list refused
 * while the rest of the answer applies.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type FeedPriceList, generateDeviceKeys, signPriceList } from '@holdfast/protocol';
import { CatalogError, type CatalogErrorCode } from './catalog.js';
import { createHarness, type Harness, openTill } from './testing/harness.js';

const KEYS = generateDeviceKeys();
const HOUR = 3_600_000;

function list(version: number, at: number, extra: Partial<FeedPriceList> = {}): FeedPriceList {
  return {
    v: 1,
    location: 'stand-1',
    version,
    currency: 'EUR',
    from: at,
    until: null,
    issuedAt: at,
    items: [
      { sku: 'BEER-05', name: 'Beer 0.5 l', taxCategory: 'standard', unit: 'each' },
      { sku: 'PRETZEL', name: 'Pretzel', taxCategory: 'reduced', unit: 'each' },
    ],
    prices: [
      { sku: 'BEER-05', price: 650 },
      { sku: 'PRETZEL', price: 300 },
    ],
    promotions: [{ sku: 'PRETZEL', price: 250, from: at, until: at + HOUR }],
    ...extra,
  };
}

async function placedTill(): Promise<Harness> {
  const h = await createHarness({ enroll: false, autoSync: false });
  h.server.policyKeys = { k1: KEYS.publicKey };
  const { deviceId } = await h.terminal.enroll(h.server.createToken('till-1'), 'till-1');
  h.server.placements.set(deviceId, { merchant: 'acme', location: 'stand-1', event: null });
  return h;
}

const code = (expected: CatalogErrorCode) => (error: unknown) => {
  assert.ok(error instanceof CatalogError, String(error));
  assert.equal(error.code, expected, error.message);
  return true;
};

describe('price list at the till', () => {
  test('delivered by the feed, it prices sale lines offline with their version; a promotion ends on time', async () => {
    const h = await placedTill();
    try {
      assert.equal(h.terminal.catalog.version(), 0);
      assert.throws(() => h.terminal.catalog.line('BEER-05', 1), code('no_price_list'));
      const now = h.clock.now();
      h.server.priceList = signPriceList(list(1, now), KEYS.privateKey, 'k1');
      const polled = await h.terminal.pollFeed();
      assert.equal(polled.priceListRefused, null);
      assert.equal(h.terminal.catalog.version(), 1);

      openTill(h.terminal);
      const lines = [h.terminal.catalog.line('BEER-05', 2), h.terminal.catalog.line('PRETZEL', 1)];
      assert.deepEqual(lines, [
        { sku: 'BEER-05', name: 'Beer 0.5 l', qty: 2, unitPrice: 650, priceList: 1 },
        { sku: 'PRETZEL', name: 'Pretzel', qty: 1, unitPrice: 250, priceList: 1 },
      ]);
      h.clock.advance(HOUR);
      assert.equal(h.terminal.catalog.line('PRETZEL', 1).unitPrice, 300, 'the promotion ended');
      assert.throws(() => h.terminal.catalog.line('GHOST', 1), code('sku_unknown'));
      const total = 2 * 650 + 300;
      const sale = h.terminal.recordSale({
        lines: [h.terminal.catalog.line('BEER-05', 2), h.terminal.catalog.line('PRETZEL', 1)],
        tenders: [{ type: 'cash', amount: total, tendered: total }],
      });
      assert.equal(((h.terminal.getOp(sale.id)?.op.body.lines ?? []) as { priceList: number }[])[0]?.priceList, 1);

      // Held across a restart (journal meta), and not asked for again at the same version.
      const reopened = await h.reopen();
      assert.equal(reopened.catalog.version(), 1);
      assert.equal(reopened.catalog.priceOf('BEER-05'), 650);
    } finally {
      await h.cleanup();
    }
  });

  test('a forged or foreign list is refused on its own: the list held stays, the rest of the answer applies', async () => {
    const h = await placedTill();
    try {
      const now = h.clock.now();
      h.server.priceList = signPriceList(list(1, now), KEYS.privateKey, 'k1');
      await h.terminal.pollFeed();
      h.server.priceList = signPriceList(list(2, now), generateDeviceKeys().privateKey, 'k1');
      assert.match(String((await h.terminal.pollFeed()).priceListRefused), /priceList\.sig/);
      h.server.priceList = signPriceList(list(3, now, { location: 'stand-9' }), KEYS.privateKey, 'k1');
      assert.match(String((await h.terminal.pollFeed()).priceListRefused), /priceList\.location/);
      assert.equal(h.terminal.catalog.version(), 1, 'the list held is unchanged');
      h.server.priceList = signPriceList(
        list(4, now, { prices: [{ sku: 'BEER-05', price: 700 }] }),
        KEYS.privateKey,
        'k1',
      );
      await h.terminal.pollFeed();
      assert.equal(h.terminal.catalog.priceOf('BEER-05'), 700);
    } finally {
      await h.cleanup();
    }
  });
});
