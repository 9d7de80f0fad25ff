/**
 * The checking kit on a real server, one suite per backend (SQLite file,
 * PostgreSQL database): two tills sell through the real service, then
 * checkServerAgainstJournals reads their journals and the server from disk
 * and finds nothing wrong; an op applied twice behind the service's back is
 * then found, on either backend, by the same rules (and the shift's money
 * no longer adds up).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HoldfastService, PostgresStorage, SqliteStorage, type Storage } from '@holdfast/server';
import { startTestPostgres, type TestPostgres } from '@holdfast/server/testing/postgres';
import { Terminal } from '@holdfast/terminal';
import Database from 'better-sqlite3';
import { inProcessTransport } from '../in-process-transport.js';
import { checkServerAgainstJournals } from './check-truth.js';
import { formatViolation } from './format.js';

const DUPLICATE_LEDGER_ROW = `INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
  SELECT op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at FROM ledger WHERE op_id = $1`;

interface Backend {
  name: string;
  /** A fresh, migrated storage and how the kit names it (a file, a URL). */
  open(): Promise<{ storage: Storage; server: string }>;
  /** Runs `sql` (one `$1` parameter) against the server behind the service's back. */
  tamper(server: string, sql: string, param: string): Promise<void>;
}

const root = mkdtempSync(join(tmpdir(), 'holdfast-check-kit-'));
let postgres: TestPostgres | null = null;
after(async () => {
  await postgres?.stop();
  rmSync(root, { recursive: true, force: true });
});

const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const server = join(root, 'sqlite', 'holdfast.db');
      const storage = new SqliteStorage({ path: server });
      await storage.migrate();
      return { storage, server };
    },
    async tamper(server, sql, param) {
      const db = new Database(server);
      try {
        db.prepare(sql.replace('$1', '?')).run(param);
      } finally {
        db.close();
      }
    },
  },
  {
    name: 'postgres',
    async open() {
      postgres ??= await startTestPostgres();
      const server = await postgres.newDatabase();
      const storage = new PostgresStorage({ connectionString: server });
      await storage.migrate();
      return { storage, server };
    },
    async tamper(server, sql, param) {
      const storage = new PostgresStorage({ connectionString: server, pool: { max: 1 } });
      try {
        await storage.query(sql, [param]);
      } finally {
        await storage.close();
      }
    },
  },
];

/** Two tills open a shift, sell three times in cash, close even and sync; returns their data dirs. */
async function trade(storage: Storage, dir: string): Promise<string[]> {
  const service = new HoldfastService({ storage });
  const dirs: string[] = [];
  for (const label of ['till-1', 'till-2']) {
    const dataDir = join(dir, label);
    dirs.push(dataDir);
    const till = Terminal.open({ dataDir, transport: inProcessTransport(service), autoSync: false });
    try {
      const { token } = await service.createEnrollmentToken({ label });
      await till.enroll(token, label);
      till.openShift({ clerk: `clerk-${label}`, currency: 'EUR', openingFloat: 10_000 });
      for (const qty of [1, 2, 3]) {
        const total = qty * 650;
        till.recordSale({
          lines: [{ sku: 'BEER-05', name: 'Beer 0.5l', qty, unitPrice: 650 }],
          tenders: [{ type: 'cash', amount: total, tendered: total }],
        });
      }
      const shift = till.currentShift();
      assert.ok(shift);
      till.closeShift({ countedCash: shift.openingFloat + shift.cashSales });
      for (let i = 0; i < 20 && till.status().pending > 0; i++) await till.syncNow();
      assert.equal(till.status().pending, 0);
    } finally {
      await till.close();
    }
  }
  return dirs;
}

for (const backend of BACKENDS) {
  describe(`checkServerAgainstJournals on ${backend.name}`, () => {
    it('finds a clean run clean, and an op applied twice behind the service', async () => {
      const { storage, server } = await backend.open();
      let journals: string[];
      try {
        journals = await trade(storage, join(root, backend.name));
      } finally {
        await storage.close();
      }
      const clean = await checkServerAgainstJournals({ server, journals });
      assert.deepEqual(clean.violations.map(formatViolation), []);
      assert.equal(clean.truth.server.ops.length, 10);
      const [first] = clean.truth.server.ledger;
      assert.ok(first);
      assert.equal(typeof first.seq, 'number', 'numbers as numbers on every backend');
      assert.equal(typeof first.data, 'object', 'JSON columns parsed on every backend');

      const entries = clean.truth.journals[0]?.entries ?? [];
      const [shift, sale] = [entries[0], entries.find((e) => e.kind === 'sale.recorded')];
      assert.ok(shift && sale);
      await backend.tamper(server, DUPLICATE_LEDGER_ROW, sale.id);
      const { violations } = await checkServerAgainstJournals({ server, journals });
      const found = violations.map((v) => [v.rule, v.opId]);
      assert.deepEqual(
        found.filter(([rule]) => rule !== 'journal-balanced'),
        [
          ['applied-once', sale.id],
          ['money', shift.id],
        ],
      );
      // The duplicated row also puts the accounting export out of step with the ledger (rule journal-balanced).
      assert.ok(found.some(([rule, id]) => rule === 'journal-balanced' && id === sale.id));
    });
  });
}
