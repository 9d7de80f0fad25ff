/**
 * SqliteConnection: the part of a SQLite binding the journal uses, narrow
 * enough for any binding to implement (better-sqlite3 on Node, a WASM
 * SQLite in a browser). The journal and the modules that own journal tables
 * are written against this interface only; `better-sqlite3-connection.ts`
 * is the Node implementation.
 *
 * Everything is synchronous: recording returns once the op is durable, and
 * the journal's invariants (one writer, the chain head changing only after
 * a commit) rest on no other code running inside a transaction.
 */

/** A prepared statement: positional parameters in, plain row objects out. */
export interface SqliteStatement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): { changes: number; lastInsertRowid: number | bigint };
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/**
 * What a failure of the binding means to the journal, decided by the
 * binding from its own error codes, never by matching message text:
 *
 *   busy    another connection holds the lock (SQLITE_BUSY, SQLITE_LOCKED)
 *   closed  a statement ran on a connection already closed (after kill())
 *   io      the disk failed (SQLITE_IOERR_*, SQLITE_FULL): a transaction that
 *           was committing may or may not be durable — its outcome is unknown
 *   other   anything else: a real failure, reported as it is
 */
export type SqliteFailure = 'busy' | 'closed' | 'io' | 'other';

export interface SqliteConnection {
  /** False once closed (by close(), or by a simulated power cut). */
  readonly isOpen: boolean;
  /** Runs one or more statements that return nothing. */
  exec(sql: string): void;
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): SqliteStatement<P, R>;
  /** Runs `fn` in one transaction: committed if it returns, rolled back if it throws. Not re-entrant. */
  transaction<T>(fn: () => T): T;
  /** Runs `PRAGMA <statement>` and returns the first column of its first row (undefined if none). */
  pragma(statement: string): unknown;
  /** Closes the connection; a no-op when already closed. */
  close(): void;
  /** Classifies an error thrown by this connection or one of its statements. */
  classify(error: unknown): SqliteFailure;
}
