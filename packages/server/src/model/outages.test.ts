/**
 * Outages from the stored ops (docs/reports.md): a lane's run of ops
 * received later than the threshold; overlapping lane runs are one outage;
 * an op received in time ends a lane's run; stale prices and shortfalls
 * counted from the exceptions raised for the queued ops.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceLaneRuns, findOutages, mergeLaneRuns } from './outages.js';
import type { ReportEvent } from './reports.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

let n = 0;
function op(
  device: string,
  seq: number,
  at: number,
  received: number,
  type = 'sale.recorded',
  amount = 100,
  currency = 'EUR',
): ReportEvent {
  n++;
  return {
    opId: `op-${device}-${seq}-${n}`,
    device,
    lane: `lane ${device}`,
    location: 'stand-1',
    seq,
    type,
    shiftId: 's',
    currency,
    amount,
    data: {},
    body: {},
    deviceAt: at,
    receivedAt: received,
  };
}

describe('outages', () => {
  it('lanes cut off at overlapping times are one outage; a later partition is another', () => {
    const a1 = op('a', 1, T0, T0 + 20 * MIN);
    const a2 = op('a', 2, T0 + MIN, T0 + 20 * MIN, 'sale.refunded', 40);
    const b1 = op('b', 1, T0 + 10 * MIN, T0 + 30 * MIN);
    const c1 = op('c', 1, T0 + 2 * 60 * MIN, T0 + 3 * 60 * MIN);
    const onTime = op('a', 3, T0 + 21 * MIN, T0 + 21 * MIN);
    const outages = findOutages([a1, a2, b1, c1, onTime], [], 5 * MIN);
    assert.deepEqual(
      outages.map((o) => [o.id, o.start, o.end, o.lanes.map((l) => [l.device, l.opsQueued]), o.opsQueued]),
      [
        [
          a1.opId,
          T0,
          T0 + 30 * MIN,
          [
            ['a', 2],
            ['b', 1],
          ],
          3,
        ],
        [c1.opId, T0 + 2 * 60 * MIN, T0 + 3 * 60 * MIN, [['c', 1]], 1],
      ],
    );
    assert.deepEqual(outages[0]?.lanes[0]?.revenue, [
      { currency: 'EUR', sales: 1, gross: 100, returned: 40, staleSales: 0, staleDifference: 0 },
    ]);
  });

  it('an op received in time ends a lane run: two runs of one lane, each its own outage', () => {
    const first = op('a', 1, T0, T0 + 10 * MIN);
    const between = op('a', 2, T0 + 30 * MIN, T0 + 30 * MIN);
    const second = op('a', 3, T0 + 60 * MIN, T0 + 70 * MIN);
    const outages = findOutages([first, between, second], [], 5 * MIN);
    assert.deepEqual(
      outages.map((o) => o.lanes.map((l) => l.opsQueued)),
      [[1], [1]],
    );
    assert.deepEqual(findOutages([first, between, second], [], 10 * MIN), [], 'a delay at the threshold is no outage');
  });

  it('counts stale-price sales with their differences and stock shortfalls from the exceptions, any other type not', () => {
    const a1 = op('a', 1, T0, T0 + 20 * MIN);
    const a2 = op('a', 2, T0 + MIN, T0 + 20 * MIN);
    const late = op('a', 3, T0 + 30 * MIN, T0 + 30 * MIN);
    const [outage] = findOutages(
      [a1, a2, late],
      [
        { opId: a1.opId, type: 'stale_price', detail: { difference: -50 } },
        { opId: a2.opId, type: 'stale_price', detail: { difference: 20 } },
        { opId: a2.opId, type: 'stock_shortfall', detail: {} },
        { opId: a2.opId, type: 'cash_variance', detail: {} },
        { opId: late.opId, type: 'stale_price', detail: { difference: 999 } },
      ],
      5 * MIN,
    );
    assert.deepEqual(
      [outage?.stalePriceSales, outage?.stalePriceDifferences, outage?.stockShortfalls],
      [2, [{ currency: 'EUR', amount: -30 }], 1],
    );
  });

  it('keeps stale-price differences per currency: a lane selling in two currencies never adds them', () => {
    const eur = op('a', 1, T0, T0 + 20 * MIN, 'sale.recorded', 100, 'EUR');
    const usd = op('a', 2, T0 + MIN, T0 + 20 * MIN, 'sale.recorded', 300, 'USD');
    const other = op('b', 1, T0 + 2 * MIN, T0 + 21 * MIN, 'sale.recorded', 500, 'EUR');
    const [outage] = findOutages(
      [eur, usd, other],
      [
        { opId: eur.opId, type: 'stale_price', detail: { difference: -50 } },
        { opId: usd.opId, type: 'stale_price', detail: { difference: 70 } },
        { opId: other.opId, type: 'stale_price', detail: { difference: -5 } },
      ],
      5 * MIN,
    );
    assert.deepEqual(
      outage?.lanes[0]?.revenue.map((r) => [r.currency, r.staleSales, r.staleDifference]),
      [
        ['EUR', 1, -50],
        ['USD', 1, 70],
      ],
    );
    assert.deepEqual(outage?.stalePriceSales, 3);
    assert.deepEqual(outage?.stalePriceDifferences, [
      { currency: 'EUR', amount: -55 },
      { currency: 'USD', amount: 70 },
    ]);
  });

  it('a backlog of 300,000 ops is one lane (its span found by a loop: a spread of that many overflows the stack)', () => {
    const events = Array.from({ length: 300_000 }, (_, i) => op('big', i + 1, T0 + i, T0 + 60 * MIN + i));
    const [outage] = findOutages(events, [], 5 * MIN);
    assert.equal(outage?.opsQueued, 300_000);
    assert.deepEqual(
      [outage?.lanes[0]?.offlineFrom, outage?.lanes[0]?.offlineUntil, outage?.lanes[0]?.syncedAt],
      [T0, T0 + 299_999, T0 + 60 * MIN],
    );
  });

  it('device by device then merged is the same as all at once (the report keeps one device in memory)', () => {
    const events = [
      op('a', 1, T0, T0 + 20 * MIN),
      op('a', 2, T0 + MIN, T0 + 20 * MIN, 'sale.voided', 30),
      op('a', 3, T0 + 21 * MIN, T0 + 21 * MIN),
      op('a', 4, T0 + 3 * 60 * MIN, T0 + 4 * 60 * MIN),
      op('b', 1, T0 + 10 * MIN, T0 + 30 * MIN),
      op('c', 1, T0 + 3 * 60 * MIN + MIN, T0 + 5 * 60 * MIN, 'sale.recorded', 70, 'USD'),
      op('d', 1, T0, T0),
    ];
    const exceptions = [{ opId: events[0]?.opId ?? '', type: 'stale_price', detail: { difference: -10 } }];
    const perDevice = ['a', 'b', 'c', 'd'].flatMap((device) =>
      deviceLaneRuns(
        events.filter((e) => e.device === device),
        exceptions,
        5 * MIN,
      ),
    );
    const merged = mergeLaneRuns(perDevice);
    assert.deepEqual(merged, findOutages(events, exceptions, 5 * MIN));
    assert.deepEqual(
      merged.map((o) => [o.opsQueued, o.lanes.length, o.stalePriceSales]),
      [
        [3, 2, 1],
        [2, 2, 0],
      ],
    );
  });
});
