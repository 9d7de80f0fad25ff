/**
 * How the kit reads a server: one SELECT per table it judges, the same SQL
 * on every backend, through a ServerReader (one per backend:
 * sqlite-server-reader.ts, postgres-server-reader.ts). The rows are turned
 * into a ServerTruth here, once: numbers as numbers (PostgreSQL's BIGINT
 * arrives as text), JSON columns parsed (SQLite keeps them as text,
 * PostgreSQL as JSONB).
 */
import type {
  DeviceRow,
  EventResultRow,
  ExceptionRow,
  FiscalBillRow,
  FiscalCreditNoteRow,
  LedgerRow,
  LiabilityRow,
  LoyaltyEntryRow,
  LoyaltyMemberRow,
  LoyaltyRedemptionRow,
  OfflinePaymentRow,
  PriceListRow,
  SaleRow,
  ServerOpRow,
  ServerTruth,
  ShiftRow,
  StaffEventRow,
  StockLevelRow,
  StockMoveRow,
  TicketEventRow,
  TicketPayoutRow,
  TicketRow,
  WalletAccountRow,
  WalletEntryRow,
} from './truth.js';

/** The query behind each table of a ServerTruth (portable SQL: SQLite and PostgreSQL). */
export const SERVER_QUERIES = {
  ops: 'SELECT id, device, seq, hash, kind, status, result, envelope FROM ops ORDER BY device, seq',
  ledger: 'SELECT op_id, device, seq, type, shift_id, amount, data FROM ledger ORDER BY pos',
  sales: 'SELECT op_id, device, seq, shift_id, total, cash, card FROM sales ORDER BY device, seq',
  shifts: `SELECT id, device, status, opening_float, sales, sales_total, cash_sales, card_sales, cash_in, cash_out,
                  counted_cash, variance FROM shifts ORDER BY device, opened_at, id`,
  exceptions: 'SELECT id, type, device, op_id, seq, message, detail, occurrences FROM exceptions ORDER BY pos',
  devices: `SELECT id, label, high_water, latest_seq, gap_from, gap_to, last_seen_at, clock_offset_ms
              FROM devices ORDER BY enrolled_at, id`,
  offlinePayments: `SELECT op_id, tender_index, device, seq, amount, currency, token, brand, last4, settled_at, outcome,
                           processor_id FROM offline_payments ORDER BY device, seq, tender_index`,
  walletAccounts: `SELECT wristband, topped_up, debited, refunded, balance, entries, max_counter, distinct_counters,
                          blocked_reason FROM wallet_accounts ORDER BY wristband`,
  walletEntries: 'SELECT op_id, tender_index, wristband, kind, amount FROM wallet_entries ORDER BY op_id, tender_index',
  staffEvents: 'SELECT location, version, staff, action, at, role FROM staff_events ORDER BY staff, at, version',
  priceLists: `SELECT location, version, valid_from, valid_until, prices, promotions FROM price_lists
                 ORDER BY location, version`,
  placements: 'SELECT device, location FROM device_placements ORDER BY device',
  tickets: `SELECT ticket_id, device, currency, stake, potential_payout, selections, state, payout
              FROM tickets ORDER BY ticket_id`,
  ticketEvents: 'SELECT ticket_id, state, source, amount FROM ticket_events ORDER BY pos',
  ticketPayouts: 'SELECT op_id, ticket_id, device, amount, mode FROM ticket_payouts ORDER BY ticket_id',
  eventResults: 'SELECT event, market, selection, result FROM event_results ORDER BY event, market, selection',
  liabilities: `SELECT currency, event, market, selection, liability, tickets FROM selection_liability
                  ORDER BY currency, event, market, selection`,
  loyaltyMembers: 'SELECT member, earned, redeemed, adjusted, overdrawn_by FROM loyalty_members ORDER BY member',
  loyaltyEntries: 'SELECT entry_id, member, kind, points, op_id, device, route FROM loyalty_entries ORDER BY pos',
  loyaltyRedemptions: `SELECT id, op_id, device, member, points, status FROM loyalty_redemptions
                         ORDER BY created_at, id`,
  fiscalBills: `SELECT op_id, device, seq, state, fiscal_number, fiscal_sequence FROM fiscal_bills
                  ORDER BY device, seq`,
  fiscalCreditNotes: `SELECT op_id, bill_op_id, state, fiscal_number, fiscal_sequence FROM fiscal_credit_notes
                  ORDER BY op_id`,
  stockLevels: 'SELECT location, sku, received, sold, adjusted, counted FROM stock_levels ORDER BY location, sku',
  stockMoves: 'SELECT move_id, location, sku, kind, delta, op_id, device, seq FROM stock_moves ORDER BY pos',
} as const;

export type ServerTable = keyof typeof SERVER_QUERIES;
export type Row = Record<string, unknown>;

/** Reads a server's tables; one implementation per storage backend. */
export interface ServerReader {
  /** The rows of `SERVER_QUERIES[table]`, as the driver returns them. */
  rows(table: ServerTable): Promise<Row[]>;
  /** Releases what the reader opened itself. */
  close(): Promise<void>;
}

/** Reads every table through `reader` into a ServerTruth. */
export async function readServer(reader: ServerReader): Promise<ServerTruth> {
  const raw = {} as Record<ServerTable, Row[]>;
  for (const table of Object.keys(SERVER_QUERIES) as ServerTable[]) raw[table] = await reader.rows(table);
  return toServerTruth(raw);
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
/** A JSON column: text (SQLite) or already parsed (PostgreSQL JSONB). */
const json = (v: unknown): Record<string, unknown> =>
  (typeof v === 'string' ? JSON.parse(v) : (v ?? {})) as Record<string, unknown>;

/** Turns raw rows (either backend) into a ServerTruth. */
export function toServerTruth(raw: Record<ServerTable, Row[]>): ServerTruth {
  return {
    ops: raw.ops.map(
      (r): ServerOpRow => ({
        id: str(r.id),
        device: str(r.device),
        seq: num(r.seq),
        hash: str(r.hash),
        kind: str(r.kind),
        status: str(r.status),
        result: str(r.result),
        envelope: str(r.envelope),
      }),
    ),
    ledger: raw.ledger.map(
      (r): LedgerRow => ({
        opId: str(r.op_id),
        device: str(r.device),
        seq: num(r.seq),
        type: str(r.type),
        shiftId: strOrNull(r.shift_id),
        amount: numOrNull(r.amount),
        data: json(r.data),
      }),
    ),
    sales: raw.sales.map(
      (r): SaleRow => ({
        opId: str(r.op_id),
        device: str(r.device),
        seq: num(r.seq),
        shiftId: str(r.shift_id),
        total: num(r.total),
        cash: num(r.cash),
        card: num(r.card),
      }),
    ),
    shifts: raw.shifts.map(
      (r): ShiftRow => ({
        id: str(r.id),
        device: str(r.device),
        status: str(r.status),
        openingFloat: num(r.opening_float),
        sales: num(r.sales),
        salesTotal: num(r.sales_total),
        cashSales: num(r.cash_sales),
        cardSales: num(r.card_sales),
        cashIn: num(r.cash_in),
        cashOut: num(r.cash_out),
        countedCash: numOrNull(r.counted_cash),
        variance: numOrNull(r.variance),
      }),
    ),
    exceptions: raw.exceptions.map(
      (r): ExceptionRow => ({
        id: str(r.id),
        type: str(r.type),
        device: str(r.device),
        opId: strOrNull(r.op_id),
        seq: numOrNull(r.seq),
        message: str(r.message),
        detail: json(r.detail),
        count: num(r.occurrences),
      }),
    ),
    devices: raw.devices.map(
      (r): DeviceRow => ({
        id: str(r.id),
        label: str(r.label),
        highWater: num(r.high_water),
        latestSeq: num(r.latest_seq),
        gapFrom: numOrNull(r.gap_from),
        gapTo: numOrNull(r.gap_to),
        lastSeenAt: numOrNull(r.last_seen_at),
        clockOffsetMs: numOrNull(r.clock_offset_ms),
      }),
    ),
    offlinePayments: raw.offlinePayments.map(
      (r): OfflinePaymentRow => ({
        opId: str(r.op_id),
        tenderIndex: num(r.tender_index),
        device: str(r.device),
        seq: num(r.seq),
        amount: num(r.amount),
        currency: str(r.currency),
        token: str(r.token),
        brand: str(r.brand),
        last4: str(r.last4),
        settledAt: numOrNull(r.settled_at),
        outcome: strOrNull(r.outcome),
        processorId: strOrNull(r.processor_id),
      }),
    ),
    walletAccounts: raw.walletAccounts.map(
      (r): WalletAccountRow => ({
        wristband: str(r.wristband),
        toppedUp: num(r.topped_up),
        debited: num(r.debited),
        refunded: num(r.refunded),
        balance: num(r.balance),
        entries: num(r.entries),
        maxCounter: num(r.max_counter),
        distinctCounters: num(r.distinct_counters),
        blockedReason: strOrNull(r.blocked_reason),
      }),
    ),
    walletEntries: raw.walletEntries.map(
      (r): WalletEntryRow => ({
        opId: str(r.op_id),
        tenderIndex: num(r.tender_index),
        wristband: str(r.wristband),
        kind: str(r.kind),
        amount: num(r.amount),
      }),
    ),
    staffEvents: raw.staffEvents.map(
      (r): StaffEventRow => ({
        location: str(r.location),
        version: num(r.version),
        staff: str(r.staff),
        action: str(r.action),
        at: num(r.at),
        role: str(r.role),
      }),
    ),
    priceLists: raw.priceLists.map(
      (r): PriceListRow => ({
        location: str(r.location),
        version: num(r.version),
        from: num(r.valid_from),
        until: numOrNull(r.valid_until),
        prices: JSON.parse(str(r.prices)) as PriceListRow['prices'],
        promotions: JSON.parse(str(r.promotions)) as PriceListRow['promotions'],
      }),
    ),
    placements: new Map(raw.placements.map((r) => [str(r.device), strOrNull(r.location)])),
    tickets: raw.tickets.map(
      (r): TicketRow => ({
        ticketId: str(r.ticket_id),
        device: str(r.device),
        currency: str(r.currency),
        stake: num(r.stake),
        potentialPayout: num(r.potential_payout),
        selections: json(r.selections) as unknown as TicketRow['selections'],
        state: str(r.state),
        payout: numOrNull(r.payout),
      }),
    ),
    ticketEvents: raw.ticketEvents.map(
      (r): TicketEventRow => ({
        ticketId: str(r.ticket_id),
        state: str(r.state),
        source: str(r.source),
        amount: numOrNull(r.amount),
      }),
    ),
    ticketPayouts: raw.ticketPayouts.map(
      (r): TicketPayoutRow => ({
        opId: str(r.op_id),
        ticketId: str(r.ticket_id),
        device: str(r.device),
        amount: num(r.amount),
        mode: str(r.mode),
      }),
    ),
    eventResults: raw.eventResults.map(
      (r): EventResultRow => ({
        event: str(r.event),
        market: str(r.market),
        selection: str(r.selection),
        result: str(r.result),
      }),
    ),
    liabilities: raw.liabilities.map(
      (r): LiabilityRow => ({
        currency: str(r.currency),
        event: str(r.event),
        market: str(r.market),
        selection: str(r.selection),
        liability: num(r.liability),
        tickets: num(r.tickets),
      }),
    ),
    loyaltyMembers: raw.loyaltyMembers.map(
      (r): LoyaltyMemberRow => ({
        member: str(r.member),
        earned: num(r.earned),
        redeemed: num(r.redeemed),
        adjusted: num(r.adjusted),
        overdrawnBy: strOrNull(r.overdrawn_by),
      }),
    ),
    loyaltyEntries: raw.loyaltyEntries.map(
      (r): LoyaltyEntryRow => ({
        entryId: str(r.entry_id),
        member: str(r.member),
        kind: str(r.kind),
        points: num(r.points),
        opId: strOrNull(r.op_id),
        device: strOrNull(r.device),
        route: strOrNull(r.route),
      }),
    ),
    loyaltyRedemptions: raw.loyaltyRedemptions.map(
      (r): LoyaltyRedemptionRow => ({
        id: str(r.id),
        opId: str(r.op_id),
        device: str(r.device),
        member: str(r.member),
        points: num(r.points),
        status: str(r.status),
      }),
    ),
    fiscalBills: raw.fiscalBills.map(
      (r): FiscalBillRow => ({
        opId: str(r.op_id),
        device: str(r.device),
        seq: num(r.seq),
        state: str(r.state),
        fiscalNumber: strOrNull(r.fiscal_number),
        fiscalSequence: numOrNull(r.fiscal_sequence),
      }),
    ),
    fiscalCreditNotes: raw.fiscalCreditNotes.map(
      (r): FiscalCreditNoteRow => ({
        opId: str(r.op_id),
        billOpId: str(r.bill_op_id),
        state: str(r.state),
        fiscalNumber: strOrNull(r.fiscal_number),
        fiscalSequence: numOrNull(r.fiscal_sequence),
      }),
    ),
    stockLevels: raw.stockLevels.map(
      (r): StockLevelRow => ({
        location: str(r.location),
        sku: str(r.sku),
        received: num(r.received),
        sold: num(r.sold),
        adjusted: num(r.adjusted),
        counted: num(r.counted),
      }),
    ),
    stockMoves: raw.stockMoves.map(
      (r): StockMoveRow => ({
        moveId: str(r.move_id),
        location: str(r.location),
        sku: str(r.sku),
        kind: str(r.kind),
        delta: num(r.delta),
        opId: str(r.op_id),
        device: str(r.device),
        seq: num(r.seq),
      }),
    ),
  };
}
