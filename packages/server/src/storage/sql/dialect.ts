/**
 * A SQL dialect: what differs between SQLite and PostgreSQL in the text of
 * a statement and in the values a row comes back with, and nothing else.
 * The shared statements (tables/, the operations) are written once over
 * it; each backend folder holds its instance (`sqlite/sqlite-dialect.ts`,
 * `postgres/postgres-dialect.ts`), the way Kysely pairs a driver with a
 * dialect.
 */
export interface SqlDialect {
  /** The `n`-th (1-based) parameter: `?` in SQLite, `$n` in PostgreSQL. */
  placeholder(n: number): string;
  /**
   * A JSON column as read: SQLite stores text, which is parsed here;
   * PostgreSQL's JSONB arrives parsed from node-postgres.
   */
  readJson(value: unknown): unknown;
  /** A boolean column as read: SQLite stores 0/1, PostgreSQL a BOOLEAN. */
  readBoolean(value: unknown): boolean;
  /** A boolean as bound: better-sqlite3 binds no booleans, so SQLite gets 0/1. */
  writeBoolean(value: boolean): unknown;
  /**
   * An INSERT that skips a row whose unique key is taken: SQLite's
   * `INSERT OR IGNORE …`, PostgreSQL's `INSERT … ON CONFLICT DO NOTHING`.
   */
  readonly insertIgnoring: { readonly verb: string; readonly tail: string };
  /**
   * Appended to a SELECT of rows the transaction goes on to change:
   * PostgreSQL locks them (` FOR UPDATE`); SQLite's one writer already
   * excludes everyone else ('').
   */
  readonly forUpdate: string;
  /** The smaller of two SQL expressions: SQLite's scalar `min(a, b)`, PostgreSQL's `least(a, b)`. */
  least(a: string, b: string): string;
  /**
   * `column` is one of the list bound at `param`: SQLite reads the list as
   * JSON (`IN (SELECT value FROM json_each(?))`), PostgreSQL as an array
   * (`= ANY ($n::text[])`). Bind the list with `list`.
   */
  inList(column: string, param: string): string;
  /** A list of text values as `inList` binds it. */
  list(values: readonly string[]): unknown;
  /**
   * A statement taking a lock per text key of the list bound at `$1` (keys
   * sorted by the caller), held to the end of the transaction: PostgreSQL's
   * advisory locks; null in SQLite, whose one writer already excludes
   * everyone else.
   */
  readonly keyLocks: string | null;
}

/** `count` placeholders from `first` on, comma-separated: `?, ?, ?` or `$3, $4, $5`. */
export function placeholders(dialect: SqlDialect, count: number, first = 1): string {
  const list: string[] = [];
  for (let i = 0; i < count; i++) list.push(dialect.placeholder(first + i));
  return list.join(', ');
}
