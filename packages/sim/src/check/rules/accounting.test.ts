/**
 * The journal-balanced rule bites: a real server and a real terminal (in
 * process) record a shift with two cash sales and a cash paid-out; the
 * check finds nothing. Then the server's ledger is tampered with (a sale's
 * cash part rewritten, a money event deleted) and the rule names it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HoldfastService, SqliteStorage } from '@holdfast/server';
import { Terminal } from '@holdfast/terminal';
import Database from 'better-sqlite3';
import { inProcessTransport } from '../../in-process-transport.js';
import { checkServerAgainstJournals } from '../check-truth.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-accounting-rule-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('journal-balanced rule', () => {
  it('finds nothing in an honest run, and a rewritten cash part or a deleted money event once tampered', async () => {
    const serverPath = join(dir, 'server.db');
    const tillDir = join(dir, 'till-1');
    const storage = new SqliteStorage({ path: serverPath });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    const { token } = await service.createEnrollmentToken({ merchant: 'acme', location: 'stand-1' });
    const terminal = Terminal.open({ dataDir: tillDir, transport: inProcessTransport(service), autoSync: false });
    let saleId: string;
    try {
      await terminal.enroll(token, 'till-1');
      terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
      saleId = terminal.recordSale({
        lines: [{ sku: 'BEER', name: 'Beer', qty: 2, unitPrice: 650 }],
        tenders: [{ type: 'cash', amount: 1300, tendered: 2000 }],
      }).id;
      terminal.recordSale({
        lines: [{ sku: 'WATER', name: 'Water', qty: 1, unitPrice: 250 }],
        tenders: [{ type: 'cash', amount: 250, tendered: 250 }],
      });
      await terminal.syncNow();
      assert.equal(terminal.status().pending, 0);
    } finally {
      await terminal.close();
      await storage.close();
    }

    const journal = async () =>
      (await checkServerAgainstJournals({ server: serverPath, journals: [tillDir] })).violations.filter(
        (v) => v.rule === 'journal-balanced',
      );
    assert.deepEqual(await journal(), [], 'an honest run');

    const db = new Database(serverPath);
    try {
      db.exec('DROP TRIGGER ledger_no_update; DROP TRIGGER ledger_no_delete;');
      // The ledger says the first sale was paid by nothing the drawer holds.
      db.prepare("UPDATE ledger SET data = json_set(data, '$.cash', 0) WHERE op_id = ?").run(saleId);
      const rewritten = await journal();
      assert.equal(rewritten.length, 1, JSON.stringify(rewritten));
      assert.match(
        String(rewritten[0]?.message),
        /EUR: the journal moves cash 250 and card 0; the accepted ops paid cash 1550 and card 0/,
      );
      db.prepare("UPDATE ledger SET data = json_set(data, '$.cash', 1300) WHERE op_id = ?").run(saleId);
      assert.deepEqual(await journal(), [], 'restored');
      db.prepare('DELETE FROM ledger WHERE op_id = ?').run(saleId);
      const deleted = await journal();
      assert.equal(deleted.length, 1, JSON.stringify(deleted));
      assert.match(String(deleted[0]?.message), /the journal moves cash 250 .* paid cash 1550/);
    } finally {
      db.close();
    }
  });
});
