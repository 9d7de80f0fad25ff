/**
 * Receipts from the journal: the receipt of a sale, the slip of a payout, a
 * void or a refund, or of a shift's close (the Z report), and finding an op again by the receipt number a clerk reads out.
 *
 * Nothing here writes: printing, and reprinting (marked COPY), never records
 * an op. The model and the printed forms are domain/src/receipts.
 */
import {
  deviceCode,
  moneyOutSlip,
  parseReceiptNumber,
  type Receipt,
  type ReceiptShop,
  type ReceiptStatus,
  receiptNumber,
  SLIP_KINDS,
  saleReceipt,
  zReport,
} from '@holdfast/domain';
import type { Op } from '@holdfast/protocol';
import { NoReceiptError } from './errors.js';
import type { Journal } from './journal.js';
import type { JournalEntry } from './journal-types.js';

export interface ReceiptRequest {
  /** A reprint: printed forms say COPY. */
  copy?: boolean;
  /**
   * The shop issues e-invoices (docs/e-invoicing.md): a sale's receipt shows
   * the fiscal number the device feed brought (`bill.registered`), or says
   * it is provisional until then.
   */
  eInvoicing?: boolean;
  shop?: ReceiptShop | null;
}

/** Journal pages read while gathering a shift's ops. */
const PAGE = 500;

export class Receipts {
  readonly #journal: Journal;
  readonly #stateOf: (id: string) => ReceiptStatus | undefined;

  constructor(journal: Journal, stateOf: (id: string) => ReceiptStatus | undefined) {
    this.#journal = journal;
    this.#stateOf = stateOf;
  }

  /** The receipt of op `id`: a sale's, or the Z report of the shift a `shift.closed` op closed. */
  receipt(id: string, request: ReceiptRequest = {}): Receipt {
    const entry = this.#journal.getOp(id);
    if (!entry) throw new NoReceiptError(`this terminal recorded no op ${id}`);
    return this.#receiptOf(entry, request);
  }

  /**
   * The op a receipt number names on this device (see receipt-number.ts for
   * the forms a person may type), or NoReceiptError naming why not.
   */
  find(number: string, device: string): JournalEntry {
    const parsed = parseReceiptNumber(number);
    if (!parsed) throw new NoReceiptError(`"${number.slice(0, 40)}" is not a receipt number (like K7M2Q-000123)`);
    const own = deviceCode(device);
    if (parsed.code !== own) {
      throw new NoReceiptError(`receipt ${number} was printed by another device (${parsed.code}; this one is ${own})`);
    }
    const entry = this.#journal.ops(parsed.seq - 1, 1)[0];
    if (!entry || entry.seq !== parsed.seq) throw new NoReceiptError(`this terminal recorded no op #${parsed.seq}`);
    return entry;
  }

  #receiptOf(entry: JournalEntry, request: ReceiptRequest): Receipt {
    const options = {
      status: this.#stateOf(entry.id) ?? 'pending',
      copy: request.copy ?? false,
      shop: request.shop ?? null,
    };
    switch (entry.op.kind) {
      case 'sale.recorded':
        return saleReceipt(
          entry.op,
          request.eInvoicing ? { ...options, fiscal: { number: this.#fiscalNumber(entry.id) } } : options,
        );
      case 'shift.closed':
        return zReport(this.#shiftOps(entry.op), (entry.op.body as { shift: string }).shift, options);
      default: {
        if (!SLIP_KINDS[entry.op.kind]) {
          throw new NoReceiptError(`op ${entry.id} is a ${entry.op.kind}, which prints no receipt`);
        }
        // A payout, void, refund, correction or reversal slip names its ticket, sale, movement or top-up; by receipt
        // number when this device printed it.
        const body = entry.op.body as { ticket?: string; sale?: string; movement?: string; topup?: string };
        const original = this.#journal.getOp(body.ticket ?? body.sale ?? body.movement ?? body.topup ?? '');
        return moneyOutSlip(entry.op, {
          ...options,
          referenceNumber: original ? receiptNumber(original.op.device, original.seq) : null,
        });
      }
    }
  }

  /** The fiscal number the device feed brought for bill `opId`, or null (still provisional). */
  #fiscalNumber(opId: string): string | null {
    const row = this.#journal
      .prepare("SELECT data FROM feed_items WHERE type = 'bill.registered' AND op_id = ? ORDER BY pos LIMIT 1")
      .get(opId) as { data: string } | undefined;
    if (!row) return null;
    const number = (JSON.parse(row.data) as { fiscalNumber?: unknown }).fiscalNumber;
    return typeof number === 'string' ? number : null;
  }

  /** The ops from the shift's opening to `close`, in seq order (one device runs one shift at a time). */
  #shiftOps(close: Op): Op[] {
    const shiftId = (close.body as { shift: string }).shift;
    const opened = this.#journal.getOp(shiftId);
    if (!opened) throw new NoReceiptError(`the opening of shift ${shiftId} is not in this journal`);
    const ops: Op[] = [];
    let after = opened.seq - 1;
    while (after < close.seq) {
      const page = this.#journal.ops(after, Math.min(PAGE, close.seq - after));
      if (page.length === 0) break;
      for (const e of page) ops.push(e.op);
      after = (page[page.length - 1] as JournalEntry).seq;
    }
    return ops;
  }
}
