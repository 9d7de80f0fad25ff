/**
 * TillStock: the last-known stock of the terminal's location, and the soft
 * reservation the till makes while it sells offline
 * (docs/catalog-and-stock.md, "Stock at the till").
 *
 * The device feed delivers the location's levels (inside the signed feed
 * answer) with the device's high-water mark the server read before them;
 * they are checked against the device's location and stored in journal
 * meta in the feed page's transaction. What the till believes is left of a
 * SKU is that level minus its own sales recorded after the mark, plus its
 * own receivings and adjustments after it (a count after it sets the level
 * to what was counted). Other lanes' sales since are not known: the belief
 * is soft, the server has the last word (stock_shortfall).
 *
 * A sale that would take a believed level below zero is announced to the
 * clerk (`check`); it is refused (`out_of_stock`) only when the signed risk
 * policy says `stock.blockWhenOut`.
 */
import {
  type FeedStock,
  type OpKind,
  type Placement,
  type SaleLine,
  SKU_PATTERN,
  ValidationError,
} from '@holdfast/protocol';
import type { Journal } from './journal.js';
import { OPS_PAGE_MAX } from './journal-core.js';
import { META } from './journal-schema.js';

export type StockErrorCode = 'out_of_stock' | 'stock_other_location' | 'not_placed';

/** A stock op or a sale the till refuses; nothing was recorded. */
export class StockError extends Error {
  override readonly name = 'StockError';
  constructor(
    readonly code: StockErrorCode,
    message: string,
    /** For out_of_stock: each line's SKU, what the till believes is left, and what the sale takes. */
    readonly short: readonly StockWarning[] = [],
  ) {
    super(message);
  }
}

/** A sale line the till believes takes more than is left. */
export interface StockWarning {
  sku: string;
  /** What the till believes is left before this sale (may be negative). */
  believed: number;
  /** What the sale takes. */
  selling: number;
}

export class TillStock {
  readonly #journal: Journal;
  readonly #placement: () => Placement | null;
  #held: FeedStock | null | undefined;

  constructor(options: { journal: Journal; placement: () => Placement | null }) {
    this.#journal = options.journal;
    this.#placement = options.placement;
  }

  /** The levels held, or null if the feed never delivered any. */
  held(): FeedStock | null {
    if (this.#held === undefined) {
      const raw = this.#journal.getMeta(META.stock);
      this.#held = raw === null ? null : (JSON.parse(raw) as FeedStock);
    }
    return this.#held;
  }

  /** The version held (0: none), sent with each feed request. */
  version(): number {
    return this.held()?.version ?? 0;
  }

  /**
   * The meta to store for a feed answer's `stock`, after checking its shape
   * and that it is this device's location. Throws ValidationError naming
   * what is wrong (the answer's signature was checked as a whole already).
   */
  stockMeta(stock: unknown, placement?: Placement | null): { meta: Record<string, string>; stock: FeedStock } {
    const s = stock as Partial<FeedStock> | null;
    if (typeof s !== 'object' || s === null) throw new ValidationError('stock', 'an object', String(stock));
    if (typeof s.location !== 'string') throw new ValidationError('stock.location', 'a location', String(s.location));
    const location = (placement ?? this.#placement())?.location ?? null;
    if (location === null || s.location !== location) {
      throw new ValidationError('stock.location', `this device's location ${location ?? '(none)'}`, s.location);
    }
    for (const [field, value] of [
      ['version', s.version],
      ['throughSeq', s.throughSeq],
    ] as const) {
      if (!Number.isSafeInteger(value) || (value as number) < 0) {
        throw new ValidationError(`stock.${field}`, 'an integer ≥ 0', String(value));
      }
    }
    if (!Array.isArray(s.levels)) throw new ValidationError('stock.levels', 'an array', String(s.levels));
    for (const [i, l] of s.levels.entries()) {
      if (typeof l?.sku !== 'string' || !SKU_PATTERN.test(l.sku) || !Number.isSafeInteger(l.qty)) {
        throw new ValidationError(`stock.levels[${i}]`, '{sku, qty: integer}', JSON.stringify(l));
      }
    }
    const clean: FeedStock = {
      location: s.location,
      version: s.version as number,
      throughSeq: s.throughSeq as number,
      levels: s.levels.map((l) => ({ sku: l.sku, qty: l.qty })),
    };
    return { meta: { [META.stock]: JSON.stringify(clean) }, stock: clean };
  }

  /** After the levels' meta committed: hold them. */
  committed(stock: FeedStock): void {
    this.#held = stock;
  }

  /**
   * What the till believes is left of each SKU the server tracks at its
   * location: the last-known level, moved by this till's own ops recorded
   * after the level's mark. SKUs the server does not track are absent.
   */
  believed(): Map<string, number> {
    const held = this.held();
    const out = new Map<string, number>();
    if (!held) return out;
    for (const l of held.levels) out.set(l.sku, l.qty);
    for (let after = held.throughSeq; ; ) {
      const page = this.#journal.ops(after, OPS_PAGE_MAX);
      for (const { op } of page) {
        after = op.seq;
        applyOwn(out, op.kind as OpKind, op.body as Record<string, unknown>, held.location);
      }
      if (page.length < OPS_PAGE_MAX) break;
    }
    return out;
  }

  /** The lines of a sale that would take a believed level below zero (empty: none, or nothing known). */
  check(lines: readonly Pick<SaleLine, 'sku' | 'qty'>[]): StockWarning[] {
    const believed = this.believed();
    const selling = new Map<string, number>();
    for (const l of lines) if (believed.has(l.sku)) selling.set(l.sku, (selling.get(l.sku) ?? 0) + l.qty);
    const out: StockWarning[] = [];
    for (const [sku, qty] of selling) {
      const left = believed.get(sku) as number;
      if (left - qty < 0) out.push({ sku, believed: left, selling: qty });
    }
    return out;
  }

  /** Throws `out_of_stock` when `block` and the sale would take a believed level below zero; else its warnings. */
  enforce(lines: readonly Pick<SaleLine, 'sku' | 'qty'>[], block: boolean): StockWarning[] {
    const short = this.check(lines);
    if (block && short.length > 0) {
      throw new StockError(
        'out_of_stock',
        `out of stock: ${short.map((s) => `${s.sku} (${Math.max(s.believed, 0)} left, selling ${s.selling})`).join(', ')}`,
        short,
      );
    }
    return short;
  }

  /** A stock op's location must be this till's: `not_placed` or `stock_other_location` before anything is written. */
  assertLocation(location: string): void {
    const mine = this.#placement()?.location ?? null;
    if (mine === null) throw new StockError('not_placed', 'this till is placed at no location: it records no stock');
    if (location !== mine) {
      throw new StockError('stock_other_location', `this till is at ${mine}: it cannot record stock of ${location}`);
    }
  }
}

/** Moves the believed levels by one of this till's own ops (after the level's mark). */
function applyOwn(levels: Map<string, number>, kind: OpKind, body: Record<string, unknown>, location: string): void {
  if (kind === 'sale.recorded') {
    for (const line of (body.lines as { sku: string; qty: number }[] | undefined) ?? []) {
      const left = levels.get(line.sku);
      if (left !== undefined) levels.set(line.sku, left - line.qty);
    }
    return;
  }
  if (body.location !== location || typeof body.sku !== 'string') return;
  const left = levels.get(body.sku) ?? 0;
  if (kind === 'stock.received') levels.set(body.sku, left + Number(body.qty));
  else if (kind === 'stock.adjusted') levels.set(body.sku, left + Number(body.delta));
  else if (kind === 'stock.counted') levels.set(body.sku, Number(body.counted));
}
