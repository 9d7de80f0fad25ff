/**
 * `holdfast migrate`: creates or upgrades the server's schema and exits.
 *
 * Servers migrate at start-up too (safely, several at once); running this
 * first lets a deployment upgrade the schema in one step before rolling out
 * new processes, and fail there rather than in every process.
 */
import { resolve } from 'node:path';
import { openStorage, PostgresStorage, SqliteStorage } from '@holdfast/server';
import { parseFlags, stringFlag, UsageError } from '../args.js';
import { databaseUrlFlag, redactedUrl } from './server-command.js';

export const MIGRATE_HELP = `holdfast migrate [--data DIR | --database-url URL]

Creates or upgrades the schema of the server's database, then exits.
  --data DIR            SQLite database in DIR                            default ./holdfast-data
  --database-url URL    a PostgreSQL database (postgres://user@host:5432/db)
Prints the schema version reached; exit 1 if a migration fails.`;

export async function migrateCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { data: { type: 'string' }, 'database-url': { type: 'string' } });
  if (flags.help) {
    console.log(MIGRATE_HELP);
    return 0;
  }
  const databaseUrl = databaseUrlFlag(flags);
  const data = stringFlag(flags, 'data');
  if (databaseUrl && data !== undefined) throw new UsageError('give --data or --database-url, not both');
  const dataDir = resolve(data ?? 'holdfast-data');
  const storage = await openStorage({ dataDir, ...(databaseUrl ? { databaseUrl } : {}) });
  try {
    let version = 0;
    if (storage instanceof PostgresStorage) version = await storage.schemaVersion();
    if (storage instanceof SqliteStorage) {
      version = storage.query<{ v: number }>('SELECT max(version) AS v FROM schema_migrations')[0]?.v ?? 0;
    }
    const where = databaseUrl ? redactedUrl(databaseUrl) : dataDir;
    console.log(`holdfast migrate: ${storage.kind} schema at version ${version} (${where})`);
  } finally {
    await storage.close();
  }
  return 0;
}
