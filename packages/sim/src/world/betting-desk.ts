/**
 * The betting side of a simulated chain of shops (WorldPlan.betting,
 * docs/betting.md): what the clerks, the customers and the operator do with
 * tickets.
 *
 *   sell     each of a clerk's sales is a ticket, asked of the server
 *            online (terminal.sellTicket → POST /v1/authorize through the
 *            SimNetwork, with its faults); a lost answer stays pending and
 *            the terminal asks again with the same op id
 *   void     a share of the approved tickets is voided a few minutes later,
 *            within the void window, on the till that sold it, with the
 *            zone supervisor's PIN approval; another share is attempted
 *            WITHOUT one (a colleague named as approver, no PIN): the till
 *            must refuse it, and if it ever records one the server's staff
 *            check and the checker flag it
 *   results  the operator posts each market's result at its time (one
 *            selection won, the others lost), retried while the server is
 *            down
 *   pay      every ticket the server settled won, void or push comes back
 *            to be paid (terminal.payTicket → POST /v1/authorize payout) at
 *            its own shop or another of the chain; some customers present
 *            the paid ticket again at another shop (the server must decline
 *            it: ticket_paid)
 *
 * The desk only acts through the public SDK and service calls; what really
 * happened is read back from the server's tables (`figures` are what the
 * people at the counter saw).
 */
import { chance, DomainError, pick, type Random, randomIntBetween } from '@holdfast/domain';
import type { BetSelection } from '@holdfast/protocol';
import type { HoldfastService, SqliteStorage } from '@holdfast/server';
import {
  JournalClosedError,
  type OnlineOutcome,
  type RecordedOp,
  SimulatedCrashError,
  StaffError,
  type Terminal,
  TerminalClosedError,
  VoidRefusedError,
} from '@holdfast/terminal';
import type { VirtualClock } from '../virtual-clock.js';
import type { SimLane } from './sim-lane.js';
import { type BettingPlan, SIM_STAFF } from './world-plan.js';

export interface BettingFigures {
  /** Tickets the clerks asked the server for; approved, declined (by reason), still pending when asked. */
  offered: number;
  approved: number;
  declined: Record<string, number>;
  pendingAtSale: number;
  voids: number;
  /** Voids attempted without a supervisor's approval that the till refused before recording. */
  voidsRefusedAtTill: number;
  /** Voids attempted without a supervisor's approval that a till RECORDED (each must be flagged). */
  voidsUnapprovedRecorded: number;
  /** Voids not attempted: the till was down or the shift closed. */
  voidsSkipped: number;
  /**
   * Approved voids the till refused as past the window on its own clock: a
   * till whose clock jumped forward since the sale sees the window passed
   * (conservative: nothing recorded, the ticket stands).
   */
  voidsPastWindowAtTill: number;
  resultsPosted: number;
  /** Payout attempts: approved, declined (by reason), pending when asked, deferred (drawer short, till down). */
  payoutAttempts: number;
  payoutsApproved: number;
  payoutsDeclined: Record<string, number>;
  payoutsPending: number;
  payoutsDeferred: number;
  /** Winners paid at another shop than the one that sold the ticket, and paid tickets presented again. */
  paidElsewhere: number;
  presentedAgain: number;
}

export interface BettingHost {
  clock: VirtualClock;
  random: Random;
  currency: string;
  staffed: boolean;
  lanes: readonly SimLane[];
  /** Bets are taken and paid until here (shifts close after it). */
  until: number;
  service(): HoldfastService | null;
  storage(): SqliteStorage | null;
  /** A void the till recorded (reported like any op the app saw). */
  recorded(lane: SimLane, op: RecordedOp, amount: number, shift: string): void;
  /** Server work (no virtual time) the world must wait for before its next event. */
  track(work: Promise<void>): void;
  onError(lane: SimLane | null, error: unknown): void;
}

const MINUTE = 60_000;
/** A void is done at least this long before its ticket's first market closes. */
const VOID_MARGIN_MS = MINUTE;

export class BettingDesk {
  readonly plan: BettingPlan;
  readonly figures: BettingFigures = {
    offered: 0,
    approved: 0,
    declined: {},
    pendingAtSale: 0,
    voids: 0,
    voidsRefusedAtTill: 0,
    voidsUnapprovedRecorded: 0,
    voidsSkipped: 0,
    voidsPastWindowAtTill: 0,
    resultsPosted: 0,
    payoutAttempts: 0,
    payoutsApproved: 0,
    payoutsDeclined: {},
    payoutsPending: 0,
    payoutsDeferred: 0,
    paidElsewhere: 0,
    presentedAgain: 0,
  };
  readonly #host: BettingHost;
  /** Winning tickets already sent to a counter (by ticket id). */
  readonly #called = new Set<string>();

  constructor(plan: BettingPlan, host: BettingHost) {
    this.plan = plan;
    this.#host = host;
  }

  /** The operator's betting configuration, set before trading. */
  async configure(service: HoldfastService): Promise<void> {
    await service.setBettingConfig({
      limits: [{ currency: this.#host.currency, ...this.plan.limits }],
      suspended: { events: [], markets: [] },
      voidWindowMinutes: this.plan.voidWindowMinutes,
    });
  }

  /** Schedules every market's result. */
  start(): void {
    const byTime = new Map<number, BettingPlan['markets'][number][]>();
    for (const m of this.plan.markets) byTime.set(m.resultAt, [...(byTime.get(m.resultAt) ?? []), m]);
    for (const [at, markets] of byTime) {
      this.#host.clock.setTimer(Math.max(0, at - this.#host.clock.now()), () => this.#postResults(markets));
    }
  }

  /** A customer at `lane` buys a ticket (called by the clerk with the shift open). */
  sell(lane: SimLane, terminal: Terminal): void {
    const host = this.#host;
    const random = lane.clerkRandom;
    const now = host.clock.now();
    const open = this.plan.markets.filter((m) => m.closesAt > now);
    if (open.length === 0 || now >= host.until) return;
    const legs = randomIntBetween(random, 1, Math.max(1, this.plan.maxLegs));
    const selections: BetSelection[] = [];
    const events = new Set<string>();
    for (let i = 0; i < legs * 3 && selections.length < legs; i++) {
      const m = pick(random, open);
      if (events.has(m.event)) continue;
      events.add(m.event);
      const s = pick(random, m.selections);
      selections.push({ event: m.event, market: m.market, selection: s.selection, odds: s.odds });
    }
    const [min, max] = this.plan.stake;
    const stake = randomIntBetween(random, Math.ceil(min / 100), Math.floor(max / 100)) * 100;
    const voiding = chance(random, this.plan.voidShare)
      ? 'approved'
      : chance(random, this.plan.unapprovedVoidShare)
        ? 'unapproved'
        : null;
    // A void comes before the ticket's first market closes (with a margin for a void held offline): after
    // the result it would be a void of a settled ticket, which the server flags (void_invalid).
    const firstClose = Math.min(...selections.map((x) => this.#closesAt(x)));
    const voidAfter = Math.min(
      randomIntBetween(random, this.plan.voidAfterMs[0], this.plan.voidAfterMs[1]),
      firstClose - now - VOID_MARGIN_MS,
    );
    this.#signIn(terminal, lane);
    this.figures.offered++;
    const sold = terminal.sellTicket({ stake, selections });
    // The answer comes over the simulated network, in virtual time: not work the world may wait for.
    void sold.then(
      (outcome) => {
        this.#saleAnswered(outcome);
        if (outcome.state === 'approved' && voiding && voidAfter > 0) {
          host.clock.setTimer(voidAfter, () => this.#void(lane, outcome.opId, stake, voiding));
        }
      },
      (error: unknown) => this.#failed(lane, error),
    );
  }

  #closesAt(x: BetSelection): number {
    return this.plan.markets.find((m) => m.event === x.event && m.market === x.market)?.closesAt ?? 0;
  }

  #saleAnswered(outcome: OnlineOutcome): void {
    const f = this.figures;
    if (outcome.state === 'approved') f.approved++;
    else if (outcome.state === 'pending_confirmation') f.pendingAtSale++;
    else {
      const reason = outcome.state === 'declined' ? outcome.reason : outcome.code;
      f.declined[reason] = (f.declined[reason] ?? 0) + 1;
    }
  }

  /** A void at the till that sold the ticket, with the zone supervisor's PIN approval or, deliberately, without. */
  #void(lane: SimLane, ticket: string, stake: number, how: 'approved' | 'unapproved'): void {
    const terminal = lane.terminal;
    const shift = terminal?.currentShift() ?? null;
    if (!terminal || !shift || this.#host.clock.now() >= this.#host.until) {
      this.figures.voidsSkipped++;
      return;
    }
    // Tills whose clock is minutes off void too: the server places the void on its own clock with the
    // device's estimated offset before judging the window (docs/betting.md §9).
    const supervisor = SIM_STAFF.supervisor(lane.spec.zone);
    try {
      this.#signIn(terminal, lane);
      if (how === 'unapproved') {
        // A colleague named as approver, no PIN: the till must refuse (no supervisor's approval).
        const colleague = this.#host.staffed ? SIM_STAFF.clerk(`${lane.label}-colleague`) : '';
        try {
          const op = terminal.voidTicket({ ticket, approvedBy: colleague });
          this.figures.voidsUnapprovedRecorded++;
          this.#host.recorded(lane, op, stake, shift.id);
        } catch (error) {
          if (!isRefusal(error)) throw error;
          this.figures.voidsRefusedAtTill++;
        }
        return;
      }
      if (this.#host.staffed && terminal.staffRoster() !== null) {
        const body = { shift: shift.id, ticket, currency: shift.currency, amount: stake };
        terminal.approve({ kind: 'ticket.voided', body }, { staff: supervisor }, SIM_STAFF.supervisorPin);
      }
      let op: RecordedOp;
      try {
        op = terminal.voidTicket({ ticket, approvedBy: supervisor, amount: stake });
      } catch (error) {
        // Only the window can refuse a supervisor-approved void here; any other refusal is a failure.
        if (!(error instanceof VoidRefusedError) || !error.message.includes('past the void window')) throw error;
        this.figures.voidsPastWindowAtTill++;
        return;
      }
      this.figures.voids++;
      this.#host.recorded(lane, op, stake, shift.id);
    } catch (error) {
      if (error instanceof DomainError) {
        // The drawer cannot refund the stake now (the shift rules refused before recording).
        this.figures.voidsSkipped++;
        return;
      }
      this.#failed(lane, error);
    }
  }

  #postResults(markets: readonly BettingPlan['markets'][number][]): void {
    const host = this.#host;
    const service = host.service();
    if (!service) {
      // The server is down: the operator tries again shortly.
      host.clock.setTimer(15_000, () => this.#postResults(markets));
      return;
    }
    const byEvent = new Map<string, { market: string; selection: string; result: 'won' | 'lost' }[]>();
    for (const m of markets) {
      const winner = pick(host.random, m.selections).selection;
      const rows = byEvent.get(m.event) ?? [];
      for (const s of m.selections) {
        rows.push({ market: m.market, selection: s.selection, result: s.selection === winner ? 'won' : 'lost' });
      }
      byEvent.set(m.event, rows);
    }
    host.track(
      (async () => {
        for (const [event, results] of byEvent) {
          await service.recordResults(event, { results });
          this.figures.resultsPosted += results.length;
        }
        this.#callWinners();
      })(),
    );
  }

  /** Every ticket the server settled to pay that no counter has seen yet comes back to be paid. */
  #callWinners(): void {
    const host = this.#host;
    const storage = host.storage();
    if (!storage) return;
    const rows = storage.query<{ ticket_id: string; device: string; payout: number }>(
      "SELECT ticket_id, device, payout FROM tickets WHERE state IN ('won', 'void', 'push') ORDER BY ticket_id",
    );
    for (const row of rows) {
      if (this.#called.has(row.ticket_id)) continue;
      this.#called.add(row.ticket_id);
      const random = host.random;
      const home = host.lanes.find((l) => l.deviceId === row.device) ?? pick(random, host.lanes);
      const others = host.lanes.filter((l) => l !== home);
      const lane = others.length > 0 && chance(random, this.plan.elsewhereShare) ? pick(random, others) : home;
      const again = others.length > 0 && chance(random, this.plan.representShare);
      const after = randomIntBetween(random, this.plan.payAfterMs[0], this.plan.payAfterMs[1]);
      const payout = Number(row.payout);
      host.clock.setTimer(after, () => this.#pay(row.ticket_id, payout, lane, lane !== home, again));
    }
  }

  #pay(ticket: string, amount: number, lane: SimLane, elsewhere: boolean, again: boolean): void {
    const host = this.#host;
    const now = host.clock.now();
    if (now >= host.until) return;
    const terminal = lane.terminal;
    if (!terminal || terminal.currentShift() === null) {
      this.figures.payoutsDeferred++;
      host.clock.setTimer(2 * MINUTE, () => this.#pay(ticket, amount, lane, elsewhere, again));
      return;
    }
    if (terminal.pendingConfirmations().some((x) => x.opKind === 'ticket.paid')) {
      // One payout at a time per counter: the till checks its drawer per request, not against payouts still
      // waiting for the server, so the next customer waits until this one is answered.
      this.figures.payoutsDeferred++;
      host.clock.setTimer(MINUTE, () => this.#pay(ticket, amount, lane, elsewhere, again));
      return;
    }
    let paying: Promise<Awaited<ReturnType<Terminal['payTicket']>>>;
    try {
      this.#signIn(terminal, lane);
      paying = terminal.payTicket({ ticket, amount });
    } catch (error) {
      if (!(error instanceof DomainError)) {
        this.#failed(lane, error);
        return;
      }
      // Not enough cash in this drawer yet: the customer comes back later.
      this.figures.payoutsDeferred++;
      host.clock.setTimer(5 * MINUTE, () => this.#pay(ticket, amount, lane, elsewhere, again));
      return;
    }
    this.figures.payoutAttempts++;
    // Answered over the simulated network, in virtual time (see sell).
    void paying.then(
      (outcome) => {
        const f = this.figures;
        if (outcome.state === 'approved' || outcome.state === 'paid_offline') {
          f.payoutsApproved++;
          if (elsewhere) f.paidElsewhere++;
          if (again) {
            const others = host.lanes.filter((l) => l !== lane);
            const next = pick(host.random, others);
            f.presentedAgain++;
            host.clock.setTimer(randomIntBetween(host.random, MINUTE, 20 * MINUTE), () =>
              this.#pay(ticket, amount, next, true, false),
            );
          }
        } else if (outcome.state === 'pending_confirmation') f.payoutsPending++;
        else {
          const reason = outcome.state === 'declined' ? outcome.reason : outcome.code;
          f.payoutsDeclined[reason] = (f.payoutsDeclined[reason] ?? 0) + 1;
        }
      },
      (error: unknown) => {
        if (!(error instanceof DomainError)) return this.#failed(lane, error);
        // Not enough cash in this drawer now (the till's shift rules): the customer comes back later.
        this.figures.payoutsDeferred++;
        host.clock.setTimer(5 * MINUTE, () => this.#pay(ticket, amount, lane, elsewhere, again));
      },
    );
  }

  /** With staff at the till, the lane's clerk is signed in (again after a restart). */
  #signIn(terminal: Terminal, lane: SimLane): void {
    if (!this.#host.staffed || terminal.currentStaff() !== null || terminal.staffRoster() === null) return;
    terminal.signIn({ staff: SIM_STAFF.clerk(lane.label) }, SIM_STAFF.clerkPin);
  }

  /** A till that died under the call is the crash, not a bug; anything else is reported. */
  #failed(lane: SimLane, error: unknown): void {
    const dead =
      error instanceof SimulatedCrashError ||
      error instanceof TerminalClosedError ||
      error instanceof JournalClosedError;
    if (dead) return;
    this.#host.onError(lane, error);
  }
}

/** The till refused a void before recording it (no approver, no supervisor's approval). */
function isRefusal(error: unknown): boolean {
  return error instanceof VoidRefusedError || error instanceof StaffError;
}
