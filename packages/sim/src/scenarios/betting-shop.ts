/**
 * `holdfast demo --scenario betting-shop`: a day in a chain of betting
 * shops, run by SimWorld in virtual time on the latam-intermittent plan
 * (flapping links, lost answers, power cuts, server crashes, drifting
 * clocks) and held to every invariant of the simulator.
 *
 * Each zone's staff roster is at the tills; clerks sign in and sell real
 * tickets online (POST /v1/authorize over the simulated network); some
 * tickets are voided with the supervisor's PIN approval and some voids are
 * attempted without one (the till refuses them); the operator posts each
 * market's result; winners are paid at their shop or another of the chain,
 * some present a paid ticket again elsewhere (declined); the shifts close
 * with blind counts, one clerk in ten miscounting on purpose.
 *
 * The report counts from the server's tables and the journals (what really
 * happened), not from what the simulated people believe. Same seed, same
 * report.
 */
import { SeededRandom } from '@holdfast/domain';
import { checkTruth } from '../check/check-truth.js';
import { drawerRules } from '../check/rules/drawers.js';
import { duplicatesApplied } from '../check/rules/exactly-once.js';
import type { Truth } from '../check/truth.js';
import type { Violation } from '../check/violation.js';
import type { BettingFigures } from '../world/betting-desk.js';
import { SimWorld } from '../world/sim-world.js';
import { worldTruth } from '../world/world-truth.js';
import { latamIntermittent } from './latam-intermittent.js';
import { resolveParams } from './scenario.js';

export interface BettingShopOptions {
  /** Shops (one till each), spread over three countries. */
  shops?: number;
  seed?: number;
  /** Minutes of trading. */
  minutes?: number;
  dataDir?: string;
  onProgress?: (fraction: number, label: string) => void;
  /** Sees the truth the report was counted from (tests tamper with it). */
  onTruth?: (truth: Truth) => void;
}

export interface BettingShopReport {
  scenario: 'betting-shop';
  seed: number;
  shops: number;
  virtualMinutes: number;
  currency: string;
  /** Tickets the server accepted (approved online), and those its results settled (won, lost, void, push, paid). */
  ticketsIssued: number;
  ticketsSettled: number;
  /** Payouts stored (one per ticket at most), their total, and tickets with more than one accepted payout op. */
  payouts: number;
  payoutsTotal: number;
  payoutsTwice: number;
  /** Accepted voids, and those without an approver holding the role (a supervisor at the shop's location). */
  voids: number;
  voidsWithoutApproval: number;
  /**
   * Refunds beyond what their sale took. This branch has no refund op kind: it counts accepted ops of any
   * kind named `*refund*` whose amount exceeds the total of the sale they name (0 while none exist).
   */
  refundsOverSale: number;
  /** Shifts whose server variance differs from what the clerk's count meant (the drawer-honest rule). */
  falseVariances: number;
  recorded: number;
  applied: number;
  lost: number;
  duplicatesApplied: number;
  /** What the people at the counters saw (attempts, declines, refusals at the till). */
  counters: BettingFigures;
  exceptions: Record<string, number>;
  violations: Violation[];
}

export async function runBettingShop(options: BettingShopOptions = {}): Promise<BettingShopReport> {
  const seed = options.seed ?? 7;
  const params = resolveParams(latamIntermittent, 'default', {
    shops: options.shops ?? 6,
    minutes: options.minutes ?? 120,
    voidPct: 8,
    unapprovedVoidPct: 3,
  });
  const plan = latamIntermittent.build(params, new SeededRandom(seed).fork('plan:betting-shop'));
  const world = new SimWorld({
    scenario: 'betting-shop',
    seed,
    plan,
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  try {
    await world.run();
    const truth = worldTruth(world);
    options.onTruth?.(truth);
    const violations = checkTruth(truth);
    let recorded = 0;
    for (const lane of world.lanes) recorded += lane.terminal?.status().latestSeq ?? lane.headSeq;
    const summary = await world.server.summary();
    return {
      scenario: 'betting-shop',
      seed,
      shops: world.lanes.length,
      virtualMinutes: params.minutes as number,
      currency: plan.traffic.currency,
      ...ticketCounts(truth),
      falseVariances: drawerRules(truth).length,
      recorded,
      applied: truth.server.ops.filter((o) => o.status === 'accepted').length,
      lost: violations.filter((v) => v.rule === 'lost' || v.rule === 'recorded-durable').length,
      duplicatesApplied: duplicatesApplied(truth.server),
      counters: structuredClone(world.betting?.figures as BettingFigures),
      exceptions: summary.exceptions,
      violations,
    };
  } finally {
    await world.close();
  }
}

interface Envelope {
  body: Record<string, unknown>;
  actor?: { approvedBy?: string };
}

const SETTLED = new Set(['won', 'lost', 'void', 'push', 'paid']);
const APPROVAL_FLAGS = new Set(['approval_missing', 'approval_role_missing']);

/** The ticket figures of the report, from the server's tables. */
export function ticketCounts(
  truth: Truth,
): Pick<
  BettingShopReport,
  | 'ticketsIssued'
  | 'ticketsSettled'
  | 'payouts'
  | 'payoutsTotal'
  | 'payoutsTwice'
  | 'voids'
  | 'voidsWithoutApproval'
  | 'refundsOverSale'
> {
  const s = truth.server;
  const accepted = new Map(
    s.ops
      .filter((o) => o.status === 'accepted')
      .map((o) => [o.id, { kind: o.kind, id: o.id, ...(JSON.parse(o.envelope) as Envelope) }]),
  );
  const paidOps = new Map<string, number>();
  let voids = 0;
  let unapproved = 0;
  const flagged = new Set(s.exceptions.filter((x) => APPROVAL_FLAGS.has(x.type) && x.opId).map((x) => x.opId));
  for (const e of s.ledger) {
    if (!accepted.has(e.opId)) continue;
    if (e.type === 'ticket.paid') {
      const ticket = String(e.data.ticket);
      paidOps.set(ticket, (paidOps.get(ticket) ?? 0) + 1);
    }
    if (e.type === 'ticket.voided') {
      voids++;
      const op = accepted.get(e.opId);
      const approver = op?.actor?.approvedBy ?? op?.body.approvedBy;
      if (typeof approver !== 'string' || approver.length === 0 || flagged.has(e.opId)) unapproved++;
    }
  }
  const saleTotals = new Map<string, number>();
  const refunds = new Map<string, number>();
  for (const op of accepted.values()) {
    const body = op.body;
    if (op.kind === 'sale.recorded' && Array.isArray(body.lines)) {
      const lines = body.lines as { qty: number; unitPrice: number }[];
      saleTotals.set(
        op.id,
        lines.reduce((sum, l) => sum + l.qty * l.unitPrice, 0),
      );
    }
    if (op.kind.includes('refund') && typeof body.sale === 'string' && typeof body.amount === 'number') {
      refunds.set(body.sale, (refunds.get(body.sale) ?? 0) + body.amount);
    }
  }
  let refundsOverSale = 0;
  for (const [sale, amount] of refunds) if (amount > (saleTotals.get(sale) ?? 0)) refundsOverSale++;
  return {
    ticketsIssued: s.tickets.length,
    ticketsSettled: s.tickets.filter((t) => SETTLED.has(t.state)).length,
    payouts: s.ticketPayouts.length,
    payoutsTotal: s.ticketPayouts.reduce((sum, p) => sum + p.amount, 0),
    payoutsTwice: [...paidOps.values()].filter((n) => n > 1).length,
    voids,
    voidsWithoutApproval: unapproved,
    refundsOverSale,
  };
}
