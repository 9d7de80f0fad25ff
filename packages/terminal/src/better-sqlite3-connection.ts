/**
 * The journal's SqliteConnection on better-sqlite3 (Node). Opening never
 * waits for a lock (timeout 0): a journal held by another process must fail
 * at once with a clear error, not hang a till.
 */
import Database from 'better-sqlite3';
import type { SqliteConnection, SqliteFailure, SqliteStatement } from './sqlite-connection.js';

/** Opens (creating if needed) the SQLite file at `file`. */
export function openBetterSqlite3(file: string): SqliteConnection {
  return new BetterSqlite3Connection(new Database(file, { timeout: 0 }));
}

export class BetterSqlite3Connection implements SqliteConnection {
  readonly #db: Database.Database;
  readonly #tx: Database.Transaction<(fn: () => unknown) => unknown>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#tx = db.transaction((fn: () => unknown) => fn());
  }

  get isOpen(): boolean {
    return this.#db.open;
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): SqliteStatement<P, R> {
    return this.#db.prepare<P, R>(sql) as SqliteStatement<P, R>;
  }

  transaction<T>(fn: () => T): T {
    return this.#tx(fn) as T;
  }

  pragma(statement: string): unknown {
    return this.#db.pragma(statement, { simple: true });
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  classify(error: unknown): SqliteFailure {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return 'busy';
    if (typeof code === 'string' && (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL')) return 'io';
    // better-sqlite3 gives a statement run on a closed connection no code, only a TypeError.
    if (error instanceof TypeError && !this.#db.open) return 'closed';
    return 'other';
  }
}
