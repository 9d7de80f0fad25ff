/**
 * Operators' actions on exceptions (append-only), and the views and outcomes built from them.
 */
import type { ExceptionRecord } from './exception.js';

export const EXCEPTION_ACTIONS = [
  'contacted',
  'written_off',
  'recovered',
  'acknowledged',
  // A stock shortfall's resolutions besides a write-off (docs/catalog-and-stock.md): the goods owed are
  // ordered in, another item is given instead, or the customer is refunded through the corrections flow.
  'backordered',
  'substituted',
  'refunded',
] as const;

/** The actions that resolve only a `stock_shortfall`. */
export const STOCK_SHORTFALL_ACTIONS: readonly ExceptionActionKind[] = ['backordered', 'substituted', 'refunded'];

export type ExceptionActionKind = (typeof EXCEPTION_ACTIONS)[number];

/** One operator action on an exception, as stored (append-only). */
export interface ExceptionAction {
  id: string;
  exceptionId: string;
  action: ExceptionActionKind;
  note: string;
  /** Money written off or recovered (minor units), for payment exceptions; null otherwise. */
  amount: number | null;
  currency: string | null;
  /** The operator's name as given. */
  by: string;
  at: number;
  /** True for the one action that resolved the exception. */
  resolves: boolean;
  /**
   * What the action points at, if given: the refund op (`sale.refunded`) of
   * a `refunded` stock shortfall, the SKU given instead by `substituted`,
   * the purchase order of `backordered`. Null otherwise.
   */
  reference?: string | null;
}

/** An exception with its actions and the status they derive. */
export interface ExceptionView extends ExceptionRecord {
  pos: number;
  /** Occurrences it stands for: 1 but for aggregated types (op_rejected). */
  count: number;
  /** When the first and the last occurrence were seen (server clock); both `raisedAt` for a single one. */
  firstSeenAt: number;
  lastSeenAt: number;
  status: 'open' | 'resolved';
  actions: ExceptionAction[];
}

export interface ExceptionFilter {
  after: number;
  limit: number;
  status?: 'open' | 'resolved';
  type?: string;
}

/** An operator's action, with what the service assigned (id, time). */
export interface ExceptionActionRequest {
  id: string;
  exceptionId: string;
  action: ExceptionActionKind;
  note: string;
  /** As given; null when absent (a money action then takes what is outstanding). */
  amount: number | null;
  by: string;
  at: number;
  /** See ExceptionAction.reference; null when absent. */
  reference?: string | null;
}

/** What recording an action did; see exceptions/exception-actions.ts for the rules. */
export type ExceptionActionOutcome =
  | { outcome: 'recorded'; exception: ExceptionView }
  | { outcome: 'not_found' }
  | { outcome: 'already_resolved'; exception: ExceptionView }
  | { outcome: 'invalid'; field: string; rule: string; message: string };
