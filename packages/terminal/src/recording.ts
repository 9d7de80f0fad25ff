/**
 * Recorder: the one path by which an op enters the journal, and the shift
 * it keeps.
 *
 * Every op — a plain record, a wristband op that promises a chip write, an
 * op the server approved online — is described by one `RecordPlan` and
 * recorded by `record(plan)`:
 *
 *   check kind, body, decision, device clock ── refused: nothing written, no seq used
 *     ──▶ op id (generated, or the one the server approved)
 *     ──▶ shift rules (an approval only moves the shift it was asked in)
 *     ──▶ offline decision: card policy, or the chip plan's wristband limits
 *     ──▶ ONE journal transaction: the op (with the shift it leads to) + exposure meta,
 *         the chip write it promises, the approval it fulfils
 *     ──▶ in memory: shift, exposure; `recorded` event
 */
import {
  type Clock,
  DomainError,
  type OfflineExposure,
  type Random,
  reduceShift,
  SHIFT_RULES,
  type Shift,
  type ShiftRuleOptions,
} from '@holdfast/domain';
import {
  type Actor,
  type CashMovedBody,
  type CashMovementReason,
  type Customer,
  type Decision,
  decisionSchema,
  deviceOpId,
  epochMs,
  isKnownKind,
  NO_DECISION,
  OP_KINDS,
  type Op,
  type OpBodies,
  type OpKind,
  type Placement,
  parseBody,
  type SaleBody,
  type SaleLine,
  type ShiftClosedBody,
  type Tender,
  ValidationError,
} from '@holdfast/protocol';
import { RecordOutcomeUnknownError } from './errors.js';
import type { Journal } from './journal.js';
import type { OfflineDecisions } from './offline-decisions.js';
import type { TillStaff } from './staff.js';
import type { Credentials } from './sync-events.js';
import type { RecordedOp } from './terminal-types.js';
import type { PendingChipWrite, WristbandStore } from './wristband.js';

/** The chip part of recording a wristband op: decided once the op id and time are known. */
export type ChipPlan = (
  id: string,
  at: number,
  deviceId: string,
) => {
  decision: Decision;
  meta: Record<string, string>;
  exposure: OfflineExposure | null;
  write: Omit<PendingChipWrite, 'opId' | 'recordedAt' | 'writtenAt'>;
};

/** An approval by the server (POST /v1/authorize) that an op fulfils. */
export interface ApprovalPlan {
  /** The op id the server approved: the op takes it. */
  opId: string;
  /** Marks the approval recorded; runs inside the op's transaction. */
  markApproved: (op: Op) => void;
}

/** Everything `Recorder.record` needs to know about one op. */
export interface RecordPlan<K extends OpKind = OpKind> {
  kind: K;
  body: OpBodies[K];
  /** Default NO_DECISION; a card sale under 'enforce' or a chip plan decides it instead. */
  decision?: Decision;
  /** Only for a wristband op (wristband-payments.ts): its wristband limits and the chip write it promises. */
  chip?: ChipPlan;
  /** Only for an op whose id was promised to the server before recording (an online loyalty redemption). */
  id?: string;
  /**
   * Only for an op the server approved online (online-sales.ts). It changes
   * the local shift only if its shift is still the open one: a late approval
   * after the shift closed is still the fact; the server reconciles.
   */
  approval?: ApprovalPlan;
  /**
   * Only with `approval`: who asked for it (staff.ts), stamped on the op.
   * Other ops are stamped with the member signed in now.
   */
  actor?: Actor;
}

export interface RecorderOptions {
  journal: Journal;
  clock: Clock;
  idRandom: Random;
  policy: OfflineDecisions;
  wristbands: WristbandStore;
  /** Staff at the till: who is signed in, and the approvals ops use up. */
  staff: TillStaff;
  /** offlineCardPolicy 'enforce': card sales are decided under the risk policy. */
  enforceCards: boolean;
  /** The device's credentials; throws (closed, not enrolled, revoked) when it may not record. */
  canRecord: () => Credentials;
  placement: () => Placement | null;
  /** Called after every committed op. */
  onRecorded: (op: RecordedOp) => void;
  /** Called when an op's recording ended in a disk error (outcome unknown; the journal is closed). */
  onOutcomeUnknown?: (id: string) => void;
}

export class Recorder {
  readonly #journal: Journal;
  readonly #clock: Clock;
  readonly #idRandom: Random;
  readonly #policy: OfflineDecisions;
  readonly #wristbands: WristbandStore;
  readonly #staff: TillStaff;
  readonly #enforceCards: boolean;
  readonly #canRecord: () => Credentials;
  readonly #placement: () => Placement | null;
  readonly #onRecorded: (op: RecordedOp) => void;
  readonly #onOutcomeUnknown: (id: string) => void;
  #shift: Shift | null;

  constructor(options: RecorderOptions) {
    this.#journal = options.journal;
    this.#clock = options.clock;
    this.#idRandom = options.idRandom;
    this.#policy = options.policy;
    this.#wristbands = options.wristbands;
    this.#staff = options.staff;
    this.#enforceCards = options.enforceCards;
    this.#canRecord = options.canRecord;
    this.#placement = options.placement;
    this.#onRecorded = options.onRecorded;
    this.#onOutcomeUnknown = options.onOutcomeUnknown ?? (() => undefined);
    const shift = options.journal.latestShift();
    this.#shift = shift ? (JSON.parse(shift) as Shift) : null;
  }

  /** The open shift, or null. Survives restarts (it is committed with the op that changed it). */
  currentShift(): Shift | null {
    return this.#shift?.status === 'open' ? { ...this.#shift } : null;
  }

  /** The latest shift, open or closed, or null. */
  lastShift(): Shift | null {
    return this.#shift ? { ...this.#shift } : null;
  }

  /** The open shift; throws as `canRecord` does, or DomainError no_open_shift. */
  requireOpenShift(): Shift {
    this.#canRecord();
    const shift = this.#shift;
    if (shift?.status !== 'open') throw new DomainError('no_open_shift', 'no shift is open on this terminal');
    return shift;
  }

  /** Records any op kind the terminal records on its own word (tickets go through the server). */
  recordAny<K extends OpKind>(kind: K, body: OpBodies[K], decision: Decision = NO_DECISION): RecordedOp {
    if (kind === 'ticket.issued' || kind === 'ticket.paid' || kind === 'ticket.voided') {
      throw new ValidationError(
        'kind',
        'a kind recorded without the server or an approval (tickets: sellTicket, payTicket, voidTicket)',
        kind,
      );
    }
    return this.record({ kind, body, decision });
  }

  recordSale(input: { lines: SaleLine[]; tenders: Tender[]; customer?: Customer }): RecordedOp {
    const shift = this.requireOpenShift();
    return this.recordAny('sale.recorded', this.saleBody(shift, input));
  }

  recordCashMovement(input: {
    direction: 'in' | 'out';
    reason: CashMovementReason;
    amount: number;
    note?: string;
  }): RecordedOp {
    const shift = this.requireOpenShift();
    const body: CashMovedBody = { shift: shift.id, currency: shift.currency, ...input };
    return this.recordAny('cash.moved', body);
  }

  closeShift(input: { countedCash: number; note?: string }): RecordedOp {
    const shift = this.requireOpenShift();
    const body: ShiftClosedBody = { shift: shift.id, currency: shift.currency, ...input };
    return this.recordAny('shift.closed', body);
  }

  /** A sale's body in `shift`, its total computed from the lines. */
  saleBody(shift: Shift, input: { lines: SaleLine[]; tenders: Tender[]; customer?: Customer }): SaleBody {
    // Plain arithmetic: a malformed line must reach parseBody, which names its field.
    let total = 0;
    for (const line of Array.isArray(input.lines) ? input.lines : []) {
      total += line.qty * line.unitPrice - (line.discount ?? 0);
    }
    return {
      shift: shift.id,
      currency: shift.currency,
      lines: input.lines,
      total,
      tenders: input.tenders,
      ...(input.customer !== undefined ? { customer: input.customer } : {}),
    };
  }

  /** The actor an op of `kind` would be stamped with now; throws StaffError as recording would (staff.ts). */
  staffStamp<K extends OpKind>(kind: K, body: OpBodies[K]): ReturnType<TillStaff['stamp']> {
    return this.#staff.stamp(kind, body);
  }

  /** Marks a staff approval used by op `opId` (inside the caller's journal transaction). */
  useStaffApproval(approvalId: string, opId: string): void {
    this.#staff.useApproval(approvalId, opId);
  }

  /** Throws DomainError if the shift rules refuse `kind` now; changes nothing. */
  checkShiftRules(kind: OpKind, body: OpBodies[OpKind], id: string): void {
    this.#shiftAfter(kind, body, id);
  }

  /** Records the op `plan` describes (see the file comment); returns it once committed. */
  record<K extends OpKind>(plan: RecordPlan<K>): RecordedOp {
    const { kind, body, chip, approval } = plan;
    const credentials = this.#canRecord();
    if (!isKnownKind(kind)) throw new ValidationError('kind', `one of ${OP_KINDS.join(', ')}`, String(kind));
    const parsed = parseBody(kind, body);
    if (!chip) refuseChipOps(kind, parsed);
    const checkedDecision = decisionSchema.parse(plan.decision ?? NO_DECISION, 'decision');
    // A device clock outside the protocol's range would make an op no server can accept, blocking the chain.
    const at = epochMs().parse(this.#clock.now(), 'at');
    const id = approval?.opId ?? plan.id ?? deviceOpId(credentials.deviceId, at, this.#idRandom.bytes(6));
    const shift = approval ? this.#shiftAfterApproval(kind, parsed, id) : this.#shiftAfter(kind, parsed, id);
    // An online approval is a fact already: it carries the actor who asked for it, checked then.
    const stamp = approval ? { actor: plan.actor, approvalId: null } : this.#staff.stamp(kind, parsed);
    const meta: Record<string, string> = {};
    let opDecision: Decision = checkedDecision;
    let exposure: OfflineExposure | null = null;
    const sale = kind === 'sale.recorded' ? (parsed as SaleBody) : null;
    if (this.#enforceCards && sale?.tenders.some((t) => t.type === 'card') && checkedDecision.mode !== 'online') {
      const authorized = this.#policy.authorizeCardSale({
        id,
        at,
        deviceId: credentials.deviceId,
        placement: this.#placement(),
        currency: sale.currency,
        tenders: sale.tenders,
      });
      opDecision = authorized.decision;
      exposure = authorized.exposure;
      Object.assign(meta, authorized.meta);
    }
    const planned = chip ? chip(id, at, credentials.deviceId) : null;
    if (planned) {
      opDecision = planned.decision;
      exposure = planned.exposure;
      Object.assign(meta, planned.meta);
    }
    // The op, its exposure, the chip write it promises and the approval it fulfils commit together.
    const op = this.#commit(id, kind, at, () => {
      const appended = this.#journal.append({
        id,
        device: credentials.deviceId,
        kind,
        body: parsed as Record<string, unknown>,
        at,
        decision: opDecision,
        ...(stamp.actor ? { actor: stamp.actor } : {}),
        ...(Object.keys(meta).length > 0 ? { meta } : {}),
        // The shift it leads to, in the op's own row: committed with it, one row per op.
        ...(shift ? { shift: JSON.stringify(shift) } : {}),
      });
      if (stamp.approvalId !== null) this.#staff.useApproval(stamp.approvalId, id);
      if (planned) this.#wristbands.promise({ ...planned.write, opId: id, recordedAt: at });
      approval?.markApproved(appended);
      return appended;
    });
    if (shift) this.#shift = shift;
    if (exposure) this.#policy.committed(exposure);
    const recorded: RecordedOp = { id, seq: op.seq, kind, hash: op.hash, at, state: 'pending' };
    this.#onRecorded(recorded);
    return recorded;
  }

  /**
   * Runs the op's journal transaction. A disk error there (I/O error, disk
   * full) leaves the commit's outcome unknown: the op is noted in doubt, the
   * journal is closed (nothing more goes to a disk that just failed; the
   * in-memory head may no longer match it), and RecordOutcomeUnknownError —
   * never a plain failure — tells the caller.
   */
  #commit(id: string, kind: OpKind, at: number, fn: () => Op): Op {
    try {
      return this.#journal.transaction(fn, 'record');
    } catch (error) {
      if (!this.#journal.isDiskError(error)) throw error;
      const listed = this.#journal.noteInDoubt({ id, kind, at });
      this.#journal.kill();
      this.#onOutcomeUnknown(id);
      throw new RecordOutcomeUnknownError(id, kind, listed, { cause: error });
    }
  }

  /** The shift after `kind` is applied; throws DomainError for an op the shift rules refuse. */
  #shiftAfter(kind: OpKind, body: OpBodies[OpKind], id: string, options: ShiftRuleOptions = {}): Shift | null {
    const open = this.#shift?.status === 'open' ? this.#shift : null;
    const { effect } = SHIFT_RULES[kind];
    if (effect === 'opens' && open) throw new DomainError('shift_already_open', `shift ${open.id} is still open`);
    if ((effect === 'within' || effect === 'closes') && !open) {
      throw new DomainError('no_open_shift', 'no shift is open on this terminal');
    }
    return reduceShift(open, id, kind, body, options);
  }

  /**
   * The shift after an online-approved op: as `#shiftAfter` while the op's
   * shift is still the open one, else unchanged (null). An approval is a
   * fact; a shift closed meanwhile is for the server to reconcile. Its cash
   * is applied even when the drawer should hold less (`allowOverdraw`, as
   * the server applies it): a payout approved after cash was dropped left
   * the drawer all the same, and skipping it would make an honest count
   * show a false variance (docs/betting.md §9).
   */
  #shiftAfterApproval(kind: OpKind, body: OpBodies[OpKind], id: string): Shift | null {
    const open = this.#shift?.status === 'open' ? this.#shift : null;
    if (!open || (body as { shift?: unknown }).shift !== open.id) return null;
    try {
      return this.#shiftAfter(kind, body, id, { allowOverdraw: true });
    } catch (error) {
      if (error instanceof DomainError) return null;
      throw error;
    }
  }
}

/**
 * Wristband ops change a chip: only payWithWristband, topUpWristband and
 * refundToWristband record them, because they write the chip too.
 */
function refuseChipOps(kind: OpKind, body: OpBodies[OpKind]): void {
  // A top-up reversal writes the chip too: recorded with reverseTopUp (docs/wristbands.md, "Top-up reversal").
  if (kind === 'wallet.topped_up' || kind === 'wallet.refunded' || kind === 'wallet.topup_reversed') {
    throw new ValidationError(
      'kind',
      `not ${kind}: recorded with topUpWristband / refundToWristband / reverseTopUp (the chip is written too)`,
      kind,
    );
  }
  if (kind !== 'sale.recorded') return;
  (body as SaleBody).tenders.forEach((t, i) => {
    if (t.type === 'wristband') {
      throw new ValidationError(
        `body.tenders[${i}].type`,
        'not "wristband": recorded with payWithWristband (the chip is written too)',
        'wristband',
      );
    }
  });
}
