/**
 * The cash correction part of the ingest planner (docs/corrections.md,
 * "Cash corrections"): knows the `cash.moved` ops the batch's corrections
 * name (stored, or recorded earlier in the batch) and what was corrected of
 * each, judges each `cash.corrected` with the domain's rules and raises
 * what it breaks. The fact stands: its cash moved in the drawer; the row is
 * recorded even for an unknown movement, so a total is never corrected
 * twice.
 *
 * A till corrects only movements it recorded itself, and a device's ops
 * arrive in order, so an honest correction never reaches the server before
 * its movement: one naming a movement the server does not have is raised
 * at once (`cash_correction_invalid`), not held.
 */
import { type CashMovementRef, cashCorrectionProblems } from '@holdfast/domain';
import type { CashCorrectedBody, CashMovedBody, Op } from '@holdfast/protocol';
import type { CashCorrectionFacts, CashCorrectionRecord } from '../model/cash-correction.js';
import type { RaiseException } from '../model/exception.js';
import { amountsById, raiseProblems, referencedIds } from './correction-judging.js';
import type { IngestPlan } from './ingest-plan.js';

/** The movement ids the batch's `cash.corrected` ops name (from unvalidated bodies), for loading and locking. */
export function cashCorrectionRefs(ops: readonly Op[]): string[] {
  return referencedIds(ops, 'cash.corrected', 'movement');
}

export class CashCorrectionPlanner {
  readonly #movements: Map<string, CashMovementRef>;
  readonly #reasons: Map<string, string>;
  readonly #corrected: Map<string, number>;
  readonly #plan: IngestPlan;
  readonly #raise: RaiseException;
  readonly #device: string;
  readonly #now: number;

  constructor(
    plan: IngestPlan,
    device: string,
    now: number,
    facts: CashCorrectionFacts | undefined,
    raise: RaiseException,
  ) {
    this.#plan = plan;
    this.#device = device;
    this.#now = now;
    this.#raise = raise;
    this.#movements = new Map(facts?.movements ?? []);
    this.#reasons = new Map([...(facts?.movements ?? [])].map(([id, m]) => [id, m.reason]));
    this.#corrected = amountsById(facts?.corrections);
  }

  /** A movement recorded by this batch: a later correction in the batch may name it. */
  addMovement(op: Op, body: CashMovedBody): void {
    this.#movements.set(op.id, {
      id: op.id,
      device: this.#device,
      currency: body.currency,
      direction: body.direction,
      amount: body.amount,
    });
    this.#reasons.set(op.id, body.reason);
  }

  /** The reason of the movement `id` (stored or in this batch), or null if the server does not have it. */
  movementReason(id: string): string | null {
    return this.#reasons.get(id) ?? null;
  }

  /**
   * Judges the correction `op` against its movement and the corrections
   * before it, and `approval` (what is wrong with its approval, if anything:
   * raised as cash_correction_invalid), raises what it breaks, and records it.
   */
  correct(op: Op, body: CashCorrectedBody, approval: readonly string[]): void {
    const movement = this.#movements.get(body.movement);
    const correctedBefore = this.#corrected.get(body.movement) ?? 0;
    const problems = [
      ...approval.map((message) => ({ code: 'cash_correction_invalid' as const, message })),
      ...cashCorrectionProblems(movement, correctedBefore, { ...body, device: this.#device }),
    ];
    raiseProblems(this.#raise, op, `cash correction of ${body.movement}`, problems, {
      movement: body.movement,
      direction: body.direction,
      amount: body.amount,
      currency: body.currency,
      movementAmount: movement?.amount ?? null,
      movementDevice: movement?.device ?? null,
      correctedBefore,
    });
    this.#corrected.set(body.movement, correctedBefore + body.amount);
    const record: CashCorrectionRecord = {
      opId: op.id,
      movement: body.movement,
      device: this.#device,
      seq: op.seq,
      shiftId: body.shift,
      currency: body.currency,
      direction: body.direction,
      amount: body.amount,
      deviceAt: op.at,
      recordedAt: this.#now,
    };
    this.#plan.cashCorrections.push(record);
  }
}
