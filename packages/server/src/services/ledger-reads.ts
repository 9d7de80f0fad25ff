/**
 * What the operator reads of the ingested record: one op with its stored
 * result, the ledger in order, the shifts. Read-only; inputs arrive
 * validated by the HTTP layer.
 */
import {
  deviceCode,
  parseReceiptNumber,
  type Receipt,
  type ReceiptStatus,
  receiptNumber,
  saleReceipt,
} from '@holdfast/domain';
import { ProtocolError, type StoredResult } from '@holdfast/protocol';
import type { StoredOp } from '../model/batch.js';
import type { LedgerEvent } from '../model/ledger-event.js';
import type { ShiftRecord } from '../model/shift.js';
import type { Page, Storage } from '../storage/storage.js';

/** One op a receipt number names, with its receipt when its kind prints one. */
export interface ReceiptMatch {
  device: string;
  deviceLabel: string;
  stored: StoredOp;
  /** The receipt as the till printed it, from the stored op (null for kinds that print none). */
  receipt: Receipt | null;
}

/** What the server's result means on a receipt: accepted is confirmed, anything else needs attention. */
function receiptStatus(result: StoredResult): ReceiptStatus {
  return result.status === 'accepted' ? 'confirmed' : 'needs_attention';
}

export class LedgerReads {
  readonly #storage: Storage;

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /** One op as stored, with its result; not_found for an id the server does not hold. */
  async op(id: string): Promise<StoredOp> {
    const stored = await this.#storage.getOp(id);
    if (!stored) throw new ProtocolError('not_found', `no op ${id}`);
    return stored;
  }

  /**
   * The op(s) a receipt number names (domain/src/receipts/receipt-number.ts):
   * every device whose code matches (two devices of a fleet may share one;
   * both are answered, never a guess) with its op at that seq. Refuses a
   * malformed number naming `number`; not_found when no device holds it.
   */
  async receipt(number: string): Promise<{ number: string; matches: ReceiptMatch[] }> {
    const parsed = parseReceiptNumber(number);
    if (!parsed) {
      throw new ProtocolError('invalid_request', 'number must be a receipt number such as K7M2Q-000123', {
        field: 'number',
        rule: 'five letters or digits, then the seq',
      });
    }
    const matches: ReceiptMatch[] = [];
    for (const device of await this.#storage.listDevices()) {
      if (deviceCode(device.id) !== parsed.code) continue;
      const stored = await this.#storage.getOpAt(device.id, parsed.seq);
      if (!stored) continue;
      const receipt =
        stored.op.kind === 'sale.recorded' ? saleReceipt(stored.op, { status: receiptStatus(stored.result) }) : null;
      matches.push({ device: device.id, deviceLabel: device.label, stored, receipt });
    }
    if (matches.length === 0) throw new ProtocolError('not_found', `no device has printed receipt ${number}`);
    return { number: receiptNumber(matches[0]?.device as string, parsed.seq), matches };
  }

  /** Up to `limit` ledger events after position `after`, oldest first. */
  events(after: number, limit: number): Promise<Page<LedgerEvent & { pos: number }>> {
    return this.#storage.listLedger(after, limit);
  }

  /** The shifts of one device, or of every device (null). */
  shifts(device: string | null): Promise<ShiftRecord[]> {
    return this.#storage.listShifts(device);
  }
}
