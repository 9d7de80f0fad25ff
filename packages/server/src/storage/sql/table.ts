/**
 * A table's column list, written once: the name and PostgreSQL type of
 * each column a record writes, with the function that takes its value from
 * the record. Every INSERT of the shared statements and both ingest fast
 * paths (SQLite's multi-row VALUES, PostgreSQL's unnest) is built from it,
 * so adding a column is one edit here plus a migration per backend.
 * `later` lists the columns the INSERT leaves to defaults (identities, state
 * set by later UPDATEs), so a test can check the whole list against each
 * backend's schema (tables.test.ts).
 */
import type { SqlDialect } from './dialect.js';

/** A column's PostgreSQL type: what its unnest array is cast to. SQLite's affinity follows from it. */
export type ColumnType = 'text' | 'bigint' | 'int' | 'jsonb' | 'boolean';

export interface Column<R> {
  readonly name: string;
  readonly type: ColumnType;
  readonly value: (record: R) => unknown;
}

export interface Table<R> {
  readonly name: string;
  /** The columns an INSERT writes, in order. */
  readonly columns: readonly Column<R>[];
  /** The other columns of the table (identity `pos`, state written by UPDATEs). */
  readonly later: readonly string[];
  /** `a, b, c`: the written columns, in order. */
  readonly list: string;
}

/** A table from its written columns (`name: [type, value]`, in order) and the names of the rest. */
export function defineTable<R>(
  name: string,
  columns: Record<string, readonly [ColumnType, (record: R) => unknown]>,
  later: readonly string[] = [],
): Table<R> {
  const list = Object.entries(columns).map(([column, [type, value]]) => ({ name: column, type, value }));
  return Object.freeze({ name, columns: list, later, list: list.map((c) => c.name).join(', ') });
}

/** `INSERT INTO t (a, b, c)`, without VALUES: the head both ingest fast paths and `insertSql` extend. */
export function insertHead(table: Table<unknown>, verb = 'INSERT'): string {
  return `${verb} INTO ${table.name} (${table.list})`;
}

/**
 * A one-row `INSERT INTO t (…) VALUES (…)` in `dialect`: skipping a row
 * whose unique key is taken if `ignoring`, followed by `tail` (an
 * ON CONFLICT clause of its own) if given.
 */
export function insertSql<R>(
  table: Table<R>,
  dialect: SqlDialect,
  options: { ignoring?: boolean; tail?: string } = {},
): string {
  const verb = options.ignoring ? dialect.insertIgnoring.verb : 'INSERT';
  const tail = options.tail ?? (options.ignoring ? dialect.insertIgnoring.tail : '');
  const values = table.columns.map((_, i) => dialect.placeholder(i + 1)).join(', ');
  return `${insertHead(table as Table<unknown>, verb)} VALUES (${values})${tail ? ` ${tail}` : ''}`;
}

/** Appends `record`'s values to `out`, in column order (booleans as `dialect` binds them). */
export function pushValues<R>(table: Table<R>, record: R, out: unknown[], dialect?: SqlDialect): void {
  for (const c of table.columns) {
    const v = c.value(record);
    out.push(dialect && c.type === 'boolean' ? dialect.writeBoolean(v as boolean) : v);
  }
}

/** `record`'s values, in column order, for a one-row INSERT. */
export function valuesOf<R>(table: Table<R>, record: R, dialect: SqlDialect): unknown[] {
  const out: unknown[] = [];
  pushValues(table, record, out, dialect);
  return out;
}
