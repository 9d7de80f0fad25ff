/**
 * lte-outage — a college football opener: 14 portable stands on LTE lose
 * the carrier for 45 minutes (a failed tower handover) right at the peak,
 * and keep selling. LTE latency with spikes throughout; brown-outs at the
 * stands; the server dies mid-batch while the 14 backlogs flood in after the
 * heal.
 */

import { cardTraffic, fleet, MINUTE, percent, SECOND, serverCrashes, terminalCrashes, traffic } from './plan-kit.js';
import { plannedRestores } from './restores.js';
import { param, type ScenarioDefinition } from './scenario.js';

export const lteOutage: ScenarioDefinition = {
  name: 'lte-outage',
  description: '14 portable stands on LTE, a 45-minute carrier outage at the peak of the game',
  parameters: {
    stands: 'portable stands (all on the same carrier)',
    minutes: 'minutes of trading',
    outageAt: 'minute the carrier drops',
    outageMinutes: 'how long it stays down',
    salesPerMinute: 'mean sales per stand per minute off-peak',
    peakFactor: 'sales multiplier around the outage (half-time rush)',
    lossPct: 'background request and answer loss, %',
    spikePct: 'share of messages hit by an LTE latency spike, %',
    crashesPerHour: 'power cuts per stand per hour',
    serverCrashes: 'server crashes mid-batch (the first during the backlog drain)',
    retryHappyPct: 'share of clerks who hammer retry, %',
    driftPpm: 'stand clock drift bound, ppm',
    restores: 'stands restored from an old disk image (injected forks)',
  },
  defaults: {
    stands: 14,
    minutes: 180,
    outageAt: 70,
    outageMinutes: 45,
    salesPerMinute: 1.2,
    peakFactor: 2,
    lossPct: 3,
    spikePct: 3,
    crashesPerHour: 0.2,
    serverCrashes: 1,
    retryHappyPct: 30,
    driftPpm: 80,
    restores: 0,
  },
  small: { stands: 4, minutes: 30, outageAt: 8, outageMinutes: 12, crashesPerHour: 1.5 },
  ranges: {
    stands: [2, 5],
    minutes: [20, 35],
    outageAt: [3, 8],
    outageMinutes: [5, 15],
    crashesPerHour: [0, 3],
    serverCrashes: [0, 2],
    spikePct: [0, 10],
  },
  build(params, random) {
    const p = (name: string) => param(params, name);
    const start = Date.UTC(2026, 8, 5, 16, 0, 0);
    const end = start + p('minutes') * MINUTE;
    const outageFrom = start + p('outageAt') * MINUTE;
    const outageTo = Math.min(end, outageFrom + p('outageMinutes') * MINUTE);
    const peakFrom = outageFrom - 10 * MINUTE;
    const peakTo = outageTo + 10 * MINUTE;
    const terminals = fleet(
      p('stands'),
      {
        prefix: 'stand',
        zone: () => 'lte',
        salesPerMinute: p('salesPerMinute'),
        retryHappyShare: percent(p('retryHappyPct')),
        clock: { maxPpm: p('driftPpm'), jumpShare: 0.15, jumpMs: [SECOND, 10 * MINUTE], from: start, to: end },
      },
      random.fork('fleet'),
    );
    const loss = percent(p('lossPct'));
    const spike = percent(p('spikePct'));
    return {
      start,
      terminals,
      traffic: traffic({
        sessions: [{ from: start, to: end }],
        intensity: (t) => (t >= peakFrom && t < peakTo ? p('peakFactor') : 1),
      }),
      faults: {
        latencyMs: [60, 450],
        partitions: [{ zone: 'lte', from: outageFrom, to: outageTo }],
        rates: () => ({ requestLoss: loss, responseLoss: loss, latencySpike: spike, spikeMs: [1_500, 12_000] }),
        terminalCrashes: terminalCrashes(
          terminals,
          {
            perTerminalPerHour: p('crashesPerHour'),
            from: start,
            to: end,
            downMs: [15 * SECOND, 3 * MINUTE],
            killShare: 0.3,
          },
          random.fork('terminal-crashes'),
        ),
        serverCrashes: serverCrashes(
          p('serverCrashes'),
          { from: start, to: end, downMs: [5 * SECOND, 45 * SECOND], at: [outageTo + 3 * SECOND] },
          random.fork('server-crashes'),
        ),
        restores: plannedRestores(p('restores'), terminals, start, end, random.fork('restores')),
        heals: [{ at: outageTo, zones: ['lte'], label: 'carrier back' }],
        end,
      },
      requestTimeoutMs: 10_000,
      batchSize: 250,
      idlePingMs: 30_000,
      probeIntervalMs: 20_000,
      groupBursts: true,
      drainLimitMs: 60 * MINUTE,
      cards: cardTraffic(random.fork('cards'), {
        event: 'lte-outage',
        terminals: terminals.length,
        from: start,
        to: end,
        processorOutages: 2,
        lostAnswerRate: 0.05,
        loyalty: { members: 50 },
      }),
    };
  },
};
