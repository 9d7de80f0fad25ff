/**
 * The top-up reversal part of the storage suite (every backend of
 * testing/storage-backends.ts; docs/wristbands.md, "Top-up reversal"): a
 * cash top-up given back takes its cash out of the drawer and its amount
 * off the wallet; at ingest a reversal of an unknown top-up, of a card
 * top-up, from another shift, above what the top-up loaded (across all its
 * reversals), or of money the wallet already spent is an exception, and the
 * fact stands.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe } from 'node:test';
import type { Actor, Op, WalletToppedUpBody, WalletTopUpReversedBody } from '@holdfast/protocol';
import { NO_DECISION } from '@holdfast/protocol';
import type { WalletView } from '../../model/wallet.js';
import type { Harness, TestDevice } from '../../testing/harness.js';
import { saleBody } from '../../testing/harness.js';
import { LOCAL_APPROVAL } from '../../testing/payments.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const UID = '04A1B2C3D4E5F6';
const APPROVED: Actor = { staff: 'ana', approvedBy: 'sup-1' };
const UNKNOWN_TOPUP = '01890000-0000-7000-8000-000000000001';

interface Shop {
  d: TestDevice;
  shift: string;
}

async function shop(h: Harness, label: string): Promise<Shop> {
  const d = await h.enrollDevice(label);
  const open = d.openShift();
  await sendAll(h, d, [open]);
  return { d, shift: open.id };
}

async function sendAll(h: Harness, d: TestDevice, ops: Op[]): Promise<void> {
  const res = await h.send(d.batch(ops));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  for (const r of res.body.results) assert.equal(r.status, 'accepted', JSON.stringify(r));
}

function topUp(s: Shop, amount: number, counter: number, before: number, extra: Partial<WalletToppedUpBody> = {}) {
  const body: WalletToppedUpBody = {
    shift: s.shift,
    currency: 'EUR',
    wristband: UID,
    amount,
    counter,
    balanceBefore: before,
    paid: 'cash',
    ...extra,
  };
  return s.d.chain.next('wallet.topped_up', body);
}

function reversal(
  s: Shop,
  topup: string,
  amount: number,
  counter: number,
  before: number,
  actor: Actor | undefined = APPROVED,
  extra: Partial<WalletTopUpReversedBody> = {},
): Op {
  const body: WalletTopUpReversedBody = {
    shift: s.shift,
    currency: 'EUR',
    wristband: UID,
    amount,
    counter,
    balanceBefore: before,
    topup,
    reason: 'customer changed their mind',
    ...extra,
  };
  return s.d.chain.next('wallet.topup_reversed', body, NO_DECISION, undefined, actor);
}

async function exceptionsOf(h: Harness, ...types: string[]) {
  return (await h.storage.listExceptions(0, 1000)).items.filter((x) => types.includes(x.type));
}

async function expectedCash(h: Harness, shift: string): Promise<number> {
  const s = (await h.storage.listShifts(null)).find((x) => x.id === shift);
  assert.ok(s, `shift ${shift}`);
  return s.openingFloat + s.cashSales + s.cashIn - s.cashOut;
}

async function wallet(h: Harness): Promise<WalletView> {
  const res = await h.request<WalletView>('GET', `/v1/admin/wallets/${UID}`, { admin: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('wristband top-up reversals', () => {
      test('a top-up reversed in two parts: cash out of the drawer, off the wallet, nothing raised', async (h) => {
        const booth = await shop(h, 'booth');
        const load = topUp(booth, 5_000, 1, 0);
        // The same batch as the top-up (the usual case), then a later one.
        await sendAll(h, booth.d, [load, reversal(booth, load.id, 2_000, 2, 5_000)]);
        await sendAll(h, booth.d, [reversal(booth, load.id, 3_000, 3, 3_000)]);
        assert.equal(await expectedCash(h, booth.shift), 10_000 + 5_000 - 5_000);
        const w = await wallet(h);
        assert.equal(w.account.balance, 0);
        assert.equal(w.account.toppedUp, 5_000);
        assert.equal(w.account.debited, 5_000);
        assert.deepEqual(await exceptionsOf(h, 'topup_reversal_invalid', 'topup_reversal_over'), []);
        const events = (await h.storage.listLedger(0, 100)).items.filter((e) => e.type === 'wallet.topup_reversed');
        assert.deepEqual(
          events.map((e) => [e.amount, e.data.topup]),
          [
            [2_000, load.id],
            [3_000, load.id],
          ],
        );
      });

      test('a card top-up given back to its card: nothing out of the drawer, one card refund row on the top-up', async (h) => {
        const booth = await shop(h, 'booth');
        const card = { token: 'tok_booth_1', brand: 'visa' as const, last4: '4242' };
        const byCard = booth.d.chain.next(
          'wallet.topped_up',
          {
            shift: booth.shift,
            currency: 'EUR',
            wristband: UID,
            amount: 3_000,
            counter: 1,
            balanceBefore: 0,
            paid: 'card',
            card,
          } satisfies WalletToppedUpBody,
          LOCAL_APPROVAL,
        );
        const back = reversal(booth, byCard.id, 3_000, 2, 3_000, APPROVED, { tender: 'card' });
        const inCash = topUp(booth, 1_000, 3, 0);
        const cashToCard = reversal(booth, inCash.id, 1_000, 4, 1_000, APPROVED, { tender: 'card' });
        await sendAll(h, booth.d, [byCard, back, inCash, cashToCard]);
        assert.equal(await expectedCash(h, booth.shift), 10_000 + 1_000, 'no cash left the drawer');
        const invalid = await exceptionsOf(h, 'topup_reversal_invalid');
        assert.deepEqual(
          invalid.map((x) => x.opId),
          [cashToCard.id],
        );
        const ids = Array.from({ length: 10 }, () => randomUUID());
        assert.equal(await h.storage.enrollCardRefunds(h.clock.now(), 10, ids), 2);
        assert.equal(await h.storage.enrollCardRefunds(h.clock.now(), 10, ids), 0, 'enrolled once');
        const rows = await h.storage.listCardRefunds(null);
        assert.deepEqual(
          rows.map((r) => [r.opId, r.tenderIndex, r.kind, r.saleOpId, r.amount, r.state, r.declineCode]),
          [
            [back.id, 0, 'refund', byCard.id, 3_000, 'pending', null],
            [cashToCard.id, 0, 'refund', inCash.id, 1_000, 'declined', 'card_mismatch'],
          ],
        );
        assert.deepEqual(
          (await exceptionsOf(h, 'card_refund_declined')).map((x) => x.opId),
          [cashToCard.id],
        );
      });

      test('reversed twice in total, across batches: the second is over the top-up; the fact stands', async (h) => {
        const booth = await shop(h, 'booth');
        // 2 000 was already on the chip before this 5 000 top-up.
        const first = topUp(booth, 2_000, 1, 0);
        const load = topUp(booth, 5_000, 2, 2_000);
        await sendAll(h, booth.d, [first, load, reversal(booth, load.id, 5_000, 3, 7_000)]);
        assert.deepEqual(await exceptionsOf(h, 'topup_reversal_over'), []);
        const again = reversal(booth, load.id, 2_000, 4, 2_000);
        await sendAll(h, booth.d, [again]);
        const over = await exceptionsOf(h, 'topup_reversal_over');
        assert.deepEqual(
          over.map((x) => [x.opId, x.detail.reversedBefore, x.detail.topUpAmount, x.severity]),
          [[again.id, 5_000, 5_000, 'alarm']],
        );
        assert.equal(await expectedCash(h, booth.shift), 10_000 + 7_000 - 7_000, 'the cash left the drawer anyway');
        assert.equal((await wallet(h)).account.balance, 0);
      });

      test('an unknown top-up, a card top-up, another shift: topup_reversal_invalid each', async (h) => {
        const booth = await shop(h, 'booth');
        const card = topUp(booth, 3_000, 1, 0, {
          paid: 'card',
          card: { token: 'tok_test_0001', brand: 'visa', last4: '4242' },
        });
        await sendAll(h, booth.d, [card]);
        const unknown = reversal(booth, UNKNOWN_TOPUP, 500, 2, 3_000);
        const ofCard = reversal(booth, card.id, 500, 3, 2_500);
        await sendAll(h, booth.d, [unknown, ofCard]);
        const other = await shop(h, 'other');
        const cash = topUp(other, 1_000, 4, 2_000);
        await sendAll(h, other.d, [cash]);
        // Close the other shop's first shift and reverse in a new one: not the top-up's shift.
        const close = other.d.closeShift(other.shift, 11_000);
        const next = other.d.openShift();
        await sendAll(h, other.d, [close, next]);
        const late = reversal({ d: other.d, shift: next.id }, cash.id, 1_000, 5, 3_000);
        await sendAll(h, other.d, [late]);
        const invalid = await exceptionsOf(h, 'topup_reversal_invalid');
        assert.deepEqual(
          invalid.map((x) => x.opId),
          [unknown.id, ofCard.id, late.id],
        );
        assert.match(String(invalid[0]?.message), /is unknown/);
        assert.match(String(invalid[1]?.message), /paid by card: it is given back to the card, not by cash/);
        assert.match(String(invalid[2]?.message), /in its own shift/);
        assert.deepEqual(await exceptionsOf(h, 'topup_reversal_over'), []);
        assert.equal(await expectedCash(h, booth.shift), 10_000 - 1_000, 'two reversals gave cash back at the booth');
      });

      test('a reversal with no approver, or approved by its own clerk, is raised', async (h) => {
        const booth = await shop(h, 'booth');
        const load = topUp(booth, 5_000, 1, 0);
        const none = reversal(booth, load.id, 1_000, 2, 5_000, { staff: 'ana' });
        const self = reversal(booth, load.id, 1_000, 3, 4_000, { staff: 'ana', approvedBy: 'ana' });
        await sendAll(h, booth.d, [load, none, self]);
        const invalid = await exceptionsOf(h, 'topup_reversal_invalid');
        assert.deepEqual(
          invalid.map((x) => x.opId),
          [none.id, self.id],
        );
        assert.match(String(invalid[0]?.message), /names no approver/);
        assert.match(String(invalid[1]?.message), /the clerk who recorded it/);
        const events = (await h.storage.listLedger(0, 100)).items.filter((e) => e.type === 'wallet.topup_reversed');
        assert.deepEqual(
          events.map((e) => e.data.approvedBy),
          [null, 'ana'],
        );
      });

      test('money the wallet already spent (from a copied chip) is not given back in cash: raised', async (h) => {
        const booth = await shop(h, 'booth');
        const bar = await shop(h, 'bar');
        const load = topUp(booth, 5_000, 1, 0);
        await sendAll(h, booth.d, [load]);
        // A copy of the chip pays 4 000 at the bar; the original comes back to the booth for all 5 000.
        await sendAll(h, bar.d, [
          bar.d.chain.next(
            'sale.recorded',
            saleBody(bar.shift, 4_000, {
              tenders: [{ type: 'wristband', amount: 4_000, wristband: UID, counter: 2, balanceBefore: 5_000 }],
            }),
          ),
        ]);
        const back = reversal(booth, load.id, 5_000, 2, 5_000);
        await sendAll(h, booth.d, [back]);
        const invalid = await exceptionsOf(h, 'topup_reversal_invalid');
        assert.deepEqual(
          invalid.map((x) => [x.opId, x.detail.walletBalance]),
          [[back.id, 1_000]],
        );
        assert.match(String(invalid[0]?.message), /already spent/);
        assert.ok((await exceptionsOf(h, 'wristband_clone')).length > 0, 'the copy is found as well');
      });
    });
  });
}
