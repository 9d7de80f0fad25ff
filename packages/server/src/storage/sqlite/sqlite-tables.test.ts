/**
 * The column lists of sql/tables/ against the SQLite schema: a column
 * added by a migration but not to its table (or the reverse) fails here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DESCRIBED_TABLES, describedColumns } from '../sql/tables.js';
import { SqliteStorage } from './sqlite-storage.js';

describe('SQLite schema and the described tables', () => {
  it('has exactly the columns each table description lists', async () => {
    const storage = new SqliteStorage({ path: ':memory:' });
    await storage.migrate();
    try {
      for (const table of DESCRIBED_TABLES) {
        const actual = storage.query<{ name: string }>(`SELECT name FROM pragma_table_info('${table.name}')`);
        assert.deepEqual(actual.map((c) => c.name).sort(), describedColumns(table), table.name);
      }
    } finally {
      await storage.close();
    }
  });
});
