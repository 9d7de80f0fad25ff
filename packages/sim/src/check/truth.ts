/**
 * The truth a run is judged by, read once from disk: what every terminal's
 * journal recorded, what the server holds, what the processor decided, and
 * (for a simulated run) what the world saw happen while it ran. Rules are
 * functions of a Truth alone, so they never touch a database, and the same
 * rules judge a SQLite or a PostgreSQL server.
 */
import type { DeadLetter, JournalEntry } from '@holdfast/terminal';

/** One terminal's journal. */
export interface JournalTruth {
  /** The terminal's label (a lane, a till); violations name it. */
  label: string;
  /** Null: the terminal never enrolled. */
  deviceId: string | null;
  /** Every op, in seq order. */
  entries: readonly JournalEntry[];
  deadLetters: readonly DeadLetter[];
}

export interface ServerOpRow {
  id: string;
  device: string;
  seq: number;
  hash: string;
  kind: string;
  status: string;
  /** The stored result, as stored (JSON text). */
  result: string;
  /** The sealed op as received (JSON text). */
  envelope: string;
}

export interface LedgerRow {
  opId: string;
  device: string;
  seq: number;
  type: string;
  shiftId: string | null;
  amount: number | null;
  data: Record<string, unknown>;
}

export interface SaleRow {
  opId: string;
  device: string;
  seq: number;
  shiftId: string;
  total: number;
  cash: number;
  card: number;
}

export interface ShiftRow {
  id: string;
  device: string;
  status: string;
  openingFloat: number;
  sales: number;
  salesTotal: number;
  cashSales: number;
  cardSales: number;
  cashIn: number;
  cashOut: number;
  countedCash: number | null;
  variance: number | null;
}

export interface ExceptionRow {
  id: string;
  type: string;
  device: string;
  opId: string | null;
  seq: number | null;
  message: string;
  detail: Record<string, unknown>;
  /** How many occurrences the row stands for (an aggregated op_rejected: every rejected op of its device and cause). */
  count: number;
}

export interface DeviceRow {
  id: string;
  label: string;
  highWater: number;
  latestSeq: number;
  gapFrom: number | null;
  gapTo: number | null;
  lastSeenAt: number | null;
  clockOffsetMs: number | null;
}

export interface OfflinePaymentRow {
  opId: string;
  tenderIndex: number;
  device: string;
  seq: number;
  amount: number;
  currency: string;
  token: string;
  brand: string;
  last4: string;
  settledAt: number | null;
  outcome: string | null;
  processorId: string | null;
}

export interface WalletAccountRow {
  wristband: string;
  toppedUp: number;
  debited: number;
  refunded: number;
  balance: number;
  entries: number;
  maxCounter: number;
  distinctCounters: number;
  blockedReason: string | null;
}

export interface WalletEntryRow {
  opId: string;
  tenderIndex: number;
  wristband: string;
  kind: string;
  amount: number;
}

/** One change to a location's roster (staff at the till), in the server's `staff_events`. */
export interface StaffEventRow {
  location: string;
  version: number;
  staff: string;
  action: string;
  /** Server clock of the change. */
  at: number;
  role: string;
}

/** A published price-list version of a location (docs/catalog-and-stock.md), in the server's `price_lists`. */
export interface PriceListRow {
  location: string;
  version: number;
  from: number;
  until: number | null;
  prices: { sku: string; price: number }[];
  promotions: { sku: string; price: number; from: number; until: number }[];
}

/** A betting ticket as the server projects it (docs/betting.md). */
export interface TicketRow {
  ticketId: string;
  device: string;
  currency: string;
  stake: number;
  potentialPayout: number;
  selections: { event: string; market: string; selection: string; odds: number }[];
  state: string;
  payout: number | null;
}

/** A ticket's change of state (append-only history). */
export interface TicketEventRow {
  ticketId: string;
  state: string;
  source: string;
  amount: number | null;
}

/** A payout made (one per ticket by the server's unique key). */
export interface TicketPayoutRow {
  opId: string;
  ticketId: string;
  device: string;
  amount: number;
  mode: string;
}

/** A selection's recorded result. */
export interface EventResultRow {
  event: string;
  market: string;
  selection: string;
  result: string;
}

/** Liability held on one selection. */
export interface LiabilityRow {
  currency: string;
  event: string;
  market: string;
  selection: string;
  liability: number;
  tickets: number;
}

/** A loyalty member's account totals (the balance is derived: earned − redeemed + adjusted). */
export interface LoyaltyMemberRow {
  member: string;
  earned: number;
  redeemed: number;
  adjusted: number;
  overdrawnBy: string | null;
}

/** One movement of a member's points. */
export interface LoyaltyEntryRow {
  entryId: string;
  member: string;
  kind: string;
  points: number;
  opId: string | null;
  /** The device of an earn or redeem (null: an adjustment). */
  device: string | null;
  /** A redemption's route, `offline` or `online` (null otherwise). */
  route: string | null;
}

/** An online redemption the server was asked for (`sent`, `confirmed` with the code, or `locked`). */
export interface LoyaltyRedemptionRow {
  id: string;
  opId: string;
  device: string;
  member: string;
  points: number;
  status: string;
}

/** What the server holds, table by table (numbers as numbers, JSON columns parsed). */
export interface ServerTruth {
  /** In (device, seq) order. */
  ops: readonly ServerOpRow[];
  /** In append order. */
  ledger: readonly LedgerRow[];
  sales: readonly SaleRow[];
  shifts: readonly ShiftRow[];
  exceptions: readonly ExceptionRow[];
  devices: readonly DeviceRow[];
  /** In (device, seq, tender) order. */
  offlinePayments: readonly OfflinePaymentRow[];
  walletAccounts: readonly WalletAccountRow[];
  walletEntries: readonly WalletEntryRow[];
  /** Roster history, in (staff, at, version) order. */
  staffEvents: readonly StaffEventRow[];
  /** Every price-list version, by location and version. */
  priceLists: readonly PriceListRow[];
  /** Each placed device's location (null: placed at no location). */
  placements: ReadonlyMap<string, string | null>;
  /** Betting: tickets by id, their history in order, payouts, results, liability per selection. */
  tickets: readonly TicketRow[];
  ticketEvents: readonly TicketEventRow[];
  ticketPayouts: readonly TicketPayoutRow[];
  eventResults: readonly EventResultRow[];
  liabilities: readonly LiabilityRow[];
  /** Loyalty: members by card number, entries in append order. */
  loyaltyMembers: readonly LoyaltyMemberRow[];
  loyaltyEntries: readonly LoyaltyEntryRow[];
  /** Online redemptions, in the order they were asked. */
  loyaltyRedemptions: readonly LoyaltyRedemptionRow[];
  /** E-invoicing: one row per bill (accepted sale) the server enrolled, in (device, seq) order. */
  fiscalBills: readonly FiscalBillRow[];
  /** Stock: levels by location and SKU, movements in the order applied. */
  stockLevels: readonly StockLevelRow[];
  stockMoves: readonly StockMoveRow[];
  /** E-invoicing: credit notes (refunds, voids, cancellations of bills), by op id; absent in older truths. */
  fiscalCreditNotes?: readonly FiscalCreditNoteRow[];
}

/** A credit note as the server holds it (fiscal_credit_notes). */
export interface FiscalCreditNoteRow {
  opId: string;
  billOpId: string;
  state: string;
  fiscalNumber: string | null;
  fiscalSequence: number | null;
}

/** A location's stock of one SKU (the level is derived: received − sold + adjusted + counted). */
export interface StockLevelRow {
  location: string;
  sku: string;
  received: number;
  sold: number;
  adjusted: number;
  counted: number;
}

/** One movement of a stock level. */
export interface StockMoveRow {
  moveId: string;
  location: string;
  sku: string;
  kind: string;
  delta: number;
  opId: string;
  device: string;
  seq: number;
}

/** A bill as the server holds it (fiscal_bills). */
export interface FiscalBillRow {
  opId: string;
  device: string;
  seq: number;
  state: string;
  fiscalNumber: string | null;
  fiscalSequence: number | null;
}

/** One answer in the tax authority's own store. */
export interface FiscalRecord {
  key: string;
  billId: string;
  status: 'registered' | 'rejected';
  fiscalNumber: string | null;
  sequence: number | null;
}

/** One authorization in the processor's own store. */
export interface ProcessorRecord {
  key: string;
  id: string;
  status: 'approved' | 'declined';
  amount: number;
  currency: string;
  token: string;
  reference: string | null;
}

/** An op the app saw recorded (a record call returned). */
export interface RecordedIntent {
  id: string;
  seq: number;
  hash: string;
  kind: string;
}

/** What a simulated run saw of one terminal while it ran. */
export interface LaneObservations {
  label: string;
  /** Restored from an old disk image (an injected fork): forks and dead letters are expected. */
  injected: boolean;
  /** Ops the app saw recorded. */
  intents: readonly RecordedIntent[];
  /** Ops a restore took off the device: recorded, then lost with the device (injected). */
  discarded: readonly string[];
  /** Record calls cut by a power failure after their op committed (the app never saw them). */
  cutRecords: number;
  /** The terminal ends blocked behind its forks (an operator must act). */
  blocked: boolean;
  /**
   * The device's clock offset when it sent its last delivered batch, and that
   * delivery (true virtual times); absent when nothing was delivered.
   */
  lastDelivery?: { trueSentAt: number; deliveredAt: number; deviceOffsetMs: number };
}

/** What a simulated run saw while it ran, beyond what is on disk. */
export interface RunObservations {
  /** Trading started here (violations give times relative to it). */
  start: number;
  lanes: readonly LaneObservations[];
  /** The first stored result each op was answered with, canonical JSON. */
  firstResults: ReadonlyMap<string, string>;
  /** Answers that carried another stored result than an earlier one. */
  changedResults: readonly { lane: string; opId: string; first: string; later: string }[];
  /** Card traffic ran (post-authorization declines are expected, and held against the processor). */
  cards: boolean;
  /** Wristbands cloned on purpose (an injected fault): their clone and overspend exceptions are expected. */
  clonedWristbands: readonly string[];
  /** Cards of the pool, to name one in a violation. */
  cardNames: ReadonlyMap<string, string>;
  /** Sampling ticks at which an actual offline exposure passed its bound. */
  exposureBreaches: readonly {
    at: number;
    source: 'server' | 'fleet';
    group: string;
    amount: number;
    count: number;
    boundAmount: number;
    boundCount: number;
  }[];
  /** Unexpected errors from the SDK or the clerks. */
  errors: readonly { lane: string; error: unknown }[];
  /** Internal server errors, and forwarding rounds that failed for another reason than a crash. */
  serverErrors: readonly unknown[];
  roundErrors: readonly { at: number; error: unknown }[];
  /** Null: the queues were not empty by the drain limit. */
  drainedAt: number | null;
  drainLimitMs: number;
  queued: number;
  /** Each shift a watched clerk closed: the blind count minus what the till expected (0: an honest count). */
  counts?: ReadonlyMap<string, number>;
}

export interface Truth {
  journals: readonly JournalTruth[];
  server: ServerTruth;
  /** The processor's records; null when the run had no processor. */
  processor: readonly ProcessorRecord[] | null;
  /** The tax authority's records; absent or null when the run had no e-invoicing. */
  fiscal?: readonly FiscalRecord[] | null;
  /** A simulated run's observations; absent for a run read only from disk (chaos, crash tests). */
  run?: RunObservations;
}
