/**
 * PostgreSQL's driver: the pool, transactions that run again after losing
 * a race, and the shared operations (../sql/transaction-port.ts) awaited
 * step by step on one connection.
 *
 * A transaction (READ COMMITTED) that fails with a unique violation, a
 * serialization failure or a deadlock is rolled back and run again from
 * the start — a fresh operation, so it reads again what the winner
 * committed — a bounded number of times, after a short random pause so
 * racers fall apart. Row locks are the statements' own (`FOR UPDATE`, the
 * dialect's `forUpdate`); the named locks are advisory locks held until
 * COMMIT.
 */
import pg from 'pg';
import type { SqlLock, SqlOperation } from '../sql/transaction-port.js';
import { FEED_LOCK } from './postgres-ingest.js';

/** Tries of one transaction that keeps losing races before the error goes to the caller. */
const MAX_ATTEMPTS = 6;
/** SQLSTATEs after which running the whole transaction again is correct and useful. */
const RETRYABLE = new Set(['23505', '40001', '40P01']);
/**
 * Advisory lock key held while issuing a policy ("Holdpoli"): issuers queue,
 * each reads the slot (next version, latest issuedAt) after the one before
 * committed. Issuing is rare; one lock for every scope is plenty.
 */
export const POLICY_LOCK = 0x486f_6c64_706f_6c69n;
/** Advisory lock key held while changing a roster ("Holdstaf"): a staff id is checked and changed by one writer at a time. */
export const STAFF_LOCK = 0x486f_6c64_7374_6166n;

/** What each named lock takes: the feed shared by writers (who never wait for each other), else exclusive. */
const LOCK_SQL: Record<SqlLock, string> = {
  feed: `SELECT pg_advisory_xact_lock_shared(${FEED_LOCK})`,
  'feed-read': `SELECT pg_advisory_xact_lock(${FEED_LOCK})`,
  policies: `SELECT pg_advisory_xact_lock(${POLICY_LOCK})`,
  staff: `SELECT pg_advisory_xact_lock(${STAFF_LOCK})`,
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function retryable(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code !== undefined && RETRYABLE.has(error.code);
}

/** Something that runs a query: the pool (autocommit) or a transaction's connection. */
type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export class PostgresDriver {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Runs `fn` in a transaction, again from the start after a retryable error. */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.#pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const value = await fn(client);
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        if (attempt >= MAX_ATTEMPTS || !retryable(error)) throw error;
      } finally {
        client.release(broken);
      }
      await sleep(Math.random() * 5 * attempt);
    }
  }

  /** Runs a shared operation in one transaction (a fresh one per attempt). */
  inTransaction<T>(operation: () => SqlOperation<T>): Promise<T> {
    return this.transaction((client) => PostgresDriver.run(client, operation()));
  }

  /** Runs a shared operation statement by statement on the pool, each autocommitted (no transaction). */
  autocommit<T>(operation: SqlOperation<T>): Promise<T> {
    return PostgresDriver.run(this.#pool, operation);
  }

  /** Runs `operation` on `db`: inside a transaction of the caller's, if `db` is its connection. */
  static async run<T>(db: Queryable, operation: SqlOperation<T>): Promise<T> {
    let step = operation.next();
    while (!step.done) {
      const s = step.value;
      let answer: unknown;
      if (s.kind === 'lock') {
        await db.query(LOCK_SQL[s.lock]);
      } else {
        const result = await db.query(s.sql, s.params as unknown[]);
        answer = s.kind === 'one' ? result.rows[0] : s.kind === 'all' ? result.rows : (result.rowCount ?? 0);
      }
      step = operation.next(answer);
    }
    return step.value;
  }
}
