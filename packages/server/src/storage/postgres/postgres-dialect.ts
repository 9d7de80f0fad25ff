/** PostgreSQL's SQL dialect: `$n` placeholders; JSONB and BOOLEAN arrive typed from node-postgres. */
import type { SqlDialect } from '../sql/dialect.js';

export const postgresDialect: SqlDialect = Object.freeze({
  placeholder: (n: number) => `$${n}`,
  readJson: (value: unknown) => value,
  readBoolean: (value: unknown) => value === true,
  writeBoolean: (value: boolean) => value,
  insertIgnoring: { verb: 'INSERT', tail: 'ON CONFLICT DO NOTHING' },
  forUpdate: ' FOR UPDATE',
  least: (a: string, b: string) => `least(${a}, ${b})`,
  inList: (column: string, param: string) => `${column} = ANY (${param}::text[])`,
  list: (values: readonly string[]) => values,
  keyLocks: 'SELECT count(pg_advisory_xact_lock(hashtextextended(k, 11))) AS n FROM unnest($1::text[]) AS k',
});
