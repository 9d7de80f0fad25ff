/**
 * A real till and a real server (in process) with someone on the path: a
 * forged "confirmed" for a code the clerk mistyped, and a balance answer
 * replayed for a later question, are both refused by the till
 * (`loyalty_answer_unverified`): only the server's signature over this very
 * request counts, and nothing is recorded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { LoyaltyAnswer, LoyaltyRequest } from '@holdfast/protocol';
import { HoldfastService, SqliteStorage } from '@holdfast/server';
import { LoyaltyOnlineError, Terminal, type Transport, type TransportResult } from '@holdfast/terminal';
import { inProcessTransport } from './in-process-transport.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-loyalty-mitm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MEMBER = 'CARD0003';

describe('online loyalty through a hostile path', () => {
  it('a forged confirmation and a replayed balance are refused; nothing is recorded', async () => {
    const storage = new SqliteStorage({ path: join(dir, 'server.db') });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    await service.loyalty.create(MEMBER, 'Cy');
    await service.loyalty.adjust(MEMBER, { points: 400, reason: 'welcome' }, 'ops');
    await service.issuePolicy({
      scope: { merchant: 'acme', location: null, event: null, devices: null },
      currency: 'EUR',
      expiresAt: Date.now() + 86_400_000,
      offline: { maxOfflineMs: 3_600_000, device: { maxAmount: 0, maxCount: 0 }, tenders: {} },
      online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: 100 },
      loyalty: { pointsPerUnit: 1, perMinor: 100, offlineCap: 100 },
    });
    const honest = inProcessTransport(service);
    // What the attacker does to the next loyalty answer (null: passes it through).
    let meddle: ((req: LoyaltyRequest, real: TransportResult<LoyaltyAnswer>) => TransportResult<LoyaltyAnswer>) | null =
      null;
    const path: Transport = {
      ...honest,
      loyalty: async (req, timeoutMs) => {
        const real = await (honest.loyalty as NonNullable<Transport['loyalty']>)(req, timeoutMs);
        return meddle ? meddle(req, real) : real;
      },
    };
    const t = Terminal.open({ dataDir: join(dir, 'till'), transport: path, autoSync: false });
    try {
      await t.enroll((await service.createEnrollmentToken({ merchant: 'acme' })).token, 'till-1');
      await t.refreshPolicy();
      t.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });

      // A balance answer captured once, then shown again for a later question.
      let captured: TransportResult<LoyaltyAnswer> | null = null;
      meddle = (_req, real) => {
        captured = real;
        return real;
      };
      assert.equal((await t.lookupLoyaltyMember(MEMBER)).balance, 400);
      await service.loyalty.adjust(MEMBER, { points: -300, reason: 'claw back' }, 'ops');
      meddle = () => captured as TransportResult<LoyaltyAnswer>;
      await assert.rejects(
        t.lookupLoyaltyMember(MEMBER),
        (e: unknown) => e instanceof LoyaltyOnlineError && e.code === 'loyalty_answer_unverified',
      );
      meddle = null;
      assert.equal((await t.lookupLoyaltyMember(MEMBER)).balance, 100);
      await service.loyalty.adjust(MEMBER, { points: 300, reason: 'restore' }, 'ops');

      // The clerk types a wrong code; the path answers "confirmed", signed by nobody the till trusts.
      const pending = await t.requestLoyaltyRedemption(MEMBER, 250);
      meddle = (req) => {
        const q = req.question as { kind: string };
        if (q.kind !== 'confirm') throw new Error('only the confirmation is forged');
        return {
          ok: true,
          status: 200,
          body: {
            kind: 'confirm',
            status: 'confirmed',
            redemption: pending.redemption,
            member: MEMBER,
            points: 250,
            opId: pending.opId,
            serverTime: Date.now(),
            serverKey: 'ffffffffffffffff',
            serverSig: 'A'.repeat(86),
          } as LoyaltyAnswer,
        };
      };
      await assert.rejects(
        t.confirmLoyaltyRedemption(pending, '000000'),
        (e: unknown) => e instanceof LoyaltyOnlineError && e.code === 'loyalty_answer_unverified',
      );
      meddle = null;
      const [redemption] = await storage.listLoyaltyRedemptions();
      assert.equal(redemption?.status, 'sent', 'the server never confirmed it');
      assert.equal(t.status().pending, 1, 'only the shift opening is recorded');
    } finally {
      await t.close();
      await storage.close();
    }
  });
});
