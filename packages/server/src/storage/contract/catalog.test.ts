/**
 * The catalog and price lists on every backend (docs/catalog-and-stock.md):
 * the operator routes and their coded refusals (unknown SKU, negative or
 * fractional price, a list or promotion ending in the past), versions per
 * location, and nothing stored by a refused request.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  type FeedResponse,
  feedRequestMessage,
  type IngestResponse,
  type PriceList,
  type SaleLine,
  signMessage,
  verifyPriceList,
} from '@holdfast/protocol';
import type { ExceptionRecord } from '../../model/exception.js';
import { type Harness, saleBody, type TestDevice } from '../../testing/harness.js';
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

async function placedDevice(h: Harness, location: string): Promise<TestDevice> {
  const d = await h.enrollDevice(`till-${location}`);
  const placed = await h.request('POST', `/v1/admin/devices/${d.id}/placement`, {
    admin: true,
    payload: { merchant: 'acme', location, event: null },
  });
  assert.equal(placed.status, 200);
  return d;
}

async function feed(h: Harness, d: TestDevice, priceList?: number): Promise<FeedResponse> {
  const at = h.clock.now();
  const answer = await h.request<FeedResponse>('POST', '/v1/feed', {
    payload: {
      device: d.id,
      after: 0,
      at,
      sig: signMessage(feedRequestMessage(d.id, 0, at), d.privateKey),
      ...(priceList !== undefined ? { priceList } : {}),
    },
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

/** A cash sale of `lines` (their total). */
function catalogSale(shift: string, lines: SaleLine[]) {
  const total = lines.reduce((sum, l) => sum + l.qty * l.unitPrice, 0);
  return saleBody(shift, total, { lines });
}

async function exceptionsOf(h: Harness, type: string): Promise<ExceptionRecord[]> {
  return (await h.storage.listExceptions(0, 1000)).items.filter((e) => e.type === type);
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
      assert.deepEqual(
        [v1.body.version, v1.body.from, v1.body.until, v1.body.publishedBy],
        [1, now, null, 'bootstrap'],
      );
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

    test('the feed carries the signed price list of the location when the till holds an older one', async (h) => {
      await putItems(h, ITEMS);
      const d = await placedDevice(h, 'stand-1');
      assert.equal((await feed(h, d)).priceList, undefined, 'no list published yet');
      await publish(h, { location: 'stand-1', currency: 'EUR', prices: [{ sku: 'BEER-05', price: 650 }] });
      await publish(h, { location: 'stand-2', currency: 'EUR', prices: [{ sku: 'PRETZEL', price: 300 }] });
      const keys = (await h.service.policyKeys()) as Record<string, string>;
      const first = await feed(h, d);
      assert.ok(first.priceList, 'price list delivered');
      const list = verifyPriceList(first.priceList, keys);
      assert.deepEqual([list.location, list.version, list.currency], ['stand-1', 1, 'EUR']);
      assert.deepEqual(
        list.items.map((i) => i.sku),
        ['BEER-05'],
        'the items the list prices, not the whole catalog',
      );
      const tampered = structuredClone(first.priceList);
      (tampered.list.prices[0] as { price: number }).price = 1;
      assert.throws(() => verifyPriceList(tampered, keys), /priceList\.sig/);
      assert.equal((await feed(h, d, 1)).priceList, undefined, 'nothing new at the version held');
      await publish(h, { location: 'stand-1', currency: 'EUR', prices: [{ sku: 'BEER-05', price: 700 }] });
      assert.equal(verifyPriceList((await feed(h, d, 1)).priceList, keys).version, 2);
    });

    test('ingest: a superseded price or an ended promotion is honoured and reported with its difference; unknown SKU or version raises catalog_unknown', async (h) => {
      await putItems(h, ITEMS);
      const t0 = h.clock.now();
      await publish(h, {
        location: 'stand-1',
        currency: 'EUR',
        prices: [
          { sku: 'BEER-05', price: 650 },
          { sku: 'PRETZEL', price: 300 },
        ],
        promotions: [{ sku: 'PRETZEL', price: 250, from: t0, until: t0 + 90 * 60_000 }],
      });
      const d = await placedDevice(h, 'stand-1');
      const open = d.openShift();
      // The price changes while the lane is offline; the lane goes on selling from version 1.
      h.clock.advance(HOUR);
      await publish(h, {
        location: 'stand-1',
        currency: 'EUR',
        prices: [
          { sku: 'BEER-05', price: 700 },
          { sku: 'PRETZEL', price: 300 },
        ],
      });
      const atV1 = d.chain.next(
        'sale.recorded',
        catalogSale(open.id, [{ sku: 'BEER-05', name: 'Beer', qty: 2, unitPrice: 650, priceList: 1 }]),
      );
      h.clock.advance(HOUR);
      const promoEnded = d.chain.next(
        'sale.recorded',
        catalogSale(open.id, [
          { sku: 'PRETZEL', name: 'Pretzel', qty: 3, unitPrice: 250, priceList: 1 },
          { sku: 'BEER-05', name: 'Beer', qty: 1, unitPrice: 700, priceList: 2 },
        ]),
      );
      const current = d.chain.next(
        'sale.recorded',
        catalogSale(open.id, [{ sku: 'BEER-05', name: 'Beer', qty: 1, unitPrice: 700, priceList: 2 }]),
      );
      const unknown = d.chain.next(
        'sale.recorded',
        catalogSale(open.id, [
          { sku: 'GHOST', name: 'Ghost', qty: 1, unitPrice: 100, priceList: 2 },
          { sku: 'BEER-05', name: 'Beer', qty: 1, unitPrice: 700, priceList: 9 },
        ]),
      );
      const freeText = d.chain.next('sale.recorded', saleBody(open.id, 123));
      const answer = await h.send(d.batch([open, atV1, promoEnded, current, unknown, freeText]));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(
        (answer.body as IngestResponse).results.map((r) => r.status),
        ['accepted', 'accepted', 'accepted', 'accepted', 'accepted', 'accepted'],
        'every sale stands',
      );
      const stale = await exceptionsOf(h, 'stale_price');
      assert.deepEqual(
        stale.map((x) => [x.opId, x.severity, x.detail.difference]),
        [
          [atV1.id, 'info', -100],
          [promoEnded.id, 'info', -150],
        ],
      );
      assert.deepEqual(
        ((stale[1]?.detail.lines ?? []) as { line: number; expectedPrice: number; inForce: number }[]).map((l) => [
          l.line,
          l.expectedPrice,
          l.inForce,
        ]),
        [[0, 300, 2]],
      );
      const unknownRaised = await exceptionsOf(h, 'catalog_unknown');
      assert.deepEqual(
        unknownRaised.map((x) => [x.opId, x.severity]),
        [[unknown.id, 'warning']],
      );
      assert.deepEqual(
        ((unknownRaised[0]?.detail.lines ?? []) as { sku: string; unknown: string }[]).map((l) => [l.sku, l.unknown]),
        [
          ['GHOST', 'sku'],
          ['BEER-05', 'version'],
        ],
      );
      // A resend is a duplicate: nothing is reported twice.
      const again = await h.send(d.batch([open, atV1, promoEnded, current, unknown, freeText]));
      assert.equal(again.status, 200);
      assert.equal((await exceptionsOf(h, 'stale_price')).length, 2);
      assert.equal((await exceptionsOf(h, 'catalog_unknown')).length, 1);
    });
  });
}
