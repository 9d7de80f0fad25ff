/**
 * Multi-row INSERTs for PostgreSQL in one parameter per column: each
 * column's values travel as one array and are unnested, so a statement's
 * text (and its prepared plan) is the same whatever the number of rows.
 * Built from a table's column list (../sql/table.ts); the placeholders are
 * numbered here, not by hand.
 */
import type { ColumnType, Table } from '../sql/table.js';

const ARRAY_TYPE: Record<ColumnType, string> = {
  text: 'text[]',
  bigint: 'bigint[]',
  int: 'int[]',
  jsonb: 'jsonb[]',
  boolean: 'boolean[]',
};

export interface UnnestOptions {
  /** Insert in array order (WITH ORDINALITY … ORDER BY), so an identity `pos` follows it. */
  ordered?: boolean;
  /** Appended after the SELECT, e.g. an ON CONFLICT clause. */
  tail?: string;
}

/** `INSERT INTO t (…) SELECT … FROM unnest($first::type[], …)`, and the next free parameter number. */
export function unnestInsert<R>(
  table: Table<R>,
  first: number,
  options: UnnestOptions = {},
): { sql: string; next: number } {
  const arrays = table.columns.map((c, i) => `$${first + i}::${ARRAY_TYPE[c.type]}`).join(', ');
  const select = options.ordered
    ? `SELECT ${table.columns.map((c) => `t.${c.name}`).join(', ')}
  FROM unnest(${arrays}) WITH ORDINALITY AS t(${table.list}, n)
  ORDER BY t.n`
    : `SELECT * FROM unnest(${arrays})`;
  const sql = `INSERT INTO ${table.name} (${table.list})
  ${select}${options.tail ? `\n  ${options.tail}` : ''}`;
  return { sql, next: first + table.columns.length };
}

/** The parameters of `unnestInsert`: one array per column of `rows`, in column order. */
export function columnArrays<R>(table: Table<R>, rows: readonly R[]): unknown[][] {
  return table.columns.map((c) => rows.map(c.value));
}
