/**
 * Catalog traffic (docs/catalog-and-stock.md): the operator puts the
 * catalog and publishes each zone's price list (version 1, with
 * promotions) before trading; a zone's first lane receives the zone's
 * limited stock by a `stock.received` op when its first shift opens; a
 * share of the sales ring one catalog line priced offline by the till from
 * the list it holds. Later versions (new prices, promotions ended early)
 * are published while trading goes on, so lanes that cannot reach the
 * feed keep selling at superseded prices (`stale_price` at ingest) and
 * lanes cut off from each other oversell the stock (`stock_shortfall`,
 * once per episode). The checker's stock and catalog rules judge the
 * result from the server's rows (sim/src/check/rules/stock.ts, catalog.ts).
 */
import { chance, pick, type Random, randomIntBetween } from '@holdfast/domain';
import type { SaleLine } from '@holdfast/protocol';
import type { HoldfastService } from '@holdfast/server';
import { CatalogError, type RecordedOp, type Terminal } from '@holdfast/terminal';
import type { CatalogPlan } from './world-plan.js';

const DAY = 86_400_000;

export class CatalogTraffic {
  readonly plan: CatalogPlan;
  readonly #random: Random;
  readonly #zones: readonly string[];
  /** Each zone's first lane (label), the one that receives its stock. */
  readonly #receivers: ReadonlyMap<string, string>;
  readonly #currency: string;
  /** `zone sku` pairs whose stock has been received (by the zone's first lane). */
  readonly #received = new Set<string>();
  /** What happened, for the run's report. */
  readonly figures = { catalogSales: 0, notPriced: 0, published: 0, received: 0 };

  constructor(plan: CatalogPlan, lanes: readonly { label: string; zone: string }[], currency: string, random: Random) {
    this.plan = plan;
    this.#zones = [...new Set(lanes.map((l) => l.zone))].sort();
    const receivers = new Map<string, string>();
    for (const lane of lanes) if (!receivers.has(lane.zone)) receivers.set(lane.zone, lane.label);
    this.#receivers = receivers;
    this.#currency = currency;
    this.#random = random;
  }

  /** Before trading: the catalog, and version 1 of every zone's list (in force from a day before `start`). */
  async setUp(service: HoldfastService, start: number): Promise<void> {
    await service.catalog.upsertItems(
      { items: this.plan.items.map((i) => ({ sku: i.sku, name: i.name, taxCategory: 'standard', unit: 'each' })) },
      'sim',
    );
    for (const zone of this.#zones) {
      await service.catalog.publish(
        {
          location: zone,
          currency: this.#currency,
          from: start - DAY,
          prices: this.plan.items.map((i) => ({ sku: i.sku, price: i.price })),
          promotions: this.plan.promotions.map((p) => ({
            sku: p.sku,
            price: p.price,
            from: start - DAY,
            until: p.until,
          })),
        },
        'sim',
      );
      this.figures.published++;
    }
  }

  /** A price change at every zone: the whole list again with the new prices and no promotions, in force now. */
  async change(service: HoldfastService, index: number): Promise<void> {
    const change = this.plan.changes[index];
    if (!change) return;
    const prices = new Map(this.plan.items.map((i) => [i.sku, i.price]));
    for (let i = 0; i <= index; i++) for (const p of this.plan.changes[i]?.prices ?? []) prices.set(p.sku, p.price);
    for (const zone of this.#zones) {
      await service.catalog.publish(
        { location: zone, currency: this.#currency, prices: [...prices].map(([sku, price]) => ({ sku, price })) },
        'sim',
      );
      this.figures.published++;
    }
  }

  /**
   * The zone's first lane receives its stock once, when it first trades
   * (each SKU once: a power cut between two receivings leaves the rest for
   * the next tick). `recorded` reports each op to the app's log.
   */
  receive(terminal: Terminal, lane: { label: string; zone: string }, recorded: (op: RecordedOp) => void): void {
    const zone = lane.zone;
    if (this.#receivers.get(zone) !== lane.label) return;
    for (const [sku, qty] of Object.entries(this.plan.stock).sort(([a], [b]) => a.localeCompare(b))) {
      if (this.#received.has(`${zone} ${sku}`)) continue;
      const op = terminal.recordStock('stock.received', { location: zone, sku, qty });
      this.#received.add(`${zone} ${sku}`);
      this.figures.received += qty;
      recorded(op);
    }
  }

  /**
   * One catalog line for a sale, priced by the till, or null when this
   * sale sells a free-text basket (or the till cannot price it: no list in
   * force at its clock yet).
   */
  line(terminal: Terminal): SaleLine | null {
    if (!chance(this.#random, this.plan.share)) return null;
    const item = pick(this.#random, this.plan.items);
    try {
      const line = terminal.catalog.line(item.sku, randomIntBetween(this.#random, 1, 2));
      this.figures.catalogSales++;
      return line;
    } catch (error) {
      if (!(error instanceof CatalogError)) throw error;
      this.figures.notPriced++;
      return null;
    }
  }
}
