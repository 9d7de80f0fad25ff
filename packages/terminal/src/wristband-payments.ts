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
} from '@holdfast/protocol';
import { WristbandRefusedError } from './errors.js';
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

/** The pending-write row of a chip write about to be made from `chip`. */
function chipWrite(
  chip: ChipImage,
  kind: PendingChipWrite['kind'],
  amount: number,
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
