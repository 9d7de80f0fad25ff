/**
 * mass-reconnect — the venue's uplink is gone for an hour; hundreds of
 * terminals keep selling and queue; then the link returns for all of them
 * at once. The server has a finite capacity (requests queue behind each
 * other), and it crashes mid-batch in the middle of the storm. The SDK's
 * full-jitter backoff and jittered probes must spread the return: the
 * scenario checks that the fleet did not come back as one wave and that
 * the server kept answering within the clients' timeout.
 */

import { ALL_ZONES } from '../partition-schedule.js';
import type { Violation } from '../world/invariants.js';
import { cardTraffic, fleet, MINUTE, percent, SECOND, serverCrashes, terminalCrashes, traffic } from './plan-kit.js';
import { plannedRestores } from './restores.js';
import { param, type ScenarioDefinition } from './scenario.js';

export const massReconnect: ScenarioDefinition = {
  name: 'mass-reconnect',
  description: 'hundreds of terminals return at once after a long outage; the drain must be spread by jitter',
  parameters: {
    terminals: 'terminals behind the uplink',
    zones: 'zones (all lose the uplink together)',
    minutes: 'minutes of trading',
    outageAt: 'minute the uplink drops',
    outageMinutes: 'how long it stays down',
    salesPerMinute: 'mean sales per terminal per minute',
    perRequestMs: 'server time per request (capacity model)',
    perOpMs: 'server time per op (capacity model)',
    crashesPerHour: 'power cuts per terminal per hour',
    serverCrashes: 'server crashes mid-batch (the first in the reconnect storm)',
    retryHappyPct: 'share of clerks who hammer retry, %',
    driftPpm: 'terminal clock drift bound, ppm',
    restores: 'terminals restored from an old disk image (injected forks)',
  },
  defaults: {
    terminals: 400,
    zones: 8,
    minutes: 120,
    outageAt: 20,
    outageMinutes: 60,
    salesPerMinute: 1,
    perRequestMs: 2,
    perOpMs: 0.05,
    crashesPerHour: 0.1,
    serverCrashes: 1,
    retryHappyPct: 10,
    driftPpm: 50,
    restores: 0,
  },
  small: { terminals: 24, minutes: 30, outageAt: 4, outageMinutes: 15, crashesPerHour: 0.5, salesPerMinute: 0.4 },
  ranges: {
    terminals: [12, 24],
    minutes: [20, 30],
    outageAt: [2, 5],
    outageMinutes: [8, 15],
    crashesPerHour: [0, 2],
    serverCrashes: [0, 2],
  },
  build(params, random) {
    const p = (name: string) => param(params, name);
    const start = Date.UTC(2026, 10, 14, 19, 0, 0);
    const end = start + p('minutes') * MINUTE;
    const outageFrom = start + p('outageAt') * MINUTE;
    const outageTo = Math.min(end, outageFrom + p('outageMinutes') * MINUTE);
    const zones = Math.max(1, Math.round(p('zones')));
    const terminals = fleet(
      Math.max(1, Math.round(p('terminals'))),
      {
        prefix: 'pos',
        zone: (i) => `zone-${(i % zones) + 1}`,
        salesPerMinute: p('salesPerMinute'),
        retryHappyShare: percent(p('retryHappyPct')),
        clock: { maxPpm: p('driftPpm'), jumpShare: 0.05, jumpMs: [SECOND, 5 * MINUTE], from: start, to: end },
      },
      random.fork('fleet'),
    );
    return {
      start,
      terminals,
      traffic: traffic({ sessions: [{ from: start, to: end }], tickMs: 2 * MINUTE }),
      faults: {
        latencyMs: [20, 150],
        partitions: [{ zone: ALL_ZONES, from: outageFrom, to: outageTo }],
        rates: () => ({ requestLoss: 0.005, responseLoss: 0.005 }),
        capacity: { perRequestMs: p('perRequestMs'), perOpMs: p('perOpMs') },
        terminalCrashes: terminalCrashes(
          terminals,
          {
            perTerminalPerHour: p('crashesPerHour'),
            from: start,
            to: end,
            downMs: [20 * SECOND, 3 * MINUTE],
            killShare: 0.3,
          },
          random.fork('terminal-crashes'),
        ),
        serverCrashes: serverCrashes(
          p('serverCrashes'),
          { from: start, to: end, downMs: [5 * SECOND, 30 * SECOND], at: [outageTo + 5 * SECOND] },
          random.fork('server-crashes'),
        ),
        restores: plannedRestores(p('restores'), terminals, start, end, random.fork('restores')),
        heals: [{ at: outageTo, zones: [ALL_ZONES], label: 'uplink back for everyone' }],
        end,
      },
      requestTimeoutMs: 10_000,
      batchSize: 500,
      idlePingMs: 0,
      probeIntervalMs: 20_000,
      groupBursts: true,
      drainLimitMs: 60 * MINUTE,
      cards: cardTraffic(random.fork('cards'), {
        event: 'mass-reconnect',
        terminals: terminals.length,
        from: start,
        to: end,
        processorOutages: 2,
        lostAnswerRate: 0.05,
      }),
    };
  },
  expect(world, params) {
    const out: Violation[] = [];
    const n = world.lanes.length;
    const load = world.network.load;
    const limit = Math.max(10, Math.ceil(n / 4));
    if (load.peakBatchesPerSecond > limit) {
      out.push({
        rule: 'expectation',
        message: `${load.peakBatchesPerSecond} batches reached the server in one second (limit ${limit} for ${n} terminals): the reconnect came as one wave`,
      });
    }
    const heal = world.drains.find((d) => d.heal.zones.includes(ALL_ZONES))?.figures;
    if (n >= 10 && heal && heal.reconnectSpreadSeconds !== null && heal.reconnectSpreadSeconds < 5) {
      out.push({
        rule: 'expectation',
        message: `all ${n} terminals got their first batch through within ${heal.reconnectSpreadSeconds} s of each other: no jitter`,
      });
    }
    const timeout = world.plan.requestTimeoutMs;
    if (load.maxQueueDelayMs >= timeout) {
      out.push({
        rule: 'expectation',
        message: `a request waited ${load.maxQueueDelayMs} ms in the server's queue (capacity ${param(params, 'perRequestMs')} ms/request): clients time out before it answers`,
      });
    }
    return out;
  },
};
