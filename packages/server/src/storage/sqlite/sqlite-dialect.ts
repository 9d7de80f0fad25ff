/** SQLite's SQL dialect: `?` placeholders, JSON stored as text, booleans as 0/1. */
import type { SqlDialect } from '../sql/dialect.js';

export const sqliteDialect: SqlDialect = Object.freeze({
  placeholder: () => '?',
  readJson: (value: unknown) => JSON.parse(value as string),
  readBoolean: (value: unknown) => value === true || Number(value) === 1,
  writeBoolean: (value: boolean) => (value ? 1 : 0),
  insertIgnoring: { verb: 'INSERT OR IGNORE', tail: '' },
  forUpdate: '',
  least: (a: string, b: string) => `min(${a}, ${b})`,
  inList: (column: string, param: string) => `${column} IN (SELECT value FROM json_each(${param}))`,
  list: (values: readonly string[]) => JSON.stringify(values),
  keyLocks: null,
});
