/**
 * SqliteConnection on the official SQLite WebAssembly build (oo1 API), so
 * the portable journal (journal-core.ts) runs on it unchanged. Synchronous
 * like better-sqlite3: the oo1 API is, inside a dedicated worker.
 */
import type { SqliteConnection, SqliteFailure, SqliteStatement } from '@holdfast/terminal/portable';

/** The parts of an oo1 statement used here. */
interface WasmStmt {
  parameterCount: number;
  bind(values: unknown[]): WasmStmt;
  step(): boolean;
  get(target: Record<string, unknown>): Record<string, unknown>;
  reset(clearBindings?: boolean): WasmStmt;
  finalize(): void;
}

/** The parts of an oo1 database used here. */
export interface WasmDb {
  isOpen(): boolean;
  exec(sql: string): unknown;
  prepare(sql: string): WasmStmt;
  selectValue(sql: string): unknown;
  changes(): number;
  close(): void;
  pointer?: unknown;
}

/** SQLite's primary result codes that matter to the journal (sqlite3.h). */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;

function toNumber(value: unknown): number {
  return typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : (value as number);
}

class WasmStatement<P extends unknown[], R> implements SqliteStatement<P, R> {
  readonly #conn: WasmConnection;
  readonly #stmt: WasmStmt;

  constructor(conn: WasmConnection, stmt: WasmStmt) {
    this.#conn = conn;
    this.#stmt = stmt;
  }

  #start(params: unknown[]): WasmStmt {
    this.#conn.assertOpen();
    this.#stmt.reset(true);
    if (params.length !== this.#stmt.parameterCount) {
      throw new RangeError(`statement takes ${this.#stmt.parameterCount} parameters, got ${params.length}`);
    }
    if (params.length > 0) this.#stmt.bind(params);
    return this.#stmt;
  }

  run(...params: P): { changes: number; lastInsertRowid: number | bigint } {
    const stmt = this.#start(params);
    try {
      while (stmt.step()) {
        // RETURNING rows of a run() are not wanted; stepping to the end applies the statement.
      }
    } finally {
      stmt.reset(true);
    }
    return { changes: this.#conn.db.changes(), lastInsertRowid: this.#conn.lastInsertRowid() };
  }

  get(...params: P): R | undefined {
    const stmt = this.#start(params);
    try {
      return stmt.step() ? (stmt.get({}) as R) : undefined;
    } finally {
      stmt.reset(true);
    }
  }

  all(...params: P): R[] {
    const stmt = this.#start(params);
    const rows: R[] = [];
    try {
      while (stmt.step()) rows.push(stmt.get({}) as R);
    } finally {
      stmt.reset(true);
    }
    return rows;
  }
}

export class WasmConnection implements SqliteConnection {
  readonly db: WasmDb;
  readonly #lastInsertRowid: () => unknown;
  readonly #isSqliteError: (error: unknown) => error is { resultCode: number };

  /**
   * `lastInsertRowid` reads sqlite3_last_insert_rowid of `db`;
   * `isSqliteError` recognises the build's SQLite3Error.
   */
  constructor(db: WasmDb, lastInsertRowid: () => unknown, isSqliteError: (error: unknown) => boolean) {
    this.db = db;
    this.#lastInsertRowid = lastInsertRowid;
    this.#isSqliteError = isSqliteError as (error: unknown) => error is { resultCode: number };
  }

  get isOpen(): boolean {
    return this.db.isOpen();
  }

  assertOpen(): void {
    if (!this.db.isOpen()) throw new ClosedConnectionError();
  }

  lastInsertRowid(): number | bigint {
    const id = this.#lastInsertRowid();
    return typeof id === 'bigint' ? toNumber(id) : (id as number);
  }

  exec(sql: string): void {
    this.assertOpen();
    this.db.exec(sql);
  }

  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): SqliteStatement<P, R> {
    this.assertOpen();
    return new WasmStatement<P, R>(this, this.db.prepare(sql));
  }

  transaction<T>(fn: () => T): T {
    this.exec('BEGIN');
    let out: T;
    try {
      out = fn();
      if (out instanceof Promise) throw new TypeError('a journal transaction must be synchronous');
    } catch (error) {
      if (this.db.isOpen()) this.db.exec('ROLLBACK');
      throw error;
    }
    this.exec('COMMIT');
    return out;
  }

  pragma(statement: string): unknown {
    this.assertOpen();
    const value = this.db.selectValue(`PRAGMA ${statement}`);
    return typeof value === 'bigint' ? toNumber(value) : value;
  }

  close(): void {
    if (this.db.isOpen()) this.db.close();
  }

  classify(error: unknown): SqliteFailure {
    if (error instanceof ClosedConnectionError) return 'closed';
    if (!this.#isSqliteError(error)) return this.db.isOpen() ? 'other' : 'closed';
    const primary = error.resultCode & 0xff;
    if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) return 'busy';
    if (primary === SQLITE_IOERR || primary === SQLITE_FULL) return 'io';
    return 'other';
  }
}

/** A statement ran on a connection already closed. */
export class ClosedConnectionError extends Error {
  constructor() {
    super('the journal connection is closed');
    this.name = 'ClosedConnectionError';
  }
}
