/**
 * The card side of a simulated world (and of the demo):
 *
 *   before trading  the operator issues a risk policy (POST /v1/admin/policies
 *                   through the service), places every device (merchant,
 *                   location = zone, event); each terminal fetches the signed
 *                   policy and enforces it offline
 *   trading         clerks present cards from a seeded pool; the terminal
 *                   approves offline within the policy or throws
 *                   NeedsOnlineError (the clerk asks for cash, or the
 *                   customer walks away); the server's Forwarder sends the
 *                   offline-approved payments to the processor-sim in rounds
 *   every tick      the actual offline exposure is held against the bound
 *                   (`exposureBound`, as GET /v1/admin/exposure computes it),
 *                   per currency and placement: the server's own actual, and
 *                   the truth of the fleet (every offline approval a clerk
 *                   saw, or the server holds, not yet settled)
 *
 * Everything is on the virtual clock and the run's seed.
 */
import { join } from 'node:path';
import type { SeededRandom } from '@holdfast/domain';
import type { PolicyDraft, Tender } from '@holdfast/protocol';
import type { ExposureAnswer, ForwardEvent, HoldfastService, SqliteStorage } from '@holdfast/server';
import type { TerminalPlacement } from '@holdfast/terminal';
import type { VirtualClock } from '../virtual-clock.js';
import { CardPool } from './card-pool.js';
import { SimProcessor } from './sim-processor.js';
import type { CardPlan } from './world-plan.js';

/** A sampling tick at which an actual exposure passed its bound. */
export interface ExposureBreach {
  at: number;
  /** `server`: the server's own actual (GET /v1/admin/exposure); `fleet`: what the terminals really approved. */
  source: 'server' | 'fleet';
  group: string;
  amount: number;
  count: number;
  boundAmount: number;
  boundCount: number;
}

export interface CardFigures {
  /** Card sales approved offline by the terminals (as the clerks saw them). */
  offlineApproved: number;
  offlineApprovedTotal: number;
  /** Card sales the policy sent online (NeedsOnlineError), by rule. */
  needsOnline: Record<string, number>;
  cashFallbacks: number;
  dropped: number;
  forwarded: { approved: number; declined: number; recovered: number; unsettledAttempts: number };
  exposure: { samples: number; bound: number; boundCount: number; max: number; maxCount: number };
  /** Wristband traffic (as the clerks saw it): sales, cash top-ups, refusals paid cash (by code or rule). */
  wristbands: {
    sales: number;
    salesTotal: number;
    topUps: number;
    topUpsTotal: number;
    refused: Record<string, number>;
  };
}

interface Approval {
  /** Lane label, or the server's device id for an approval only the server knows of. */
  lane: string;
  group: string;
  amount: number;
}

type Entry = readonly [number, string];

/** A lane as the card traffic sees it. */
export interface CardLane {
  label: string;
  zone: string;
  deviceId: string | null;
  /** Restored from an old disk image: its journal forgot its exposure (an injected fault). */
  injected: boolean;
}

export class CardTraffic {
  readonly plan: CardPlan;
  /** The currency of the policy (the venue's). */
  readonly currency: string;
  readonly pool: CardPool;
  readonly processor: SimProcessor;
  readonly figures: CardFigures = {
    offlineApproved: 0,
    offlineApprovedTotal: 0,
    needsOnline: {},
    cashFallbacks: 0,
    dropped: 0,
    forwarded: { approved: 0, declined: 0, recovered: 0, unsettledAttempts: 0 },
    exposure: { samples: 0, bound: 0, boundCount: 0, max: 0, maxCount: 0 },
    wristbands: { sales: 0, salesTotal: 0, topUps: 0, topUpsTotal: 0, refused: {} },
  };
  readonly breaches: ExposureBreach[] = [];
  /** What the forwarder did with each op's payments, by op id. */
  readonly #history = new Map<string, Entry[]>();
  /** Offline approvals not yet settled, by `opId:tenderIndex`. */
  readonly #open = new Map<string, Approval>();
  #lastSampleAt: number | null = null;
  readonly #clock: VirtualClock;

  constructor(plan: CardPlan, currency: string, dir: string, clock: VirtualClock, random: SeededRandom) {
    this.plan = plan;
    this.currency = currency;
    this.#clock = clock;
    this.pool = new CardPool(random.fork('pool'), plan.pool);
    this.processor = new SimProcessor({
      path: join(dir, 'processor', 'processor.db'),
      clock,
      seed: random.fork('processor').seed,
      cards: this.pool.profiles(),
      latencyMs: plan.processor.latencyMs,
      lostAnswerRate: plan.processor.lostAnswerRate,
      outages: plan.processor.outages,
    });
  }

  placement(zone: string): TerminalPlacement {
    return { merchant: this.plan.merchant, location: zone, event: this.plan.event };
  }

  /** The operator issues the policy for the event (before any device is placed or trades). */
  async issuePolicy(service: HoldfastService): Promise<void> {
    await service.issuePolicy(this.policyDraft());
  }

  /** The policy draft the operator sends (POST /v1/admin/policies): scope merchant and event, every location. */
  policyDraft(): PolicyDraft {
    const p = this.plan.policy;
    const now = this.#clock.now();
    return {
      scope: { merchant: this.plan.merchant, location: null, event: this.plan.event, devices: null },
      currency: this.currency,
      expiresAt: now + p.lifetimeMs,
      offline: {
        maxOfflineMs: p.maxOfflineMs,
        device: p.device,
        tenders: {
          card: { floorLimit: p.floorLimit, instrument: p.card },
          ...(this.plan.wristbands
            ? {
                wristband: {
                  floorLimit: this.plan.wristbands.floorLimit,
                  instrument: this.plan.wristbands.instrument,
                },
              }
            : {}),
        },
      },
      online: {
        kinds: [],
        refundAbove: null,
        loyaltyRedemptionAbove: this.plan.loyalty ? this.plan.loyalty.rule.offlineCap : null,
      },
      ...(this.plan.loyalty ? { loyalty: this.plan.loyalty.rule } : {}),
    };
  }

  /** The operator places a device where its zone is. */
  async place(service: HoldfastService, deviceId: string, zone: string): Promise<void> {
    const { merchant, location, event } = this.placement(zone);
    await service.setPlacement(deviceId, { merchant, location, event });
  }

  /** A sale was recorded with these tenders: its card tenders were approved offline. */
  approved(lane: CardLane, opId: string, currency: string, tenders: readonly Tender[]): void {
    tenders.forEach((t, i) => {
      if (t.type !== 'card') return;
      this.figures.offlineApproved++;
      this.figures.offlineApprovedTotal += t.amount;
      this.#open.set(`${opId}:${i}`, {
        lane: lane.label,
        group: groupKey(currency, this.placement(lane.zone)),
        amount: t.amount,
      });
    });
  }

  /** A card sale the policy refused offline: the clerk took cash, or the customer left. */
  needsOnline(rule: string, outcome: 'cash' | 'dropped'): void {
    this.figures.needsOnline[rule] = (this.figures.needsOnline[rule] ?? 0) + 1;
    if (outcome === 'cash') this.figures.cashFallbacks++;
    else this.figures.dropped++;
  }

  /** The forwarder told what it did (kept as the payment's history for explanations). */
  forwardEvent(event: ForwardEvent, incarnation: number): void {
    const at = this.#clock.now();
    const who = `forwarder (server incarnation ${incarnation})`;
    if (event.kind === 'round_failed') return;
    const f = this.figures.forwarded;
    let text: string;
    if (event.kind === 'settled') {
      f[event.status]++;
      if (event.recovered) f.recovered++;
      text = `${who}: tender ${event.tenderIndex} ${event.status} by the processor${event.recovered ? ' (answer lost; found by idempotency key)' : ''}, settled`;
    } else if (event.kind === 'unsettled') {
      f.unsettledAttempts++;
      text = `${who}: tender ${event.tenderIndex} left unsettled: ${event.reason} (attempt ${event.attempts}, next at ${event.nextAttemptAt})`;
    } else if (event.kind === 'refused') {
      text = `${who}: tender ${event.tenderIndex} refused by the processor (${event.status} ${event.code}): never sent again`;
    } else {
      text = `${who}: tender ${event.tenderIndex} forwarding deadline ${event.stage}`;
    }
    let list = this.#history.get(event.opId);
    if (!list) {
      list = [];
      this.#history.set(event.opId, list);
    }
    list.push([at, text]);
  }

  historyOf(opId: string): readonly Entry[] {
    return this.#history.get(opId) ?? [];
  }

  /**
   * One sampling tick: the exposure answer (bound and the server's actual)
   * and the fleet's true actual, each group held against its bound
   * (`worstAmount` / `worstCount`: approvals under any policy issued).
   */
  async sample(service: HoldfastService, storage: SqliteStorage, lanes: readonly CardLane[]): Promise<void> {
    const at = this.#clock.now();
    const answer = await service.exposure(at);
    const since = this.#lastSampleAt ?? 0;
    this.#lastSampleAt = at;
    const byDevice = new Map(lanes.map((l) => [l.deviceId ?? '', l]));
    // Payments the server holds that no clerk saw approved (a record cut by a power cut after its commit).
    for (const r of storage.query<{ key: string; device: string; amount: number; currency: string }>(
      "SELECT op_id || ':' || tender_index AS key, device, amount, currency FROM offline_payments WHERE received_at >= ? AND settled_at IS NULL",
      [since],
    )) {
      if (this.#open.has(r.key)) continue;
      const lane = byDevice.get(r.device);
      if (!lane) continue;
      this.#open.set(r.key, {
        lane: lane.label,
        group: groupKey(r.currency, this.placement(lane.zone)),
        amount: r.amount,
      });
    }
    for (const r of storage.query<{ key: string }>(
      "SELECT op_id || ':' || tender_index AS key FROM offline_payments WHERE settled_at IS NOT NULL AND settled_at >= ?",
      [since],
    )) {
      this.#open.delete(r.key);
    }
    const injected = new Set(lanes.filter((l) => l.injected).map((l) => l.label));
    const fleet = new Map<string, { amount: number; count: number }>();
    for (const a of this.#open.values()) {
      if (injected.has(a.lane)) continue;
      const g = fleet.get(a.group) ?? { amount: 0, count: 0 };
      g.amount += a.amount;
      g.count += 1;
      fleet.set(a.group, g);
    }
    this.#check(at, answer, fleet);
  }

  #check(at: number, answer: ExposureAnswer, fleet: Map<string, { amount: number; count: number }>): void {
    const bounds = new Map(
      answer.bound.map((g) => [groupKey(g.currency, g), { amount: g.worstAmount, count: g.worstCount }]),
    );
    const e = this.figures.exposure;
    e.samples++;
    let bound = 0;
    let boundCount = 0;
    for (const b of bounds.values()) {
      bound += b.amount;
      boundCount += b.count;
    }
    e.bound = Math.max(e.bound, bound);
    e.boundCount = Math.max(e.boundCount, boundCount);
    const hold = (source: ExposureBreach['source'], group: string, actual: { amount: number; count: number }) => {
      const b = bounds.get(group) ?? { amount: 0, count: 0 };
      if (actual.amount > b.amount || actual.count > b.count) {
        this.breaches.push({
          at,
          source,
          group,
          amount: actual.amount,
          count: actual.count,
          boundAmount: b.amount,
          boundCount: b.count,
        });
      }
    };
    for (const a of answer.actual) {
      hold(
        'server',
        groupKey(a.currency, { merchant: a.merchant ?? '(unplaced)', location: a.location, event: a.event }),
        a,
      );
    }
    let total = 0;
    let count = 0;
    for (const [group, actual] of fleet) {
      hold('fleet', group, actual);
      total += actual.amount;
      count += actual.count;
    }
    e.max = Math.max(e.max, total);
    e.maxCount = Math.max(e.maxCount, count);
  }

  close(): void {
    this.processor.close();
  }
}

/** `EUR merchant/location/event`: one exposure group. */
export function groupKey(
  currency: string,
  p: { merchant: string; location: string | null; event: string | null },
): string {
  return `${currency} ${p.merchant}/${p.location ?? '*'}/${p.event ?? '*'}`;
}
