/**
 * Statements whose LIMIT is written into their text, one per limit.
 *
 * The SQLite that better-sqlite3 builds (SQLITE_ENABLE_STAT4), on the server
 * and on the terminal, marks a LIMIT given as a bound parameter as one whose
 * value may change the plan, so every run plans the statement again: 10–70 µs
 * a run for the paged reads of a simulated festival (the device feed, the
 * forwarder's claim, the terminal's next batch), ten times what the read
 * itself costs. With the limit in the text the statement is planned once.
 * A limit is a whole number checked here, never text from a request.
 *
 * Generic over the connection: `prepare` is the caller's (better-sqlite3's
 * `db.prepare`, or the terminal's own connection).
 */

/** Distinct limits kept per statement before its cache is emptied (callers use one or two). */
export const LIMITED_STATEMENTS_KEPT = 8;

/**
 * `sql` contains `LIMIT @limit` (named parameters) or `LIMIT ?` once; the
 * answer prepares it for a given limit, once per limit, keeping at most
 * LIMITED_STATEMENTS_KEPT (a caller whose limit varies does not grow it
 * without bound).
 */
export function limitedStatement<S>(prepare: (sql: string) => S, sql: string): (limit: number) => S {
  const placeholder = sql.includes('LIMIT @limit') ? 'LIMIT @limit' : 'LIMIT ?';
  if (!sql.includes(placeholder)) throw new Error(`limitedStatement: no ${placeholder} in ${sql}`);
  const byLimit = new Map<number, S>();
  return (limit) => {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RangeError(`a row limit must be a whole number of at least 0, got ${limit}`);
    }
    let statement = byLimit.get(limit);
    if (statement === undefined) {
      if (byLimit.size >= LIMITED_STATEMENTS_KEPT) byLimit.clear();
      statement = prepare(sql.replace(placeholder, `LIMIT ${limit}`));
      byLimit.set(limit, statement);
    }
    return statement;
  };
}
