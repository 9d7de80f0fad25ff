/**
 * The stock part of the storage suite (every backend of
 * testing/storage-backends.ts; docs/catalog-and-stock.md "Stock"):
 * receiving, counting and adjustment applied once per op, sales of stocked
 * items taking their quantity off, two tills overselling offline raising
 * one stock_shortfall that names both orders and lanes, a stock op from
 * another location's till or of an unknown SKU not applied, and the
 * recorded resolutions of a shortfall.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { type FeedResponse, feedRequestMessage, type Op, type SaleLine, signMessage } from '@holdfast/protocol';
import type { ExceptionRecord } from '../../model/exception.js';
import type { StockLevelRecord } from '../../model/stock.js';
import { type Harness, saleBody, type TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const ITEMS = [
  { sku: 'BEER-05', name: 'Beer 0.5 l', taxCategory: 'standard', unit: 'each' },
  { sku: 'PRETZEL', name: 'Pretzel', taxCategory: 'reduced', unit: 'each' },
];

async function setUp(h: Harness): Promise<void> {
  const put = await h.request('PUT', '/v1/admin/catalog/items', { admin: true, payload: { items: ITEMS } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
}

async function placedDevice(h: Harness, label: string, location: string): Promise<TestDevice> {
  const d = await h.enrollDevice(label);
  const placed = await h.request('POST', `/v1/admin/devices/${d.id}/placement`, {
    admin: true,
    payload: { merchant: 'acme', location, event: null },
  });
  assert.equal(placed.status, 200);
  return d;
}

async function send(h: Harness, d: TestDevice, ops: Op[]): Promise<string[]> {
  const res = await h.send(d.batch(ops));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.results.map((r) => r.status);
}

function sale(d: TestDevice, shift: string, lines: [string, number][]): Op {
  const saleLines: SaleLine[] = lines.map(([sku, qty]) => ({ sku, name: sku, qty, unitPrice: 100 }));
  const total = saleLines.reduce((s, l) => s + l.qty * l.unitPrice, 0);
  return d.chain.next('sale.recorded', saleBody(shift, total, { lines: saleLines }));
}

async function level(h: Harness, location: string, sku: string): Promise<StockLevelRecord | undefined> {
  return (await h.storage.listStockLevels(location)).find((l) => l.sku === sku);
}

async function exceptionsOf(h: Harness, type: string): Promise<ExceptionRecord[]> {
  return (await h.storage.listExceptions(0, 1000)).items.filter((x) => x.type === type);
}

/** received − sold + adjusted + counted = level, and the movements sum to the same. */
async function conserved(h: Harness, location: string): Promise<void> {
  const moves = (await h.storage.listStockMoves({ location, after: 0, limit: 10_000 })).items;
  for (const l of await h.storage.listStockLevels(location)) {
    assert.equal(l.qty, l.received - l.sold + l.adjusted + l.counted, `${l.sku}: totals`);
    const mine = moves.filter((m) => m.sku === l.sku);
    assert.equal(
      mine.reduce((s, m) => s + m.delta, 0),
      l.qty,
      `${l.sku}: movements sum to the level`,
    );
    assert.equal(mine[mine.length - 1]?.after, l.qty, `${l.sku}: the last movement leaves the level`);
  }
}

async function feed(h: Harness, d: TestDevice, stock?: number): Promise<FeedResponse> {
  const at = h.clock.now();
  const answer = await h.request<FeedResponse>('POST', '/v1/feed', {
    payload: {
      device: d.id,
      after: 0,
      at,
      sig: signMessage(feedRequestMessage(d.id, 0, at), d.privateKey),
      ...(stock !== undefined ? { stock } : {}),
    },
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('stock', () => {
      test('receiving, sales, a count and an adjustment: applied once, conserved, replay changes nothing', async (h) => {
        await setUp(h);
        const d = await placedDevice(h, 'till-1', 'stand-1');
        const open = d.openShift();
        const received = d.chain.next('stock.received', {
          location: 'stand-1',
          sku: 'BEER-05',
          qty: 10,
          reference: 'DN-1',
        });
        const s1 = sale(d, open.id, [
          ['BEER-05', 3],
          ['PRETZEL', 2],
        ]);
        const counted = d.chain.next('stock.counted', { location: 'stand-1', sku: 'BEER-05', counted: 6 });
        const adjusted = d.chain.next('stock.adjusted', {
          location: 'stand-1',
          sku: 'BEER-05',
          delta: -2,
          reason: 'damaged',
        });
        const all = [open, received, s1, counted, adjusted];
        assert.deepEqual(await send(h, d, all), Array(5).fill('accepted'));
        const beer = await level(h, 'stand-1', 'BEER-05');
        assert.deepEqual(
          [beer?.received, beer?.sold, beer?.counted, beer?.adjusted, beer?.qty],
          [10, 3, -1, -2, 4],
          'counted 6 where 7 were on the books: −1; then −2 damaged',
        );
        // Pretzels were never stocked at this location: the sale moves nothing.
        assert.equal(await level(h, 'stand-1', 'PRETZEL'), undefined);
        await conserved(h, 'stand-1');
        const moves = (await h.storage.listStockMoves({ location: null, after: 0, limit: 100 })).items;
        assert.deepEqual(
          moves.map((m) => [m.kind, m.delta, m.after]),
          [
            ['receive', 10, 10],
            ['sale', -3, 7],
            ['count', -1, 6],
            ['adjust', -2, 4],
          ],
        );
        assert.equal(moves[1]?.moveId, `${s1.id}:0`);
        assert.deepEqual(await send(h, d, all), Array(5).fill('duplicate'));
        assert.equal((await h.storage.listStockMoves({ location: null, after: 0, limit: 100 })).items.length, 4);
        assert.equal((await level(h, 'stand-1', 'BEER-05'))?.qty, 4);
        const api = await h.request<{ levels: StockLevelRecord[] }>('GET', '/v1/admin/stock?location=stand-1', {
          admin: true,
        });
        assert.equal(api.status, 200);
        assert.deepEqual(
          api.body.levels.map((l) => [l.sku, l.qty]),
          [['BEER-05', 4]],
        );
        const badQuery = await h.request<{ field?: string }>('GET', '/v1/admin/stock?location=a%20b', { admin: true });
        assert.equal(badQuery.status, 400);
        assert.equal(badQuery.body.field, 'query.location');
        const ledger = (await h.storage.listLedger(0, 1000)).items.filter((e) => e.type.startsWith('stock.'));
        assert.deepEqual(
          ledger.map((e) => e.type),
          ['stock.received', 'stock.counted', 'stock.adjusted'],
        );
      });

      test('two tills oversell offline: one stock_shortfall naming both orders and lanes, once per episode', async (h) => {
        await setUp(h);
        const a = await placedDevice(h, 'till-a', 'stand-1');
        const b = await placedDevice(h, 'till-b', 'stand-1');
        const [oa, ob] = [a.openShift(), b.openShift()];
        const delivery = a.chain.next('stock.received', { location: 'stand-1', sku: 'BEER-05', qty: 5 });
        await send(h, a, [oa, delivery]);
        // Each till believed 5 were left and sold 4 while offline.
        const sa = sale(a, oa.id, [['BEER-05', 4]]);
        const sb = sale(b, ob.id, [['BEER-05', 4]]);
        await send(h, a, [sa]);
        assert.deepEqual(await exceptionsOf(h, 'stock_shortfall'), []);
        await send(h, b, [ob, sb]);
        let raised = await exceptionsOf(h, 'stock_shortfall');
        assert.equal(raised.length, 1);
        assert.equal(raised[0]?.opId, sb.id);
        assert.deepEqual(raised[0]?.detail.lanes, [b.id]);
        // A later sale while still short joins the same episode (another batch, the other till).
        const sa2 = sale(a, oa.id, [['BEER-05', 1]]);
        await send(h, a, [sa2]);
        raised = await exceptionsOf(h, 'stock_shortfall');
        assert.equal(raised.length, 1, 'one exception per episode');
        const orders = raised[0]?.detail.orders as { sale: string; device: string; after: number }[];
        assert.deepEqual(
          orders.map((o) => [o.sale, o.device, o.after]),
          [
            [sb.id, b.id, -3],
            [sa2.id, a.id, -4],
          ],
        );
        assert.deepEqual(raised[0]?.detail.lanes, [b.id, a.id]);
        assert.equal(raised[0]?.detail.shortBy, 4);
        assert.equal(raised[0]?.detail.episode, 1);
        // A resend raises nothing more.
        assert.deepEqual(await send(h, a, [sa2]), ['duplicate']);
        const resent = await exceptionsOf(h, 'stock_shortfall');
        assert.equal(resent.length, 1);
        assert.equal((resent[0]?.detail.orders as unknown[] | undefined)?.length, 2);
        // A delivery ends the episode; the next oversell is a new one.
        await send(h, b, [b.chain.next('stock.received', { location: 'stand-1', sku: 'BEER-05', qty: 6 })]);
        assert.equal((await level(h, 'stand-1', 'BEER-05'))?.shortEpisode, null);
        await send(h, b, [sale(b, ob.id, [['BEER-05', 3]])]);
        assert.equal((await exceptionsOf(h, 'stock_shortfall')).length, 2);
        assert.equal((await exceptionsOf(h, 'stock_shortfall'))[1]?.detail.episode, 2);
        await conserved(h, 'stand-1');
      });

      test('the feed carries the location’s last-known levels with the device’s mark, once per version', async (h) => {
        await setUp(h);
        const d = await placedDevice(h, 'till-1', 'stand-1');
        const elsewhere = await placedDevice(h, 'till-2', 'stand-2');
        assert.equal((await feed(h, d)).stock, undefined, 'nothing tracked yet');
        const open = d.openShift();
        await send(h, d, [
          open,
          d.chain.next('stock.received', { location: 'stand-1', sku: 'BEER-05', qty: 7 }),
          sale(d, open.id, [['BEER-05', 2]]),
        ]);
        const first = (await feed(h, d)).stock;
        assert.ok(first);
        assert.deepEqual(
          [first.location, first.throughSeq, first.levels],
          ['stand-1', 3, [{ sku: 'BEER-05', qty: 5 }]],
        );
        assert.equal((await feed(h, d, first.version)).stock, undefined, 'the version held is not sent again');
        h.clock.advance(1_000);
        await send(h, d, [sale(d, open.id, [['BEER-05', 1]])]);
        const second = (await feed(h, d, first.version)).stock;
        assert.deepEqual(second?.levels, [{ sku: 'BEER-05', qty: 4 }]);
        assert.ok((second?.version ?? 0) > first.version);
        assert.equal((await feed(h, elsewhere)).stock, undefined, 'another location’s levels are not sent');
      });

      test('a stock op of another location, of an unknown SKU, or with a bad quantity is not applied, nothing lost', async (h) => {
        await setUp(h);
        const d = await placedDevice(h, 'till-1', 'stand-1');
        const other = d.chain.next('stock.counted', { location: 'stand-2', sku: 'BEER-05', counted: 50 });
        const unknown = d.chain.next('stock.received', { location: 'stand-1', sku: 'NOPE-1', qty: 5 });
        const fractional = d.chain.next('stock.received', { location: 'stand-1', sku: 'BEER-05', qty: 2.5 });
        const negative = d.chain.next('stock.adjusted', {
          location: 'stand-1',
          sku: 'BEER-05',
          delta: 0,
          reason: 'lost',
        });
        const res = await h.send(d.batch([other, unknown, fractional, negative]));
        assert.deepEqual(
          res.body.results.map((r) => r.status),
          ['accepted', 'accepted', 'rejected', 'rejected'],
        );
        const unapplied = await exceptionsOf(h, 'stock_unapplied');
        assert.deepEqual(
          unapplied.map((x) => [x.opId, x.detail.reason]),
          [
            [other.id, 'the device is placed at stand-1, not stand-2'],
            [unknown.id, 'SKU NOPE-1 is not in the catalog'],
          ],
        );
        const rejected = await exceptionsOf(h, 'op_rejected');
        assert.ok(rejected.some((x) => x.detail.field === 'body.qty'));
        assert.deepEqual(await h.storage.listStockLevels(null), []);
        assert.deepEqual((await h.storage.listStockMoves({ location: null, after: 0, limit: 10 })).items, []);
        // The ops themselves are stored: nothing lost.
        assert.ok(await h.storage.getOp(other.id));
        assert.ok(await h.storage.getOp(fractional.id));
      });

      test('a shortfall is resolved by a recorded decision with its actor; a refund names a real refund op', async (h) => {
        await setUp(h);
        const d = await placedDevice(h, 'till-1', 'stand-1');
        const open = d.openShift();
        const delivery = d.chain.next('stock.received', { location: 'stand-1', sku: 'BEER-05', qty: 1 });
        const s1 = sale(d, open.id, [['BEER-05', 2]]);
        const bad = d.chain.next('stock.received', { location: 'stand-1', sku: 'BEER-05', qty: -1 });
        await send(h, d, [open, delivery, s1, bad]);
        const [shortfall] = await exceptionsOf(h, 'stock_shortfall');
        assert.ok(shortfall);
        const act = (payload: Record<string, unknown>) =>
          h.request<{ code?: string; field?: string; status?: string; actions?: { by: string; reference: string }[] }>(
            'POST',
            `/v1/admin/exceptions/${shortfall.id}/actions`,
            { admin: true, payload },
          );
        let res = await act({ action: 'acknowledged', note: 'seen' });
        assert.equal(res.status, 400);
        assert.equal(res.body.field, 'action');
        res = await act({ action: 'written_off', note: 'x', amount: 5 });
        assert.equal(res.body.field, 'amount');
        res = await act({ action: 'refunded', note: 'refunded', reference: 'not-an-op' });
        assert.equal(res.body.field, 'reference');
        res = await act({ action: 'refunded', note: 'refunded', reference: s1.id });
        assert.equal(res.status, 400, 'a sale is not a refund op');
        assert.equal(res.body.field, 'reference');
        const refund = d.chain.next('sale.refunded', {
          shift: open.id,
          sale: s1.id,
          currency: 'EUR',
          lines: [{ line: 0, qty: 1 }],
          amount: 100,
          tender: 'cash',
        });
        await send(h, d, [refund]);
        res = await act({ action: 'contacted', note: 'called the customer' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.status, 'open');
        res = await act({ action: 'refunded', note: 'one beer refunded', reference: refund.id });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.status, 'resolved');
        assert.equal(res.body.actions?.[1]?.reference, refund.id);
        assert.ok(res.body.actions?.[1]?.by);
        res = await act({ action: 'backordered', note: 'again' });
        assert.equal(res.status, 409);
        // Stock-only actions are refused on other exceptions.
        const [rejected] = await exceptionsOf(h, 'op_rejected');
        assert.ok(rejected);
        const other = await h.request<{ field?: string }>('POST', `/v1/admin/exceptions/${rejected.id}/actions`, {
          admin: true,
          payload: { action: 'substituted', note: 'x' },
        });
        assert.equal(other.status, 400);
        assert.equal(other.body.field, 'action');
        const withRef = await h.request<{ field?: string }>('POST', `/v1/admin/exceptions/${rejected.id}/actions`, {
          admin: true,
          payload: { action: 'acknowledged', note: 'x', reference: 'PO-1' },
        });
        assert.equal(withRef.body.field, 'reference');
      });
    });
  });
}
