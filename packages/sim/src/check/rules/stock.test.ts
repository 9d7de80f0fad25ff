/**
 * The stock rules bite: a real server and two real terminals (in process)
 * at one location. Five beers are received, till 1 sells 4, till 2 sells 2
 * (one more than was left: the oversell starts there) and till 1 one more
 * (it joins). The server raises one stock_shortfall naming both sales and
 * lanes, and the check finds nothing. Then the server's tables are tampered
 * with (a level that does not add up, a movement applied twice, the
 * shortfall doubled, forgetting an order, gone) and a rule names it each time.
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

const dir = mkdtempSync(join(tmpdir(), 'holdfast-stock-rule-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('stock rules', () => {
  it('find nothing in an honest oversell, and name a level, a movement or a shortfall that was tampered with', async () => {
    const serverPath = join(dir, 'server.db');
    const tills = [join(dir, 'till-1'), join(dir, 'till-2')];
    const storage = new SqliteStorage({ path: serverPath });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    await service.catalog.upsertItems(
      { items: [{ sku: 'BEER-05', name: 'Beer', taxCategory: 'standard', unit: 'each' }] },
      'test',
    );
    const terminals: Terminal[] = [];
    const sales: string[] = [];
    try {
      for (const [i, tillDir] of tills.entries()) {
        const { token } = await service.createEnrollmentToken({ merchant: 'acme', location: 'stand-1' });
        const t = Terminal.open({ dataDir: tillDir, transport: inProcessTransport(service), autoSync: false });
        terminals.push(t);
        await t.enroll(token, `till-${i + 1}`);
        t.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
      }
      const [t1, t2] = terminals as [Terminal, Terminal];
      const sell = (t: Terminal, qty: number) =>
        t.recordSale({
          lines: [{ sku: 'BEER-05', name: 'Beer', qty, unitPrice: 500 }],
          tenders: [{ type: 'cash', amount: 500 * qty, tendered: 500 * qty }],
        }).id;
      t1.record('stock.received', { location: 'stand-1', sku: 'BEER-05', qty: 5 });
      await t1.syncNow();
      sales.push(sell(t1, 4));
      await t1.syncNow();
      sales.push(sell(t2, 2));
      await t2.syncNow();
      sales.push(sell(t1, 1));
      await t1.syncNow();
    } finally {
      for (const t of terminals) await t.close();
      await storage.close();
    }

    const check = async () => (await checkServerAgainstJournals({ server: serverPath, journals: tills })).violations;
    const clean = await checkServerAgainstJournals({ server: serverPath, journals: tills });
    assert.deepEqual(clean.violations, []);
    const shortfalls = clean.truth.server.exceptions.filter((x) => x.type === 'stock_shortfall');
    assert.equal(shortfalls.length, 1);
    assert.equal(shortfalls[0]?.opId, sales[1]);
    assert.deepEqual(
      ((shortfalls[0]?.detail.orders ?? []) as { sale: string }[]).map((o) => o.sale),
      [sales[1], sales[2]],
    );
    const rule = async (name: string) => (await check()).filter((v) => v.rule === name);

    const db = new Database(serverPath);
    try {
      // A level whose totals do not add up to its movements.
      db.prepare("UPDATE stock_levels SET received = received + 3 WHERE sku = 'BEER-05'").run();
      const level = await rule('stock-conserved');
      assert.equal(level.length, 1, JSON.stringify(level));
      assert.match(String(level[0]?.message), /received 8, sold 7/);
      db.prepare("UPDATE stock_levels SET received = received - 3 WHERE sku = 'BEER-05'").run();
      assert.deepEqual(await check(), []);

      // The delivery's movement stored a second time (the level left as it was): received twice by the movements.
      db.exec(`INSERT INTO stock_moves (move_id, location, sku, kind, delta, after, op_id, device, seq, episode, note,
                 device_at, at)
               SELECT move_id || ':again', location, sku, kind, delta, after - 1, op_id, device, seq, episode, note,
                 device_at, at FROM stock_moves WHERE kind = 'receive'`);
      const twice = await rule('stock-conserved');
      assert.ok(twice.length >= 1, JSON.stringify(twice));
      assert.match(String(twice[0]?.message), /received 5, .* movements make 10, 7/);
    } finally {
      db.close();
    }
  });

  it('name an oversell whose stock_shortfall is doubled, forgets an order, or is gone', async () => {
    const serverPath = join(dir, 'server-2.db');
    const tillDir = join(dir, 'till-3');
    const storage = new SqliteStorage({ path: serverPath });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    await service.catalog.upsertItems(
      { items: [{ sku: 'PRETZEL', name: 'Pretzel', taxCategory: 'reduced', unit: 'each' }] },
      'test',
    );
    const { token } = await service.createEnrollmentToken({ merchant: 'acme', location: 'stand-1' });
    const t = Terminal.open({ dataDir: tillDir, transport: inProcessTransport(service), autoSync: false });
    const sales: string[] = [];
    try {
      await t.enroll(token, 'till-3');
      t.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
      t.record('stock.received', { location: 'stand-1', sku: 'PRETZEL', qty: 1 });
      for (let i = 0; i < 3; i++) {
        sales.push(
          t.recordSale({
            lines: [{ sku: 'PRETZEL', name: 'Pretzel', qty: 1, unitPrice: 300 }],
            tenders: [{ type: 'cash', amount: 300, tendered: 300 }],
          }).id,
        );
      }
      await t.syncNow();
    } finally {
      await t.close();
      await storage.close();
    }
    const oversell = async () =>
      (await checkServerAgainstJournals({ server: serverPath, journals: [tillDir] })).violations.filter(
        (v) => v.rule === 'oversell-flagged',
      );
    assert.deepEqual(await oversell(), []);
    const db = new Database(serverPath);
    try {
      const detail = db.prepare("SELECT detail FROM exceptions WHERE type = 'stock_shortfall'").get() as {
        detail: string;
      };
      db.prepare(
        "UPDATE exceptions SET detail = json_remove(detail, '$.orders[1]') WHERE type = 'stock_shortfall'",
      ).run();
      const forgot = await oversell();
      assert.ok(
        forgot.some((v) => v.opId === sales[2] && /does not name it/.test(v.message)),
        JSON.stringify(forgot),
      );
      db.prepare("UPDATE exceptions SET detail = ? WHERE type = 'stock_shortfall'").run(detail.detail);
      assert.deepEqual(await oversell(), []);

      db.exec(`INSERT INTO exceptions (id, type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key)
               SELECT id || '-2', type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key || '-2'
               FROM exceptions WHERE type = 'stock_shortfall'`);
      const doubled = await oversell();
      assert.equal(doubled.length, 1, JSON.stringify(doubled));
      assert.match(String(doubled[0]?.message), /has 2 stock_shortfall exceptions, not 1/);
      assert.equal(doubled[0]?.opId, sales[1]);

      db.prepare("DELETE FROM exceptions WHERE type = 'stock_shortfall'").run();
      const gone = await oversell();
      assert.equal(gone.length, 1);
      assert.match(String(gone[0]?.message), /has 0 stock_shortfall exceptions/);
    } finally {
      db.close();
    }
  });
});
