/**
 * The ingest plan: everything one batch writes, as `planIngest` returns it
 * and a storage backend stores it in the batch's transaction.
 */
import { GENESIS_HASH, type Op, type OpResult, type StoredResult } from '@holdfast/protocol';
import type { CashCorrectionRecord } from '../model/cash-correction.js';
import type { CashMovementRecord } from '../model/cash-movement.js';
import type { DeviceRecord } from '../model/device.js';
import type { ExceptionRecord } from '../model/exception.js';
import type { LedgerEvent } from '../model/ledger-event.js';
import type { LoyaltyEntryRecord, LoyaltyMemberRecord } from '../model/loyalty.js';
import type { OfflinePaymentRecord } from '../model/offline-payment.js';
import type { SaleCorrectionJudged, SaleCorrectionRecord } from '../model/sale-correction.js';
import type { ShiftRecord } from '../model/shift.js';
import type { StockLevelRecord, StockMoveRecord, StockShortfallJoin } from '../model/stock.js';
import type { TicketChange } from '../model/ticket.js';
import type { TopUpReversalRecord } from '../model/topup-reversal.js';
import type { WalletAccountRecord, WalletEntryRecord } from '../model/wallet.js';

export interface DeviceUpdate {
  highWater: number;
  headHash: string;
  latestSeq: number;
  gapFrom: number | null;
  gapTo: number | null;
  lastSeenAt: number | null;
  clockOffsetMs: number | null;
}

export interface IngestPlan {
  results: OpResult[];
  /** Ops to store, in seq order, with the result to store beside each. */
  inserts: { op: Op; result: StoredResult }[];
  /** Ledger events; a sale's is its only record beside the op (the `sales` view reads them). */
  ledger: LedgerEvent[];
  /** Card payments approved locally (offline): sale card tenders and card top-ups, for the exposure actually held. */
  offlinePayments: OfflinePaymentRecord[];
  cashMovements: CashMovementRecord[];
  /** Shifts created or changed, final state. */
  shifts: ShiftRecord[];
  /** Wallet accounts created or changed, final state. */
  wallets: WalletAccountRecord[];
  /** Chip writes applied to wallets. */
  walletEntries: WalletEntryRecord[];
  exceptions: ExceptionRecord[];
  /** Ticket state changes (offline payouts, voids), in op order. */
  ticketChanges: TicketChange[];
  /** Loyalty members whose points changed, final state. */
  loyaltyMembers: LoyaltyMemberRecord[];
  /** Points earned and redeemed, one entry each. */
  loyaltyEntries: LoyaltyEntryRecord[];
  /** Corrections of sales (voids, refunds), held or counted (docs/corrections.md). */
  saleCorrections: SaleCorrectionRecord[];
  /** Held corrections judged because their sale arrived in this batch. */
  saleCorrectionsJudged: SaleCorrectionJudged[];
  /** Stock levels the batch moved, final state (docs/catalog-and-stock.md). */
  stockLevels: StockLevelRecord[];
  /** Stock movements, one per stock op or tracked sale line. */
  stockMoves: StockMoveRecord[];
  /** Sales that joined an oversell episode an earlier batch opened: added to its exception. */
  stockShortfallJoins: StockShortfallJoin[];
  /** Wristband top-up reversals, one per op (docs/wristbands.md). */
  topUpReversals: TopUpReversalRecord[];
  /** Cash corrections, one per op (docs/corrections.md). */
  cashCorrections: CashCorrectionRecord[];
  device: DeviceUpdate;
}

/**
 * A plan that writes nothing yet, its device update starting from the device
 * as stored; `seen` (the server clock and the device's signed, fresh send
 * time) sets `lastSeenAt` and `clockOffsetMs`, null keeps them.
 */
export function emptyPlan(device: DeviceRecord, seen: { now: number; sentAt: number } | null): IngestPlan {
  return {
    results: [],
    inserts: [],
    ledger: [],
    offlinePayments: [],
    cashMovements: [],
    shifts: [],
    wallets: [],
    walletEntries: [],
    exceptions: [],
    ticketChanges: [],
    loyaltyMembers: [],
    loyaltyEntries: [],
    saleCorrections: [],
    saleCorrectionsJudged: [],
    stockLevels: [],
    stockMoves: [],
    stockShortfallJoins: [],
    topUpReversals: [],
    cashCorrections: [],
    device: {
      highWater: device.highWater,
      headHash: device.highWater === 0 ? GENESIS_HASH : device.headHash,
      latestSeq: device.latestSeq,
      gapFrom: device.gapFrom,
      gapTo: device.gapTo,
      lastSeenAt: seen ? seen.now : device.lastSeenAt,
      clockOffsetMs: seen ? seen.now - seen.sentAt : device.clockOffsetMs,
    },
  };
}
