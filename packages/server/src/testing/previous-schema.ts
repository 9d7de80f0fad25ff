/**
 * Databases as a previous release left them, for the tests of a migration
 * on existing data: the schema up to (not including) the first migration
 * that contains `marker`, recorded in `schema_migrations` as that release
 * would have, then `statements` (the old release's rows). Not part of the
 * server.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { POSTGRES_MIGRATIONS } from '../storage/postgres/postgres-schema.js';
import { SQLITE_MIGRATIONS } from '../storage/sqlite/sqlite-schema.js';

/** How many migrations come before the first containing `marker` (the migration under test). */
export function migrationsBefore(migrations: readonly string[], marker: string): number {
  const at = migrations.findIndex((m) => m.includes(marker));
  assert.ok(at > 0, `a migration of its own contains ${marker}`);
  return at;
}

/** A SQLite database file at `path` of the release before `marker`'s migration, with `statements` run on it. */
export function previousSqlite(path: string, marker: string, statements: readonly string[] = []): void {
  const db = new Database(path);
  try {
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (let i = 0; i < migrationsBefore(SQLITE_MIGRATIONS, marker); i++) {
      db.exec(SQLITE_MIGRATIONS[i] as string);
      db.prepare('INSERT INTO schema_migrations VALUES (?, 0)').run(i + 1);
    }
    for (const sql of statements) db.exec(sql);
  } finally {
    db.close();
  }
}

/** The PostgreSQL database at `url` (empty) made that of the release before `marker`'s migration, then `statements`. */
export async function previousPostgres(url: string, marker: string, statements: readonly string[] = []): Promise<void> {
  const old = new pg.Client({ connectionString: url });
  await old.connect();
  try {
    await old.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    for (let i = 0; i < migrationsBefore(POSTGRES_MIGRATIONS, marker); i++) {
      await old.query(POSTGRES_MIGRATIONS[i] as string);
      await old.query('INSERT INTO schema_migrations VALUES ($1, 0)', [i + 1]);
    }
    for (const sql of statements) await old.query(sql);
  } finally {
    await old.end();
  }
}
