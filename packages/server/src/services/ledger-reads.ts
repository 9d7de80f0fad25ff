/**
 * What the operator reads of the ingested record: one op with its stored
 * result, the ledger in order, the shifts. Read-only; inputs arrive
 * validated by the HTTP layer.
 */
import {
  deviceCode,
  moneyOutSlip,
  parseReceiptNumber,
  type Receipt,
  type ReceiptStatus,
  receiptNumber,
  SLIP_KINDS,
  saleReceipt,
  type ZReport,
  zReport,
} from '@holdfast/domain';
import { type Op, type OpKind, ProtocolError, parseBody, type StoredResult } from '@holdfast/protocol';
import type { StoredOp } from '../model/batch.js';
import type { LedgerEvent } from '../model/ledger-event.js';
import type { LedgerRange } from '../model/ledger-range.js';
import type { ShiftRecord } from '../model/shift.js';
import type { DeviceOpsQuery, Page, Storage } from '../storage/storage.js';

/** One op a receipt number names, with its receipt when its kind prints one. */
export interface ReceiptMatch {
  device: string;
  deviceLabel: string;
  stored: StoredOp;
  /** The receipt as the till printed it, from the stored op (null for kinds that print none). */
  receipt: Receipt | null;
}

/** The drawer figures a Z report and the server's shift projection both state. */
const DRAWER_FIELDS = ['openingFloat', 'cashIn', 'cashOut', 'expectedCash', 'countedCash', 'variance'] as const;
type DrawerField = (typeof DRAWER_FIELDS)[number];

/**
 * A shift's Z report as the server confirms it (GET /v1/admin/shifts/:id/z-report):
 *
 * - `open`: the server holds no `shift.closed` for it yet; `pending` is null
 *   (what the till still holds is unknown to the server);
 * - `confirmed`: closed, every op of the shift stored and applied, and the
 *   Z report computed from those ops (what the till printed) states the same
 *   drawer as the server's own projection of what it applied;
 * - `differs`: closed, but an op of the shift was not applied (`notApplied`)
 *   or a drawer figure differs (`differences`: field, till, server).
 */
export interface ShiftZReportCheck {
  shift: string;
  device: string;
  state: 'open' | 'confirmed' | 'differs';
  /** Ops of the shift the server holds (opening and closing included). */
  stored: number;
  /** Seqs between the opening and the last op the server holds that it lacks (still pending on the till). */
  pending: number[];
  notApplied: { id: string; seq: number; kind: string; status: string }[];
  /** The Z report from every stored op of the shift, as the till printed it; null while open. */
  report: ZReport | null;
  /** The server's projection of what it applied. */
  server: Record<DrawerField, number | null>;
  differences: { field: DrawerField; till: number; server: number | null }[];
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

  /** One device's ops with their results, newest first (storage listDeviceOps); not_found for an unknown device. */
  async deviceOps(device: string, query: DeviceOpsQuery): Promise<Page<StoredOp>> {
    if (!(await this.#storage.getDevice(device))) throw new ProtocolError('not_found', `no device ${device}`);
    return this.#storage.listDeviceOps(device, query);
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
      const options = { status: receiptStatus(stored.result) };
      const receipt =
        stored.op.kind === 'sale.recorded'
          ? saleReceipt(stored.op, options)
          : SLIP_KINDS[stored.op.kind]
            ? moneyOutSlip(stored.op, options)
            : null;
      matches.push({ device: device.id, deviceLabel: device.label, stored, receipt });
    }
    if (matches.length === 0) throw new ProtocolError('not_found', `no device has printed receipt ${number}`);
    return { number: receiptNumber(matches[0]?.device as string, parsed.seq), matches };
  }

  /**
   * The Z report of shift `shiftId` confirmed against what the server
   * applied (ShiftZReportCheck). Reads the device's stored ops from the
   * shift's opening to its closing (or to the last op the server holds), one
   * seq at a time. not_found for an id that is not a stored `shift.opened`.
   */
  async zReport(shiftId: string): Promise<ShiftZReportCheck> {
    const opened = await this.#storage.getOp(shiftId);
    if (opened?.op.kind !== 'shift.opened') throw new ProtocolError('not_found', `no shift ${shiftId}`);
    const deviceId = opened.op.device;
    const device = await this.#storage.getDevice(deviceId);
    const last = device?.highWater ?? opened.op.seq;
    const ops: Op[] = [];
    const pending: number[] = [];
    const notApplied: ShiftZReportCheck['notApplied'] = [];
    let closed = false;
    for (let seq = opened.op.seq; seq <= last && !closed; seq++) {
      const stored = seq === opened.op.seq ? opened : await this.#storage.getOpAt(deviceId, seq);
      if (!stored) {
        pending.push(seq);
        continue;
      }
      const body = stored.op.body as { shift?: unknown };
      if (stored.op.id !== shiftId && body.shift !== shiftId) continue;
      ops.push(stored.op);
      if (stored.result.status !== 'accepted') {
        notApplied.push({ id: stored.op.id, seq, kind: stored.op.kind, status: stored.result.status });
      }
      if (stored.op.kind === 'shift.closed') closed = true;
    }
    const projection = (await this.#storage.listShifts(deviceId)).find((x) => x.id === shiftId);
    const server: Record<DrawerField, number | null> = {
      openingFloat: projection?.openingFloat ?? null,
      cashIn: projection?.cashIn ?? null,
      cashOut: projection?.cashOut ?? null,
      expectedCash: projection?.expectedCash ?? null,
      countedCash: projection?.countedCash ?? null,
      variance: projection?.variance ?? null,
    };
    const base = { shift: shiftId, device: deviceId, stored: ops.length, pending, notApplied, server };
    if (!closed) return { ...base, state: 'open', report: null, differences: [] };
    // An op whose body no till could have printed (rejected as invalid) is listed in notApplied, not reported.
    const printable = ops.filter((o) => {
      try {
        parseBody(o.kind as OpKind, o.body);
        return true;
      } catch {
        return false;
      }
    });
    const report = zReport(printable, shiftId, { status: notApplied.length === 0 ? 'confirmed' : 'needs_attention' });
    const differences = DRAWER_FIELDS.filter((f) => report[f] !== server[f]).map((field) => ({
      field,
      till: report[field],
      server: server[field],
    }));
    const state = differences.length === 0 && notApplied.length === 0 && pending.length === 0 ? 'confirmed' : 'differs';
    return { ...base, state, report, differences };
  }

  /** Up to `limit` ledger events after position `after`, oldest first. */
  events(after: number, limit: number, range?: LedgerRange): Promise<Page<LedgerEvent & { pos: number }>> {
    return this.#storage.listLedger(after, limit, range);
  }

  /** The shifts of one device, or of every device (null). */
  shifts(device: string | null): Promise<ShiftRecord[]> {
    return this.#storage.listShifts(device);
  }
}
