/**
 * The wallet part of the storage suite (run on every backend of
 * testing/storage-backends.ts): wallet accounts and entries written at
 * ingest, overspend and clone detection with the `wristband.blocked` ledger
 * event, late arrival, concurrent batches on one wristband, and the
 * operator API.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { MAX_WALLET_TOTAL } from '@holdfast/domain';
import type { Decision, Op, WalletRefundedBody, WalletToppedUpBody, WristbandTender } from '@holdfast/protocol';
import { BATCH_MAX_OPS, MAX_AMOUNT, NO_DECISION } from '@holdfast/protocol';
import type { WalletAccountRecord, WalletView } from '../../model/wallet.js';
import type { Harness, TestDevice } from '../../testing/harness.js';
import { saleBody } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const UID = '04A1B2C3D4E5F6';

const band = (amount: number, counter: number, balanceBefore: number, wristband = UID): WristbandTender => ({
  type: 'wristband',
  amount,
  wristband,
  counter,
  balanceBefore,
});

function topUp(
  d: TestDevice,
  shift: string,
  amount: number,
  counter: number,
  before: number,
  extra: Partial<WalletToppedUpBody> = {},
  decision: Decision = NO_DECISION,
): Op {
  const body: WalletToppedUpBody = {
    shift,
    currency: 'EUR',
    wristband: UID,
    amount,
    counter,
    balanceBefore: before,
    paid: 'cash',
    ...extra,
  };
  return d.chain.next('wallet.topped_up', body, decision);
}

function bandSale(d: TestDevice, shift: string, amount: number, counter: number, before: number, wristband = UID): Op {
  return d.chain.next(
    'sale.recorded',
    saleBody(shift, amount, { tenders: [band(amount, counter, before, wristband)] }),
  );
}

function refund(d: TestDevice, shift: string, sale: string, amount: number, counter: number, before: number): Op {
  const body: WalletRefundedBody = {
    shift,
    currency: 'EUR',
    wristband: UID,
    amount,
    counter,
    balanceBefore: before,
    sale,
  };
  return d.chain.next('wallet.refunded', body);
}

async function sendAll(h: Harness, d: TestDevice, ops: Op[]): Promise<void> {
  const res = await h.send(d.batch(ops));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  for (const r of res.body.results) assert.ok(r.status === 'accepted' || r.status === 'duplicate', JSON.stringify(r));
}

async function wallet(h: Harness, uid = UID): Promise<WalletView> {
  const res = await h.request<WalletView>('GET', `/v1/admin/wallets/${uid}`, { admin: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function exceptionsOf(h: Harness, type: string) {
  return (await h.storage.listExceptions(0, 1000)).items.filter((x) => x.type === type);
}

async function ledgerOf(h: Harness, type: string) {
  return (await h.storage.listLedger(0, 1000)).items.filter((e) => e.type === type);
}

function conserved(a: WalletAccountRecord): void {
  assert.equal(a.balance, a.toppedUp - a.debited + a.refunded, 'top-ups − debits + refunds == balance');
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('wristband wallets', () => {
      test('totals are bounded at ingest: the write past MAX_WALLET_TOTAL is accepted, raised, not applied; the device keeps syncing', async (h) => {
        const d = await h.enrollDevice('booth-big');
        const open = d.openShift();
        const ops: Op[] = [open];
        let counter = 0;
        // Top up and spend the most a chip holds, again and again: each total reaches the bound exactly.
        for (let i = 0; i < MAX_WALLET_TOTAL / MAX_AMOUNT; i++) {
          ops.push(topUp(d, open.id, MAX_AMOUNT, ++counter, 0));
          ops.push(bandSale(d, open.id, MAX_AMOUNT, ++counter, MAX_AMOUNT));
        }
        ops.push(d.closeShift(open.id, 10_000));
        for (let i = 0; i < ops.length; i += BATCH_MAX_OPS) await sendAll(h, d, ops.slice(i, i + BATCH_MAX_OPS));
        const full = await wallet(h);
        assert.deepEqual(
          [full.account.toppedUp, full.account.debited, full.account.blocked],
          [MAX_WALLET_TOTAL, MAX_WALLET_TOTAL, null],
        );

        const next = d.openShift();
        const past = topUp(d, next.id, 1, ++counter, 0);
        const later = d.sale(next.id, 500);
        await sendAll(h, d, [next, past, later]);
        const view = await wallet(h);
        assert.deepEqual(
          [view.account.toppedUp, view.account.debited, view.account.balance, view.account.entries],
          [MAX_WALLET_TOTAL, MAX_WALLET_TOTAL, 0, 2 * (MAX_WALLET_TOTAL / MAX_AMOUNT)],
          'the write past the bound changed no total',
        );
        conserved(view.account);
        const [raised] = (await exceptionsOf(h, 'wristband_clone')).filter((x) => x.opId === past.id);
        assert.deepEqual(
          [raised?.detail.reason, raised?.detail.total, raised?.detail.value],
          ['total_out_of_range', 'toppedUp', MAX_WALLET_TOTAL],
        );
        assert.equal(view.account.blocked?.reason, 'wristband_clone');
        // The device keeps syncing: its next batch is answered, and the op after the refused write is accepted.
        const after = d.sale(next.id, 700);
        const res = await h.send(d.batch([after]));
        assert.deepEqual([res.status, res.body.results[0]?.status], [200, 'accepted']);
      });

      test('top-up, debits and a refund: balance, totals, entries; the cash top-up is in the drawer', async (h) => {
        const d = await h.enrollDevice('booth-1');
        const open = d.openShift();
        const t = topUp(d, open.id, 2_000, 1, 0);
        const s1 = bandSale(d, open.id, 800, 2, 2_000);
        const r = refund(d, open.id, s1.id, 300, 3, 1_200);
        const close = d.closeShift(open.id, 12_000);
        await sendAll(h, d, [open, t, s1, r, close]);
        const view = await wallet(h);
        assert.deepEqual(
          [view.account.toppedUp, view.account.debited, view.account.refunded, view.account.balance],
          [2_000, 800, 300, 1_500],
        );
        conserved(view.account);
        assert.equal(view.account.currency, 'EUR');
        assert.equal(view.account.blocked, null);
        assert.deepEqual(
          view.entries.map((e) => [e.kind, e.counter, e.balanceBefore, e.balanceAfter, e.opId]),
          [
            ['topup', 1, 0, 2_000, t.id],
            ['debit', 2, 2_000, 1_200, s1.id],
            ['refund', 3, 1_200, 1_500, r.id],
          ],
        );
        // Float 10 000 + 2 000 cash top-up: counted 12 000, no variance.
        const [shift] = await h.storage.listShifts(d.id);
        assert.equal(shift?.expectedCash, 12_000);
        assert.deepEqual(await exceptionsOf(h, 'cash_variance'), []);
        assert.equal((await ledgerOf(h, 'wallet.topped_up')).length, 1);
        assert.equal((await ledgerOf(h, 'wallet.refunded')).length, 1);
        // A replay changes nothing.
        await sendAll(h, d, [open, t, s1, r, close]);
        assert.deepEqual((await wallet(h)).account.entries, 3);
      });

      test('overspend from a cloned image at two bars: one overspend, blocked once, ledger event, conserved', async (h) => {
        const booth = await h.enrollDevice('booth');
        const bar1 = await h.enrollDevice('bar-1');
        const bar2 = await h.enrollDevice('bar-2');
        const [bo, b1, b2] = [booth.openShift(), bar1.openShift(), bar2.openShift()];
        await sendAll(h, booth, [bo, topUp(booth, bo.id, 1_000, 1, 0)]);
        // Both bars read the same image (counter 1, balance 10.00) and spend 8.00.
        await sendAll(h, bar1, [b1, bandSale(bar1, b1.id, 800, 2, 1_000)]);
        await sendAll(h, bar2, [b2, bandSale(bar2, b2.id, 800, 2, 1_000)]);
        const view = await wallet(h);
        assert.equal(view.account.balance, -600);
        conserved(view.account);
        const overspends = await exceptionsOf(h, 'wristband_overspend');
        assert.equal(overspends.length, 1);
        assert.equal(overspends[0]?.device, bar2.id);
        assert.equal(overspends[0]?.detail.serverBalance, -600);
        const clones = await exceptionsOf(h, 'wristband_clone');
        assert.equal(clones.length, 1, 'counter 2 written twice');
        const blocked = await ledgerOf(h, 'wristband.blocked');
        assert.equal(blocked.length, 1);
        assert.equal(blocked[0]?.device, bar2.id);
        assert.deepEqual(Object.keys(blocked[0]?.data ?? {}).sort(), ['exceptionId', 'reason', 'wristband']);
        assert.equal(blocked[0]?.data.wristband, UID);
        assert.ok([clones[0]?.id, overspends[0]?.id].includes(blocked[0]?.data.exceptionId as string));
        assert.equal(view.account.blocked?.device, bar2.id);
        // Spending on after the block (a terminal that has not heard yet): applied, no second block.
        await sendAll(h, bar1, [bandSale(bar1, b1.id, 100, 3, 200)]);
        const after = await wallet(h);
        assert.equal(after.account.balance, -700);
        conserved(after.account);
        assert.equal((await ledgerOf(h, 'wristband.blocked')).length, 1);
        assert.equal((await exceptionsOf(h, 'wristband_overspend')).length, 1);
        const listed = await h.request<{ wallets: WalletAccountRecord[] }>('GET', '/v1/admin/wallets?blocked=true', {
          admin: true,
        });
        assert.deepEqual(
          listed.body.wallets.map((w) => w.wristband),
          [UID],
        );
      });

      test('late arrival: debits synced before the top-up that paid for them raise nothing', async (h) => {
        const booth = await h.enrollDevice('booth');
        const bar = await h.enrollDevice('bar');
        const [bo, b] = [booth.openShift(), bar.openShift()];
        const bo2 = topUp(booth, bo.id, 1_000, 1, 0);
        await sendAll(h, bar, [b, bandSale(bar, b.id, 600, 2, 1_000), bandSale(bar, b.id, 400, 3, 400)]);
        assert.equal((await wallet(h)).account.balance, -1_000);
        await sendAll(h, booth, [bo, bo2]);
        const view = await wallet(h);
        assert.equal(view.account.balance, 0);
        assert.deepEqual(await exceptionsOf(h, 'wristband_overspend'), []);
        assert.deepEqual(await exceptionsOf(h, 'wristband_clone'), []);
        assert.equal(view.account.blocked, null);
      });

      test('rollback: a chip restored to an older image reuses a counter → wristband_clone, blocked', async (h) => {
        const d = await h.enrollDevice('bar');
        const open = d.openShift();
        await sendAll(h, d, [
          open,
          topUp(d, open.id, 3_000, 1, 0),
          bandSale(d, open.id, 1_000, 2, 3_000),
          bandSale(d, open.id, 1_000, 3, 2_000),
        ]);
        // Restored to the image after the top-up (counter 1, 30.00), spent again.
        await sendAll(h, d, [bandSale(d, open.id, 500, 2, 3_000)]);
        const clones = await exceptionsOf(h, 'wristband_clone');
        assert.equal(clones.length, 1);
        assert.equal(clones[0]?.detail.reason, 'counter_reused');
        assert.equal((await exceptionsOf(h, 'wristband_overspend')).length, 0, 'still covered: 5.00 left');
        assert.equal((await wallet(h)).account.blocked?.reason, 'wristband_clone');
        assert.equal((await ledgerOf(h, 'wristband.blocked')).length, 1);
      });

      test('concurrent batches of two devices on one wristband: every entry once, totals consistent', async (h) => {
        const devices = await Promise.all([1, 2, 3, 4].map((i) => h.enrollDevice(`bar-${i}`)));
        const opens = devices.map((d) => d.openShift());
        // Each device writes its own counters (4 apart), as if the chip went round the bars.
        const batches = devices.map((d, i) => {
          const ops = [opens[i] as Op];
          for (let k = 0; k < 4; k++) ops.push(topUp(d, (opens[i] as Op).id, 100 + i, 1 + i + 4 * k, 0));
          return d.batch(ops);
        });
        const answers = await Promise.all(batches.map((b) => h.send(b)));
        for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
        const view = await wallet(h);
        assert.equal(view.entries.length, 16);
        assert.equal(view.account.toppedUp, 4 * (100 + 101 + 102 + 103));
        assert.equal(view.account.maxCounter, 16);
        assert.equal(view.account.distinctCounters, 16);
        conserved(view.account);
      });

      test('a card top-up approved offline is an offline payment; a bad wallet body is rejected, naming the field', async (h) => {
        const d = await h.enrollDevice('booth');
        const open = d.openShift();
        const local: Decision = {
          mode: 'local',
          outcome: 'approved',
          policy: '019a5f3c-8e00-7a21-9c44-3b0e5d6f7a81@1',
          rule: 'within_limits',
        };
        const card = topUp(
          d,
          open.id,
          5_000,
          1,
          0,
          { paid: 'card', card: { token: 'tok_aaaaaaaa', brand: 'visa', last4: '1111' } },
          local,
        );
        const bad = d.chain.next('wallet.topped_up', {
          shift: open.id,
          currency: 'EUR',
          wristband: UID,
          amount: 100,
          counter: 0,
          balanceBefore: 5_000,
          paid: 'cash',
        } as unknown as WalletToppedUpBody);
        const res = await h.send(d.batch([open, card, bad]));
        assert.equal(res.status, 200);
        assert.equal(res.body.results[2]?.status, 'rejected');
        assert.match(JSON.stringify(res.body.results[2]), /body\.counter/);
        const payments = await h.storage.listOfflinePayments(d.id);
        assert.deepEqual(
          payments.map((p) => [p.opId, p.amount, p.last4]),
          [[card.id, 5_000, '1111']],
        );
        const view = await wallet(h);
        assert.equal(view.entries.length, 1);
        assert.equal(view.account.balance, 5_000);
        // Card top-ups leave the drawer alone.
        const [shift] = await h.storage.listShifts(d.id);
        assert.equal(shift?.cashIn, 0);
      });

      test('operator: unblock writes wristband.unblocked once; errors name the field', async (h) => {
        const d = await h.enrollDevice('bar');
        const open = d.openShift();
        await sendAll(h, d, [open, topUp(d, open.id, 1_000, 1, 0), bandSale(d, open.id, 100, 2, 9_999)]);
        assert.equal((await wallet(h)).account.blocked?.reason, 'wristband_clone', 'a broken balance chain');
        const path = `/v1/admin/wallets/${UID}/unblock`;
        const unblocked = await h.request<{ unblockedNow: boolean; account: WalletAccountRecord }>('POST', path, {
          admin: true,
          payload: { reason: 'chip replaced, customer verified' },
        });
        assert.equal(unblocked.status, 200, JSON.stringify(unblocked.body));
        assert.equal(unblocked.body.unblockedNow, true);
        assert.equal(unblocked.body.account.blocked, null);
        const again = await h.request<{ unblockedNow: boolean }>('POST', path, {
          admin: true,
          payload: { reason: 'again' },
        });
        assert.equal(again.body.unblockedNow, false);
        const events = await ledgerOf(h, 'wristband.unblocked');
        assert.equal(events.length, 1);
        assert.deepEqual(
          { device: events[0]?.device, wristband: events[0]?.data.wristband, reason: events[0]?.data.reason },
          { device: d.id, wristband: UID, reason: 'chip replaced, customer verified' },
        );
        assert.equal((await wallet(h)).account.blocked, null);
        const noReason = await h.request('POST', path, { admin: true, payload: {} });
        assert.equal(noReason.status, 400);
        assert.equal(noReason.error.field, 'body.reason');
        const badUid = await h.request('GET', '/v1/admin/wallets/xyz', { admin: true });
        assert.equal(badUid.status, 400);
        assert.equal(badUid.error.field, 'uid');
        assert.equal((await h.request('GET', '/v1/admin/wallets/0102030405060708', { admin: true })).status, 404);
        assert.equal((await h.request('GET', `/v1/admin/wallets/${UID}`)).status, 401);
      });
    });
  });
}
