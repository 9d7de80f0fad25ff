/**
 * The kit's reader of a PostgreSQL server: over anything that runs a query
 * and returns its rows (a PostgresStorage), or a connection string (a
 * one-connection PostgresStorage opened here and closed by `close()`).
 */
import { PostgresStorage } from '@holdfast/server';
import { type Row, SERVER_QUERIES, type ServerReader, type ServerTable } from '../server-reader.js';

/** What the reader needs of a PostgreSQL connection (PostgresStorage has it). */
export interface PostgresQueryable {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

export class PostgresServerReader implements ServerReader {
  readonly #db: PostgresQueryable;
  readonly #owned: PostgresStorage | null;

  /** Reads through an open connection (the caller closes it). */
  constructor(db: PostgresQueryable, owned: PostgresStorage | null = null) {
    this.#db = db;
    this.#owned = owned;
  }

  /** Connects to the server database at `connectionString` (`postgres://…`). */
  static open(connectionString: string): PostgresServerReader {
    const storage = new PostgresStorage({ connectionString, pool: { max: 1 } });
    return new PostgresServerReader(storage, storage);
  }

  rows(table: ServerTable): Promise<Row[]> {
    return this.#db.query<Row>(SERVER_QUERIES[table]);
  }

  async close(): Promise<void> {
    await this.#owned?.close();
  }
}
