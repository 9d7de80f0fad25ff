/**
 * The operators' side of e-invoicing (docs/e-invoicing.md): the bills and
 * credit notes with their state, the governed actions on a rejected or
 * refused bill (resubmit corrected, cancel with a credit note, accept as
 * non-fiscal), each audited with the actor, and each location's
 * jurisdiction (its registration deadline).
 */
import type { Clock } from '@holdfast/domain';
import { ProtocolError } from '@holdfast/protocol';
import {
  FISCAL_JURISDICTIONS,
  type FiscalBill,
  type FiscalBillAction,
  type FiscalBillActionKind,
  type FiscalBillState,
  type FiscalCreditNote,
  type FiscalJurisdictionSetting,
} from '../model/fiscal-bill.js';
import type { Storage } from '../storage/storage.js';

export interface FiscalBillDetail {
  bill: FiscalBill;
  actions: FiscalBillAction[];
  creditNotes: FiscalCreditNote[];
}

export interface FiscalActionBody {
  action: FiscalBillActionKind;
  note: string;
  sellerTaxId?: string | undefined;
}

export class FiscalDesk {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #newId: () => string;

  constructor(storage: Storage, clock: Clock, newId: () => string) {
    this.#storage = storage;
    this.#clock = clock;
    this.#newId = newId;
  }

  /** Bills, by device and seq, optionally of one state or device. */
  async bills(filter: { state?: FiscalBillState; device?: string }): Promise<FiscalBill[]> {
    const all = await this.#storage.listFiscalBills(filter.device ?? null);
    return filter.state === undefined ? all : all.filter((b) => b.state === filter.state);
  }

  async bill(opId: string): Promise<FiscalBillDetail> {
    const bill = (await this.#storage.listFiscalBills(null)).find((b) => b.opId === opId);
    if (!bill) throw new ProtocolError('fiscal_bill_unknown', `no fiscal bill ${opId}`);
    return {
      bill,
      actions: await this.#storage.listFiscalBillActions(opId),
      creditNotes: await this.#storage.listFiscalCreditNotes(opId),
    };
  }

  creditNotes(): Promise<FiscalCreditNote[]> {
    return this.#storage.listFiscalCreditNotes(null);
  }

  /** An operator's action on a rejected or refused bill, audited under `by`. */
  async act(
    opId: string,
    body: FiscalActionBody,
    by: string,
  ): Promise<FiscalBillDetail & { creditNote: string | null }> {
    if (body.sellerTaxId !== undefined && body.action !== 'resubmit') {
      throw new ProtocolError('invalid_request', 'sellerTaxId corrects a bill for resubmit only', {
        field: 'body.sellerTaxId',
        rule: 'only with action resubmit',
      });
    }
    const result = await this.#storage.actOnFiscalBill({
      id: this.#newId(),
      opId,
      action: body.action,
      note: body.note,
      sellerTaxId: body.sellerTaxId ?? null,
      by,
      at: this.#clock.now(),
    });
    if (result.kind === 'not_found') throw new ProtocolError('fiscal_bill_unknown', `no fiscal bill ${opId}`);
    if (result.kind === 'not_rejected') {
      const b = result.bill;
      const what = b.resolution === null ? b.state : `${b.state}, settled as ${b.resolution}`;
      throw new ProtocolError(
        'fiscal_bill_not_rejected',
        `bill ${b.provisionalNumber} is ${what}: only a rejected bill not yet settled takes an action`,
      );
    }
    return {
      bill: result.bill,
      actions: result.actions,
      creditNotes: await this.#storage.listFiscalCreditNotes(opId),
      creditNote: result.creditNote,
    };
  }

  async jurisdictions(): Promise<{
    known: typeof FISCAL_JURISDICTIONS;
    locations: FiscalJurisdictionSetting[];
  }> {
    return { known: FISCAL_JURISDICTIONS, locations: await this.#storage.listFiscalJurisdictions() };
  }

  /** Sets a location's jurisdiction: bills enrolled from now on take its deadline (earlier bills keep theirs). */
  async setJurisdiction(location: string, jurisdiction: string, by: string): Promise<FiscalJurisdictionSetting> {
    if (!Object.hasOwn(FISCAL_JURISDICTIONS, jurisdiction)) {
      throw new ProtocolError('invalid_request', `unknown jurisdiction ${jurisdiction}`, {
        field: 'body.jurisdiction',
        rule: `one of ${Object.keys(FISCAL_JURISDICTIONS).join(', ')}`,
      });
    }
    const setting = { location, jurisdiction, setBy: by, setAt: this.#clock.now() };
    await this.#storage.setFiscalJurisdiction(setting);
    return setting;
  }
}
