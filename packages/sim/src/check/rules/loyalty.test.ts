/**
 * The loyalty rules bite: a real server and two real terminals (in
 * process) earn and redeem a member's points, the two redeeming the same
 * points while each knows only the old balance; synced, the check finds
 * nothing (the loyalty_overdrawn is a fact it holds to the entries). Then
 * the server's tables are tampered with, one way at a time, and each rule
 * names what broke.
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

const dir = mkdtempSync(join(tmpdir(), 'holdfast-loyalty-rule-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MEMBER = 'CARD0001';

describe('loyalty rules', () => {
  it('find nothing in an honest run with an overdraw, and each tampering of the points', async () => {
    const serverPath = join(dir, 'server.db');
    const tills = [join(dir, 'till-1'), join(dir, 'till-2')];
    const storage = new SqliteStorage({ path: serverPath });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    await service.loyalty.create(MEMBER, 'Ana');
    const terminals = tills.map((d) =>
      Terminal.open({ dataDir: d, transport: inProcessTransport(service), autoSync: false }),
    );
    try {
      for (const [i, t] of terminals.entries()) {
        await t.enroll((await service.createEnrollmentToken({ merchant: 'acme' })).token, `till-${i + 1}`);
        t.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
      }
      const [t1, t2] = terminals as [Terminal, Terminal];
      const sell = (t: Terminal, amount: number) =>
        t.recordSale({
          lines: [{ sku: 'A', name: 'A', qty: 1, unitPrice: amount }],
          tenders: [{ type: 'cash', amount, tendered: amount }],
        });
      const points = (t: Terminal, sale: string, p: { earned?: number; redeemed?: number; balanceSeen: number }) =>
        t.record('loyalty.points', {
          shift: t.currentShift()?.id as string,
          member: MEMBER,
          sale,
          earned: p.earned ?? 0,
          redeemed: p.redeemed ?? 0,
          balanceSeen: p.balanceSeen,
          ...(p.redeemed ? { route: 'offline' as const } : {}),
        });
      points(t1, sell(t1, 10_000).id, { earned: 100, balanceSeen: 0 });
      await t1.syncNow();
      // Both tills know 100 points; each redeems 80 offline.
      points(t1, sell(t1, 500).id, { redeemed: 80, balanceSeen: 100 });
      points(t2, sell(t2, 500).id, { redeemed: 80, earned: 5, balanceSeen: 100 });
      for (const t of terminals) await t.syncNow();
      for (const t of terminals) assert.equal(t.status().pending, 0);
    } finally {
      for (const t of terminals) await t.close();
      await storage.close();
    }

    const clean = await checkServerAgainstJournals({ server: serverPath, journals: tills });
    assert.deepEqual(clean.violations, []);
    assert.deepEqual(
      clean.truth.server.exceptions.map((e) => e.type),
      ['loyalty_overdrawn'],
    );
    assert.deepEqual(clean.truth.server.loyaltyMembers, [
      { member: MEMBER, earned: 105, redeemed: 160, adjusted: 0, overdrawnBy: clean.truth.server.exceptions[0]?.opId },
    ]);

    const rulesAfter = async (tamper: string) => {
      const copy = join(dir, `tampered-${Math.random().toString(36).slice(2)}.db`);
      const db = new Database(serverPath, { readonly: true });
      await db.backup(copy);
      db.close();
      const w = new Database(copy);
      w.exec(tamper);
      w.close();
      const { violations } = await checkServerAgainstJournals({ server: copy, journals: tills });
      return violations.map((v) => v.rule);
    };
    // Points appear from nowhere: totals no longer the sum of the entries.
    assert.deepEqual(await rulesAfter(`UPDATE loyalty_members SET earned = earned + 50`), ['points-conserved']);
    // A redemption dropped with its total: conserved, but an op's points were never applied.
    assert.deepEqual(
      await rulesAfter(`DELETE FROM loyalty_entries WHERE pos = (SELECT min(pos) FROM loyalty_entries WHERE kind = 'redeem');
                        UPDATE loyalty_members SET redeemed = redeemed - 80`),
      ['points-once'],
    );
    // An earn applied twice (a second entry for the same op, totals to match).
    assert.deepEqual(
      await rulesAfter(`INSERT INTO loyalty_entries (entry_id, member, kind, points, op_id, at)
                          SELECT entry_id || '-again', member, kind, points, op_id, at FROM loyalty_entries WHERE kind = 'earn' LIMIT 1;
                        UPDATE loyalty_members SET earned = earned + 100`),
      ['points-once'],
    );
    // The overdraw nobody was told of.
    assert.deepEqual(await rulesAfter(`DELETE FROM exceptions WHERE type = 'loyalty_overdrawn'`), [
      'points-overdrawn-flagged',
    ]);
  });
});
