/**
 * What the metrics endpoint and the readiness probe read from storage:
 * the forwarding backlog, open exceptions by type, and whether the store
 * is migrated and writable.
 */

/** Which forwarding backlog to count: payments whose deadline base is at or before `dueBaseBefore` are "due soon". */
export interface GaugeQuery {
  /** A payment is due soon when min(approvedAt, receivedAt) <= this (the caller subtracts the deadline). */
  dueBaseBefore: number;
}

export interface OperationalGauges {
  forwarding: {
    /** Offline payments the forwarder still owes the processor (neither settled nor refused). */
    pending: number;
    /** The oldest pending payment's deadline base (ms), or null if none is pending. */
    oldestBase: number | null;
    /** Pending payments with deadline base <= `dueBaseBefore`. */
    dueSoon: number;
  };
  /** Exceptions without a resolving action, by type. */
  openExceptions: Record<string, number>;
}

/** The readiness probe's findings (it throws when the store cannot be written). */
export interface StoreReadiness {
  /** Migrations recorded in the store. */
  migrationsApplied: number;
  /** Migrations this build knows; readiness needs applied >= known. */
  migrationsKnown: number;
}
