/**
 * WristbandPayments: paying, topping up and refunding with a stored-value
 * wristband (docs/wristbands.md). Each reads the chip (finishing a write an
 * earlier op left pending), refuses before recording anything, records the
 * op with the chip write it promises (one `RecordPlan` with a chip plan),
 * then writes the chip. See wristband.ts for why the journal goes first.
 */

import type { Clock } from '@holdfast/domain';
import {
  type CardTender,
  formatMoney,
  NO_DECISION,
  type Placement,
  type SaleBody,
  type SaleLine,
  saleLineSchema,
  schema,
  type Tender,
  type TopUpMethod,
  ValidationError,
  type WalletRefundedBody,
  type WalletToppedUpBody,
  type WalletTopUpReversedBody,
} from '@holdfast/protocol';
import { TopUpReversalRefusedError, WristbandRefusedError } from './errors.js';
import type { Journal } from './journal.js';
import type { OfflinePolicy } from './offline-policy.js';
import type { ChipPlan, Recorder } from './recording.js';
import type { RecordedOp } from './terminal-types.js';
import type { ChipImage, PendingChipWrite, WristbandReader, WristbandStore } from './wristband.js';

/** What a wristband payment, top-up or refund did. */
export interface WristbandReceipt {
  op: RecordedOp;
  /** The chip after the write, or as read if the write did not happen. */
  chip: ChipImage;
  /**
   * False: the op IS recorded but the chip write failed (wristband pulled
   * away); it is finished the next time this wristband is read here.
   */
  chipWritten: boolean;
  writeError: string | null;
}

export interface WristbandPaymentsOptions {
  journal: Journal;
  clock: Clock;
  recorder: Recorder;
  policy: OfflinePolicy;
  wristbands: WristbandStore;
  enforceCards: boolean;
  placement: () => Placement | null;
}

export class WristbandPayments {
  readonly #journal: Journal;
  readonly #clock: Clock;
  readonly #recorder: Recorder;
  readonly #policy: OfflinePolicy;
  readonly #wristbands: WristbandStore;
  readonly #enforceCards: boolean;
  readonly #placement: () => Placement | null;

  constructor(options: WristbandPaymentsOptions) {
    this.#journal = options.journal;
    this.#clock = options.clock;
    this.#recorder = options.recorder;
    this.#policy = options.policy;
    this.#wristbands = options.wristbands;
    this.#enforceCards = options.enforceCards;
    this.#placement = options.placement;
  }

  /** Pays a sale: `cash` (optional) pays part, the chip the rest. */
  pay(input: {
    lines: SaleLine[];
    reader: WristbandReader;
    cash?: { amount: number; tendered: number };
  }): WristbandReceipt {
    const shift = this.#recorder.requireOpenShift();
    // The lines first: the wristband's share is computed from them.
    const lines = schema.array(saleLineSchema, { minItems: 1, maxItems: 500 }).parse(input.lines, 'lines');
    let total = 0;
    for (const line of lines) total += line.qty * line.unitPrice - (line.discount ?? 0);
    const amount = total - (input.cash?.amount ?? 0);
    if (!Number.isSafeInteger(amount) || amount < 1) {
      throw input.cash
        ? new ValidationError('cash.amount', `less than the sale total (${total})`, String(input.cash.amount))
        : new ValidationError('lines', 'a sale total of at least 1', String(total));
    }
    const chip = this.#chipFor(input.reader, shift.currency);
    if (chip.balance < amount) {
      throw new WristbandRefusedError(
        'insufficient_balance',
        `wristband ${chip.uid} holds ${formatMoney(chip.balance, shift.currency)}, the sale needs ${formatMoney(amount, shift.currency)}`,
        chip.uid,
      );
    }
    const tenders: Tender[] = [
      ...(input.cash ? [{ type: 'cash' as const, ...input.cash }] : []),
      { type: 'wristband', amount, wristband: chip.uid, counter: chip.counter + 1, balanceBefore: chip.balance },
    ];
    const body: SaleBody = { shift: shift.id, currency: shift.currency, lines, total, tenders };
    const op = this.#recorder.record({
      kind: 'sale.recorded',
      body,
      decision: NO_DECISION,
      chip: this.#wristbandPlan(chip, 'sale.recorded', shift.currency, amount, chipWrite(chip, 'debit', amount, null)),
    });
    return this.#writeChip(input.reader, chip, op, chip.balance - amount);
  }

  /** Loads money onto a wristband; a card top-up follows the card path (`offlineCardPolicy`). */
  topUp(input: {
    reader: WristbandReader;
    amount: number;
    paid: TopUpMethod;
    card?: { token: string; brand: CardTender['brand']; last4: string };
  }): WristbandReceipt {
    const shift = this.#recorder.requireOpenShift();
    const chip = this.#chipFor(input.reader, shift.currency);
    const body: WalletToppedUpBody = {
      shift: shift.id,
      currency: shift.currency,
      wristband: chip.uid,
      amount: input.amount,
      counter: chip.counter + 1,
      balanceBefore: chip.balance,
      paid: input.paid,
      ...(input.card ? { card: input.card } : {}),
    };
    const op = this.#recorder.record({
      kind: 'wallet.topped_up',
      body,
      decision: NO_DECISION,
      chip: (id, at, deviceId) => {
        const write = chipWrite(chip, 'topup', input.amount, null);
        if (input.paid !== 'card' || !input.card || !this.#enforceCards) {
          return { decision: NO_DECISION, meta: {}, exposure: null, write };
        }
        const authorized = this.#policy.authorizeCardSale({
          id,
          at,
          deviceId,
          placement: this.#placement(),
          currency: shift.currency,
          kind: 'wallet.topped_up',
          tenders: [{ type: 'card', amount: input.amount, ...input.card }],
        });
        return { ...authorized, write };
      },
    });
    return this.#writeChip(input.reader, chip, op, chip.balance + input.amount);
  }

  /** Credits a refund of `sale` (paid with this wristband on this terminal) back onto the wristband. */
  refund(input: { reader: WristbandReader; sale: string; amount: number; reason?: string }): WristbandReceipt {
    const shift = this.#recorder.requireOpenShift();
    const chip = this.#chipFor(input.reader, shift.currency);
    const stored = this.#journal.getOp(input.sale);
    const paid =
      stored?.op.kind === 'sale.recorded'
        ? ((stored.op.body as SaleBody).tenders.find((t) => t.type === 'wristband' && t.wristband === chip.uid)
            ?.amount ?? 0)
        : 0;
    const left = paid - this.#wristbands.refundedOf(input.sale, chip.uid);
    if (paid === 0 || input.amount > left) {
      throw new WristbandRefusedError(
        'refund_not_allowed',
        paid === 0
          ? `sale ${input.sale} was not paid with wristband ${chip.uid} on this terminal`
          : `at most ${left} ${shift.currency} of sale ${input.sale} is left to refund`,
        chip.uid,
      );
    }
    const body: WalletRefundedBody = {
      shift: shift.id,
      currency: shift.currency,
      wristband: chip.uid,
      amount: input.amount,
      counter: chip.counter + 1,
      balanceBefore: chip.balance,
      sale: input.sale,
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
    };
    const op = this.#recorder.record({
      kind: 'wallet.refunded',
      body,
      decision: NO_DECISION,
      chip: this.#wristbandPlan(
        chip,
        'wallet.refunded',
        shift.currency,
        input.amount,
        chipWrite(chip, 'refund', input.amount, input.sale),
      ),
    });
    return this.#writeChip(input.reader, chip, op, chip.balance + input.amount);
  }

  /**
   * Reverses a top-up recorded on this till in the open shift, all of it or
   * `amount` (docs/wristbands.md, "Top-up reversal"): a cash top-up in cash
   * out of the drawer, a card top-up back to its card (`tender: 'card'`,
   * refunded at the processor by the server). Reads the chip
   * first (so the pending write of an earlier reversal, cut short, is
   * finished, and a retry is then refused as already reversed rather than
   * debiting twice), refuses what the rules say no to
   * (TopUpReversalRefusedError) before anything is written, lets
   * `checkApproval` refuse the approval (run on the fields a supervisor
   * approves, before recording), records `wallet.topup_reversed` with its
   * chip write (`balance - amount`, counter + 1) and writes the chip.
   */
  reverseTopUp(input: {
    reader: WristbandReader;
    topUp: string;
    amount?: number;
    reason?: string;
    checkApproval: (bound: TopUpReversalApproval) => void;
  }): WristbandReceipt {
    const shift = this.#recorder.requireOpenShift();
    const chip = this.#chipFor(input.reader, shift.currency);
    const bound = this.reversalBody(input);
    if (chip.uid !== bound.wristband) {
      throw new TopUpReversalRefusedError(
        'topup_wrong_wristband',
        `the top-up loaded wristband ${bound.wristband}; the reader holds ${chip.uid}`,
      );
    }
    if (chip.balance < bound.amount) {
      throw new TopUpReversalRefusedError(
        'topup_balance_spent',
        `wristband ${chip.uid} holds ${formatMoney(chip.balance, shift.currency)}: the rest of the top-up was spent, ${formatMoney(bound.amount, shift.currency)} cannot be given back`,
      );
    }
    input.checkApproval(bound);
    const body: WalletTopUpReversedBody = { ...bound, counter: chip.counter + 1, balanceBefore: chip.balance };
    const op = this.#recorder.record({
      kind: 'wallet.topup_reversed',
      body,
      decision: NO_DECISION,
      // Cash given back with a supervisor's approval: no wristband limits to decide (nothing is spent offline).
      chip: () => ({
        decision: NO_DECISION,
        meta: {},
        exposure: null,
        write: chipWrite(chip, 'debit', bound.amount, bound.topup),
      }),
    });
    return this.#writeChip(input.reader, chip, op, chip.balance - bound.amount);
  }

  /**
   * What a supervisor approves for a reversal of `topUp` (the fields
   * STAFF_RULES binds, known before the chip is read), refused as
   * `reverseTopUp` would refuse it from this till's journal.
   */
  reversalBody(input: { topUp: string; amount?: number; reason?: string }): TopUpReversalApproval {
    const shift = this.#recorder.requireOpenShift();
    const entry = this.#journal.getOp(input.topUp);
    if (entry?.kind !== 'wallet.topped_up') {
      throw new TopUpReversalRefusedError(
        'topup_unknown',
        `${input.topUp} is not a top-up recorded on this till: a top-up is reversed on the till that took it`,
      );
    }
    const topUp = entry.op.body as WalletToppedUpBody;
    if (topUp.shift !== shift.id) {
      throw new TopUpReversalRefusedError(
        'topup_other_shift',
        `top-up ${input.topUp} was taken in shift ${topUp.shift}, not the open shift ${shift.id}`,
      );
    }
    const earlier = this.#wristbands.reversalsOf(input.topUp);
    const reversed = earlier.reduce((sum, w) => sum + w.amount, 0);
    const left = topUp.amount - reversed;
    const money = (n: number) => formatMoney(n, topUp.currency);
    if (left <= 0) {
      throw new TopUpReversalRefusedError(
        'topup_already_reversed',
        `top-up ${input.topUp} was reversed already (op ${earlier.map((w) => w.opId).join(', ')})`,
      );
    }
    const amount = input.amount ?? left;
    if (!Number.isSafeInteger(amount) || amount < 1) {
      throw new ValidationError('amount', 'a whole number of minor units, at least 1', String(amount));
    }
    if (amount > left) {
      throw new TopUpReversalRefusedError(
        'topup_reversal_over',
        reversed > 0
          ? `${money(amount)} is above what is left of top-up ${input.topUp} (${money(topUp.amount)}, ${money(reversed)} reversed before)`
          : `${money(amount)} is above top-up ${input.topUp} (${money(topUp.amount)})`,
      );
    }
    return {
      shift: shift.id,
      currency: topUp.currency,
      wristband: topUp.wristband,
      topup: input.topUp,
      amount,
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      // A card top-up goes back to its card at the processor (the server's card refunder), not out of the drawer.
      ...(topUp.paid === 'card' ? { tender: 'card' as const } : {}),
    };
  }

  /** Reads the chip (finishing a pending write first) and refuses a blocked or foreign one. */
  /**
   * The chip plan of a debit or a refund: the wristband limits of the offline
   * policy decide it, and `write` is what the chip is promised.
   */
  #wristbandPlan(
    chip: ChipImage,
    kind: 'sale.recorded' | 'wallet.refunded',
    currency: string,
    amount: number,
    write: ReturnType<ChipPlan>['write'],
  ): ChipPlan {
    return (id, at, deviceId) => {
      const authorized = this.#policy.authorizeWristband({
        id,
        at,
        deviceId,
        placement: this.#placement(),
        kind,
        currency,
        amount,
        wristband: chip.uid,
        ...(kind === 'wallet.refunded' ? { isRefund: true } : {}),
      });
      return { ...authorized, write };
    };
  }

  #chipFor(reader: WristbandReader, currency: string): ChipImage {
    const chip = this.#wristbands.readSettled(reader, this.#clock.now());
    const blocked = this.#wristbands.isBlocked(chip.uid);
    if (blocked) {
      throw new WristbandRefusedError(
        'wristband_blocked',
        `wristband ${chip.uid} is blocked by the server (${blocked.reason}): send the customer to the info desk`,
        chip.uid,
      );
    }
    if (chip.currency !== currency) {
      throw new WristbandRefusedError(
        'currency',
        `wristband ${chip.uid} holds ${chip.currency}, this till takes ${currency}`,
        chip.uid,
      );
    }
    return chip;
  }

  /** Writes the chip after the op committed; a failed write leaves it pending (finished at the next read). */
  #writeChip(reader: WristbandReader, read: ChipImage, op: RecordedOp, balance: number): WristbandReceipt {
    const counter = read.counter + 1;
    try {
      reader.write({ uid: read.uid, expectedCounter: read.counter, balance, counter });
    } catch (error) {
      return { op, chip: read, chipWritten: false, writeError: error instanceof Error ? error.message : String(error) };
    }
    this.#wristbands.markWritten(op.id, this.#clock.now());
    return { op, chip: { ...read, balance, counter }, chipWritten: true, writeError: null };
  }
}

/** A top-up reversal as a supervisor approves it: every field but those read from the chip. */
export type TopUpReversalApproval = Omit<WalletTopUpReversedBody, 'counter' | 'balanceBefore'>;

/** The pending-write row of a chip write about to be made from `chip`. */
function chipWrite(
  chip: ChipImage,
  kind: PendingChipWrite['kind'],
  amount: number,
  /** The sale a refund credits, or the top-up a reversal debits; else null. */
  sale: string | null,
): Omit<PendingChipWrite, 'opId' | 'recordedAt' | 'writtenAt'> {
  return {
    wristband: chip.uid,
    kind,
    amount,
    counter: chip.counter + 1,
    balanceBefore: chip.balance,
    balanceAfter: kind === 'debit' ? chip.balance - amount : chip.balance + amount,
    sale,
  };
}
