/**
 * Multi-row INSERT for better-sqlite3.
 *
 * A batch writes hundreds of rows per table. One statement per row pays the
 * per-call cost (crossing into native code, binding, stepping the VM) for
 * each of them; one statement of many rows pays it once per chunk. Rows are
 * written in chunks of 64, 32, 16, … 1 (the binary decomposition of the
 * count), so at most seven statements per table are ever prepared, and each
 * is reused for the life of the connection.
 */
import type Database from 'better-sqlite3';
import { insertHead, pushValues, type Table } from '../sql/table.js';

const MAX_CHUNK = 64;

export class RowInserter {
  readonly #db: Database.Database;
  readonly #head: string;
  readonly #tuple: string;
  readonly #width: number;
  readonly #statements = new Map<number, Database.Statement>();
  readonly #args: unknown[] = [];

  /**
   * @param into   e.g. `INSERT INTO ledger (op_id, seq)` or `INSERT OR IGNORE INTO x (a, b)`
   * @param width  number of columns
   * @param tail   appended after the VALUES list, e.g. an ON CONFLICT clause
   */
  constructor(
    db: Database.Database,
    into: string,
    width: number,
    readonly tail = '',
  ) {
    this.#db = db;
    this.#head = into;
    this.#width = width;
    this.#tuple = `(${new Array(width).fill('?').join(', ')})`;
  }

  /** Inserts every row; `params` writes one row's values (exactly `width` of them) into `out`. */
  insert<T>(rows: readonly T[], params: (row: T, out: unknown[]) => void): void {
    let i = 0;
    let chunk = MAX_CHUNK;
    const args = this.#args;
    while (i < rows.length) {
      while (chunk > rows.length - i) chunk >>= 1;
      args.length = 0;
      for (let k = 0; k < chunk; k++) params(rows[i + k] as T, args);
      if (args.length !== chunk * this.#width) {
        throw new Error(`RowInserter: ${this.#head} expects ${this.#width} values a row, got ${args.length / chunk}`);
      }
      this.#statement(chunk).run(args);
      i += chunk;
    }
    args.length = 0;
  }

  #statement(rows: number): Database.Statement {
    let statement = this.#statements.get(rows);
    if (!statement) {
      const values = new Array(rows).fill(this.#tuple).join(', ');
      statement = this.#db.prepare(`${this.#head} VALUES ${values}${this.tail ? ` ${this.tail}` : ''}`);
      this.#statements.set(rows, statement);
    }
    return statement;
  }
}

/** A RowInserter for the written columns of `table` (sql/table.ts): `insert(rows)` takes records. */
export function tableInserter<R>(
  db: Database.Database,
  table: Table<R>,
  verb = 'INSERT',
): (rows: readonly R[]) => void {
  const inserter = new RowInserter(db, insertHead(table as Table<unknown>, verb), table.columns.length);
  const values = (row: R, out: unknown[]) => pushValues(table, row, out);
  return (rows) => inserter.insert(rows, values);
}
