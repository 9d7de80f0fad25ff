import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createHarness, type Harness } from '../../testing/harness.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';
import { DEFAULT_WAL_CHECKPOINT_PAGES, SqliteStorage } from './sqlite-storage.js';

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-sqlite-'));
  tempDirs.push(dir);
  return join(dir, 'nested', 'holdfast.db');
}

/** A harness with one device that has stored one shift and two sales. */
async function seeded(storage: SqliteStorage): Promise<{ h: Harness; batch: unknown }> {
  const h = await createHarness({ storage });
  const d = await h.enrollDevice('lane-1');
  const open = d.openShift();
  const batch = d.batch([open, d.sale(open.id, 450), d.sale(open.id, 300)]);
  const res = await h.send(batch);
  assert.equal(res.status, 200);
  return { h, batch };
}

describe('SqliteStorage only', () => {
  it('checkpoints its WAL every DEFAULT_WAL_CHECKPOINT_PAGES pages, or as many as it is told; refuses a bad count', async () => {
    const pages = (s: SqliteStorage) => s.query<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')[0];
    const byDefault = new SqliteStorage({ path: tempDbPath() });
    const told = new SqliteStorage({ path: tempDbPath(), walCheckpointPages: 2_500 });
    try {
      assert.deepEqual(pages(byDefault), { wal_autocheckpoint: DEFAULT_WAL_CHECKPOINT_PAGES });
      assert.deepEqual(pages(told), { wal_autocheckpoint: 2_500 });
    } finally {
      await byDefault.close();
      await told.close();
    }
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new SqliteStorage({ path: ':memory:', walCheckpointPages: bad }),
        /walCheckpointPages must be an integer >= 1/,
      );
    }
  });

  it('refuses UPDATE and DELETE on ops and on the ledger (append-only triggers)', async () => {
    const storage = new SqliteStorage({ path: ':memory:' });
    const { h } = await seeded(storage);
    try {
      const before = storage.query('SELECT * FROM ops ORDER BY seq');
      const ledgerBefore = storage.query('SELECT * FROM ledger ORDER BY pos');
      assert.equal(before.length, 3);
      assert.equal(ledgerBefore.length, 3);
      // RETURNING makes these statements return rows, so query() runs them and only a trigger can stop them.
      for (const sql of [
        "UPDATE ops SET status = 'rejected' RETURNING id",
        'DELETE FROM ops WHERE seq = 3 RETURNING id',
        'UPDATE ledger SET amount = 0 RETURNING pos',
        'DELETE FROM ledger RETURNING pos',
      ]) {
        assert.throws(() => storage.query(sql), /append-only/, sql);
      }
      assert.deepEqual(storage.query('SELECT * FROM ops ORDER BY seq'), before);
      assert.deepEqual(storage.query('SELECT * FROM ledger ORDER BY pos'), ledgerBefore);
    } finally {
      await h.close();
    }
  });

  it('keeps everything across a close and reopen of a file database; a replay is then answered with duplicates', async () => {
    const path = tempDbPath();
    const first = await seeded(new SqliteStorage({ path }));
    const summary = await first.h.storage.summary();
    const devices = await first.h.storage.listDeviceStatuses();
    const ledger = await first.h.storage.listLedger(0, 100);
    await first.h.close();

    const reopened = new SqliteStorage({ path });
    const h = await createHarness({ storage: reopened });
    try {
      assert.deepEqual(await reopened.summary(), summary);
      assert.deepEqual(await reopened.listDeviceStatuses(), devices);
      assert.deepEqual(await reopened.listLedger(0, 100), ledger);
      assert.deepEqual(
        reopened.query<{ version: number }>('SELECT version FROM schema_migrations').map((r) => r.version),
        SQLITE_MIGRATIONS.map((_, i) => i + 1),
        'migrations ran once',
      );
      const replay = await h.send(first.batch);
      assert.equal(replay.status, 200);
      assert.deepEqual(
        replay.body.results.map((r) => r.status),
        ['duplicate', 'duplicate', 'duplicate'],
      );
      assert.equal((await reopened.summary()).opsAccepted, 3);
    } finally {
      await h.close();
    }
  });

  it('refuses UPDATE and DELETE on policies (append-only)', async () => {
    const storage = new SqliteStorage({ path: ':memory:' });
    const h = await createHarness({ storage });
    try {
      await h.service.issuePolicy({
        scope: { merchant: 'acme', location: null, event: null, devices: null },
        currency: 'EUR',
        expiresAt: h.clock.now() + 3_600_000,
        offline: { maxOfflineMs: 0, device: { maxAmount: 0, maxCount: 0 }, tenders: {} },
        online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
      });
      const before = storage.query('SELECT * FROM policies');
      assert.equal(before.length, 1);
      for (const sql of ['UPDATE policies SET version = 7 RETURNING id', 'DELETE FROM policies RETURNING id']) {
        assert.throws(() => storage.query(sql), /policies are append-only/, sql);
      }
      assert.deepEqual(storage.query('SELECT * FROM policies'), before);
    } finally {
      await h.close();
    }
  });

  it('upgrades a database of the previous schema: its devices and ops stay, unplaced, and ingest goes on', async () => {
    const path = tempDbPath();
    const old = new SqliteStorage({ path });
    const { h, batch } = await seeded(old);
    await h.close();
    // Back to what the previous release left: schema version 1 only.
    const raw = new Database(path);
    raw.exec(`
      DROP VIEW sales;
      CREATE TABLE sales (op_id TEXT PRIMARY KEY, device TEXT NOT NULL, seq INTEGER NOT NULL, shift_id TEXT NOT NULL,
        currency TEXT NOT NULL, total INTEGER NOT NULL, cash INTEGER NOT NULL, card INTEGER NOT NULL,
        lines INTEGER NOT NULL, device_at INTEGER NOT NULL, applied_at INTEGER NOT NULL);
      CREATE INDEX sales_shift ON sales (shift_id);
      INSERT INTO sales SELECT op_id, device, seq, shift_id, currency, amount, data ->> '$.cash', data ->> '$.card',
        data ->> '$.lines', device_at, applied_at FROM ledger WHERE type = 'sale.recorded';
      DROP TABLE stock_moves; DROP TABLE stock_levels;
      DROP TABLE loyalty_outbox; DROP TABLE loyalty_redemptions; DROP TABLE loyalty_entries; DROP TABLE loyalty_members;
      DROP TABLE price_lists; DROP TABLE catalog_items;
      DROP TABLE cash_corrections; DROP TABLE topup_reversals; DROP TABLE device_reports; DROP INDEX ledger_applied_at;
      DROP TABLE card_refunds; DROP TABLE fiscal_credit_notes; DROP TABLE fiscal_bill_actions; DROP TABLE fiscal_jurisdictions;
      DROP TABLE sale_corrections; DROP TABLE tax_rates; DROP INDEX ledger_device_time; DROP INDEX exceptions_group; ALTER TABLE exceptions DROP COLUMN occurrences;
      ALTER TABLE exceptions DROP COLUMN last_seen_at; ALTER TABLE exceptions DROP COLUMN group_key;
      DROP INDEX ledger_feed_bills; DROP TABLE fiscal_bills; DROP TABLE device_keys; DROP TABLE ticket_payouts; DROP TABLE event_results; DROP TABLE ticket_events;
      DROP TABLE ticket_selections; DROP TABLE tickets; DROP TABLE staff_events;
      DROP TABLE audit_log; DROP TABLE api_tokens; DROP TABLE operator_sessions; DROP TABLE operators;
      DROP TABLE online_authorizations; DROP TABLE betting_configs; DROP TABLE selection_liability;
      DROP TABLE wallet_entries; DROP TABLE wallet_accounts; DROP TABLE exception_actions;
      DROP TABLE offline_payments; DROP TABLE policies; DROP TABLE server_keys; DROP TABLE device_placements;
      ALTER TABLE enrollment_tokens DROP COLUMN merchant; ALTER TABLE enrollment_tokens DROP COLUMN location;
      ALTER TABLE enrollment_tokens DROP COLUMN event; DELETE FROM schema_migrations WHERE version > 1;`);
    raw.close();

    const upgraded = new SqliteStorage({ path });
    const h2 = await createHarness({ storage: upgraded });
    try {
      assert.deepEqual(
        upgraded.query<{ version: number }>('SELECT version FROM schema_migrations').map((r) => r.version),
        SQLITE_MIGRATIONS.map((_, i) => i + 1),
      );
      const [device] = await upgraded.listDeviceStatuses();
      assert.deepEqual([device?.label, device?.highWater, device?.placement], ['lane-1', 3, null]);
      const replay = await h2.send(batch);
      assert.deepEqual(
        replay.body.results.map((r) => r.status),
        ['duplicate', 'duplicate', 'duplicate'],
      );
    } finally {
      await h2.close();
    }
  });

  it('opens file databases in WAL mode with synchronous=FULL', async () => {
    const storage = new SqliteStorage({ path: tempDbPath() });
    try {
      await storage.migrate();
      assert.deepEqual(storage.query('PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
      assert.deepEqual(storage.query('PRAGMA synchronous'), [{ synchronous: 2 }]);
    } finally {
      await storage.close();
    }
  });

  it('refuses to work before migrate()', async () => {
    const storage = new SqliteStorage({ path: ':memory:' });
    try {
      await assert.rejects(storage.listDevices(), /call migrate\(\) before use/);
    } finally {
      await storage.close();
    }
  });
});
