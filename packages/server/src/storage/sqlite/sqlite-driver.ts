/**
 * SQLite's driver for the shared operations (../sql/transaction-port.ts):
 * answers each step synchronously on the one connection, so an operation
 * runs to completion without giving the event loop back — inside
 * `BEGIN IMMEDIATE` when it writes. That is how SQLite serializes: one
 * writer, one operation at a time, nothing interleaved.
 *
 * Statements are prepared once and kept; their `$n` parameters become
 * SQLite's `?n`, bound by number.
 */
import type Database from 'better-sqlite3';
import type { SqlOperation, SqlStep } from '../sql/transaction-port.js';

interface Prepared {
  statement: Database.Statement;
  /** True if the text had `$n` parameters: bind by number, not by position. */
  numbered: boolean;
}

export class SqliteDriver {
  readonly #db: Database.Database;
  readonly #prepared = new Map<string, Prepared>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Runs `operation` inside one BEGIN IMMEDIATE transaction. */
  transaction<T>(operation: () => SqlOperation<T>): T {
    return this.#db.transaction(() => this.autocommit(operation())).immediate();
  }

  /** Runs `operation` as it is: alone, each statement autocommits; inside a transaction of the caller's, as part of it. */
  autocommit<T>(operation: SqlOperation<T>): T {
    let step = operation.next();
    while (!step.done) step = operation.next(this.#answer(step.value));
    return step.value;
  }

  #answer(step: SqlStep): unknown {
    if (step.kind === 'lock') return undefined; // the one writer holds every lock already
    const { statement, numbered } = this.#prepare(step.sql);
    const params = numbered ? [Object.fromEntries(step.params.map((v, i) => [i + 1, v]))] : step.params;
    if (step.kind === 'one') return statement.get(...params);
    if (step.kind === 'all') return statement.all(...params);
    return statement.run(...params).changes;
  }

  #prepare(sql: string): Prepared {
    let prepared = this.#prepared.get(sql);
    if (!prepared) {
      const text = sql.replace(/\$(\d+)/g, '?$1');
      prepared = { statement: this.#db.prepare(text), numbered: text !== sql };
      this.#prepared.set(sql, prepared);
    }
    return prepared;
  }
}
