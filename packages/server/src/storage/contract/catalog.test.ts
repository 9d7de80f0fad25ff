/**
 * The catalog and price lists on every backend (docs/catalog-and-stock.md):
 * the operator routes and their coded refusals (unknown SKU, negative or
 * fractional price, a list or promotion ending in the past), versions per
 * location, and nothing stored by a refused request.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { PriceList } from '@holdfast/protocol';
import type { Harness } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const HOUR = 3_600_000;

const ITEMS = [
  { sku: 'BEER-05', name: 'Beer 0.5 l', taxCategory: 'standard', unit: 'each' },
  { sku: 'PRETZEL', name: 'Pretzel', taxCategory: 'reduced', unit: 'each' },
];

async function putItems(h: Harness, items: unknown) {
  return h.request<{ items: { sku: string; updatedBy: string }[] }>('PUT', '/v1/admin/catalog/items', {
    admin: true,
    payload: { items },
  });
}

async function publish(h: Harness, body: Record<string, unknown>) {
  return h.request<PriceList>('POST', '/v1/admin/price-lists', { admin: true, payload: body });
}

for (const backend of STORAGE_BACKENDS) {
  describe(`catalog suite: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('items are created and updated by SKU; a repeated or malformed SKU is refused naming its field', async (h) => {
      assert.equal((await putItems(h, ITEMS)).status, 200);
      const renamed = await putItems(h, [{ ...ITEMS[0], name: 'Lager 0.5 l' }]);
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      const list = await h.request<{ items: { sku: string; name: string }[] }>('GET', '/v1/admin/catalog/items', {
        admin: true,
      });
      assert.deepEqual(
        list.body.items.map((i) => [i.sku, i.name]),
        [
          ['BEER-05', 'Lager 0.5 l'],
          ['PRETZEL', 'Pretzel'],
        ],
      );
      const twice = await putItems(h, [ITEMS[1], ITEMS[1]]);
      assert.equal(twice.status, 400);
      assert.equal(twice.error.code, 'invalid_request');
      assert.equal(twice.error.field, 'items[1].sku');
      const badSku = await putItems(h, [{ ...ITEMS[0], sku: 'has space' }]);
      assert.equal(badSku.error.field, 'items[0].sku');
      const badUnit = await putItems(h, [{ ...ITEMS[0], unit: 'crate' }]);
      assert.equal(badUnit.error.field, 'items[0].unit');
    });

    test('price lists: versions per location; unknown SKU, bad price, past end refused and nothing stored', async (h) => {
      await putItems(h, ITEMS);
      const now = h.clock.now();
      const base = {
        location: 'stand-1',
        currency: 'EUR',
        prices: [
          { sku: 'BEER-05', price: 650 },
          { sku: 'PRETZEL', price: 300 },
        ],
      };
      const v1 = await publish(h, base);
      assert.equal(v1.status, 201, JSON.stringify(v1.body));
      assert.deepEqual([v1.body.version, v1.body.from, v1.body.until, v1.body.publishedBy], [1, now, null, 'bootstrap']);
      const promo = { sku: 'BEER-05', price: 500, from: now, until: now + 2 * HOUR };
      const v2 = await publish(h, { ...base, promotions: [promo] });
      assert.equal(v2.body.version, 2);
      const other = await publish(h, { ...base, location: 'stand-2' });
      assert.equal(other.body.version, 1, 'versions count per location');

      const refusals: [Record<string, unknown>, string, string][] = [
        [{ ...base, prices: [{ sku: 'NOPE', price: 1 }] }, 'unknown_sku', 'prices[0].sku'],
        [{ ...base, prices: [{ sku: 'BEER-05', price: -1 }] }, 'invalid_request', 'prices[0].price'],
        [{ ...base, prices: [{ sku: 'BEER-05', price: 6.5 }] }, 'invalid_request', 'prices[0].price'],
        [{ ...base, until: now }, 'ends_in_past', 'until'],
        [{ ...base, from: now - 2 * HOUR, until: now - HOUR }, 'ends_in_past', 'until'],
        [
          { ...base, promotions: [{ ...promo, from: now - 2 * HOUR, until: now - 1 }] },
          'ends_in_past',
          'promotions[0].until',
        ],
        [
          { ...base, promotions: [{ ...promo, sku: 'PRETZEL', until: now - 1 }] },
          'invalid_request',
          'promotions[0].until',
        ],
        [{ ...base, promotions: [{ ...promo, sku: 'OTHER' }] }, 'invalid_request', 'promotions[0].sku'],
        [{ ...base, prices: [base.prices[0], base.prices[0]] }, 'invalid_request', 'prices[1].sku'],
        [{ ...base, location: 'a b' }, 'invalid_request', 'location'],
      ];
      for (const [body, code, field] of refusals) {
        const answer = await publish(h, body);
        assert.equal(answer.status, 400, JSON.stringify(body));
        assert.equal(answer.error.code, code, JSON.stringify(answer.body));
        assert.equal(answer.error.field, field, JSON.stringify(answer.body));
        assert.match(answer.error.message, /\S/);
      }
      const versions = await h.request<{ versions: PriceList[] }>('GET', '/v1/admin/price-lists?location=stand-1', {
        admin: true,
      });
      assert.deepEqual(
        versions.body.versions.map((l) => [l.version, l.promotions.length]),
        [
          [1, 0],
          [2, 1],
        ],
        'no refused publication was stored',
      );
      assert.equal(await h.storage.priceListVersion('stand-1'), 2);
      assert.equal(await h.storage.priceListVersion('stand-9'), 0);
      const noLocation = await h.request('GET', '/v1/admin/price-lists', { admin: true });
      assert.equal(noLocation.error.field, 'query.location');
    });
  });
}
