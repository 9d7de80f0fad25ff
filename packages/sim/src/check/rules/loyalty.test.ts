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
import { LoyaltyOnlineError, Terminal } from '@holdfast/terminal';
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
    // The loyalty rule rides the signed risk policy: 1 point per 1.00 EUR, up to 100 points offline.
    await service.issuePolicy({
      scope: { merchant: 'acme', location: null, event: null, devices: null },
      currency: 'EUR',
      expiresAt: Date.now() + 86_400_000,
      offline: { maxOfflineMs: 3_600_000, device: { maxAmount: 0, maxCount: 0 }, tenders: {} },
      online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
      loyalty: { pointsPerUnit: 1, perMinor: 100, offlineCap: 100 },
    });
    const terminals = tills.map((d) =>
      Terminal.open({ dataDir: d, transport: inProcessTransport(service), autoSync: false }),
    );
    try {
      for (const [i, t] of terminals.entries()) {
        await t.enroll((await service.createEnrollmentToken({ merchant: 'acme' })).token, `till-${i + 1}`);
        await t.refreshPolicy();
        assert.deepEqual(t.riskPolicy()?.policy.loyalty, { pointsPerUnit: 1, perMinor: 100, offlineCap: 100 });
        t.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
      }
      const [t1, t2] = terminals as [Terminal, Terminal];
      const sell = (t: Terminal, amount: number) =>
        t.recordSale({
          lines: [{ sku: 'A', name: 'A', qty: 1, unitPrice: amount }],
          tenders: [{ type: 'cash', amount, tendered: amount }],
        }).id;
      // 100.99 EUR earns 100 points (whole euros, rounded down).
      const first = t1.recordLoyaltyPoints({ member: MEMBER, sale: sell(t1, 10_099), knownBalance: 0 });
      assert.equal((t1.getOp(first.id)?.op.body as { earned?: number } | undefined)?.earned, 100);
      await t1.syncNow();
      // Both tills know 100 points; each redeems 80 offline (within the cap of 100).
      t1.recordLoyaltyPoints({ member: MEMBER, sale: sell(t1, 499), knownBalance: 100, redeem: 80 });
      t2.recordLoyaltyPoints({ member: MEMBER, sale: sell(t2, 500), knownBalance: 100, redeem: 80 });
      // Above the cap needs the server; above the known balance is refused; nothing recorded.
      const before = t2.status().pending;
      assert.throws(
        () => t2.recordLoyaltyPoints({ member: MEMBER, sale: sell(t2, 100), knownBalance: 500, redeem: 101 }),
        /offline cap of 100/,
      );
      assert.throws(
        () => t2.recordLoyaltyPoints({ member: MEMBER, sale: sell(t2, 100), knownBalance: 20, redeem: 21 }),
        /balance is 20/,
      );
      assert.equal(t2.status().pending, before + 2, 'only the two sales were recorded');
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
      { member: MEMBER, earned: 109, redeemed: 160, adjusted: 0, overdrawnBy: clean.truth.server.exceptions[0]?.opId },
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

  it("an online redemption confirmed with the member's code passes; its confirmation tampered with is caught", async () => {
    const serverPath = join(dir, 'online.db');
    const till = join(dir, 'till-online');
    const storage = new SqliteStorage({ path: serverPath });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    const member = 'CARD0002';
    await service.loyalty.create(member, 'Bea');
    await service.loyalty.adjust(member, { points: 500, reason: 'welcome' }, 'ops');
    await service.issuePolicy({
      scope: { merchant: 'acme', location: null, event: null, devices: null },
      currency: 'EUR',
      expiresAt: Date.now() + 86_400_000,
      offline: { maxOfflineMs: 3_600_000, device: { maxAmount: 0, maxCount: 0 }, tenders: {} },
      online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: 100 },
      loyalty: { pointsPerUnit: 1, perMinor: 100, offlineCap: 100 },
    });
    const t = Terminal.open({ dataDir: till, transport: inProcessTransport(service), autoSync: false });
    try {
      await t.enroll((await service.createEnrollmentToken({ merchant: 'acme' })).token, 'till-online');
      await t.refreshPolicy();
      t.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
      assert.equal((await t.lookupLoyaltyMember(member)).balance, 500);
      assert.equal(t.knownLoyaltyBalance(member)?.balance, 500);
      const sale = t.recordSale({
        lines: [{ sku: 'A', name: 'A', qty: 1, unitPrice: 2_000 }],
        tenders: [{ type: 'cash', amount: 2_000, tendered: 2_000 }],
      }).id;
      // 300 points is above the offline cap: the till refuses it offline and asks the server.
      assert.throws(() => t.recordLoyaltyPoints({ member, sale, knownBalance: 500, redeem: 300 }), /offline cap/);
      const pending = await t.requestLoyaltyRedemption(member, 300);
      const code = (await service.loyalty.outbox(member)).at(-1)?.code as string;
      assert.match(code, /^[0-9]{6}$/);
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      await assert.rejects(
        t.confirmLoyaltyRedemption(pending, wrong),
        (e: unknown) => e instanceof LoyaltyOnlineError && e.code === 'loyalty_code_wrong' && e.attemptsLeft === 2,
      );
      const confirmed = await t.confirmLoyaltyRedemption(pending, code);
      assert.equal(t.knownLoyaltyBalance(member)?.balance, 200);
      const op = t.recordLoyaltyPoints({ member, sale, knownBalance: 500, online: confirmed });
      assert.equal(op.id, pending.opId, 'the op takes the id the redemption is bound to');
      assert.throws(
        () => t.recordLoyaltyPoints({ member, sale, knownBalance: 500, online: confirmed }),
        /recorded already/,
      );
      await t.syncNow();
      assert.equal(t.status().pending, 0);
    } finally {
      await t.close();
      await storage.close();
    }
    const clean = await checkServerAgainstJournals({ server: serverPath, journals: [till] });
    assert.deepEqual(clean.violations, []);
    assert.deepEqual(clean.truth.server.exceptions, []);
    assert.deepEqual(clean.truth.server.loyaltyMembers, [
      { member, earned: 20, redeemed: 300, adjusted: 500, overdrawnBy: null },
    ]);

    const rulesAfter = async (tamper: string) => {
      const copy = join(dir, `tampered-online-${Math.random().toString(36).slice(2)}.db`);
      const db = new Database(serverPath, { readonly: true });
      await db.backup(copy);
      db.close();
      const w = new Database(copy);
      w.exec(tamper);
      w.close();
      const { violations } = await checkServerAgainstJournals({ server: copy, journals: [till] });
      return violations.map((v) => v.rule);
    };
    // The code was never typed: the redemption was only sent.
    assert.deepEqual(await rulesAfter(`UPDATE loyalty_redemptions SET status = 'sent'`), ['points-online-confirmed']);
    // Nobody asked the server at all.
    assert.deepEqual(await rulesAfter('DELETE FROM loyalty_redemptions'), ['points-online-confirmed']);
    // The server confirmed fewer points than were spent.
    assert.deepEqual(await rulesAfter('UPDATE loyalty_redemptions SET points = points - 1'), [
      'points-online-confirmed',
    ]);
  });
});
