/**
 * The column lists of sql/tables/ against the PostgreSQL schema: a column
 * added by a migration but not to its table (or the reverse) fails here.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startTestPostgres } from '../../testing/postgres.js';
import { DESCRIBED_TABLES, describedColumns } from '../sql/tables.js';
import { PostgresStorage } from './postgres-storage.js';

const server = await startTestPostgres();
after(() => server.stop());

describe('PostgreSQL schema and the described tables', () => {
  it('has exactly the columns each table description lists', async () => {
    const storage = new PostgresStorage({ connectionString: await server.newDatabase() });
    await storage.migrate();
    try {
      for (const table of DESCRIBED_TABLES) {
        const actual = await storage.query<{ name: string }>(
          `SELECT column_name AS name FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = $1`,
          [table.name],
        );
        assert.deepEqual(actual.map((c) => c.name).sort(), describedColumns(table), table.name);
      }
    } finally {
      await storage.close();
    }
  });
});
