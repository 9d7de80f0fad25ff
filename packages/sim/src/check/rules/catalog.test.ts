/**
 * The stale-price rule bites: a real server and a real terminal (in
 * process); the till holds price list 1, the server publishes list 2 while
 * the till does not poll, and the till sells from list 1. The server
 * raises one stale_price with the difference and the check finds nothing.
 * Then the server's exceptions are tampered with (a wrong difference, a
 * duplicate, none at all) and the rule names the sale each time.
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

const dir = mkdtempSync(join(tmpdir(), 'holdfast-catalog-rule-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('stale-price rule', () => {
  it('finds nothing in an honest run, and names the sale once its stale_price is wrong, doubled or gone', async () => {
    const serverPath = join(dir, 'server.db');
    const tillDir = join(dir, 'till-1');
    const storage = new SqliteStorage({ path: serverPath });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    await service.catalog.upsertItems(
      { items: [{ sku: 'BEER-05', name: 'Beer', taxCategory: 'standard', unit: 'each' }] },
      'test',
    );
    const prices = (price: number) => ({ location: 'stand-1', currency: 'EUR', prices: [{ sku: 'BEER-05', price }] });
    await service.catalog.publish(prices(650), 'test');
    const { token } = await service.createEnrollmentToken({ merchant: 'acme', location: 'stand-1' });
    const terminal = Terminal.open({ dataDir: tillDir, transport: inProcessTransport(service), autoSync: false });
    let saleId: string;
    try {
      await terminal.enroll(token, 'till-1');
      await terminal.pollFeed();
      assert.equal(terminal.catalog.version(), 1, 'the list came with the feed');
      terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
      // The price goes up while the lane does not hear of it (list 2 in force from now; the sale comes
      // after it on the same clock); it sells 2 beers at the old price.
      await service.catalog.publish(prices(700), 'test');
      saleId = terminal.recordSale({
        lines: [terminal.catalog.line('BEER-05', 2)],
        tenders: [{ type: 'cash', amount: 1300, tendered: 1300 }],
      }).id;
      await terminal.syncNow();
      assert.equal(terminal.status().pending, 0);
    } finally {
      await terminal.close();
      await storage.close();
    }

    const clean = await checkServerAgainstJournals({ server: serverPath, journals: [tillDir] });
    assert.deepEqual(clean.violations, []);
    assert.deepEqual(
      clean.truth.server.exceptions.map((e) => [e.type, e.opId, e.detail.difference]),
      [['stale_price', saleId, -100]],
    );

    const stale = async () =>
      (await checkServerAgainstJournals({ server: serverPath, journals: [tillDir] })).violations.filter(
        (v) => v.rule === 'stale-price-reported',
      );
    const db = new Database(serverPath);
    try {
      db.prepare(
        "UPDATE exceptions SET detail = json_set(detail, '$.difference', -50) WHERE type = 'stale_price'",
      ).run();
      const wrong = await stale();
      assert.equal(wrong.length, 1, JSON.stringify(wrong));
      assert.equal(wrong[0]?.opId, saleId);
      assert.match(String(wrong[0]?.message), /difference of -50, the lines make -100/);

      db.exec(`INSERT INTO exceptions (id, type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key)
               SELECT id || '-2', type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key || '-2'
               FROM exceptions WHERE type = 'stale_price'`);
      assert.match(String((await stale())[0]?.message), /reported 2 times/);

      db.prepare("DELETE FROM exceptions WHERE type = 'stale_price'").run();
      const missing = await stale();
      assert.equal(missing.length, 1);
      assert.equal(missing[0]?.device, 'till-1');
      assert.match(String(missing[0]?.message), /no stale_price was raised/);
    } finally {
      db.close();
    }
  });
});
