/**
 * Every table described in tables/, for the check that each backend's
 * schema has exactly these columns (sqlite-tables.test.ts,
 * postgres-tables.test.ts).
 */

import type { Table } from './table.js';
import { CASH_CORRECTIONS } from './tables/cash-corrections.js';
import { CATALOG_ITEMS, PRICE_LISTS } from './tables/catalog.js';
import { DEVICE_PLACEMENTS, DEVICES } from './tables/devices.js';
import { ENROLLMENT_TOKENS } from './tables/enrollment-tokens.js';
import { EXCEPTION_ACTIONS, EXCEPTIONS } from './tables/exceptions.js';
import { LEDGER } from './tables/ledger.js';
import { LOYALTY_ENTRIES, LOYALTY_MEMBERS, LOYALTY_OUTBOX, LOYALTY_REDEMPTIONS } from './tables/loyalty.js';
import { OFFLINE_PAYMENTS } from './tables/offline-payments.js';
import { API_TOKENS, AUDIT_LOG, OPERATOR_SESSIONS, OPERATORS } from './tables/operators.js';
import { OPS } from './tables/ops.js';
import { POLICIES, SERVER_KEYS } from './tables/policies.js';
import { SALE_CORRECTIONS } from './tables/sale-corrections.js';
import { CASH_MOVEMENTS, SHIFTS } from './tables/shift-projections.js';
import { STAFF_EVENTS } from './tables/staff.js';
import { STOCK_LEVELS, STOCK_MOVES } from './tables/stock.js';
import { EVENT_RESULTS, TICKET_EVENTS, TICKET_PAYOUTS, TICKET_SELECTIONS, TICKETS } from './tables/tickets.js';
import { TOPUP_REVERSALS } from './tables/topup-reversals.js';

export const DESCRIBED_TABLES: readonly Table<never>[] = [
  ENROLLMENT_TOKENS,
  DEVICES,
  DEVICE_PLACEMENTS,
  SERVER_KEYS,
  POLICIES,
  OPS,
  LEDGER,
  CASH_MOVEMENTS,
  SHIFTS,
  EXCEPTIONS,
  EXCEPTION_ACTIONS,
  OFFLINE_PAYMENTS,
  STAFF_EVENTS,
  OPERATORS,
  OPERATOR_SESSIONS,
  API_TOKENS,
  AUDIT_LOG,
  TICKETS,
  TICKET_SELECTIONS,
  TICKET_EVENTS,
  EVENT_RESULTS,
  TICKET_PAYOUTS,
  LOYALTY_MEMBERS,
  LOYALTY_ENTRIES,
  CATALOG_ITEMS,
  PRICE_LISTS,
  SALE_CORRECTIONS,
  STOCK_LEVELS,
  STOCK_MOVES,
  LOYALTY_REDEMPTIONS,
  LOYALTY_OUTBOX,
  TOPUP_REVERSALS,
  CASH_CORRECTIONS,
] as readonly Table<never>[];

/** A described table's columns, sorted: the written ones and the `later` ones. */
export function describedColumns(table: Table<never>): string[] {
  return [...table.columns.map((c) => c.name), ...table.later].sort();
}
