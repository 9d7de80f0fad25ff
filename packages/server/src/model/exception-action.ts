/**
 * Operators' actions on exceptions (append-only), and the views and outcomes built from them.
 */
import type { ExceptionRecord } from './exception.js';

export const EXCEPTION_ACTIONS = ['contacted', 'written_off', 'recovered', 'acknowledged'] as const;

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
}

/** What recording an action did; see exceptions/exception-actions.ts for the rules. */
export type ExceptionActionOutcome =
  | { outcome: 'recorded'; exception: ExceptionView }
  | { outcome: 'not_found' }
  | { outcome: 'already_resolved'; exception: ExceptionView }
  | { outcome: 'invalid'; field: string; rule: string; message: string };
