/**
 * The apply context: what an applier (appliers/) works with while one batch
 * is planned — the plan being built, the shifts as the ops before have left
 * them, the wallet planner, and the one way to raise an exception.
 *
 * Facts recorded offline have already happened, so a shift rule an op breaks
 * (a sale on a closed shift, a drawer count that does not match) never
 * refuses it here: `requireShift` and `applyShift` raise a `shift_rule`
 * exception for reconciliation and the applier goes on recording the op.
 *
 * Built once per batch; records are built as whole literals (no spread of a
 * shared base): at hundreds of ops a batch, objects grown by spreading cost
 * more than the rest of the plan.
 */
import {
  applyLoyaltyEntry,
  balanceAfter,
  type CorrectionFact,
  type CorrectionProblem,
  correctionProblems,
  DomainError,
  type DomainErrorCode,
  reduceShift,
  type SaleFact,
  type Shift,
  type ShiftRuleOptions,
} from '@holdfast/domain';
import type { LoyaltyPointsBody, LoyaltyRule, Op, OpBodies, OpKind } from '@holdfast/protocol';
import type { BettingConfig } from '../authorize/betting-config.js';
import type { DeviceRecord } from '../model/device.js';
import { EXCEPTION_SAMPLE_SIZE, type ExceptionRecord, type ExceptionType } from '../model/exception.js';
import type { LoyaltyFacts, LoyaltyMemberRecord, LoyaltyRedemptionRecord } from '../model/loyalty.js';
import type { OfflinePaymentRecord } from '../model/offline-payment.js';
import { correctionOfRecord, type SaleCorrectionRecord } from '../model/sale-correction.js';
import type { ShiftRecord } from '../model/shift.js';
import type { TicketChange, TicketFact } from '../model/ticket.js';
import type { WalletEntryRecord } from '../model/wallet.js';
import { WalletPlanner } from '../wallets/wallet-plan.js';
import { CashCorrectionPlanner } from './cash-correction-plan.js';
import { problemsByCode } from './correction-judging.js';
import type { IngestFacts } from './ingest-facts.js';
import type { IngestPlan } from './ingest-plan.js';
import { StockPlanner } from './stock-plan.js';
import { TopUpReversalPlanner } from './topup-reversal-plan.js';

/** One chip write as an op carries it: a sale's wristband tender, or a top-up's or refund's body. */
export interface ChipWrite {
  wristband: string;
  amount: number;
  counter: number;
  /** The balance the terminal read from the chip before writing. */
  balanceBefore: number;
}

/** A card as a sale's card tender or a card top-up names it. */
export type CardRef = Pick<OfflinePaymentRecord, 'token' | 'brand' | 'last4'>;

// The server receives cash movements that already happened: an overdraw is flagged, not refused.
const ON_SERVER: ShiftRuleOptions = { allowOverdraw: true };

export class ApplyContext {
  readonly plan: IngestPlan;
  readonly device: DeviceRecord;
  /** Server clock for this batch. */
  readonly now: number;
  readonly #newId: () => string;
  /** The facts' shifts, then each shift this batch changed (a copy, made on its first change). */
  readonly #shifts: Map<string, ShiftRecord>;
  readonly #changedShifts = new Set<string>();
  readonly #wallets: WalletPlanner;
  /** The facts' tickets as the batch's earlier ops left them (copies: facts belong to the caller). */
  readonly #tickets: Map<string, TicketFact>;
  /** The newest betting configuration, if the batch names tickets. */
  readonly bettingConfig: BettingConfig | null;
  /** The facts' loyalty members as the batch's earlier ops left them; the ids changed. */
  readonly #loyalty: Map<string, LoyaltyMemberRecord>;
  readonly #changedLoyalty = new Set<string>();
  /** The facts' online redemptions (by op id), stored sales and policy loyalty rules (by policyRef). */
  readonly #loyaltyFacts: Pick<LoyaltyFacts, 'redemptions' | 'sales' | 'rules'>;
  /** The aggregated exceptions of this batch, by group key. */
  readonly #groups = new Map<string, ExceptionRecord>();
  /** The sales corrections are judged against: the facts', then those the batch records. */
  readonly #sales: Map<string, SaleFact>;
  /** Each sale's corrections as the batch stands (held or counted, in record order; copies). */
  readonly #corrections: Map<string, SaleCorrectionRecord[]>;
  /** Stock levels and movements (stock-plan.ts). */
  readonly stock: StockPlanner;
  /** Top-ups and their reversals (docs/wristbands.md, "Top-up reversal"). */
  readonly topUps: TopUpReversalPlanner;
  /** Cash movements and their corrections (docs/corrections.md, "Cash corrections"). */
  readonly cashCorrections: CashCorrectionPlanner;

  constructor(plan: IngestPlan, facts: IngestFacts, now: number, newId: () => string) {
    this.plan = plan;
    this.device = facts.device;
    this.now = now;
    this.#newId = newId;
    this.#shifts = new Map(facts.shifts);
    this.#wallets = new WalletPlanner(facts.wallets);
    this.#tickets = new Map(facts.tickets?.byId ?? []);
    this.bettingConfig = facts.tickets?.config ?? null;
    this.#loyalty = new Map(facts.loyalty?.members ?? []);
    this.#loyaltyFacts = facts.loyalty ?? { redemptions: new Map(), sales: new Map(), rules: new Map() };
    this.#sales = new Map(facts.sales?.sales ?? []);
    this.#corrections = new Map(
      [...(facts.sales?.corrections ?? [])].map(([id, list]) => [id, list.map((c) => ({ ...c }))]),
    );
    this.stock = new StockPlanner(plan, facts.device.id, now, facts.stock, (...args) => this.raise(...args));
    this.topUps = new TopUpReversalPlanner(plan, facts.device.id, now, facts.topUps, (...args) => this.raise(...args));
    this.cashCorrections = new CashCorrectionPlanner(plan, facts.device.id, now, facts.cashCorrections, (...args) =>
      this.raise(...args),
    );
  }

  /** The loyalty member `id` as the batch stands, or undefined if the server does not know it. */
  loyaltyMember(id: string): LoyaltyMemberRecord | undefined {
    return this.#loyalty.get(id);
  }

  /** The online redemption stored under op id `opId`, if the server confirmed one for it. */
  loyaltyRedemption(opId: string): LoyaltyRedemptionRecord | undefined {
    return this.#loyaltyFacts.redemptions.get(opId);
  }

  /** The loyalty rule of the stored policy `ref`: undefined if not stored, null if it has none. */
  loyaltyRule(ref: string): LoyaltyRule | null | undefined {
    return this.#loyaltyFacts.rules.get(ref);
  }

  /** Total and device of sale `id`: recorded by this batch, or stored; undefined if neither. */
  saleTotal(id: string): { device: string; total: number } | undefined {
    const here = this.#sales.get(id);
    return here ? { device: here.device, total: here.total } : this.#loyaltyFacts.sales.get(id);
  }

  /**
   * Applies one earn or redeem of `op` to its member (who must be known):
   * the entry is planned, the account updated for the batch's later ops.
   * Returns the balance after and whether it opened an overdrawn episode.
   */
  loyaltyEntry(
    op: Op,
    body: LoyaltyPointsBody,
    kind: 'earn' | 'redeem',
    points: number,
  ): { balance: number; overdrawn: boolean } {
    const account = this.#loyalty.get(body.member);
    if (!account) throw new Error(`loyaltyEntry: member ${body.member} is not a fact of this batch`);
    const { totals, overdrawn } = applyLoyaltyEntry(account, op.id, { kind, points });
    this.#loyalty.set(body.member, { ...account, ...totals, updatedAt: this.now });
    this.#changedLoyalty.add(body.member);
    this.plan.loyaltyEntries.push({
      entryId: `${op.id}:${kind}`,
      member: body.member,
      kind,
      points,
      opId: op.id,
      device: this.device.id,
      seq: op.seq,
      sale: body.sale,
      balanceSeen: body.balanceSeen,
      route: kind === 'redeem' ? (body.route ?? null) : null,
      reason: null,
      actor: null,
      at: this.now,
    });
    return { balance: totals.balance, overdrawn };
  }

  /** The sale `id` as the batch stands, or undefined if the server has not stored it. */
  sale(id: string): SaleFact | undefined {
    return this.#sales.get(id);
  }

  /**
   * A sale recorded by this batch: known to the later ops, and each
   * correction held for it (it arrived first, from another device) is
   * judged now, in record order, its `refund_unmatched` resolved.
   */
  addSale(sale: SaleFact, saleOp: Op): void {
    this.#sales.set(sale.id, sale);
    const list = this.#corrections.get(sale.id) ?? [];
    const counted: CorrectionFact[] = [];
    for (const c of list) {
      if (c.state === 'held') {
        this.#judgeCorrection(sale, counted, correctionOfRecord(c), { device: c.device, opId: c.opId, seq: c.seq }, []);
        this.plan.saleCorrectionsJudged.push({
          opId: c.opId,
          judgedAt: this.now,
          heldException: c.heldException,
          saleOp: saleOp.id,
        });
        c.state = 'counted';
        c.judgedAt = this.now;
        c.heldException = null;
      }
      counted.push(correctionOfRecord(c));
    }
  }

  /**
   * A correction of a sale (`sale.voided`, `sale.refunded`,
   * `wallet.refunded`) recorded by `op`: judged against its sale and the
   * corrections counted before it, or held with a `refund_unmatched`
   * exception when the sale is not stored yet. `extra` are problems the
   * applier found itself (approval, a void's tenders).
   */
  correctSale(op: Op, fact: CorrectionFact, extra: readonly CorrectionProblem[]): void {
    const sale = this.#sales.get(fact.sale);
    const list = this.#corrections.get(fact.sale) ?? [];
    this.#corrections.set(fact.sale, list);
    let heldException: string | null = null;
    if (sale) {
      const counted = list.filter((c) => c.state === 'counted').map(correctionOfRecord);
      this.#judgeCorrection(sale, counted, fact, { device: this.device.id, opId: op.id, seq: op.seq }, extra);
    } else {
      heldException = this.raise(
        'refund_unmatched',
        'warning',
        op,
        op.id,
        `${op.kind} names sale ${fact.sale}, which the server has not received: held until it arrives`,
        { sale: fact.sale, kind: op.kind, amount: fact.amount, currency: fact.currency, lines: fact.lines },
      );
    }
    const record: SaleCorrectionRecord = {
      opId: op.id,
      sale: fact.sale,
      kind: fact.kind,
      device: this.device.id,
      seq: op.seq,
      shiftId: fact.shift,
      currency: fact.currency,
      amount: fact.amount,
      lines: fact.lines === null ? null : [...fact.lines],
      state: sale ? 'counted' : 'held',
      heldException,
      deviceAt: op.at,
      recordedAt: this.now,
      judgedAt: sale ? this.now : null,
    };
    list.push({ ...record });
    this.plan.saleCorrections.push(record);
  }

  /** Raises what `fact` breaks against `sale` given the corrections counted before it, grouped by exception type. */
  #judgeCorrection(
    sale: SaleFact,
    counted: readonly CorrectionFact[],
    fact: CorrectionFact,
    about: { device: string; opId: string; seq: number },
    extra: readonly CorrectionProblem[],
  ): void {
    const problems = [...extra, ...correctionProblems(sale, counted, fact)];
    for (const [code, messages] of problemsByCode(problems)) {
      const what = fact.kind === 'sale.voided' ? 'sale void' : 'refund';
      this.#raiseAbout(
        code,
        'alarm',
        about,
        about.opId,
        `${what} of sale ${sale.id} outside the rules: ${messages.join('; ')}`,
        {
          sale: sale.id,
          kind: fact.kind,
          amount: fact.amount,
          currency: fact.currency,
          saleTotal: sale.total,
          refundedBefore: counted.reduce((s, c) => s + c.amount, 0),
          problems: messages,
        },
      );
    }
  }

  /** The ticket `id` as the batch stands, or undefined if the server never accepted it. */
  ticket(id: string): TicketFact | undefined {
    return this.#tickets.get(id);
  }

  /** Moves a ticket on (an offline payout, a void): planned for writing, and seen by the batch's later ops. */
  changeTicket(change: TicketChange): void {
    const fact = this.#tickets.get(change.ticketId);
    if (!fact) throw new Error(`changeTicket: ticket ${change.ticketId} is not a fact of this batch`);
    this.#tickets.set(change.ticketId, {
      ticket: { ...fact.ticket, state: change.event.state },
      payout: change.payout ?? fact.payout,
    });
    this.plan.ticketChanges.push(change);
  }

  /** Raises an exception about `op`; returns its id. `dedupe` is prefixed with the type. */
  raise(
    type: ExceptionType,
    severity: ExceptionRecord['severity'],
    op: Op,
    dedupe: string,
    message: string,
    detail: Record<string, unknown>,
  ): string {
    return this.#raiseAbout(
      type,
      severity,
      { device: this.device.id, opId: op.id, seq: op.seq },
      dedupe,
      message,
      detail,
    );
  }

  /** Raises an exception about the op `about` names (possibly another device's, stored earlier). */
  #raiseAbout(
    type: ExceptionType,
    severity: ExceptionRecord['severity'],
    about: { device: string; opId: string; seq: number },
    dedupe: string,
    message: string,
    detail: Record<string, unknown>,
  ): string {
    const id = this.#newId();
    this.plan.exceptions.push({
      id,
      type,
      severity,
      device: about.device,
      opId: about.opId,
      seq: about.seq,
      message,
      detail,
      raisedAt: this.now,
      dedupeKey: `${type}:${dedupe}`,
    });
    return id;
  }

  /**
   * Raises an aggregated exception about `op`: one row per (type, device,
   * `cause`) while it is open. Within a batch the plan keeps one record per
   * group, counting its ops; storage then adds the record to the group's
   * open row, or opens one (operations/exception-groups.ts). `detail` is the
   * first op's; the record also carries `cause`, the first and last op (id,
   * seq) and the first EXCEPTION_SAMPLE_SIZE op ids.
   */
  raiseAggregated(
    type: ExceptionType,
    severity: ExceptionRecord['severity'],
    op: Op,
    cause: string,
    message: string,
    detail: Record<string, unknown>,
  ): void {
    const groupKey = `${type}:${this.device.id}:${cause}`;
    const open = this.#groups.get(groupKey);
    if (open) {
      open.count = (open.count ?? 1) + 1;
      open.detail.lastOpId = op.id;
      open.detail.lastSeq = op.seq;
      const sample = open.detail.sample as string[];
      if (sample.length < EXCEPTION_SAMPLE_SIZE) sample.push(op.id);
      return;
    }
    const record: ExceptionRecord = {
      id: this.#newId(),
      type,
      severity,
      device: this.device.id,
      opId: op.id,
      seq: op.seq,
      message,
      detail: {
        ...detail,
        cause,
        firstOpId: op.id,
        firstSeq: op.seq,
        lastOpId: op.id,
        lastSeq: op.seq,
        sample: [op.id],
      },
      raisedAt: this.now,
      // A new row of the group is keyed by its first op (stored once), so it never collides with an earlier row.
      dedupeKey: `${groupKey}:${op.id}`,
      count: 1,
      lastSeenAt: this.now,
      groupKey,
    };
    this.#groups.set(groupKey, record);
    this.plan.exceptions.push(record);
  }

  /** Appends a ledger event for `op`. */
  ledger(
    op: Op,
    type: string,
    shiftId: string | null,
    currency: string | null,
    amount: number | null,
    data: Record<string, unknown>,
  ): void {
    this.plan.ledger.push({
      opId: op.id,
      device: this.device.id,
      seq: op.seq,
      type,
      shiftId,
      currency,
      amount,
      data,
      deviceAt: op.at,
      appliedAt: this.now,
    });
  }

  /** A shift rule `op` broke: the fact stands, a `shift_rule` warning is raised. */
  shiftRule(op: Op, code: DomainErrorCode, message: string): void {
    this.raise('shift_rule', 'warning', op, `${op.id}:${code}`, message, { code, kind: op.kind });
  }

  /**
   * The shift `ref` that `op` (described as `what` in the message) belongs
   * to, or null after raising `no_open_shift` when this device never opened
   * it.
   */
  requireShift(op: Op, ref: string, what: string): ShiftRecord | null {
    const shift = this.#shifts.get(ref);
    if (shift && shift.device === this.device.id) return shift;
    this.shiftRule(op, 'no_open_shift', `${what} refers to shift ${ref}, which this device never opened`);
    return null;
  }

  /**
   * Applies `op` to its shift with the domain's shift reducer and returns
   * the shift's record as changed; null, after raising a shift_rule, when
   * the rules refuse it (the shift stays as it was).
   */
  applyShift<K extends OpKind>(op: Op, shift: ShiftRecord, kind: K, body: OpBodies[K]): ShiftRecord | null {
    let next: Shift | null;
    try {
      next = reduceShift(shift, op.id, kind, body, ON_SERVER);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      this.shiftRule(op, error.code, error.message);
      return null;
    }
    return next && this.#update(next);
  }

  /** The device's shifts still open as the batch stands (before the op being applied). */
  *openShifts(): Iterable<ShiftRecord> {
    for (const shift of this.#shifts.values()) {
      if (shift.device === this.device.id && shift.status === 'open') yield shift;
    }
  }

  /** Adds a shift the batch opened. */
  addShift(record: ShiftRecord): void {
    this.#shifts.set(record.id, record);
    this.#changedShifts.add(record.id);
  }

  /**
   * Applies one chip write to its wallet: exceptions for what it reveals,
   * and a `wristband.blocked` ledger event if it blocked the wristband.
   */
  walletWrite(
    op: Op,
    kind: WalletEntryRecord['kind'],
    tenderIndex: number,
    write: ChipWrite,
    currency: string,
    shiftId: string,
  ): void {
    const entry: WalletEntryRecord = {
      opId: op.id,
      tenderIndex,
      wristband: write.wristband,
      kind,
      amount: write.amount,
      currency,
      counter: write.counter,
      balanceBefore: write.balanceBefore,
      balanceAfter: balanceAfter(kind, write.balanceBefore, write.amount),
      device: this.device.id,
      seq: op.seq,
      at: op.at,
      shiftId,
      appliedAt: this.now,
    };
    const { blocked } = this.#wallets.apply(entry, this.device.merchant, (r) =>
      this.raise(r.type, 'alarm', op, r.dedupe, r.message, r.detail),
    );
    if (blocked) {
      this.ledger(op, 'wristband.blocked', null, currency, null, {
        wristband: write.wristband,
        reason: blocked.reason,
        exceptionId: blocked.exceptionId,
      });
    }
  }

  /** The wallet balance of `wristband` as the batch stands, or null if the server has no wallet for it. */
  walletBalance(wristband: string): number | null {
    return this.#wallets.balance(wristband);
  }

  /** Holds a card payment `op` approved offline, to be forwarded to the processor and counted as exposure. */
  offlinePayment(op: Op, tenderIndex: number, amount: number, currency: string, card: CardRef): void {
    this.plan.offlinePayments.push({
      opId: op.id,
      tenderIndex,
      device: this.device.id,
      seq: op.seq,
      tender: 'card',
      amount,
      currency,
      brand: card.brand,
      last4: card.last4,
      token: card.token,
      policy: op.decision.policy,
      approvedAt: op.at,
      receivedAt: this.now,
    });
  }

  /** Completes the plan with the final state of the shifts and wallets the batch changed. */
  finish(): void {
    for (const id of this.#changedShifts) this.plan.shifts.push(this.#shifts.get(id) as ShiftRecord);
    this.plan.wallets = this.#wallets.accounts(this.now);
    this.plan.walletEntries = this.#wallets.entries;
    for (const id of this.#changedLoyalty) this.plan.loyaltyMembers.push(this.#loyalty.get(id) as LoyaltyMemberRecord);
    this.stock.finish();
  }

  /** Takes a shift's new state: its record is copied on its first change in this batch (facts belong to the caller), then updated in place. */
  #update(shift: Shift): ShiftRecord {
    let record = this.#shifts.get(shift.id) as ShiftRecord;
    if (!this.#changedShifts.has(shift.id)) {
      record = { ...record };
      this.#shifts.set(shift.id, record);
      this.#changedShifts.add(shift.id);
    }
    return Object.assign(record, shift);
  }
}
