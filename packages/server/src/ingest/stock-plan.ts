/**
 * Stock at ingest (docs/catalog-and-stock.md, "Stock"): the batch's stock
 * ops and catalog sale lines applied to the levels ingest loaded (and
 * locked), each movement planned once under its op's id.
 *
 * A sale takes its lines' quantities off the device location's tracked
 * levels. A sale that takes a level below zero opens an oversell episode:
 * one `stock_shortfall` exception names it, and every later sale of the
 * SKU at the location while the level stays below zero joins it (its order
 * and lane are added to the same exception). A receiving, count or
 * adjustment that brings the level back to zero or above closes the
 * episode; the next oversell opens a new one.
 */
import type { Op, SaleBody, StockAdjustedBody, StockCountedBody, StockReceivedBody } from '@holdfast/protocol';
import type { RaiseException } from '../model/exception.js';
import {
  emptyLevel,
  type ShortfallOrder,
  type StockFacts,
  type StockLevelRecord,
  type StockMoveKind,
  shortfallDedupe,
} from '../model/stock.js';
import type { IngestPlan } from './ingest-plan.js';

type StockOpBody = StockReceivedBody | StockCountedBody | StockAdjustedBody;

export class StockPlanner {
  readonly #plan: IngestPlan;
  readonly #device: string;
  readonly #now: number;
  readonly #raise: RaiseException;
  readonly #location: string | null;
  readonly #catalog: ReadonlySet<string>;
  /** The levels as the batch's earlier ops left them (copies: facts belong to the caller). */
  readonly #levels = new Map<string, StockLevelRecord>();
  readonly #changed = new Set<string>();

  constructor(plan: IngestPlan, device: string, now: number, facts: StockFacts | undefined, raise: RaiseException) {
    this.#plan = plan;
    this.#device = device;
    this.#now = now;
    this.#raise = raise;
    this.#location = facts?.location ?? null;
    this.#catalog = facts?.catalogSkus ?? new Set();
    for (const [sku, level] of facts?.levels ?? []) this.#levels.set(sku, { ...level });
  }

  /** A receiving, count or adjustment: applied to the device location's level, or `stock_unapplied` saying why not. */
  stockOp(op: Op, kind: Exclude<StockMoveKind, 'sale'>, body: StockOpBody): void {
    const refusal =
      this.#location === null
        ? 'the device is not placed at a location'
        : body.location !== this.#location
          ? `the device is placed at ${this.#location}, not ${body.location}`
          : !this.#catalog.has(body.sku)
            ? `SKU ${body.sku} is not in the catalog`
            : null;
    if (refusal !== null) {
      this.#raise(
        'stock_unapplied',
        'warning',
        op,
        op.id,
        `${op.kind} of ${body.sku} at ${body.location} (seq ${op.seq}) not applied: ${refusal}`,
        { kind: op.kind, location: body.location, sku: body.sku, deviceLocation: this.#location, reason: refusal },
      );
      return;
    }
    const location = this.#location as string;
    const level = this.#levels.get(body.sku) ?? emptyLevel(location, body.sku, this.#now);
    let delta: number;
    let note: string | null = null;
    if ('qty' in body) {
      delta = body.qty;
      level.received += delta;
      note = body.reference ?? null;
    } else if ('counted' in body) {
      delta = body.counted - level.qty;
      level.counted += delta;
    } else {
      delta = body.delta;
      level.adjusted += delta;
      note = body.note === undefined ? body.reason : `${body.reason}: ${body.note}`;
    }
    level.tracked = true;
    level.qty += delta;
    if (level.qty >= 0) level.shortEpisode = null;
    this.#move(op, level, kind, op.id, delta, null, note);
  }

  /** A sale: each line of a SKU tracked at the device's location takes its quantity off the level. */
  sale(op: Op, body: SaleBody): void {
    if (this.#location === null) return;
    for (let i = 0; i < body.lines.length; i++) {
      const line = body.lines[i] as SaleBody['lines'][number];
      const level = this.#levels.get(line.sku);
      if (!level?.tracked) continue;
      const before = level.qty;
      level.sold += line.qty;
      level.qty -= line.qty;
      let episode: number | null = null;
      if (level.qty < 0) {
        const order: ShortfallOrder = {
          sale: op.id,
          device: this.#device,
          seq: op.seq,
          line: i,
          qty: line.qty,
          after: level.qty,
        };
        if (level.shortEpisode === null) {
          level.episodes += 1;
          level.shortEpisode = level.episodes;
          this.#openEpisode(op, level, before, order);
        } else {
          this.#joinEpisode(level, order);
        }
        episode = level.shortEpisode;
      }
      this.#move(op, level, 'sale', `${op.id}:${i}`, -line.qty, episode, null);
    }
  }

  /** Puts the changed levels in the plan (final state). */
  finish(): void {
    for (const sku of this.#changed) this.#plan.stockLevels.push({ ...(this.#levels.get(sku) as StockLevelRecord) });
  }

  #openEpisode(op: Op, level: StockLevelRecord, before: number, order: ShortfallOrder): void {
    const episode = level.shortEpisode as number;
    this.#raise(
      'stock_shortfall',
      'warning',
      op,
      shortfallDedupe(level.location, level.sku, episode),
      `sold more ${level.sku} at ${level.location} than was in stock (${Math.max(before, 0)} left, sold ${order.qty})`,
      {
        location: level.location,
        sku: level.sku,
        episode,
        levelBefore: before,
        shortBy: -order.after,
        orders: [order],
        lanes: [order.device],
      },
    );
  }

  #joinEpisode(level: StockLevelRecord, order: ShortfallOrder): void {
    const dedupeKey = `stock_shortfall:${shortfallDedupe(level.location, level.sku, level.shortEpisode as number)}`;
    const raised = this.#plan.exceptions.find((x) => x.dedupeKey === dedupeKey);
    if (raised) {
      addShortfallOrder(raised.detail, order);
      return;
    }
    this.#plan.stockShortfallJoins.push({ dedupeKey, order });
  }

  #move(
    op: Op,
    level: StockLevelRecord,
    kind: StockMoveKind,
    moveId: string,
    delta: number,
    episode: number | null,
    note: string | null,
  ): void {
    level.updatedAt = this.#now;
    this.#levels.set(level.sku, level);
    this.#changed.add(level.sku);
    this.#plan.stockMoves.push({
      moveId,
      location: level.location,
      sku: level.sku,
      kind,
      delta,
      after: level.qty,
      opId: op.id,
      device: this.#device,
      seq: op.seq,
      episode,
      note,
      deviceAt: op.at,
      at: this.#now,
    });
  }
}

/** Adds one order to a `stock_shortfall` exception's detail: its orders, lanes and how far short the level went. */
export function addShortfallOrder(detail: Record<string, unknown>, order: ShortfallOrder): Record<string, unknown> {
  const orders = (detail.orders as ShortfallOrder[] | undefined) ?? [];
  const lanes = (detail.lanes as string[] | undefined) ?? [];
  if (!orders.some((o) => o.sale === order.sale && o.line === order.line)) orders.push(order);
  if (!lanes.includes(order.device)) lanes.push(order.device);
  detail.orders = orders;
  detail.lanes = lanes;
  detail.shortBy = Math.max(typeof detail.shortBy === 'number' ? detail.shortBy : 0, -order.after);
  return detail;
}
