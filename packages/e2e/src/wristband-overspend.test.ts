/**
 * Wristband overspend and rollback end to end over real HTTP: a booth loads
 * a wristband, the chip is copied, two bars offline each spend from their
 * copy, and on sync the server finds the overspend, blocks the wristband
 * with a `wristband.blocked` ledger event and keeps the money conserved. A
 * chip written back to an older image is found as a clone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '@holdfast/domain';
import type { PolicyDraft } from '@holdfast/protocol';
import { type Terminal, WristbandRefusedError } from '@holdfast/terminal';
import { applyWristbandNotice, FaultyTransport, SimulatedWristband } from '@holdfast/terminal/testing';
import { E2eWorld } from './e2e-fixture.js';

const UID = '04A1B2C3D4E5F6';
const PLACEMENT = { merchant: 'acme', location: 'field', event: null };

interface Wallet {
  account: {
    balance: number;
    toppedUp: number;
    debited: number;
    refunded: number;
    blocked: { reason: string; exceptionId: string } | null;
  };
  entries: unknown[];
}
interface LedgerItem {
  type: string;
  device: string;
  data: Record<string, unknown>;
}
interface ExceptionItem {
  id: string;
  type: string;
  device: string;
  detail: Record<string, unknown>;
}

/** A server with a wristband policy for merchant acme, and enrolled tills on it. */
async function world() {
  const w = await E2eWorld.start('wristband');
  const draft: PolicyDraft = {
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    expiresAt: Date.now() + 86_400_000,
    offline: {
      maxOfflineMs: 3_600_000,
      device: { maxAmount: 50_000, maxCount: 100 },
      tenders: { wristband: { floorLimit: 2_000, instrument: { maxAmount: 6_000, maxCount: 10, velocity: null } } },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
  await w.admin('POST', '/v1/admin/policies', draft);
  const till = async (name: string) => {
    const token = await w.enrollmentToken({ label: name, ...PLACEMENT });
    const transport = new FaultyTransport(w.httpTransport(), { clock: systemClock });
    const terminal = w.openTerminal(name, {
      transport,
      autoSync: false,
      idlePingMs: 0,
      placement: PLACEMENT,
    });
    await terminal.enroll(token);
    await terminal.refreshPolicy();
    terminal.openShift({ clerk: name, currency: 'EUR', openingFloat: 0 });
    return { terminal, transport };
  };
  const sync = async (t: Terminal) => {
    const report = await t.syncNow();
    assert.equal(t.status().pending, 0, JSON.stringify(report));
  };
  const admin = <T>(method: 'GET' | 'POST', path: string, body?: unknown) => w.admin<T>(method, path, body);
  return { admin, till, sync, close: () => w.close() };
}

const beer = (price: number) => [{ sku: 'BEER', name: 'Beer', qty: 1, unitPrice: price }];

describe('wristbands over real HTTP', () => {
  it('a copied chip spent at two offline bars beyond its balance: one overspend, blocked everywhere, conserved', async () => {
    const w = await world();
    try {
      const booth = await w.till('booth');
      const bar1 = await w.till('bar-1');
      const bar2 = await w.till('bar-2');
      const band = new SimulatedWristband(UID, 'EUR');
      booth.terminal.topUpWristband({ reader: band, amount: 1_000, paid: 'cash' });
      await w.sync(booth.terminal);
      const copy = band.clone();

      bar1.transport.down = true;
      bar2.transport.down = true;
      const a = bar1.terminal.payWithWristband({ lines: beer(800), reader: band });
      const b = bar2.terminal.payWithWristband({ lines: beer(800), reader: copy });
      assert.ok(a.chipWritten && b.chipWritten);
      assert.deepEqual([band.image().balance, copy.image().balance], [200, 200]);

      bar1.transport.down = false;
      bar2.transport.down = false;
      await w.sync(bar1.terminal);
      await w.sync(bar2.terminal);

      const { items: exceptions } = await w.admin<{ items: ExceptionItem[] }>('GET', '/v1/admin/exceptions?limit=1000');
      const overspends = exceptions.filter((x) => x.type === 'wristband_overspend');
      assert.equal(overspends.length, 1, JSON.stringify(exceptions));
      assert.equal(overspends[0]?.detail.wristband, UID);
      assert.equal(overspends[0]?.detail.serverBalance, -600);
      assert.equal(exceptions.filter((x) => x.type === 'wristband_clone').length, 1, 'the copy reused counter 2');

      const { items: ledger } = await w.admin<{ items: LedgerItem[] }>('GET', '/v1/admin/ledger?limit=1000');
      const blocked = ledger.filter((e) => e.type === 'wristband.blocked');
      assert.equal(blocked.length, 1);
      assert.equal(blocked[0]?.data.wristband, UID);
      assert.equal(blocked[0]?.device, bar2.terminal.deviceId);

      const wallet = await w.admin<Wallet>('GET', `/v1/admin/wallets/${UID}`);
      const { balance, toppedUp, debited, refunded } = wallet.account;
      assert.deepEqual([toppedUp, debited, refunded, balance], [1_000, 1_600, 0, -600]);
      assert.equal(balance, toppedUp - debited + refunded, 'top-ups − debits + refunds == balance');
      assert.equal(wallet.entries.length, 3);
      assert.ok(wallet.account.blocked);

      // The device feed delivers the block to every terminal; each then refuses the wristband.
      for (const till of [booth, bar1, bar2]) {
        await till.terminal.pollFeed();
        assert.deepEqual(
          till.terminal.blockedWristbands().map((b) => b.wristband),
          [UID],
          'blocked through the feed',
        );
        assert.equal(applyWristbandNotice(till.terminal, 'wristband.blocked', blocked[0]?.data), false, 'already held');
        assert.throws(
          () => till.terminal.payWithWristband({ lines: beer(100), reader: band }),
          (e: unknown) => e instanceof WristbandRefusedError && e.code === 'wristband_blocked',
        );
      }
    } finally {
      await w.close();
    }
  });

  it('a chip written back to an older image is found as a clone when the bars sync', async () => {
    const w = await world();
    try {
      const bar = await w.till('bar');
      const band = new SimulatedWristband(UID, 'EUR');
      bar.terminal.topUpWristband({ reader: band, amount: 5_000, paid: 'cash' });
      const saved = band.image();
      bar.terminal.payWithWristband({ lines: beer(1_500), reader: band });
      bar.terminal.payWithWristband({ lines: beer(1_500), reader: band });
      band.restore(saved);
      // A second bar (the first would know the counters it wrote) takes the restored chip.
      const other = await w.till('bar-2');
      other.terminal.payWithWristband({ lines: beer(1_000), reader: band });
      await w.sync(bar.terminal);
      await w.sync(other.terminal);
      const { items: exceptions } = await w.admin<{ items: ExceptionItem[] }>('GET', '/v1/admin/exceptions?limit=1000');
      const clones = exceptions.filter((x) => x.type === 'wristband_clone');
      assert.equal(clones.length, 1, JSON.stringify(exceptions));
      assert.equal(clones[0]?.detail.reason, 'counter_reused');
      assert.equal(exceptions.filter((x) => x.type === 'wristband_overspend').length, 0, '50.00 covers 40.00');
      const wallet = await w.admin<Wallet>('GET', `/v1/admin/wallets/${UID}`);
      assert.equal(wallet.account.blocked?.reason, 'wristband_clone');
      assert.equal(wallet.account.balance, 1_000);

      const unblocked = await w.admin<{ unblockedNow: boolean }>('POST', `/v1/admin/wallets/${UID}/unblock`, {
        reason: 'chip replaced at the info desk',
      });
      assert.equal(unblocked.unblockedNow, true);
      const { items: ledger } = await w.admin<{ items: LedgerItem[] }>('GET', '/v1/admin/ledger?limit=1000');
      assert.equal(ledger.filter((e) => e.type === 'wristband.unblocked').length, 1);
    } finally {
      await w.close();
    }
  });
});
