/**
 * festival-3-day — a cashless festival: ~80,000 attendees over three days
 * at ~200 bars and food stands in ten zones, trading 12:00–02:00 with an
 * evening peak; one round of about 30.00 per attendee on average, so the
 * three days clear about 2.4M as in the field report. Whole zones drop offline
 * for minutes at a time, again and again; tills brown out; the server
 * crashes about once a day; till clocks drift over the long shifts and some
 * jump. Every bar opens a shift each day and closes it at night.
 *
 * Traffic is coarse: each till rings up twenty minutes of sales at a time
 * (see Clerk), so ~80,000 ops in ~30,000 requests fit in well under a minute
 * of wall time (the real SDK and server path costs ~250 µs per op and
 * ~400 µs per batch).
 */
import { type Random, randomIntBetween } from '@holdfast/domain';
import { FESTIVAL_MENU } from '../baskets.js';
import type { Partition } from '../sim-network.js';
import type { Heal, Session } from '../world/world-plan.js';
import {
  between,
  cardTraffic,
  DAY,
  exponential,
  fleet,
  HOUR,
  MINUTE,
  percent,
  SECOND,
  serverCrashes,
  terminalCrashes,
  traffic,
} from './plan-kit.js';
import { plannedRestores } from './restores.js';
import { param, type ScenarioDefinition } from './scenario.js';

/** Share of a day's sales by fraction of the session (afternoon lull, evening peak); mean 1. */
const PROFILE: readonly (readonly [number, number])[] = [
  [0.2, 0.5],
  [0.45, 0.9],
  [0.6, 1.4],
  [0.8, 1.6],
  [1, 0.8],
];
const PROFILE_MEAN = 1.015;

export const festival3Day: ScenarioDefinition = {
  name: 'festival-3-day',
  description:
    '~80,000 attendees, ~200 terminals in 10 zones, zones dropping offline for minutes at a time over three days',
  parameters: {
    terminals: 'bars and stands',
    zones: 'network zones (each drops out on its own)',
    days: 'festival days',
    openHours: 'trading hours a day (from noon)',
    attendees: 'attendees over the festival',
    purchasesPct: 'purchases per 100 attendees',
    outagesPerZoneDay: 'mean outages per zone per day',
    outageMinMinutes: 'shortest outage',
    outageMaxMinutes: 'longest outage',
    crashesPerTerminalDay: 'power cuts per till per day',
    serverCrashesPerDay: 'server crashes mid-batch per day',
    lossPct: 'background request and answer loss, %',
    retryHappyPct: 'share of clerks who hammer retry, %',
    driftPpm: 'till clock drift bound, ppm',
    tickMinutes: 'a clerk rings up this many minutes of sales at a time',
    restores: 'tills restored from an old disk image (injected forks)',
  },
  defaults: {
    terminals: 200,
    zones: 10,
    days: 3,
    openHours: 14,
    attendees: 80_000,
    purchasesPct: 100,
    outagesPerZoneDay: 4,
    outageMinMinutes: 1,
    outageMaxMinutes: 8,
    crashesPerTerminalDay: 0.5,
    serverCrashesPerDay: 1,
    lossPct: 1,
    retryHappyPct: 10,
    driftPpm: 100,
    tickMinutes: 20,
    restores: 0,
  },
  small: {
    terminals: 6,
    zones: 3,
    openHours: 1,
    attendees: 400,
    tickMinutes: 3,
    crashesPerTerminalDay: 3,
    outagesPerZoneDay: 2,
  },
  ranges: {
    terminals: [4, 8],
    zones: [2, 4],
    days: [2, 3],
    attendees: [200, 500],
    outagesPerZoneDay: [1, 3],
    crashesPerTerminalDay: [0, 6],
    serverCrashesPerDay: [0, 2],
  },
  build(params, random) {
    const p = (name: string) => param(params, name);
    const first = Date.UTC(2026, 6, 17, 12, 0, 0);
    const days = Math.max(1, Math.round(p('days')));
    const open = p('openHours') * HOUR;
    const sessions: Session[] = Array.from({ length: days }, (_, d) => ({
      from: first + d * DAY,
      to: first + d * DAY + open,
    }));
    const end = (sessions.at(-1) as Session).to;
    const zones = Math.max(1, Math.round(p('zones')));
    const count = Math.max(1, Math.round(p('terminals')));
    const salesPerMinute = (p('attendees') * percent(p('purchasesPct'))) / ((count * days * open) / MINUTE);
    const terminals = fleet(
      count,
      {
        prefix: 'bar',
        zone: (i) => `zone-${(i % zones) + 1}`,
        salesPerMinute,
        retryHappyShare: percent(p('retryHappyPct')),
        clock: { maxPpm: p('driftPpm'), jumpShare: 0.1, jumpMs: [5 * SECOND, 2 * HOUR], from: first, to: end },
      },
      random.fork('fleet'),
    );
    const { partitions, heals } = zoneOutages(sessions, zones, p, random.fork('outages'));
    const loss = percent(p('lossPct'));
    return {
      start: first,
      terminals,
      traffic: traffic({
        sessions,
        tickMs: Math.max(1, p('tickMinutes')) * MINUTE,
        intensity: (t) => {
          const day = Math.floor((t - first) / DAY);
          const f = (t - first - day * DAY) / open;
          for (const [upTo, level] of PROFILE) if (f < upTo) return level / PROFILE_MEAN;
          return 0;
        },
        safeDropAbove: 60_000,
        menu: FESTIVAL_MENU,
        cardShare: 0.85,
      }),
      faults: {
        latencyMs: [20, 200],
        partitions,
        rates: () => ({ requestLoss: loss, responseLoss: loss, latencySpike: 0.005, duplicate: 0.002, reorder: 0.002 }),
        capacity: { perRequestMs: 1, perOpMs: 0.05 },
        terminalCrashes: terminalCrashes(
          terminals,
          {
            perTerminalPerHour: p('crashesPerTerminalDay') / 24,
            from: first,
            to: end,
            downMs: [30 * SECOND, 10 * MINUTE],
            killShare: 0.3,
          },
          random.fork('terminal-crashes'),
        ),
        serverCrashes: serverCrashes(
          Math.round(p('serverCrashesPerDay') * days),
          { from: first, to: end, downMs: [10 * SECOND, 2 * MINUTE] },
          random.fork('server-crashes'),
        ),
        restores: plannedRestores(p('restores'), terminals, first, end, random.fork('restores')),
        heals,
        end,
      },
      requestTimeoutMs: 10_000,
      batchSize: 500,
      idlePingMs: 0,
      probeIntervalMs: 20_000,
      groupBursts: true,
      drainLimitMs: 60 * MINUTE,
      cards: cardTraffic(random.fork('cards'), {
        event: 'festival-3-day',
        terminals: terminals.length,
        from: first,
        to: end,
        processorOutages: 2,
        lostAnswerRate: 0.05,
        exposureSampleMs: 10 * MINUTE,
        // Regulars with a loyalty card: about one attendee in a hundred.
        loyalty: { members: Math.max(10, Math.min(500, Math.round(p('attendees') / 100))) },
      }),
    };
  },
};

/** Each zone drops out a Poisson number of times a day, for minutes at a time, during trading. */
function zoneOutages(
  sessions: readonly Session[],
  zones: number,
  p: (name: string) => number,
  random: Random,
): { partitions: Partition[]; heals: Heal[] } {
  const partitions: Partition[] = [];
  const heals: Heal[] = [];
  const perDay = p('outagesPerZoneDay');
  const length = [
    p('outageMinMinutes') * MINUTE,
    Math.max(p('outageMinMinutes'), p('outageMaxMinutes')) * MINUTE,
  ] as const;
  for (const session of sessions) {
    const span = session.to - session.from;
    for (let z = 1; z <= zones; z++) {
      const zone = `zone-${z}`;
      if (perDay <= 0) continue;
      for (
        let t = session.from + exponential(random, span / perDay);
        t < session.to;
        t += exponential(random, span / perDay)
      ) {
        const from = Math.round(t);
        const to = Math.min(session.to, from + between(random, length));
        partitions.push({ zone, from, to });
        heals.push({ at: to, zones: [zone], label: `${zone} back (day ${sessions.indexOf(session) + 1})` });
        t = to + randomIntBetween(random, 0, MINUTE);
      }
    }
  }
  return { partitions, heals: heals.sort((a, b) => a.at - b.at) };
}
