/**
 * Sale corrections at the counters (docs/corrections.md), driven on cash
 * sales of a staffed world (a roster: a supervisor approves every
 * correction with a PIN at the till):
 *
 *   void      a share of the sales is voided at once, in the same shift on
 *             the same till, with the zone supervisor's approval; another
 *             share is attempted WITHOUT an approval (the till must refuse:
 *             StaffError approval_required)
 *   refund    a share of the customers come back later for a refund, whole
 *             or part, in cash: at the till that sold it (which judges it
 *             from its journal) or at another till of the chain (on the
 *             clerk's word; the sale may reach the server after the refund:
 *             held, then judged when it lands)
 *   over      a share of the refunds at another till give back more than
 *             the sale took (that till cannot see the sale): the server
 *             must raise `refund_over_sale`, and the checker then accepts
 *             the over-refund as a flagged fact
 *
 * Each sale is corrected at most once by this traffic except an over-refund
 * (a whole refund at its own till would refuse it). Deterministic per seed:
 * its own Random, forked from the world's.
 */
import { chance, DomainError, pick, type Random, randomIntBetween } from '@holdfast/domain';
import {
  CorrectionRefusedError,
  type RecordedOp,
  SimulatedCrashError,
  StaffError,
  type Terminal,
} from '@holdfast/terminal';
import type { VirtualClock } from '../virtual-clock.js';
import type { SimLane } from './sim-lane.js';
import { type CorrectionPlan, SIM_STAFF } from './world-plan.js';

export interface CorrectionFigures {
  /** Sale voids recorded with a supervisor's approval. */
  saleVoids: number;
  /** Voids attempted without an approval that the till refused, and (a bug: each must be flagged) recorded. */
  saleVoidsRefusedAtTill: number;
  saleVoidsUnapprovedRecorded: number;
  /** Cash refunds recorded: at the selling till, at another till; whole or part; deliberate over-refunds. */
  refunds: number;
  refundsElsewhere: number;
  refundsPartial: number;
  overRefunds: number;
  /** Corrections not attempted (till down, no shift, drawer short, refused by the till's own rules). */
  skipped: number;
}

export interface CorrectionHost {
  clock: VirtualClock;
  lanes: readonly SimLane[];
  /** No correction is attempted from here on (the shifts close). */
  until: number;
  recorded(lane: SimLane, op: RecordedOp, amount: number, shift: string): void;
  onError(lane: SimLane, error: unknown): void;
}

export class CorrectionTraffic {
  readonly plan: CorrectionPlan;
  readonly figures: CorrectionFigures = {
    saleVoids: 0,
    saleVoidsRefusedAtTill: 0,
    saleVoidsUnapprovedRecorded: 0,
    refunds: 0,
    refundsElsewhere: 0,
    refundsPartial: 0,
    overRefunds: 0,
    skipped: 0,
  };
  readonly #random: Random;
  readonly #host: CorrectionHost;

  constructor(plan: CorrectionPlan, host: CorrectionHost, random: Random) {
    this.plan = plan;
    this.#host = host;
    this.#random = random;
  }

  /** After a cash sale `op` of `total` on `lane`: perhaps void it now, or send its customer back later. */
  afterSale(lane: SimLane, terminal: Terminal, op: RecordedOp, total: number): void {
    if (op.kind !== 'sale.recorded' || total <= 0 || terminal.staffRoster() === null) return;
    const r = this.#random.float();
    const p = this.plan;
    if (r < p.voidShare) this.#void(lane, terminal, op.id, total, 'approved');
    else if (r < p.voidShare + p.unapprovedVoidShare) this.#void(lane, terminal, op.id, total, 'unapproved');
    else if (r < p.voidShare + p.unapprovedVoidShare + p.refundShare) {
      const elsewhere = this.#host.lanes.length > 1 && chance(this.#random, p.elsewhereShare);
      const over = elsewhere && chance(this.#random, p.overShare);
      const partial = !over && total > 1 && chance(this.#random, p.partialShare);
      const amount = over
        ? total + randomIntBetween(this.#random, 1, 20) * 100
        : partial
          ? randomIntBetween(this.#random, 1, total - 1)
          : total;
      const at = elsewhere
        ? pick(
            this.#random,
            this.#host.lanes.filter((l) => l !== lane),
          )
        : lane;
      const after = randomIntBetween(this.#random, p.refundAfterMs[0], p.refundAfterMs[1]);
      this.#host.clock.setTimer(after, () => this.#refund(at, op.id, amount, { elsewhere, over, partial }));
    }
  }

  #void(lane: SimLane, terminal: Terminal, sale: string, total: number, how: 'approved' | 'unapproved'): void {
    const shift = terminal.currentShift();
    if (!shift) return;
    try {
      if (how === 'approved') {
        const body = terminal.voidSaleBody({ sale });
        terminal.approve(
          { kind: 'sale.voided', body },
          { staff: SIM_STAFF.supervisor(lane.spec.zone) },
          SIM_STAFF.supervisorPin,
        );
      }
      const op = terminal.voidSale({ sale });
      if (how === 'approved') this.figures.saleVoids++;
      else this.figures.saleVoidsUnapprovedRecorded++;
      this.#host.recorded(lane, op, total, shift.id);
    } catch (error) {
      if (how === 'unapproved' && error instanceof StaffError) this.figures.saleVoidsRefusedAtTill++;
      else if (error instanceof CorrectionRefusedError || error instanceof DomainError) this.figures.skipped++;
      else throw error;
    }
  }

  #refund(lane: SimLane, sale: string, amount: number, how: { elsewhere: boolean; over: boolean; partial: boolean }) {
    const terminal = lane.terminal;
    const shift = terminal?.currentShift() ?? null;
    if (!terminal || !shift || this.#host.clock.now() >= this.#host.until || terminal.staffRoster() === null) {
      this.figures.skipped++;
      return;
    }
    const input = { sale, amount, tender: 'cash' as const };
    try {
      if (terminal.currentStaff() === null) {
        terminal.signIn({ staff: SIM_STAFF.clerk(lane.label) }, SIM_STAFF.clerkPin);
      }
      const body = terminal.refundSaleBody(input);
      terminal.approve(
        { kind: 'sale.refunded', body },
        { staff: SIM_STAFF.supervisor(lane.spec.zone) },
        SIM_STAFF.supervisorPin,
      );
      const op = terminal.refundSale(input);
      this.figures.refunds++;
      if (how.elsewhere) this.figures.refundsElsewhere++;
      if (how.partial) this.figures.refundsPartial++;
      if (how.over) this.figures.overRefunds++;
      this.#host.recorded(lane, op, amount, shift.id);
    } catch (error) {
      if (error instanceof CorrectionRefusedError || error instanceof DomainError) this.figures.skipped++;
      else if (!(error instanceof SimulatedCrashError)) this.#host.onError(lane, error);
    }
  }
}
