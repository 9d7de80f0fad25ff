/**
 * The top-up reversal part of the ingest planner (docs/wristbands.md,
 * "Top-up reversal"): knows the top-ups the batch's reversals name (stored,
 * or recorded earlier in the batch) and what was reversed of each, judges
 * each `wallet.topup_reversed` with the domain's rules and raises what it
 * breaks. The fact stands: its cash left the drawer, its chip write is
 * applied; the row is recorded even for an unknown top-up, so a total is
 * never reversed twice.
 */
import { type TopUpRef, topUpReversalProblems } from '@holdfast/domain';
import type { Op, WalletToppedUpBody, WalletTopUpReversedBody } from '@holdfast/protocol';
import type { RaiseException } from '../model/exception.js';
import type { TopUpFacts, TopUpReversalRecord } from '../model/topup-reversal.js';
import { amountsById, raiseProblems, referencedIds } from './correction-judging.js';
import type { IngestPlan } from './ingest-plan.js';

/** The top-up ids the batch's `wallet.topup_reversed` ops name (from unvalidated bodies), for loading and locking. */
export function topUpRefs(ops: readonly Op[]): string[] {
  return referencedIds(ops, 'wallet.topup_reversed', 'topup');
}

export class TopUpReversalPlanner {
  readonly #topUps: Map<string, TopUpRef>;
  readonly #reversed: Map<string, number>;
  readonly #plan: IngestPlan;
  readonly #raise: RaiseException;
  readonly #device: string;
  readonly #now: number;

  constructor(plan: IngestPlan, device: string, now: number, facts: TopUpFacts | undefined, raise: RaiseException) {
    this.#plan = plan;
    this.#device = device;
    this.#now = now;
    this.#raise = raise;
    this.#topUps = new Map(facts?.topUps ?? []);
    this.#reversed = amountsById(facts?.reversals);
  }

  /** A top-up recorded by this batch: a later reversal in the batch may name it. */
  addTopUp(op: Op, body: WalletToppedUpBody): void {
    this.#topUps.set(op.id, {
      id: op.id,
      shift: body.shift,
      wristband: body.wristband,
      currency: body.currency,
      amount: body.amount,
      paid: body.paid,
    });
  }

  /**
   * Judges the reversal `op` against its top-up and the reversals before it
   * (`walletBalance`: the wallet's balance before its chip write, null if the
   * wallet is unknown) and `approval` (what is wrong with its approval, if
   * anything: raised as topup_reversal_invalid), raises what it breaks, and
   * records it.
   */
  reverse(op: Op, body: WalletTopUpReversedBody, walletBalance: number | null, approval: readonly string[]): void {
    const topUp = this.#topUps.get(body.topup);
    const reversedBefore = this.#reversed.get(body.topup) ?? 0;
    const problems = [
      ...approval.map((message) => ({ code: 'topup_reversal_invalid' as const, message })),
      ...topUpReversalProblems(topUp, reversedBefore, body, walletBalance),
    ];
    raiseProblems(this.#raise, op, `top-up reversal of ${body.topup}`, problems, {
      topup: body.topup,
      wristband: body.wristband,
      amount: body.amount,
      currency: body.currency,
      topUpAmount: topUp?.amount ?? null,
      reversedBefore,
      walletBalance,
    });
    this.#reversed.set(body.topup, reversedBefore + body.amount);
    const record: TopUpReversalRecord = {
      opId: op.id,
      topup: body.topup,
      device: this.#device,
      seq: op.seq,
      shiftId: body.shift,
      wristband: body.wristband,
      currency: body.currency,
      amount: body.amount,
      deviceAt: op.at,
      recordedAt: this.#now,
    };
    this.#plan.topUpReversals.push(record);
  }
}
