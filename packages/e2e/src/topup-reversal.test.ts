/**
 * A wristband top-up reversed at the till, end to end over real HTTP
 * (docs/wristbands.md, "Top-up reversal"): the staff roster comes from the
 * server's operator API through the device feed, a supervisor approves at
 * the till, the chip write is cut short and finished on the retry, and the
 * server applies the one reversal: the wallet is debited once, no
 * exception is raised, and the server confirms the till's Z report of an
 * honest close (no variance).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TopUpReversalRefusedError } from '@holdfast/terminal';
import { SimulatedWristband } from '@holdfast/terminal/testing';
import { cardPolicyDraft, E2eWorld, OPERATOR_TOKEN } from './e2e-fixture.js';

const UID = '04A1B2C3D4E5F6';
const PLACEMENT = { merchant: 'acme', location: 'field', event: null };

interface Wallet {
  account: { balance: number; toppedUp: number; debited: number; refunded: number };
  entries: unknown[];
}

/** Ana (clerk) and Bea (supervisor) on the location's roster, through the operator API. */
async function addStaff(w: E2eWorld): Promise<void> {
  for (const member of [
    { id: 'ana', name: 'Ana', role: 'clerk', pin: '4821' },
    { id: 'bea', name: 'Bea', role: 'supervisor', pin: '7390' },
  ]) {
    const res = await fetch(`${w.server.url}/v1/admin/staff`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ location: PLACEMENT.location, ...member }),
    });
    assert.equal(res.status, 201, await res.text());
  }
}

describe('wristband top-up reversal over real HTTP', () => {
  it('approved at the till, chip write retried: applied once, wallet debited once, the close balances', async () => {
    const w = await E2eWorld.start('topup-reversal');
    try {
      await addStaff(w);
      const token = await w.enrollmentToken({ label: 'booth', ...PLACEMENT });
      const till = w.openTerminal('booth', { autoSync: false, idlePingMs: 0, placement: PLACEMENT });
      await till.enroll(token);
      await till.pollFeed();
      till.signIn({ staff: 'ana' }, '4821');
      const shift = till.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 }).id;

      const band = new SimulatedWristband(UID, 'EUR');
      const topUp = till.topUpWristband({ reader: band, amount: 5_000, paid: 'cash' }).op.id;
      await till.syncNow();
      till.approve({ kind: 'wallet.topup_reversed', body: till.reverseTopUpBody({ topUp }) }, { staff: 'bea' }, '7390');
      band.failNextWrite();
      const reversal = till.reverseTopUp({ reader: band, topUp, reason: 'loaded the wrong amount' });
      assert.equal(reversal.chipWritten, false);
      await till.syncNow();
      // The clerk tries again: the first write is finished, nothing new is recorded.
      assert.throws(
        () => till.reverseTopUp({ reader: band, topUp }),
        (e: unknown) => e instanceof TopUpReversalRefusedError && e.code === 'topup_already_reversed',
      );
      assert.deepEqual([band.image().balance, band.image().counter], [0, 2]);

      till.closeShift({ countedCash: 10_000 });
      const report = await till.syncNow();
      assert.equal(till.status().pending, 0, JSON.stringify(report));

      const wallet = await w.admin<Wallet>('GET', `/v1/admin/wallets/${UID}`);
      const { toppedUp, debited, refunded, balance } = wallet.account;
      assert.deepEqual([toppedUp, debited, refunded, balance], [5_000, 5_000, 0, 0]);
      assert.equal(wallet.entries.length, 2, 'one top-up, one reversal');
      const { items: exceptions } = await w.admin<{ items: { type: string }[] }>(
        'GET',
        '/v1/admin/exceptions?limit=1000',
      );
      assert.deepEqual(exceptions, [], 'nothing broke a rule');
      const z = await till.shiftReport(shift);
      assert.equal(z.state, 'confirmed', JSON.stringify(z));
      assert.deepEqual(z.notApplied, []);
      assert.deepEqual([z.server.cashOut, z.server.expectedCash, z.server.countedCash], [5_000, 10_000, 10_000]);
    } finally {
      await w.close();
    }
  });

  it('a card top-up reversed at the till goes back to the card at the processor once; the drawer is untouched', async () => {
    const TOKEN = 'tok_topup_0000001';
    const w = await E2eWorld.start('topup-reversal-card', {
      processor: { seed: 7, synchronous: 'OFF', cards: { [TOKEN]: { balance: 10_000 } } },
      forwarding: { intervalMs: 20 },
    });
    try {
      await addStaff(w);
      // A card top-up offline is a card payment under the risk policy.
      await w.admin('POST', '/v1/admin/policies', { ...cardPolicyDraft(), scope: { ...PLACEMENT, devices: null } });
      const token = await w.enrollmentToken({ label: 'booth', ...PLACEMENT });
      const till = w.openTerminal('booth', { autoSync: false, idlePingMs: 0, placement: PLACEMENT });
      await till.enroll(token);
      await till.refreshPolicy();
      await till.pollFeed();
      till.signIn({ staff: 'ana' }, '4821');
      const shift = till.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 }).id;
      const card = (w.processor ?? assert.fail('processor')).service;
      const balance = () => card.card(TOKEN)?.balance;
      const until = async (what: string, done: () => boolean) => {
        const deadline = Date.now() + 20_000;
        while (!done()) {
          assert.ok(Date.now() < deadline, `${what} within 20 s (card balance ${balance()})`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };

      const band = new SimulatedWristband(UID, 'EUR');
      const topUp = till.topUpWristband({
        reader: band,
        amount: 2_500,
        paid: 'card',
        card: { token: TOKEN, brand: 'visa', last4: '0001' },
      }).op.id;
      await till.syncNow();
      await until('the top-up charged', () => balance() === 7_500);
      till.approve({ kind: 'wallet.topup_reversed', body: till.reverseTopUpBody({ topUp }) }, { staff: 'bea' }, '7390');
      const reversal = till.reverseTopUp({ reader: band, topUp });
      assert.deepEqual([reversal.chipWritten, band.image().balance], [true, 0]);
      await till.syncNow();
      await until('the card credited back', () => balance() === 10_000);
      // A while later it is still credited back once: the refunder made one refund.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(balance(), 10_000);
      const shown = await w.admin<{ cardRefunds: { opId: string; state: string; amount: number }[] }>(
        'GET',
        `/v1/admin/sales/${topUp}/corrections`,
      );
      assert.deepEqual(
        shown.cardRefunds.map((r) => [r.opId, r.state, r.amount]),
        [[reversal.op.id, 'refunded', 2_500]],
      );

      till.closeShift({ countedCash: 10_000 });
      await till.syncNow();
      assert.equal(till.status().pending, 0);
      const z = await till.shiftReport(shift);
      assert.equal(z.state, 'confirmed', JSON.stringify(z));
      assert.deepEqual([z.server.cashOut, z.server.expectedCash], [0, 10_000]);
      const { items: exceptions } = await w.admin<{ items: { type: string }[] }>(
        'GET',
        '/v1/admin/exceptions?limit=1000',
      );
      assert.deepEqual(exceptions, [], 'nothing broke a rule');
    } finally {
      await w.close();
    }
  });
});
