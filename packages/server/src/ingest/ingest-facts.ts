/**
 * The facts a storage backend loads for one batch, inside its ingest
 * transaction, before it calls `planIngest`; and which facts a batch needs.
 */
import { isCorrectionKind } from '@holdfast/domain';
import type { Op, RiskPolicy, StoredResult } from '@holdfast/protocol';
import type { BettingConfig } from '../authorize/betting-config.js';
import { type AuthorizationFact, claimsOnline } from '../authorize/online-verification.js';
import type { CashCorrectionFacts } from '../model/cash-correction.js';
import type { CatalogFacts } from '../model/catalog.js';
import type { DeviceRecord } from '../model/device.js';
import type { LoyaltyFacts } from '../model/loyalty.js';
import type { SaleFacts } from '../model/sale-correction.js';
import type { ShiftRecord } from '../model/shift.js';
import type { StaffFacts } from '../model/staff.js';
import type { StockFacts } from '../model/stock.js';
import type { TicketFact } from '../model/ticket.js';
import type { TopUpFacts } from '../model/topup-reversal.js';
import type { WalletFacts } from '../model/wallet.js';
import { type HeldApproval, isLocalApproval } from './reevaluate-approval.js';

/** A stored op as the planner needs to know it. */
export interface KnownOp {
  device: string;
  seq: number;
  hash: string;
  result: StoredResult;
}

export interface IngestFacts {
  device: DeviceRecord;
  /** Ops already stored under any id of the batch. */
  byId: ReadonlyMap<string, KnownOp>;
  /** Ids and hashes already stored for this device at any seq of the batch. */
  bySeq: ReadonlyMap<number, { id: string; hash: string }>;
  /** Shifts the batch's ops refer to, and every open shift of the device. */
  shifts: ReadonlyMap<string, ShiftRecord>;
  /** What re-evaluating local approvals needs (see approvalFactsNeeded); absent: nothing stored. */
  approvals?: ApprovalFacts;
  /**
   * Online authorizations stored under the ids of the batch's ops that
   * claim one (`onlineClaimIds`); absent when there are none.
   */
  authorizations?: ReadonlyMap<string, AuthorizationFact>;
  /** The wallets of the wristbands the batch writes to (`walletRefs`); absent: none known. */
  wallets?: ReadonlyMap<string, WalletFacts>;
  /** The roster history the batch's actors need (staff-check.ts); absent: no staff anywhere known. */
  staff?: StaffFacts;
  /**
   * The tickets the batch's payouts and voids name (`ticketRefs`), locked,
   * with the newest betting configuration; absent when the batch names none.
   */
  tickets?: { byId: ReadonlyMap<string, TicketFact>; config: BettingConfig | null };
  /**
   * What the batch's `loyalty.points` ops need (`loyaltyRefs` non-empty): the
   * members they name, locked, their online redemptions, the stored sales
   * and policy rules they name; absent when it names none.
   */
  loyalty?: LoyaltyFacts;
  /** The device location's price lists and the known SKUs among the batch's catalog lines (`catalogRefs`); absent: none named. */
  catalog?: CatalogFacts;
  /**
   * The sales the batch's corrections name and the corrections stored for
   * them and for the sales the batch records (`saleRefs`), locked; absent
   * when the batch names none.
   */
  sales?: SaleFacts;
  /** The device location's stock levels the batch names (`stockRefs`), locked; absent when it names none. */
  stock?: StockFacts;
  /** The top-ups the batch's reversals name and their reversals stored (`topUpRefs`), locked; absent when it names none. */
  topUps?: TopUpFacts;
  /** The cash movements the batch's corrections name and their corrections stored (`cashCorrectionRefs`), locked; absent when it names none. */
  cashCorrections?: CashCorrectionFacts;
}

/** Facts for re-evaluating the batch's local approvals, loaded only if approvalFactsNeeded(ops). */
export interface ApprovalFacts {
  /** The stored policies the batch's local approvals name, by policyRef (refs not stored are absent). */
  policies: ReadonlyMap<string, RiskPolicy>;
  /** The device's offline payments stored and still unsettled. */
  held: readonly HeldApproval[];
}

/** The policy refs the batch's local approvals name: load these policies (and the device's unsettled payments) if any op is a local approval. */
export function approvalFactsNeeded(ops: readonly Op[]): { needed: boolean; refs: string[] } {
  const refs = new Set<string>();
  let needed = false;
  for (const op of ops) {
    if (!isLocalApproval(op)) continue;
    needed = true;
    if (op.decision.policy !== null) refs.add(op.decision.policy);
  }
  return { needed, refs: [...refs] };
}

/** Ids of the ops whose online authorization the planner needs as a fact. */
export function onlineClaimIds(ops: readonly Op[]): string[] {
  return ops.filter(claimsOnline).map((op) => op.id);
}

/** The ids of the shifts an op refers to (by its body), for loading facts. */
export function shiftRefs(ops: readonly Op[]): string[] {
  const refs = new Set<string>();
  for (const op of ops) {
    const ref = op.body.shift;
    if (typeof ref === 'string') refs.add(ref);
  }
  return [...refs];
}

/** The ids of the tickets the batch's `ticket.paid` and `ticket.voided` ops name, for loading (and locking) them. */
export function ticketRefs(ops: readonly Op[]): string[] {
  const refs = new Set<string>();
  for (const op of ops) {
    if (op.kind !== 'ticket.paid' && op.kind !== 'ticket.voided') continue;
    const ref = op.body.ticket;
    if (typeof ref === 'string') refs.add(ref);
  }
  return [...refs];
}

/** The loyalty members the batch's `loyalty.points` ops name, for loading (and locking) their accounts. */
export function loyaltyRefs(ops: readonly Op[]): string[] {
  const refs = new Set<string>();
  for (const op of ops) {
    if (op.kind !== 'loyalty.points') continue;
    const member = op.body.member;
    if (typeof member === 'string') refs.add(member);
  }
  return [...refs].sort();
}

/**
 * The sale ids a batch's corrections name (`sale.voided`, `sale.refunded`,
 * `wallet.refunded`) and the ids of the sales it records (their held
 * corrections are judged when they arrive): load and lock these.
 */
export function saleRefs(ops: readonly Op[]): string[] {
  const refs = new Set<string>();
  for (const op of ops) {
    if (op.kind === 'sale.recorded') refs.add(op.id);
    else if (isCorrectionKind(op.kind) && typeof op.body.sale === 'string') refs.add(op.body.sale);
  }
  return [...refs];
}

/** The kinds that move stock by themselves (receiving, counting, adjustment). */
export const STOCK_OP_KINDS: ReadonlySet<string> = new Set(['stock.received', 'stock.counted', 'stock.adjusted']);

/**
 * The SKUs whose stock levels the batch touches at the device's location:
 * `opSkus`, those its stock ops name for that location (their level is
 * created, untracked, if missing), and `saleSkus`, those its sale lines name
 * (only an existing level moves). Read from raw bodies, before parsing.
 */
export function stockRefs(ops: readonly Op[], location: string | null): { opSkus: string[]; saleSkus: string[] } {
  const opSkus = new Set<string>();
  const saleSkus = new Set<string>();
  for (const op of ops) {
    if (STOCK_OP_KINDS.has(op.kind)) {
      if (typeof op.body.sku === 'string' && op.body.location === location) opSkus.add(op.body.sku);
    } else if (op.kind === 'sale.recorded' && Array.isArray(op.body.lines)) {
      for (const line of op.body.lines as unknown[]) {
        const sku = (line as { sku?: unknown } | null)?.sku;
        if (typeof sku === 'string') saleSkus.add(sku);
      }
    }
  }
  return { opSkus: [...opSkus].sort(), saleSkus: [...saleSkus].sort() };
}
