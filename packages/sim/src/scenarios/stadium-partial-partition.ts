/**
 * stadium-partial-partition — a baseball double-header: the field-level
 * stands lose the network for ~22 minutes while the upper deck stays up
 * (38 lanes queue 2,000+ sales, 14 stay online), then the field's backlog
 * drains while trading goes on. Around it: a network that lies for a while
 * (answers lost after the server committed), retry-happy clerks on the
 * cut-off lanes, brown-outs at the tills, the server dying mid-batch just
 * as the backlog floods in, and drifting till clocks. A third of the
 * sales ring a catalog item: the hot dogs and pretzels are limited stock
 * (received at each stand as trading starts), and during the outage the
 * beer price goes up and the pretzel promotion ends early, so the field
 * lanes sell at superseded prices (`stale_price`) and oversell
 * (`stock_shortfall`, once per episode).
 */

import { cardTraffic, fleet, MINUTE, percent, SECOND, serverCrashes, terminalCrashes, traffic } from './plan-kit.js';
import { plannedRestores } from './restores.js';
import { param, type ScenarioDefinition } from './scenario.js';

export const stadiumPartialPartition: ScenarioDefinition = {
  name: 'stadium-partial-partition',
  description: 'field-level lanes offline ~22 min (2,000+ ops queued) while the upper deck stays online',
  parameters: {
    fieldLanes: 'lanes in the zone that loses the network',
    upperLanes: 'lanes that stay online',
    minutes: 'minutes of trading',
    outageAt: 'minute the field zone goes offline',
    outageMinutes: 'how long it stays offline',
    salesPerMinute: 'mean sales per lane per minute',
    lyingAt: 'minute the network starts losing answers after commit',
    lyingMinutes: 'how long it does',
    lyingLossPct: 'share of answers lost meanwhile, %',
    lossPct: 'background request and answer loss, %',
    crashesPerHour: 'power cuts per till per hour',
    serverCrashes: 'server crashes mid-batch (the first as the backlog floods in)',
    retryHappyPct: 'share of field clerks who hammer retry, %',
    driftPpm: 'till clock drift bound, ppm',
    restores: 'tills restored from an old disk image (injected forks)',
    catalogPct: 'share of sales ringing a catalog item, %',
    stockPerLane: 'hot dogs and pretzels received at each zone, per field lane',
  },
  defaults: {
    fieldLanes: 38,
    upperLanes: 14,
    minutes: 60,
    outageAt: 10,
    outageMinutes: 22,
    salesPerMinute: 2.6,
    lyingAt: 36,
    lyingMinutes: 9,
    lyingLossPct: 35,
    lossPct: 2,
    crashesPerHour: 0.3,
    serverCrashes: 2,
    retryHappyPct: 50,
    driftPpm: 50,
    restores: 0,
    catalogPct: 30,
    stockPerLane: 5,
  },
  small: {
    fieldLanes: 3,
    upperLanes: 2,
    minutes: 24,
    outageAt: 4,
    outageMinutes: 9,
    lyingAt: 15,
    lyingMinutes: 4,
    salesPerMinute: 1.5,
    crashesPerHour: 1.5,
    stockPerLane: 2,
  },
  ranges: {
    fieldLanes: [2, 5],
    upperLanes: [1, 3],
    minutes: [18, 30],
    outageAt: [2, 6],
    outageMinutes: [4, 12],
    lyingMinutes: [2, 6],
    lyingLossPct: [10, 50],
    crashesPerHour: [0, 3],
    serverCrashes: [0, 3],
  },
  build(params, random) {
    const p = (name: string) => param(params, name);
    const start = Date.UTC(2026, 6, 4, 17, 0, 0);
    const end = start + p('minutes') * MINUTE;
    const outageFrom = start + p('outageAt') * MINUTE;
    const outageTo = Math.min(end, outageFrom + p('outageMinutes') * MINUTE);
    const lieFrom = Math.min(end, Math.max(outageTo, start + p('lyingAt') * MINUTE));
    const lieTo = Math.min(end, lieFrom + p('lyingMinutes') * MINUTE);
    const clock = {
      maxPpm: p('driftPpm'),
      jumpShare: 0.1,
      jumpMs: [30 * SECOND, 15 * MINUTE] as const,
      from: start,
      to: end,
    };
    const common = { salesPerMinute: p('salesPerMinute'), clock };
    const fleetRandom = random.fork('fleet');
    const terminals = [
      ...fleet(
        p('fieldLanes'),
        { ...common, prefix: 'field', zone: () => 'field', retryHappyShare: percent(p('retryHappyPct')) },
        fleetRandom,
      ),
      ...fleet(p('upperLanes'), { ...common, prefix: 'upper', zone: () => 'upper', retryHappyShare: 0 }, fleetRandom),
    ];
    const loss = percent(p('lossPct'));
    const lying = percent(p('lyingLossPct'));
    const crashRandom = random.fork('server-crashes');
    return {
      start,
      terminals,
      traffic: traffic({ sessions: [{ from: start, to: end }] }),
      faults: {
        latencyMs: [15, 250],
        partitions: [{ zone: 'field', from: outageFrom, to: outageTo }],
        rates: (t) =>
          t >= lieFrom && t < lieTo
            ? { requestLoss: 0.02, responseLoss: lying, latencySpike: 0.02 }
            : { requestLoss: loss, responseLoss: loss, latencySpike: 0.01, duplicate: 0.01, reorder: 0.005 },
        terminalCrashes: terminalCrashes(
          terminals,
          {
            perTerminalPerHour: p('crashesPerHour'),
            from: start,
            to: end,
            downMs: [20 * SECOND, 4 * MINUTE],
            killShare: 0.3,
          },
          random.fork('terminal-crashes'),
        ),
        serverCrashes: serverCrashes(
          p('serverCrashes'),
          { from: start, to: end, downMs: [5 * SECOND, 60 * SECOND], at: [outageTo + 2 * SECOND] },
          crashRandom,
        ),
        restores: plannedRestores(p('restores'), terminals, start, end, random.fork('restores')),
        heals: [{ at: outageTo, zones: ['field'], label: 'field zone back online' }],
        end,
      },
      requestTimeoutMs: 8_000,
      batchSize: 200,
      idlePingMs: 30_000,
      probeIntervalMs: 20_000,
      groupBursts: true,
      drainLimitMs: 60 * MINUTE,
      cards: cardTraffic(random.fork('cards'), {
        event: 'stadium-partial-partition',
        terminals: terminals.length,
        from: start,
        to: end,
        processorOutages: 2,
        lostAnswerRate: 0.05,
        catalog: {
          items: [
            { sku: 'BEER-05', name: 'Beer 0.5l', price: 650 },
            { sku: 'HOTDOG', name: 'Hot dog', price: 450 },
            { sku: 'PRETZEL', name: 'Pretzel', price: 350 },
            { sku: 'WATER', name: 'Water', price: 250 },
          ],
          // The pretzel promotion was to run all evening.
          promotions: [{ sku: 'PRETZEL', price: 300, until: end + 60 * MINUTE }],
          // Mid-outage: beer goes up and the promotion ends early (version 2, no promotions).
          changes: [{ at: Math.round((outageFrom + outageTo) / 2), prices: [{ sku: 'BEER-05', price: 700 }] }],
          stock: {
            HOTDOG: p('stockPerLane') * p('fieldLanes'),
            PRETZEL: p('stockPerLane') * p('fieldLanes'),
          },
          share: percent(p('catalogPct')),
        },
      }),
    };
  },
};
