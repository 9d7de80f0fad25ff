/**
 * What the operator reads of the ingested record: one op with its stored
 * result, the ledger in order, the shifts. Read-only; inputs arrive
 * validated by the HTTP layer.
 */
import { ProtocolError } from '@holdfast/protocol';
import type { StoredOp } from '../model/batch.js';
import type { LedgerEvent } from '../model/ledger-event.js';
import type { ShiftRecord } from '../model/shift.js';
import type { Page, Storage } from '../storage/storage.js';

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

  /** Up to `limit` ledger events after position `after`, oldest first. */
  events(after: number, limit: number): Promise<Page<LedgerEvent & { pos: number }>> {
    return this.#storage.listLedger(after, limit);
  }

  /** The shifts of one device, or of every device (null). */
  shifts(device: string | null): Promise<ShiftRecord[]> {
    return this.#storage.listShifts(device);
  }
}
