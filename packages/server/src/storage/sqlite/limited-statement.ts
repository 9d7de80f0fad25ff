/**
 * Statements whose LIMIT is written into their text, one per limit.
 *
 * The SQLite that better-sqlite3 builds (SQLITE_ENABLE_STAT4) marks a LIMIT
 * given as a bound parameter as one whose value may change the plan, so
 * every run plans the statement again: 10–70 µs a run for the paged reads
 * of a simulated festival, ten times what the read itself costs. With the
 * limit in the text the statement is planned once. A limit is a whole
 * number written by this code, never text from a request.
 */
import type Database from 'better-sqlite3';

/** Distinct limits kept per statement before the cache is emptied (callers use one or two). */
const KEPT = 8;

/**
 * `sql` contains `LIMIT @limit` (named parameters) or `LIMIT ?` once; the
 * answer prepares it for a given limit, once per limit.
 */
export function limitedStatement(db: Database.Database, sql: string): (limit: number) => Database.Statement {
  const placeholder = sql.includes('LIMIT @limit') ? 'LIMIT @limit' : 'LIMIT ?';
  if (!sql.includes(placeholder)) throw new Error(`limitedStatement: no ${placeholder} in ${sql}`);
  const byLimit = new Map<number, Database.Statement>();
  return (limit) => {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RangeError(`a row limit must be a whole number of at least 0, got ${limit}`);
    }
    let statement = byLimit.get(limit);
    if (statement === undefined) {
      if (byLimit.size >= KEPT) byLimit.clear();
      statement = db.prepare(sql.replace(placeholder, `LIMIT ${limit}`));
      byLimit.set(limit, statement);
    }
    return statement;
  };
}
