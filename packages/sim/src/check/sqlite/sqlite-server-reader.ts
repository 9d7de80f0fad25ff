/**
 * The kit's reader of a SQLite server: over the server's open storage (the
 * simulator's running server) or its data file (a server that has stopped).
 * SQLite answers synchronously, so `readNow()` gives the truth at once; the
 * simulator's checker relies on that to stay synchronous.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE, SqliteStorage } from '@holdfast/server';
import { type Row, SERVER_QUERIES, type ServerReader, type ServerTable, toServerTruth } from '../server-reader.js';
import type { ServerTruth } from '../truth.js';

/** What the reader needs of a SQLite storage. */
export interface SqliteQueryable {
  query<T>(sql: string, ...params: unknown[]): T[];
}

export class SqliteServerReader implements ServerReader {
  readonly #storage: SqliteQueryable;
  /** The storage `open()` opened, closed by `close()`; null when the caller owns it. */
  readonly #owned: SqliteStorage | null;

  /** Reads through an open storage (the caller closes it). */
  constructor(storage: SqliteQueryable, owned: SqliteStorage | null = null) {
    this.#storage = storage;
    this.#owned = owned;
  }

  /** Opens the server database at `path`: its file, or the server's data directory. */
  static open(path: string): SqliteServerReader {
    const file = existsSync(path) && statSync(path).isDirectory() ? join(path, DATABASE_FILE) : path;
    if (!existsSync(file)) throw new Error(`no server database at ${file}`);
    const storage = new SqliteStorage({ path: file });
    return new SqliteServerReader(storage, storage);
  }

  rowsNow(table: ServerTable): Row[] {
    return this.#storage.query<Row>(SERVER_QUERIES[table]);
  }

  async rows(table: ServerTable): Promise<Row[]> {
    return this.rowsNow(table);
  }

  /** Every table at once, synchronously. */
  readNow(): ServerTruth {
    const raw = {} as Record<ServerTable, Row[]>;
    for (const table of Object.keys(SERVER_QUERIES) as ServerTable[]) raw[table] = this.rowsNow(table);
    return toServerTruth(raw);
  }

  async close(): Promise<void> {
    await this.#owned?.close();
  }
}
