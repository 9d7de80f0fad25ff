/**
 * latam-intermittent — retail betting shops in Mexico, Colombia and the
 * Dominican Republic on links that are not down but flapping: up for a few
 * minutes, gone for seconds to a minute, extreme latency with spikes long
 * enough that requests time out after the server committed, proxies that
 * retransmit and reorder, and clerks who press "retry" until it works (and
 * ask the server about pending tickets). Shops sell tickets and pay out
 * winners in cash; cheap terminals have badly drifting clocks, some an hour
 * off.
 *
 * The tickets are real (WorldPlan.betting, world/betting-desk.ts): sold
 * online through POST /v1/authorize over those links, some voided with the
 * supervisor's PIN approval and some attempted without one (refused at the
 * till), results posted by the operator during the afternoon, winners paid
 * at their shop or another (and some presented again elsewhere), with each
 * zone's staff roster at the tills. At the counter, some cash sales are
 * voided with the supervisor's approval (and some voids attempted without
 * one), some refunded later, whole or in part, at their shop or another,
 * a few of those over the sale (world/correction-traffic.ts).
 */

import type { Random } from '@holdfast/domain';
import { PartitionSchedule } from '../partition-schedule.js';
import type { Partition } from '../sim-network.js';
import type { BettingPlan } from '../world/world-plan.js';
import {
  between,
  cardTraffic,
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

/**
 * The afternoon's matches: one 1X2 market each, closing for bets through the
 * session and resulted a minute after; bets close ten minutes before the
 * end so every winner can be paid before the shifts close.
 */
function bettingPlan(start: number, end: number, p: (name: string) => number, random: Random): BettingPlan {
  const until = end - 10 * MINUTE;
  const n = Math.max(3, Math.round(p('minutes') / 20));
  const slot = Math.floor((until - start) / (n + 1));
  const markets = Array.from({ length: n }, (_, i) => {
    const closesAt = start + (i + 1) * slot;
    return {
      event: `${COUNTRIES[i % COUNTRIES.length]}-match-${String(i + 1).padStart(2, '0')}`,
      market: 'match_result',
      selections: [
        { selection: 'home', odds: between(random, [150, 260]) },
        { selection: 'draw', odds: between(random, [280, 360]) },
        { selection: 'away', odds: between(random, [220, 450]) },
      ],
      closesAt,
      resultAt: closesAt + MINUTE,
    };
  });
  return {
    markets,
    ticketShare: 0.75,
    stake: [2_000, 20_000],
    maxLegs: 2,
    voidShare: percent(p('voidPct')),
    unapprovedVoidShare: percent(p('unapprovedVoidPct')),
    voidAfterMs: [30 * SECOND, 4 * MINUTE],
    voidWindowMinutes: 10,
    payAfterMs: [30 * SECOND, Math.max(SECOND, Math.min(slot - MINUTE, 30 * MINUTE))],
    elsewhereShare: percent(p('payoutPct')),
    representShare: percent(p('representPct')),
    limits: { minStake: 1_000, maxStake: 50_000, maxPayout: 1_000_000, selectionLiabilityCap: 10_000_000 },
  };
}

const COUNTRIES = ['mx', 'co', 'do'] as const;

export const latamIntermittent: ScenarioDefinition = {
  name: 'latam-intermittent',
  description: 'betting shops on flapping links: extreme latency, timeouts that succeeded, retry-happy clerks',
  parameters: {
    shops: 'terminals, spread over three countries',
    minutes: 'minutes of trading',
    salesPerMinute: 'mean tickets sold per terminal per minute',
    payoutPct: 'share of winners paid at another shop of the chain, %',
    voidPct: 'share of tickets voided with a supervisor approval, %',
    unapprovedVoidPct: 'share of tickets whose void is attempted without an approval, %',
    representPct: 'share of paid winners presenting the ticket again elsewhere, %',
    saleVoidPct: 'share of counter cash sales voided at once with a supervisor approval, %',
    unapprovedSaleVoidPct: 'share of counter cash sales whose void is attempted without an approval, %',
    refundPct: 'share of counter cash sales refunded later (some at another shop, some over the sale), %',
    refundElsewherePct: 'share of those refunds made at another shop, %',
    overRefundPct: 'share of the refunds at another shop that give back more than the sale, %',
    downMinSeconds: 'shortest link outage',
    downMaxSeconds: 'longest link outage',
    upMinSeconds: 'shortest time the link stays up',
    upMaxSeconds: 'longest time the link stays up',
    spikePct: 'share of messages hit by an extreme latency spike, %',
    timeoutSeconds: 'terminal request timeout',
    lossPct: 'request loss, %',
    responseLossPct: 'answers lost after the server committed, %',
    duplicatePct: 'batches a proxy delivers twice, %',
    reorderPct: 'batches held back and delivered late, %',
    retryHappyPct: 'share of clerks who hammer retry, %',
    crashesPerHour: 'power cuts per terminal per hour',
    serverCrashes: 'server crashes mid-batch',
    driftPpm: 'terminal clock drift bound, ppm',
    jumpPct: 'share of terminals whose clock jumps by up to an hour, %',
    restores: 'terminals restored from an old disk image (injected forks)',
  },
  defaults: {
    shops: 24,
    minutes: 240,
    salesPerMinute: 0.8,
    payoutPct: 15,
    voidPct: 4,
    unapprovedVoidPct: 2,
    representPct: 10,
    saleVoidPct: 4,
    unapprovedSaleVoidPct: 2,
    refundPct: 8,
    refundElsewherePct: 40,
    overRefundPct: 15,
    downMinSeconds: 5,
    downMaxSeconds: 90,
    upMinSeconds: 20,
    upMaxSeconds: 600,
    spikePct: 8,
    timeoutSeconds: 8,
    lossPct: 4,
    responseLossPct: 8,
    duplicatePct: 3,
    reorderPct: 2,
    retryHappyPct: 80,
    crashesPerHour: 0.3,
    serverCrashes: 2,
    driftPpm: 300,
    jumpPct: 30,
    restores: 0,
  },
  small: { shops: 4, minutes: 30, salesPerMinute: 1, crashesPerHour: 2 },
  ranges: {
    shops: [3, 6],
    minutes: [20, 35],
    spikePct: [0, 20],
    responseLossPct: [0, 20],
    duplicatePct: [0, 10],
    reorderPct: [0, 10],
    crashesPerHour: [0, 4],
    serverCrashes: [0, 3],
  },
  build(params, random) {
    const p = (name: string) => param(params, name);
    const start = Date.UTC(2026, 3, 18, 14, 0, 0);
    const end = start + p('minutes') * MINUTE;
    const terminals = fleet(
      Math.max(1, Math.round(p('shops'))),
      {
        prefix: 'shop',
        zone: (i) => COUNTRIES[i % COUNTRIES.length] as string,
        salesPerMinute: p('salesPerMinute'),
        retryHappyShare: percent(p('retryHappyPct')),
        clock: {
          maxPpm: p('driftPpm'),
          jumpShare: percent(p('jumpPct')),
          jumpMs: [MINUTE, HOUR],
          from: start,
          to: end,
        },
      },
      random.fork('fleet'),
    );
    const flaps = new PartitionSchedule();
    const partitions: Partition[] = [];
    const flapRandom = random.fork('flaps');
    for (const zone of COUNTRIES) {
      partitions.push(
        ...flaps.flap(zone, start + between(flapRandom, [0, 5 * MINUTE]), end, flapRandom, {
          downMs: [p('downMinSeconds') * SECOND, Math.max(p('downMinSeconds'), p('downMaxSeconds')) * SECOND],
          upMs: [p('upMinSeconds') * SECOND, Math.max(p('upMinSeconds'), p('upMaxSeconds')) * SECOND],
        }),
      );
    }
    const rates = {
      requestLoss: percent(p('lossPct')),
      responseLoss: percent(p('responseLossPct')),
      latencySpike: percent(p('spikePct')),
      spikeMs: [3_000, 20_000] as const,
      duplicate: percent(p('duplicatePct')),
      reorder: percent(p('reorderPct')),
      lateMs: [2_000, 5 * MINUTE] as const,
    };
    return {
      start,
      terminals,
      betting: bettingPlan(start, end, p, random.fork('markets')),
      staff: true,
      corrections: {
        voidShare: percent(p('saleVoidPct')),
        unapprovedVoidShare: percent(p('unapprovedSaleVoidPct')),
        refundShare: percent(p('refundPct')),
        elsewhereShare: percent(p('refundElsewherePct')),
        overShare: percent(p('overRefundPct')),
        partialShare: 0.5,
        refundAfterMs: [MINUTE, 20 * MINUTE],
      },
      traffic: traffic({
        sessions: [{ from: start, to: end }],
        // Payouts are real ticket payouts (the betting desk), not paid-outs of the drawer.
        payoutShare: 0,
        openingFloat: 50_000,
        safeDropAbove: 150_000,
        currency: 'MXN',
        retry: { everyMs: [5 * SECOND, 30 * SECOND], presses: [3, 10], requeryShare: 0.3 },
      }),
      faults: {
        latencyMs: [150, 1_200],
        partitions,
        rates: () => rates,
        terminalCrashes: terminalCrashes(
          terminals,
          {
            perTerminalPerHour: p('crashesPerHour'),
            from: start,
            to: end,
            downMs: [10 * SECOND, 5 * MINUTE],
            killShare: 0.4,
          },
          random.fork('terminal-crashes'),
        ),
        serverCrashes: serverCrashes(
          p('serverCrashes'),
          { from: start, to: end, downMs: [5 * SECOND, 90 * SECOND] },
          random.fork('server-crashes'),
        ),
        restores: plannedRestores(p('restores'), terminals, start, end, random.fork('restores')),
        // Each outage long enough to queue is a heal: how fast does a shop catch up after its link returns?
        heals: partitions
          .filter((x) => x.to - x.from >= 30 * SECOND && x.to < end)
          .map((x) => ({
            at: x.to,
            zones: [x.zone],
            label: `${x.zone} link back after ${Math.round((x.to - x.from) / SECOND)} s`,
          }))
          .sort((a, b) => a.at - b.at),
        end,
      },
      requestTimeoutMs: p('timeoutSeconds') * SECOND,
      batchSize: 100,
      idlePingMs: 30_000,
      probeIntervalMs: 20_000,
      groupBursts: true,
      drainLimitMs: 60 * MINUTE,
      cards: cardTraffic(random.fork('cards'), {
        event: 'latam-intermittent',
        terminals: terminals.length,
        from: start,
        to: end,
        processorOutages: 2,
        lostAnswerRate: 0.05,
      }),
    };
  },
};
