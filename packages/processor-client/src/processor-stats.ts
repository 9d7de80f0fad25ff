/**
 * The processor's statistics answer (`GET /v1/stats`): what its records
 * hold, and what happened since it started.
 */
import type { DeclineCode } from './authorization.js';

/** Authorizations of one currency, counted and summed by outcome. */
export interface CurrencyTotals {
  approved: { count: number; amount: number };
  declined: { count: number; amount: number };
}

/** What the processor's records hold. */
export interface StoredStats {
  authorizations: number;
  byStatus: Record<'approved' | 'declined', number>;
  byDeclineCode: Partial<Record<DeclineCode, number>>;
  totals: Record<string, CurrencyTotals>;
  /** References (op ids) approved more than once under different keys: double charges. */
  duplicateApprovedReferences: number;
}

/** What happened since the processor started (not stored). */
export interface ProcessorCounters {
  created: number;
  replayed: number;
  keyReused: number;
  outages: number;
  timeoutsAfterCommit: number;
}

/** The whole `GET /v1/stats` answer. */
export interface ProcessorStatsBody extends StoredStats {
  seed: number;
  sinceStart: ProcessorCounters;
}
