/**
 * Reports on every backend (docs/reports.md): sales by item, day, location
 * and lane with tax from the catalog's rate table and returns netted; the
 * CSV export; one outage for a partition that cut two lanes off, with its
 * stale-price sale and difference; the accounting export balanced and
 * summing to the ledger; coded refusals of bad parameters.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { IngestResponse, PriceList } from '@holdfast/protocol';
import type { AccountingExport } from '../../model/accounting.js';
import type { Outage } from '../../model/outages.js';
import type { SalesReport } from '../../model/reports.js';
import { cardTender, type Harness, saleBody, type TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const MIN = 60_000;
const RANGE = 'from=2026-11-21&to=2026-11-22';

async function placedDevice(h: Harness, label: string, location: string): Promise<TestDevice> {
  const d = await h.enrollDevice(label);
  const placed = await h.request('POST', `/v1/admin/devices/${d.id}/placement`, {
    admin: true,
    payload: { merchant: 'acme', location, event: null },
  });
  assert.equal(placed.status, 200);
  return d;
}

async function publish(h: Harness, location: string, beer: number) {
  const answer = await h.request<PriceList>('POST', '/v1/admin/price-lists', {
    admin: true,
    payload: {
      location,
      currency: 'EUR',
      prices: [
        { sku: 'BEER-05', price: beer },
        { sku: 'PRETZEL', price: 300 },
      ],
    },
  });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
}

/**
 * Two lanes cut off together: lane-1 (stand-1) records from T0 and syncs
 * 20 min later; lane-2 (stand-2) records from T0 + 5 min, sells a beer from
 * a superseded list (650 where 700 is in force: −50), syncs at T0 + 25 min.
 */
async function partitionDay(h: Harness) {
  const items = await h.request('PUT', '/v1/admin/catalog/items', {
    admin: true,
    payload: {
      items: [
        { sku: 'BEER-05', name: 'Beer 0.5 l', taxCategory: 'standard', unit: 'each' },
        { sku: 'PRETZEL', name: 'Pretzel', taxCategory: 'reduced', unit: 'each' },
      ],
    },
  });
  assert.equal(items.status, 200);
  const rates = await h.request<{ rates: { category: string; rate: number }[] }>('PUT', '/v1/admin/catalog/tax-rates', {
    admin: true,
    payload: {
      rates: [
        { category: 'standard', rate: 2100 },
        { category: 'reduced', rate: 1000 },
      ],
    },
  });
  assert.equal(rates.status, 200, JSON.stringify(rates.body));
  await publish(h, 'stand-1', 650);
  await publish(h, 'stand-2', 650);
  const d1 = await placedDevice(h, 'lane-1', 'stand-1');
  const d2 = await placedDevice(h, 'lane-2', 'stand-2');

  const open1 = d1.openShift();
  const a = d1.chain.next(
    'sale.recorded',
    saleBody(open1.id, 1600, {
      lines: [
        { sku: 'BEER-05', name: 'Beer 0.5 l', qty: 2, unitPrice: 650, priceList: 1 },
        { sku: 'PRETZEL', name: 'Pretzel', qty: 1, unitPrice: 300, priceList: 1 },
      ],
    }),
  );
  const b = d1.chain.next(
    'sale.recorded',
    saleBody(open1.id, 1000, {
      lines: [{ sku: 'GHOST', name: 'Mystery box', qty: 1, unitPrice: 1000 }],
      tenders: [cardTender(1000)],
    }),
  );
  const refund = d1.chain.next('sale.refunded', {
    shift: open1.id,
    sale: a.id,
    currency: 'EUR',
    lines: [{ line: 0, qty: 1 }],
    amount: 650,
    tender: 'cash',
  });
  const paidOut = d1.cashMove(open1.id, 'out', 500, { reason: 'paid_out' });

  h.clock.advance(MIN);
  await publish(h, 'stand-2', 700);
  h.clock.advance(4 * MIN);
  const open2 = d2.openShift();
  const c = d2.chain.next(
    'sale.recorded',
    saleBody(open2.id, 650, {
      lines: [{ sku: 'BEER-05', name: 'Beer 0.5 l', qty: 1, unitPrice: 650, priceList: 1 }],
    }),
  );

  h.clock.advance(15 * MIN);
  const sent1 = await h.send(d1.batch([open1, a, b, refund, paidOut]));
  assert.deepEqual(
    (sent1.body as IngestResponse).results.map((r) => r.status),
    ['accepted', 'accepted', 'accepted', 'accepted', 'accepted'],
  );
  h.clock.advance(5 * MIN);
  const sent2 = await h.send(d2.batch([open2, c]));
  assert.deepEqual(
    (sent2.body as IngestResponse).results.map((r) => r.status),
    ['accepted', 'accepted'],
  );
  return { d1, d2, a, b, c, refund, paidOut, open1 };
}

/** A CSV answer (the harness's request reads JSON): its status, content type and lines. */
async function csvOf(h: Harness, url: string): Promise<{ status: number; type: string; lines: string[] }> {
  const res = await h.app.inject({ method: 'GET', url, headers: h.adminHeaders });
  return { status: res.statusCode, type: String(res.headers['content-type']), lines: res.body.trimEnd().split('\r\n') };
}

const pick = (r: SalesReport['rows'][number]) => [
  r.key,
  r.sales,
  r.qty,
  r.gross,
  r.tax,
  r.untaxed,
  r.corrections,
  r.returned,
  r.returnedTax,
  r.net,
  r.netTax,
];

for (const backend of STORAGE_BACKENDS) {
  describe(`reports suite: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('sales by item, day, location and lane: tax from the rate table, returns netted where they happened', async (h) => {
      const { d1, d2 } = await partitionDay(h);
      const get = async (query: string, range = RANGE) => {
        const answer = await h.request<SalesReport>('GET', `/v1/admin/reports/sales?${range}&${query}`, {
          admin: true,
        });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        return answer.body;
      };
      // Beer: 1300 at 21 % → 226 tax, 650 → 113; pretzel 300 at 10 % → 27; the mystery box has no catalog item.
      const byItem = await get('by=item');
      assert.deepEqual(byItem.rows.map(pick), [
        ['BEER-05', 2, 3, 1950, 339, 0, 1, 650, 113, 1300, 226],
        ['GHOST', 1, 1, 1000, 0, 1000, 0, 0, 0, 1000, 0],
        ['PRETZEL', 1, 1, 300, 27, 0, 0, 0, 0, 300, 27],
      ]);
      assert.deepEqual(
        byItem.totals.map((t) => [t.currency, t.sales, t.gross, t.tax, t.returned, t.net]),
        [['EUR', 3, 3250, 366, 650, 2600]],
        'a sale of two items is one sale in the totals',
      );
      const byLocation = await get('by=location');
      assert.deepEqual(byLocation.rows.map(pick), [
        ['stand-1', 2, 4, 2600, 253, 1000, 1, 650, 113, 1950, 140],
        ['stand-2', 1, 1, 650, 113, 0, 0, 0, 0, 650, 113],
      ]);
      const byLane = await get('by=lane');
      assert.deepEqual(byLane.rows.map((r) => [r.label, r.gross, r.net]).sort(), [
        ['lane-1', 2600, 1950],
        ['lane-2', 650, 650],
      ]);
      assert.deepEqual(new Set(byLane.rows.map((r) => r.key)), new Set([d1.id, d2.id]));
      const byDay = await get('by=day');
      assert.deepEqual(byDay.rows.map(pick), [['2026-11-21', 3, 5, 3250, 366, 1000, 1, 650, 113, 2600, 253]]);
      const oneLocation = await get('by=item&location=stand-2');
      assert.deepEqual(oneLocation.rows.map(pick), [['BEER-05', 1, 1, 650, 113, 0, 0, 0, 0, 650, 113]]);
      const otherDay = await get('by=day', 'from=2026-11-22&to=2026-11-23');
      assert.deepEqual(otherDay.rows, [], 'device time outside the range: nothing');

      const { status, type, lines } = await csvOf(h, `/v1/admin/reports/sales?${RANGE}&by=item&format=csv`);
      assert.equal(status, 200);
      assert.equal(type, 'text/csv; charset=utf-8');
      assert.equal(lines.length, 4);
      assert.match(lines[0] ?? '', /^SKU,Item,Currency,Sales,Qty,Gross \(minor units\),Gross,/);
      assert.match(lines[1] ?? '', /^BEER-05,Beer 0\.5 l,EUR,2,3,1950,"?€19\.50"?,339,/);
    });

    test('one outage for a partition that cut two lanes off: ops queued, revenue, the stale-price sale and its difference', async (h) => {
      const { d1, d2 } = await partitionDay(h);
      const answer = await h.request<{ outages: Outage[] }>('GET', `/v1/admin/reports/outages?${RANGE}`, {
        admin: true,
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const [outage, ...more] = answer.body.outages;
      assert.equal(more.length, 0, 'one outage, not one per lane');
      assert.ok(outage);
      assert.deepEqual(
        [outage.opsQueued, outage.stalePriceSales, outage.stalePriceDifferences, outage.stockShortfalls],
        [7, 1, [{ currency: 'EUR', amount: -50 }], 0],
      );
      assert.equal(outage.end - outage.start, 25 * MIN);
      assert.deepEqual(
        outage.lanes.map((l) => [l.device, l.lane, l.location, l.opsQueued, l.revenue]),
        [
          [
            d1.id,
            'lane-1',
            'stand-1',
            5,
            [{ currency: 'EUR', sales: 2, gross: 2600, returned: 650, staleSales: 0, staleDifference: 0 }],
          ],
          [
            d2.id,
            'lane-2',
            'stand-2',
            2,
            [{ currency: 'EUR', sales: 1, gross: 650, returned: 0, staleSales: 1, staleDifference: -50 }],
          ],
        ],
      );
      const patient = await h.request<{ outages: Outage[] }>(
        'GET',
        `/v1/admin/reports/outages?${RANGE}&thresholdMinutes=30`,
        { admin: true },
      );
      assert.deepEqual(patient.body.outages, [], 'a delay under the threshold is no outage');
      const csv = await csvOf(h, `/v1/admin/reports/outages?${RANGE}&format=csv`);
      assert.equal(csv.lines.length, 3, 'a header and one row per lane');
    });

    test('the outage is notified once, as one exception for both lanes, after the quiet period', async (h) => {
      const { d1 } = await partitionDay(h);
      assert.deepEqual(await h.service.reports.notifyOutages(), [], 'the last lane synced just now: not yet');
      h.clock.advance(3 * MIN);
      const notified = await h.service.reports.notifyOutages();
      assert.equal(notified.length, 1);
      assert.deepEqual(await h.service.reports.notifyOutages(), [], 'a later sweep raises nothing twice');
      const listed = await h.request<{
        items: {
          type: string;
          device: string;
          message: string;
          detail: { outage: Outage };
          display: { title: string };
        }[];
      }>('GET', '/v1/admin/exceptions?type=outage', { admin: true });
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      const [notice, ...others] = listed.body.items;
      assert.equal(others.length, 0, 'one notification for the outage, not one per lane');
      assert.ok(notice);
      assert.equal(notice.device, d1.id);
      assert.equal(notice.detail.outage.lanes.length, 2);
      assert.deepEqual(notice.detail.outage.stalePriceDifferences, [{ currency: 'EUR', amount: -50 }]);
      assert.match(
        notice.message,
        /outage of 25 min over 2 lane\(s\): 7 ops queued, €32\.50; 1 sales at superseded prices \(difference -€0\.50\)/,
      );
      assert.equal(notice.display.title, 'Outage healed: lanes synced their backlog');
      assert.deepEqual(
        [h.service.reports.lastOutageNotice?.id, h.service.reports.lastOutageNotice?.lanes],
        [notified[0]?.id, 2],
        'the live feed carries the last outage notified',
      );
    });

    test("the outage rule's read pages a device's ledger: every event as the reports read it; a bad limit refused", async (h) => {
      const { d1, d2 } = await partitionDay(h);
      const from = Date.parse('2026-11-21');
      const to = Date.parse('2026-11-22');
      const { events } = await h.storage.reportInput(from, to);
      assert.ok(events.length >= 7, `the day has ops (${events.length})`);
      const lean = events.map(({ data: _data, body: _body, shiftId: _shiftId, ...e }) => e);
      const key = (e: { device: string; deviceAt: number; opId: string }) => `${e.device} ${e.deviceAt} ${e.opId}`;
      const byKey = (a: { device: string; deviceAt: number; opId: string }, b: typeof a) =>
        key(a).localeCompare(key(b));
      const paged: (typeof lean)[number][] = [];
      for (const device of [d1.id, d2.id]) {
        let calls = 0;
        let after: Awaited<ReturnType<typeof h.storage.outageEvents>>['next'] = null;
        const mine: (typeof lean)[number][] = [];
        do {
          const page = await h.storage.outageEvents(device, after, from, to, 2);
          assert.ok(page.events.length <= 2);
          mine.push(...page.events);
          after = page.next;
          calls++;
        } while (after !== null);
        assert.ok(mine.length > 0 && mine.every((e) => e.device === device));
        for (let i = 1; i < mine.length; i++) {
          assert.ok((mine[i - 1]?.deviceAt ?? 0) <= (mine[i]?.deviceAt ?? 0), 'in device time');
        }
        assert.equal(calls, Math.floor(mine.length / 2) + 1, 'pages of 2, the last one short (or empty)');
        paged.push(...mine);
      }
      assert.deepEqual([...paged].sort(byKey), [...lean].sort(byKey));
      const narrow = await h.storage.outageEvents(d1.id, null, from + 10 * MIN, to, 10_000);
      assert.deepEqual(
        narrow.events.sort(byKey),
        lean.filter((e) => e.device === d1.id && e.deviceAt >= from + 10 * MIN).sort(byKey),
      );
      assert.equal(narrow.next, null);
      assert.deepEqual((await h.storage.outageEvents('no-such-device', null, from, to, 10)).events, []);
      for (const limit of [0, 10_001, 1.5, Number.NaN]) {
        await assert.rejects(
          h.storage.outageEvents(d1.id, null, from, to, limit),
          /limit must be an integer from 1 to 10000/,
        );
      }
    });

    test('the accounting export: every entry balanced, one per money op, summing to the ledger', async (h) => {
      const { a, b, refund, paidOut, c } = await partitionDay(h);
      const answer = await h.request<AccountingExport>('GET', `/v1/admin/reports/accounting?${RANGE}`, {
        admin: true,
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const byOp = new Map(
        answer.body.entries.map((e) => [e.opId, e.lines.map((l) => [l.account, l.debit, l.credit])]),
      );
      assert.deepEqual(byOp.get(a.id), [
        ['1000', 1600, 0],
        ['4000', 0, 1347],
        ['2200', 0, 253],
      ]);
      assert.deepEqual(byOp.get(b.id), [
        ['1100', 1000, 0],
        ['4000', 0, 1000],
      ]);
      assert.deepEqual(byOp.get(refund.id), [
        ['4100', 537, 0],
        ['2200', 113, 0],
        ['1000', 0, 650],
      ]);
      assert.deepEqual(byOp.get(paidOut.id), [
        ['6000', 500, 0],
        ['1000', 0, 500],
      ]);
      assert.ok(byOp.has(c.id));
      assert.equal(answer.body.entries.length, 5, 'shift openings move no money: no entry');
      // The ledger, read on its own: the entries' total is the money it applied.
      const ledger = await h.request<{ items: { type: string; amount: number | null }[] }>(
        'GET',
        '/v1/admin/ledger?limit=1000',
        { admin: true },
      );
      const applied = ledger.body.items
        .filter((e) => ['sale.recorded', 'sale.refunded', 'cash.moved'].includes(e.type))
        .reduce((sum, e) => sum + (e.amount ?? 0), 0);
      const [day] = answer.body.groups;
      assert.equal(answer.body.groups.length, 1);
      assert.equal(day?.amount, applied);
      assert.equal(
        day?.accounts.reduce((s, t) => s + t.debit, 0),
        day?.accounts.reduce((s, t) => s + t.credit, 0),
      );
      assert.deepEqual(
        day?.accounts.map((t) => [t.account, t.debit, t.credit]),
        [
          ['1000', 2250, 1150],
          ['1100', 1000, 0],
          ['2200', 113, 366],
          ['4000', 0, 2884],
          ['4100', 537, 0],
          ['6000', 500, 0],
        ],
      );
      const byShift = await h.request<AccountingExport>('GET', `/v1/admin/reports/accounting?${RANGE}&by=shift`, {
        admin: true,
      });
      assert.equal(byShift.body.groups.length, 2, 'two shifts');
      const rows = (await csvOf(h, `/v1/admin/reports/accounting?${RANGE}&format=csv`)).lines;
      assert.equal(rows.length, 1 + 3 + 2 + 3 + 2 + 3, 'a header and one row per journal line');
      assert.match(rows[0] ?? '', /^Day,Shift,Op,Type,Location,Currency,Account,Account name,Debit \(minor units\)/);
    });

    test('bad parameters and tax rates are refused naming the field; nothing stored', async (h) => {
      const refusals: [string, string][] = [
        ['/v1/admin/reports/sales?by=week', 'query.by'],
        ['/v1/admin/reports/sales?location=a%20b', 'query.location'],
        ['/v1/admin/reports/sales?format=xml', 'query.format'],
        ['/v1/admin/reports/sales?from=2026-11-22&to=2026-11-21', 'query.from'],
        ['/v1/admin/reports/outages?thresholdMinutes=0', 'query.thresholdMinutes'],
        ['/v1/admin/reports/accounting?by=month', 'query.by'],
        ['/v1/admin/reports/accounting?from=yesterday', 'query.from'],
      ];
      for (const [url, field] of refusals) {
        const answer = await h.request('GET', url, { admin: true });
        assert.equal(answer.status, 400, url);
        assert.equal(answer.error.code, 'invalid_request', url);
        assert.equal(answer.error.field, field, url);
      }
      const badRates: [unknown, string][] = [
        [{ rates: [{ category: 'standard', rate: 10_001 }] }, 'rates[0].rate'],
        [{ rates: [{ category: 'standard', rate: 21.5 }] }, 'rates[0].rate'],
        [{ rates: [{ category: 'standard', rate: -1 }] }, 'rates[0].rate'],
        [{ rates: [{ category: 'a b', rate: 1 }] }, 'rates[0].category'],
        [
          {
            rates: [
              { category: 'x', rate: 1 },
              { category: 'x', rate: 2 },
            ],
          },
          'rates[1].category',
        ],
        [{ rates: [] }, 'rates'],
      ];
      for (const [payload, field] of badRates) {
        const answer = await h.request('PUT', '/v1/admin/catalog/tax-rates', { admin: true, payload });
        assert.equal(answer.status, 400, JSON.stringify(payload));
        assert.equal(answer.error.field, field, JSON.stringify(answer.body));
      }
      const rates = await h.request<{ rates: unknown[] }>('GET', '/v1/admin/catalog/tax-rates', { admin: true });
      assert.deepEqual(rates.body.rates, [], 'no refused request stored a rate');
      const viewer = await h.operator('vera', 'viewer');
      const forbidden = await h.request('PUT', '/v1/admin/catalog/tax-rates', {
        headers: viewer,
        payload: { rates: [{ category: 'standard', rate: 2100 }] },
      });
      assert.equal(forbidden.status, 403);
      const read = await h.request('GET', `/v1/admin/reports/accounting?${RANGE}`, { headers: viewer });
      assert.equal(read.status, 200, 'reports are read with the read permission');
    });
  });
}
