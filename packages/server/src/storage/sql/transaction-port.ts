/**
 * The small port the shared SQL operations (operations/) are written over:
 * a statement's first row, all its rows, the rows it changed, and the two
 * named locks. An operation is a generator that yields these steps and
 * receives their answers, so ONE text runs on both drivers:
 *
 *   SQLite (sqlite-driver.ts)     answers each step synchronously, the
 *                                 whole operation inside one BEGIN
 *                                 IMMEDIATE: the one writer, never
 *                                 interleaved (the event loop is never
 *                                 given back), exactly as before.
 *   PostgreSQL (postgres-driver)  awaits each step on the transaction's
 *                                 connection; a retryable failure runs a
 *                                 fresh generator from the start.
 *
 * Statements are written with PostgreSQL's numbered parameters (`$1`);
 * SQLite's driver numbers them `?1`. What else differs is the dialect's
 * (dialect.ts): `forUpdate`, conflict handling, JSON and booleans.
 */
import type { Row } from '../rows.js';

/** One thing an operation asks of the database. */
export type SqlStep =
  | { readonly kind: 'one' | 'all' | 'run'; readonly sql: string; readonly params: readonly unknown[] }
  | { readonly kind: 'lock'; readonly lock: SqlLock };

/**
 * The named locks, held until the end of the transaction: `feed` by every
 * writer of ledger or exception rows (PostgreSQL: FEED_LOCK shared; see
 * postgres-ingest.ts), `feed-read` by a reader paging a feed (FEED_LOCK
 * exclusive: waits for the writers in flight), `policies` by a policy
 * issuer, `staff` by a change to a roster (operations/staff.ts). SQLite's
 * one connection holds them all already.
 */
export type SqlLock = 'feed' | 'feed-read' | 'policies' | 'staff';

/** A shared operation: yields steps, gets each step's answer back, returns T. */
export type SqlOperation<T> = Generator<SqlStep, T, unknown>;

/** The first row of `sql`, or undefined. */
export function* one(sql: string, params: readonly unknown[] = []): SqlOperation<Row | undefined> {
  return (yield { kind: 'one', sql, params }) as Row | undefined;
}

/** Every row of `sql`. */
export function* all(sql: string, params: readonly unknown[] = []): SqlOperation<Row[]> {
  return (yield { kind: 'all', sql, params }) as Row[];
}

/** Runs `sql`; how many rows it changed. */
export function* run(sql: string, params: readonly unknown[] = []): SqlOperation<number> {
  return (yield { kind: 'run', sql, params }) as number;
}

/** Takes a named lock until the end of the transaction. */
export function* lock(name: SqlLock): SqlOperation<void> {
  yield { kind: 'lock', lock: name };
}
