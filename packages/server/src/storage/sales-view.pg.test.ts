/**
 * Migration 25 on a database of the previous release: the `sales` table
 * becomes a view of the ledger's sale.recorded events. Readers see the rows
 * they saw before (and the summary the same totals); a table that differs
 * from the ledger stops the migration with nothing changed; on PostgreSQL a
 * process of the previous release can still insert its sale rows during a
 * rolling restart — on SQLite and on PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startTestPostgres } from '../testing/postgres.js';
import { migrationsBefore, previousPostgres, previousSqlite } from '../testing/previous-schema.js';
import { POSTGRES_MIGRATIONS } from './postgres/postgres-schema.js';
import { PostgresStorage } from './postgres/postgres-storage.js';
import { SQLITE_MIGRATIONS } from './sqlite/sqlite-schema.js';
import { SqliteStorage } from './sqlite/sqlite-storage.js';
import type { Storage } from './storage.js';

const pgServer = await startTestPostgres();
const dir = mkdtempSync(join(tmpdir(), 'holdfast-sales-view-'));
after(async () => {
  await pgServer.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The view's migration: the previous release had every one before it. */
const MARKER = 'CREATE VIEW sales';
const before = (migrations: readonly string[]) => migrationsBefore(migrations, MARKER);

const A = '019aa6c0-0000-7000-8000-0000000000a1';
const B = '019aa6c0-0000-7000-8000-0000000000b2';
/** Two sales as the previous release wrote them (a row and a ledger event each), and an event of another kind. */
const SALE_ROWS = [
  [A, 'dev-1', 2, 'shift-1', 'EUR', 1_750, 1_750, 0, 2, 1_000, 2_000],
  [B, 'dev-1', 3, 'shift-1', 'EUR', 900, 0, 600, 1, 1_100, 2_100],
] as const;
const OLD_ROWS = [
  ...SALE_ROWS.map(
    ([id, device, seq, shift, currency, total, cash, card, lines, deviceAt, appliedAt]) =>
      `INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
         VALUES ('${id}', '${device}', ${seq}, 'sale.recorded', '${shift}', '${currency}', ${total},
                 '${JSON.stringify({ cash, card, lines, ...(cash + card < total ? { wristband: total - cash - card } : {}) })}',
                 ${deviceAt}, ${appliedAt})`,
  ),
  ...SALE_ROWS.map(
    (r) => `INSERT INTO sales (op_id, device, seq, shift_id, currency, total, cash, card, lines, device_at, applied_at)
              VALUES (${r.map((v) => (typeof v === 'string' ? `'${v}'` : v)).join(', ')})`,
  ),
  `INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
     VALUES ('019aa6c0-0000-7000-8000-0000000000c3', 'dev-1', 4, 'cash.moved', 'shift-1', 'EUR', 500,
             '{"direction":"in"}', 1200, 2200)`,
];
const SALES_READ =
  'SELECT op_id, device, seq, shift_id, currency, total, cash, card, lines, device_at, applied_at FROM sales ORDER BY op_id';

/** The view's rows as plain numbers (PostgreSQL's BIGINT arrives as text). */
function normalised(rows: Record<string, unknown>[]): unknown[][] {
  return rows.map((r) => Object.values(r).map((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v)));
}

async function assertSalesKept(storage: Storage, read: () => Promise<Record<string, unknown>[]>): Promise<void> {
  await storage.migrate();
  assert.deepEqual(normalised(await read()), SALE_ROWS);
  const summary = await storage.summary();
  assert.deepEqual(summary.sales, [{ currency: 'EUR', sales: 2, total: 2_650, cash: 1_750, card: 600 }]);
}

function oldSqlite(name: string, tamper?: string): string {
  const path = join(dir, name);
  previousSqlite(path, MARKER, tamper ? [...OLD_ROWS, tamper] : OLD_ROWS);
  return path;
}

async function oldPostgres(tamper?: string): Promise<string> {
  const url = await pgServer.newDatabase();
  await previousPostgres(url, MARKER, tamper ? [...OLD_ROWS, tamper] : OLD_ROWS);
  return url;
}

const TAMPERS = [
  ['a sale whose cash differs from its event', `UPDATE sales SET cash = cash - 1 WHERE op_id = '${A}'`],
  [
    'a sale without its event',
    `INSERT INTO sales (op_id, device, seq, shift_id, currency, total, cash, card, lines, device_at, applied_at)
       VALUES ('no-event', 'dev-1', 9, 'shift-1', 'EUR', 5, 5, 0, 1, 1, 1)`,
  ],
  ['an event without its sale', `DELETE FROM sales WHERE op_id = '${B}'`],
] as const;

describe('the sales view on a database of the previous release', () => {
  it('SQLite: readers and the summary see the same sales after the upgrade', async () => {
    const storage = new SqliteStorage({ path: oldSqlite('old.db') });
    try {
      await assertSalesKept(storage, async () => storage.query(SALES_READ));
      assert.deepEqual(storage.query("SELECT type FROM sqlite_master WHERE name = 'sales'"), [{ type: 'view' }]);
    } finally {
      await storage.close();
    }
  });

  for (const [what, tamper] of TAMPERS) {
    it(`SQLite: ${what} stops the migration, the table kept`, async () => {
      const path = oldSqlite(`tampered-${TAMPERS.findIndex(([w]) => w === what)}.db`, tamper);
      const storage = new SqliteStorage({ path });
      try {
        await assert.rejects(storage.migrate(), /migration 25 refused: the sales table and the ledger/);
      } finally {
        await storage.close();
      }
      const db = new Database(path);
      try {
        assert.deepEqual(db.prepare("SELECT type FROM sqlite_master WHERE name = 'sales'").all(), [{ type: 'table' }]);
        assert.deepEqual(db.prepare('SELECT max(version) AS v FROM schema_migrations').get(), {
          v: before(SQLITE_MIGRATIONS),
        });
      } finally {
        db.close();
      }
    });
  }

  it('PostgreSQL: the same, and a process of the previous release still inserts its sale rows', async () => {
    const url = await oldPostgres();
    const storage = new PostgresStorage({ connectionString: url });
    try {
      await assertSalesKept(storage, async () => storage.query(SALES_READ));
      // The previous release's ingest wrote sales in a data-modifying CTE of its one write statement.
      await storage.query(
        `WITH ins_sales AS (
           INSERT INTO sales (op_id, device, seq, shift_id, currency, total, cash, card, lines, device_at, applied_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[],
                                $7::bigint[], $8::bigint[], $9::int[], $10::bigint[], $11::bigint[]))
         UPDATE devices SET last_seen_at = last_seen_at WHERE id = 'none'`,
        [['old-release'], ['dev-1'], [9], ['shift-1'], ['EUR'], [5], [5], [0], [1], [1], [1]],
      );
      assert.deepEqual(normalised(await storage.query(SALES_READ)), SALE_ROWS);
    } finally {
      await storage.close();
    }
  });

  for (const [what, tamper] of TAMPERS) {
    it(`PostgreSQL: ${what} stops the migration, the table kept`, async () => {
      const url = await oldPostgres(tamper);
      const storage = new PostgresStorage({ connectionString: url });
      try {
        await assert.rejects(storage.migrate(), /migration 25 refused: the sales table and the ledger/);
        assert.deepEqual(
          await storage.query("SELECT table_type FROM information_schema.tables WHERE table_name = 'sales'"),
          [{ table_type: 'BASE TABLE' }],
        );
        assert.deepEqual(normalised(await storage.query('SELECT max(version) AS v FROM schema_migrations')), [
          [before(POSTGRES_MIGRATIONS)],
        ]);
      } finally {
        await storage.close();
      }
    });
  }
});
