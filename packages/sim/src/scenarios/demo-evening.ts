/**
 * What the demo's tills share over the evening, and what a clerk does at
 * one: the crowd's wristbands (blank until topped up, the same chips at
 * every bar), the one that will be cloned, and the figures the report
 * tells (each lane's sales, the stolen card's sale, the clone's spends).
 * The clerks (demo-clerk.ts) and the scripted events (demo-events.ts) ring
 * up through it; the world hears of every op recorded.
 */
import { pick, type Random } from '@holdfast/domain';
import type { SaleLine, Tender } from '@holdfast/protocol';
import { NeedsOnlineError, type RecordedOp, type Terminal, WristbandRefusedError } from '@holdfast/terminal';
import { SimulatedWristband } from '@holdfast/terminal/testing';
import { randomBasket } from '../baskets.js';
import { CardPool, type SimCard } from '../world/card-pool.js';
import type { CardTraffic } from '../world/card-traffic.js';
import type { CatalogTraffic } from '../world/catalog-traffic.js';
import type { LoyaltyHost, LoyaltyTraffic } from '../world/loyalty-traffic.js';
import type { SimLane } from '../world/sim-lane.js';
import type { ScriptHost } from '../world/world-script.js';
import { DEMO_START, MIN, TOP_UP, WRISTBAND_POOL, WRISTBAND_SHARE } from './demo-plan.js';

export const CLONED_UID = '04C10E00BAD001';
export const CLONE_TOP_UP = 2_000;

export interface StolenCardSale {
  lane: string;
  minute: number;
  amount: number;
  last4: string;
}

export interface CloneSpend {
  lane: string;
  minute: number;
  amount: number;
}

/** The world as the evening's tills see it (SimWorld, or the host a clerk gets). */
export type EveningHost = Pick<ScriptHost, 'clock' | 'recorded'> & {
  cards?: CardTraffic | null;
  /** Loyalty: a member card scanned on a share of the sales (world/loyalty-traffic.ts). */
  loyaltyScans?: { traffic: LoyaltyTraffic; host: LoyaltyHost };
  /** Catalog: a share of the sales ring one catalog line priced by the till (world/catalog-traffic.ts). */
  catalog?: CatalogTraffic;
};

export class DemoEvening {
  /** Wristbands in the crowd (the same chips at every bar), and the one to be cloned. */
  readonly crowd = Array.from(
    { length: WRISTBAND_POOL },
    (_, i) => new SimulatedWristband(`04D3A0${i.toString(16).toUpperCase().padStart(8, '0')}`, 'EUR'),
  );
  readonly clonedBand = new SimulatedWristband(CLONED_UID, 'EUR');
  /** Σ sale totals rung up, per lane. */
  readonly salesTotal = new Map<string, number>();
  stolenCardSale: StolenCardSale | null = null;
  readonly cloneSpends: CloneSpend[] = [];

  /** The instant as a minute of the evening, one decimal. */
  minuteNow(host: EveningHost): number {
    return Math.round(((host.clock.now() - DEMO_START) / MIN) * 10) / 10;
  }

  addSale(lane: SimLane, total: number): void {
    this.salesTotal.set(lane.label, (this.salesTotal.get(lane.label) ?? 0) + total);
  }

  /** Records `op` as seen by the app (its shift: the open one, or the op itself when it opens one). */
  seen(host: EveningHost, lane: SimLane, terminal: Terminal, op: RecordedOp, amount: number): void {
    host.recorded(lane, op, amount, terminal.currentShift()?.id ?? terminal.lastShift()?.id ?? op.id);
  }

  /** Tops a wristband up in cash; false if refused (nothing recorded). */
  topUp(host: EveningHost, lane: SimLane, terminal: Terminal, band: SimulatedWristband, amount: number): boolean {
    const figures = host.cards?.figures.wristbands;
    try {
      const receipt = terminal.topUpWristband({ reader: band, amount, paid: 'cash' });
      this.seen(host, lane, terminal, receipt.op, amount);
      if (figures) {
        figures.topUps++;
        figures.topUpsTotal += amount;
      }
      return true;
    } catch (error) {
      if (!this.#refused(host, error)) throw error;
      return false;
    }
  }

  /** Pays a basket with a wristband; null if refused (nothing recorded, the clerk takes cash). */
  payByWristband(
    host: EveningHost,
    terminal: Terminal,
    band: SimulatedWristband,
    lines: SaleLine[],
    total: number,
  ): RecordedOp | null {
    const figures = host.cards?.figures.wristbands;
    try {
      const receipt = terminal.payWithWristband({ lines, reader: band });
      if (figures) {
        figures.sales++;
        figures.salesTotal += total;
      }
      return receipt.op;
    } catch (error) {
      if (!this.#refused(host, error)) throw error;
      return null;
    }
  }

  /**
   * Rings up a random basket: by wristband for a share of the customers
   * (topped up first when it runs low), else by the given card, a card of
   * the crowd, or cash; a card the policy sends online is paid cash (the
   * online card path is not in the demo). Records the op with the world.
   */
  sell(
    host: EveningHost,
    lane: SimLane,
    terminal: Terminal,
    random: Random,
    wristbandRandom: Random,
    card: SimCard | null,
  ): void {
    const cards = host.cards;
    const sale = randomBasket(random);
    const catalogLine = host.catalog?.line(terminal);
    if (catalogLine) {
      // One catalog line priced by the till, paid the way the basket would have been.
      sale.lines = [catalogLine];
      sale.total = catalogLine.qty * catalogLine.unitPrice;
      sale.tenders =
        sale.tenders[0]?.type === 'card'
          ? [{ ...sale.tenders[0], amount: sale.total }]
          : [{ type: 'cash', amount: sale.total, tendered: Math.ceil(sale.total / 500) * 500 }];
    }
    this.addSale(lane, sale.total);
    const record = (op: RecordedOp) => {
      this.seen(host, lane, terminal, op, sale.total);
      host.loyaltyScans?.traffic.afterSale(lane, terminal, op, sale.total, host.loyaltyScans.host);
    };
    if (card === null && wristbandRandom.float() < WRISTBAND_SHARE) {
      const band = pick(wristbandRandom, this.crowd);
      if (
        band.image().balance >= sale.total ||
        this.topUp(host, lane, terminal, band, TOP_UP * Math.ceil(sale.total / TOP_UP))
      ) {
        const op = this.payByWristband(host, terminal, band, sale.lines, sale.total);
        if (op) {
          record(op);
          return;
        }
      }
    }
    const paidBy = card ?? (cards && sale.tenders[0]?.type === 'card' ? cards.pool.draw(random) : null);
    if (paidBy && cards) {
      const tenders: Tender[] = [CardPool.tender(paidBy, sale.total)];
      try {
        const op = terminal.recordSale({ lines: sale.lines, tenders });
        cards.approved(lane.cardLane, op.id, 'EUR', tenders);
        if (card) {
          this.stolenCardSale = {
            lane: lane.label,
            minute: this.minuteNow(host),
            amount: sale.total,
            last4: card.last4,
          };
        }
        record(op);
        return;
      } catch (error) {
        if (!(error instanceof NeedsOnlineError)) throw error;
        cards.needsOnline(error.rule, 'cash');
      }
    }
    const cash: Tender[] = [{ type: 'cash', amount: sale.total, tendered: Math.ceil(sale.total / 500) * 500 }];
    record(terminal.recordSale({ lines: sale.lines, tenders: cash }));
  }

  #refused(host: EveningHost, error: unknown): boolean {
    const code =
      error instanceof WristbandRefusedError ? error.code : error instanceof NeedsOnlineError ? error.rule : null;
    if (code === null) return false;
    const refused = host.cards?.figures.wristbands.refused;
    if (refused) refused[code] = (refused[code] ?? 0) + 1;
    return true;
  }
}
