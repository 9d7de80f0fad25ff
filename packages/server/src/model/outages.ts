/**
 * Outages and their delta report (issue 12 point 5, docs/reports.md),
 * derived from the stored ops: an op the server received more than
 * `thresholdMs` after its device recorded it was queued offline. `events`
 * are every applied op (the ledger event each op kind writes), not only money. A lane's
 * outage is a run of such ops of one device, consecutive by seq; lane
 * outages whose spans overlap are one outage (one partition, however many
 * lanes it cut off), reported once: per lane, the ops queued, the revenue
 * they carried, the sales at superseded prices and their difference, and
 * the stock shortfalls raised for them.
 *
 * The rule leans on the device clock (`at`): a lane whose clock runs slow
 * by more than the threshold looks offline. The server's own clock-offset
 * estimate per device is not applied here (docs/reports.md).
 */
import type { ReportEvent } from './reports.js';

/** What the outage rule reads of an applied op: its report event (reports.ts) without data or body. */
export type OutageEvent = Pick<
  ReportEvent,
  'opId' | 'device' | 'lane' | 'location' | 'seq' | 'type' | 'currency' | 'amount' | 'deviceAt' | 'receivedAt'
>;

/** The exceptions an outage report counts, per op. */
export interface OutageException {
  opId: string;
  type: string;
  detail: Record<string, unknown>;
}

export interface OutageLane {
  device: string;
  lane: string;
  location: string | null;
  /** Device time of the first op queued. */
  offlineFrom: number;
  /** Device time of the last op queued. */
  offlineUntil: number;
  /** When the server received the first of the backlog (the partition healed). */
  syncedAt: number;
  /** Ops queued (money ops: the ledger's; see docs/reports.md). */
  opsQueued: number;
  /**
   * Per currency: sales queued, their total, returns queued, and the sales
   * raised as `stale_price` with Σ of their differences (negative: customers
   * paid less). Differences are only ever summed within one currency.
   */
  revenue: OutageRevenue[];
  /** Sales raised as `stale_price`, every currency (their differences are per currency in `revenue`). */
  stalePriceSales: number;
  /** `stock_shortfall` exceptions raised for the queued ops (0 where the stock feature is absent). */
  stockShortfalls: number;
}

/** One outage: a span of time and every lane it cut off. */
export interface Outage {
  /** Stable: the id of the first op queued in the outage. */
  id: string;
  start: number;
  /** When the last lane's backlog arrived. */
  end: number;
  lanes: OutageLane[];
  opsQueued: number;
  stalePriceSales: number;
  /** Σ of the lanes' stale-price differences, per currency (none when no sale was stale). */
  stalePriceDifferences: { currency: string; amount: number }[];
  stockShortfalls: number;
}

/** One currency's money in a lane's backlog. */
export interface OutageRevenue {
  currency: string;
  sales: number;
  gross: number;
  returned: number;
  staleSales: number;
  staleDifference: number;
}

const MONEY_IN = new Set(['sale.recorded']);
const MONEY_BACK = new Set(['sale.voided', 'sale.refunded', 'wallet.refunded']);

/** A lane's outage and the id of its first op queued (the outage's id when the lane opens it). */
export interface LaneRun {
  first: string;
  lane: OutageLane;
}

/** The outages among `events`: runs of ops received more than `thresholdMs` after their device recorded them. */
export function findOutages(
  events: readonly OutageEvent[],
  exceptions: readonly OutageException[],
  thresholdMs: number,
): Outage[] {
  const byDevice = new Map<string, OutageEvent[]>();
  for (const e of events) {
    const list = byDevice.get(e.device);
    if (list) list.push(e);
    else byDevice.set(e.device, [e]);
  }
  const lanes: LaneRun[] = [];
  for (const list of byDevice.values()) lanes.push(...deviceLaneRuns(list, exceptions, thresholdMs));
  return mergeLaneRuns(lanes);
}

/**
 * One device's lane outages: `events` are that device's alone, `exceptions`
 * those raised for its ops (others are ignored). The report reads the
 * ledger a device at a time and keeps only these runs, so its memory is one
 * device's window, not the fleet's (docs/performance.md, round five).
 */
export function deviceLaneRuns(
  events: readonly OutageEvent[],
  exceptions: readonly OutageException[],
  thresholdMs: number,
): LaneRun[] {
  const exceptionsOf = new Map<string, OutageException[]>();
  for (const x of exceptions) {
    const list = exceptionsOf.get(x.opId);
    if (list) list.push(x);
    else exceptionsOf.set(x.opId, [x]);
  }
  const runs: LaneRun[] = [];
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  let run: OutageEvent[] = [];
  const flush = () => {
    if (run.length > 0) runs.push(laneOf(run, exceptionsOf));
    run = [];
  };
  for (const e of sorted) {
    // A rejected op (no ledger event) between two queued ones does not end the run.
    if (e.receivedAt - e.deviceAt > thresholdMs) run.push(e);
    else flush();
  }
  flush();
  return runs;
}

/** Lane outages whose spans overlap are one outage (one partition, however many lanes it cut off). */
export function mergeLaneRuns(runs: readonly LaneRun[]): Outage[] {
  const lanes = [...runs].sort(
    (a, b) => a.lane.offlineFrom - b.lane.offlineFrom || a.lane.device.localeCompare(b.lane.device),
  );
  const outages: Outage[] = [];
  let current: Outage | null = null;
  for (const { first, lane } of lanes) {
    if (current && lane.offlineFrom <= current.end) {
      current.lanes.push(lane);
      current.end = Math.max(current.end, lane.syncedAt);
    } else {
      current = {
        id: first,
        start: lane.offlineFrom,
        end: lane.syncedAt,
        lanes: [lane],
        opsQueued: 0,
        stalePriceSales: 0,
        stalePriceDifferences: [],
        stockShortfalls: 0,
      };
      outages.push(current);
    }
  }
  for (const o of outages) {
    o.lanes.sort((a, b) => a.lane.localeCompare(b.lane) || a.device.localeCompare(b.device));
    const differences = new Map<string, number>();
    for (const l of o.lanes) {
      o.opsQueued += l.opsQueued;
      o.stalePriceSales += l.stalePriceSales;
      o.stockShortfalls += l.stockShortfalls;
      for (const r of l.revenue) {
        if (r.staleSales > 0) differences.set(r.currency, (differences.get(r.currency) ?? 0) + r.staleDifference);
      }
    }
    o.stalePriceDifferences = [...differences]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, amount]) => ({ currency, amount }));
  }
  return outages;
}

function laneOf(run: readonly OutageEvent[], exceptionsOf: Map<string, OutageException[]>): LaneRun {
  const first = run[0] as OutageEvent;
  const revenue = new Map<string, OutageRevenue>();
  const revenueIn = (currency: string): OutageRevenue => {
    let r = revenue.get(currency);
    if (!r) {
      r = { currency, sales: 0, gross: 0, returned: 0, staleSales: 0, staleDifference: 0 };
      revenue.set(currency, r);
    }
    return r;
  };
  let stalePriceSales = 0;
  let stockShortfalls = 0;
  // Loops, not Math.min(...run): a spread of a long backlog's run (over ~100,000 ops) overflows the stack.
  let offlineFrom = first.deviceAt;
  let offlineUntil = first.deviceAt;
  let syncedAt = first.receivedAt;
  for (const e of run) {
    offlineFrom = Math.min(offlineFrom, e.deviceAt);
    offlineUntil = Math.max(offlineUntil, e.deviceAt);
    syncedAt = Math.min(syncedAt, e.receivedAt);
    if (e.currency !== null && e.amount !== null && (MONEY_IN.has(e.type) || MONEY_BACK.has(e.type))) {
      const r = revenueIn(e.currency);
      if (MONEY_IN.has(e.type)) {
        r.sales++;
        r.gross += e.amount;
      } else r.returned += e.amount;
    }
    for (const x of exceptionsOf.get(e.opId) ?? []) {
      if (x.type === 'stale_price') {
        stalePriceSales++;
        const d = x.detail.difference;
        // A stale price is raised on a sale, so the op's currency is the difference's.
        if (e.currency !== null && typeof d === 'number' && Number.isSafeInteger(d)) {
          const r = revenueIn(e.currency);
          r.staleSales++;
          r.staleDifference += d;
        }
      } else if (x.type === 'stock_shortfall') stockShortfalls++;
    }
  }
  return {
    first: first.opId,
    lane: {
      device: first.device,
      lane: first.lane,
      location: first.location,
      offlineFrom,
      offlineUntil,
      syncedAt,
      opsQueued: run.length,
      revenue: [...revenue.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
      stalePriceSales,
      stockShortfalls,
    },
  };
}
