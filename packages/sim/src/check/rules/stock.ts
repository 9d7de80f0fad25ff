/**
 * The stock rules, from the server's levels, movements, ops and exceptions,
 * recomputed with plain sums and a replay (not with the rules the server
 * applies; docs/catalog-and-stock.md "Stock"):
 *
 *   stock-conserved   per level, received, sold, adjusted and counted are the sums of its
 *                     movements by kind, and start (0) + received − sold ± adjustments and
 *                     counts = the level; every movement is unique and matches an accepted op
 *                     (a receiving's quantity, an adjustment's delta, a sale line's quantity);
 *                     every accepted receiving or adjustment is applied once or has its
 *                     stock_unapplied exception
 *   oversell-flagged  replaying each level's movements in order, every sale that takes it
 *                     below zero while no episode is open starts one; each episode has exactly
 *                     one stock_shortfall (raised on the sale that started it) naming every sale
 *                     of the episode and its lane; no stock_shortfall without an episode
 */
import type { ServerTruth, StockMoveRow, Truth } from '../truth.js';
import type { Violation } from '../violation.js';

export function stockRules(truth: Truth): Violation[] {
  return [...conserved(truth.server), ...oversellFlagged(truth.server)];
}

type StockBody = {
  location?: string;
  sku?: string;
  qty?: number;
  delta?: number;
  lines?: { sku?: string; qty?: number }[];
};

function bodyOf(envelope: string): StockBody {
  try {
    return ((JSON.parse(envelope) as { body?: StockBody }).body ?? {}) as StockBody;
  } catch {
    return {};
  }
}

const key = (location: string, sku: string) => `${location} ${sku}`;

function conserved(server: ServerTruth): Violation[] {
  const out: Violation[] = [];
  const accepted = new Map(server.ops.filter((o) => o.status === 'accepted').map((o) => [o.id, o]));
  const sums = new Map<string, { receive: number; sale: number; adjust: number; count: number }>();
  const seen = new Set<string>();
  const movedOps = new Set<string>();
  for (const m of server.stockMoves) {
    if (seen.has(m.moveId)) {
      out.push({ rule: 'stock-conserved', message: `movement ${m.moveId} applied twice`, opId: m.opId });
      continue;
    }
    seen.add(m.moveId);
    movedOps.add(m.opId);
    const sum = sums.get(key(m.location, m.sku)) ?? { receive: 0, sale: 0, adjust: 0, count: 0 };
    if (m.kind === 'receive' || m.kind === 'sale' || m.kind === 'adjust' || m.kind === 'count') sum[m.kind] += m.delta;
    sums.set(key(m.location, m.sku), sum);
    const op = accepted.get(m.opId);
    if (!op) {
      out.push({ rule: 'stock-conserved', message: `movement ${m.moveId} matches no accepted op`, opId: m.opId });
      continue;
    }
    const body = bodyOf(op.envelope);
    const want =
      m.kind === 'receive'
        ? op.kind === 'stock.received' && body.sku === m.sku
          ? body.qty
          : undefined
        : m.kind === 'adjust'
          ? op.kind === 'stock.adjusted' && body.sku === m.sku
            ? body.delta
            : undefined
          : m.kind === 'sale'
            ? saleLineDelta(op.kind, body, m)
            : op.kind === 'stock.counted' && body.sku === m.sku
              ? m.delta
              : undefined;
    if (want !== m.delta) {
      out.push({
        rule: 'stock-conserved',
        message: `${m.kind} movement ${m.moveId} of ${m.sku}: ${m.delta}, but its ${op.kind} op says ${want ?? 'nothing of it'}`,
        opId: m.opId,
        seq: m.seq,
      });
    }
  }
  for (const l of server.stockLevels) {
    const sum = sums.get(key(l.location, l.sku)) ?? { receive: 0, sale: 0, adjust: 0, count: 0 };
    sums.delete(key(l.location, l.sku));
    const level = l.received - l.sold + l.adjusted + l.counted;
    const fromMoves = sum.receive + sum.sale + sum.adjust + sum.count;
    if (l.received !== sum.receive || l.sold !== -sum.sale || l.adjusted !== sum.adjust || l.counted !== sum.count) {
      out.push({
        rule: 'stock-conserved',
        message:
          `${l.sku} at ${l.location}: received ${l.received}, sold ${l.sold}, adjusted ${l.adjusted}, counted ${l.counted} ` +
          `(level ${level}), but its movements make ${sum.receive}, ${-sum.sale}, ${sum.adjust}, ${sum.count} (level ${fromMoves})`,
      });
    }
  }
  for (const [k, sum] of sums) {
    if (sum.receive + sum.sale + sum.adjust + sum.count !== 0 || sum.receive !== 0) {
      out.push({ rule: 'stock-conserved', message: `movements of ${k}, which has no stock level` });
    }
  }
  const unapplied = new Set(server.exceptions.filter((x) => x.type === 'stock_unapplied').map((x) => x.opId));
  for (const o of accepted.values()) {
    if (o.kind !== 'stock.received' && o.kind !== 'stock.adjusted' && o.kind !== 'stock.counted') continue;
    if (!movedOps.has(o.id) && !unapplied.has(o.id)) {
      out.push({
        rule: 'stock-conserved',
        message: `accepted ${o.kind} was neither applied nor reported stock_unapplied`,
        opId: o.id,
        seq: o.seq,
      });
    }
  }
  return out;
}

/** What a sale line movement should take off: minus the named line's quantity if it sells that SKU. */
function saleLineDelta(kind: string, body: StockBody, m: StockMoveRow): number | undefined {
  if (kind !== 'sale.recorded') return undefined;
  const index = Number(m.moveId.slice(m.moveId.lastIndexOf(':') + 1));
  const line = body.lines?.[index];
  return line?.sku === m.sku && typeof line.qty === 'number' ? -line.qty : undefined;
}

type Episode = { location: string; sku: string; number: number; opener: StockMoveRow; sales: StockMoveRow[] };

function oversellFlagged(server: ServerTruth): Violation[] {
  const out: Violation[] = [];
  const episodes: Episode[] = [];
  const state = new Map<string, { level: number; open: Episode | null; count: number }>();
  for (const m of server.stockMoves) {
    const k = key(m.location, m.sku);
    const s = state.get(k) ?? { level: 0, open: null, count: 0 };
    s.level += m.delta;
    if (m.kind === 'sale' && s.level < 0) {
      if (s.open === null) {
        s.count += 1;
        s.open = { location: m.location, sku: m.sku, number: s.count, opener: m, sales: [] };
        episodes.push(s.open);
      }
      s.open.sales.push(m);
    } else if (m.kind !== 'sale' && s.level >= 0) {
      s.open = null;
    }
    state.set(k, s);
  }
  const flagged = server.exceptions.filter((x) => x.type === 'stock_shortfall');
  const matched = new Set<string>();
  for (const e of episodes) {
    const raised = flagged.filter(
      (x) => x.detail.location === e.location && x.detail.sku === e.sku && x.detail.episode === e.number,
    );
    for (const x of raised) matched.add(x.id);
    const where = { opId: e.opener.opId, seq: e.opener.seq };
    if (raised.length !== 1) {
      out.push({
        rule: 'oversell-flagged',
        message: `oversell ${e.number} of ${e.sku} at ${e.location} has ${raised.length} stock_shortfall exceptions, not 1`,
        ...where,
      });
      continue;
    }
    const x = raised[0] as (typeof raised)[number];
    if (x.opId !== e.opener.opId) {
      out.push({
        rule: 'oversell-flagged',
        message: `stock_shortfall of ${e.sku} at ${e.location} names op ${x.opId}, the oversell began with ${e.opener.opId}`,
        ...where,
      });
    }
    const orders = (x.detail.orders as { sale?: string; line?: number; device?: string }[] | undefined) ?? [];
    const lanes = (x.detail.lanes as string[] | undefined) ?? [];
    for (const sale of e.sales) {
      const line = Number(sale.moveId.slice(sale.moveId.lastIndexOf(':') + 1));
      if (!orders.some((o) => o.sale === sale.opId && o.line === line && o.device === sale.device)) {
        out.push({
          rule: 'oversell-flagged',
          message: `sale ${sale.opId} sold ${sale.sku} beyond stock but its stock_shortfall does not name it`,
          opId: sale.opId,
          seq: sale.seq,
        });
      }
      if (!lanes.includes(sale.device)) {
        out.push({
          rule: 'oversell-flagged',
          message: `lane ${sale.device} oversold ${sale.sku} but its stock_shortfall does not name the lane`,
          opId: sale.opId,
          seq: sale.seq,
        });
      }
    }
    if (orders.length !== e.sales.length) {
      out.push({
        rule: 'oversell-flagged',
        message: `stock_shortfall of ${e.sku} at ${e.location} names ${orders.length} orders, the oversell had ${e.sales.length}`,
        ...where,
      });
    }
  }
  for (const x of flagged) {
    if (!matched.has(x.id)) {
      out.push({
        rule: 'oversell-flagged',
        message: `stock_shortfall ${x.id} (${String(x.detail.sku)} at ${String(x.detail.location)}) matches no oversell`,
        ...(x.opId ? { opId: x.opId } : {}),
      });
    }
  }
  return out;
}
