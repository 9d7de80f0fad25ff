/**
 * The card-refund outbox in the storage suite (every backend;
 * docs/corrections.md "Card refunds at the processor"): the card part of
 * each void and card refund enrolled once its sale is stored, one row per
 * sale card tender; claimed under a lease with the sale's capture; the
 * processor's answer recorded once, a decline raising one alarm.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Actor, Op, SaleRefundedBody } from '@holdfast/protocol';
import { cardTender, type Harness, T0, type TestDevice } from '../../testing/harness.js';
import { LOCAL_APPROVAL } from '../../testing/payments.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const APPROVED: Actor = { staff: 'ana', approvedBy: 'sup-1' };
const NONE = { mode: 'none', outcome: 'approved', policy: null } as const;
const CARD = { token: 'tok_card_a', brand: 'visa', last4: '4242' } as const;
const LEASE = 30_000;
const ids = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => `0190${tag}-0000-7000-8000-${String(i).padStart(12, '0')}`);

async function sendAll(h: Harness, d: TestDevice, ops: Op[]): Promise<void> {
  const res = await h.send(d.batch(ops));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  for (const r of res.body.results) assert.equal(r.status, 'accepted', JSON.stringify(r));
}

function refund(d: TestDevice, shift: string, sale: string, amount: number, extra: Partial<SaleRefundedBody> = {}) {
  const body: SaleRefundedBody = { shift, sale, currency: 'EUR', amount, tender: 'card', card: CARD, ...extra };
  return d.chain.next('sale.refunded', body, NONE, undefined, APPROVED);
}

/** Settles every claimable offline payment as approved by the processor (authorization `auth_<n>`). */
async function capture(h: Harness): Promise<void> {
  const claimed = await h.storage.claimOfflinePayments('fwd', 100, T0, LEASE);
  for (const [i, p] of claimed.entries()) {
    await h.storage.settleOfflinePayment({
      payment: { opId: p.opId, tenderIndex: p.tenderIndex },
      owner: 'fwd',
      settlement: { status: 'approved', processorId: `auth_${String(i).padStart(24, '0')}`, at: T0 },
      exceptionId: ids(1, `cap${i}`)[0] as string,
    });
  }
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('card refunds', () => {
      test('enrolled once their sale is stored: a void per card tender, a card refund on the card that paid', async (h) => {
        const a = await h.enrollDevice('a');
        const b = await h.enrollDevice('b');
        const open = a.openShift();
        // A split sale: 600 cash, 1 000 on card A, 400 on card B.
        const split = a.chain.next(
          'sale.recorded',
          {
            shift: open.id,
            currency: 'EUR',
            lines: [{ sku: 'X', name: 'X', qty: 1, unitPrice: 2_000 }],
            total: 2_000,
            tenders: [
              { type: 'cash', amount: 600, tendered: 600 },
              cardTender(1_000, CARD),
              cardTender(400, { token: 'tok_card_b' }),
            ],
          },
          LOCAL_APPROVAL,
        );
        const voided = a.chain.next(
          'sale.voided',
          { shift: open.id, sale: split.id, currency: 'EUR', cash: 600, card: 1_400 },
          NONE,
          undefined,
          APPROVED,
        );
        const cashSale = a.sale(open.id, 300);
        const cashVoid = a.chain.next(
          'sale.voided',
          { shift: open.id, sale: cashSale.id, currency: 'EUR', cash: 300, card: 0 },
          NONE,
          undefined,
          APPROVED,
        );
        // B refunds a card sale of A's that has not reached the server: held, so not enrolled yet.
        const later = a.cardSale(open.id, 900, LOCAL_APPROVAL, CARD);
        const bOpen = b.openShift();
        const early = refund(b, bOpen.id, later.id, 900);
        const cashRefund = b.chain.next(
          'sale.refunded',
          { shift: bOpen.id, sale: split.id, currency: 'EUR', amount: 100, tender: 'cash' },
          NONE,
          undefined,
          APPROVED,
        );
        await sendAll(h, a, [open, split, voided, cashSale, cashVoid]);
        await sendAll(h, b, [bOpen, early, cashRefund]);

        assert.equal(await h.storage.enrollCardRefunds(T0, 10, ids(10, 'aaaa')), 2, 'the void’s two card tenders');
        assert.equal(await h.storage.enrollCardRefunds(T0, 10, ids(10, 'bbbb')), 0, 'enrolling again makes none');
        await sendAll(h, a, [later]);
        assert.equal(
          await h.storage.enrollCardRefunds(T0 + 1, 10, ids(10, 'cccc')),
          1,
          'the held refund, once its sale is in',
        );
        const rows = await h.storage.listCardRefunds(null);
        assert.deepEqual(
          rows.map((r) => [r.opId, r.tenderIndex, r.kind, r.saleOpId, r.amount, r.state]),
          [
            [voided.id, 1, 'void', split.id, 1_000, 'pending'],
            [voided.id, 2, 'void', split.id, 400, 'pending'],
            [early.id, 0, 'refund', later.id, 900, 'pending'],
          ],
        );
        await assert.rejects(h.storage.enrollCardRefunds(T0, 10, ids(3, 'dddd')), /at least `limit` exception ids/);
      });

      test('claimed under a lease with the sale’s capture; answered once; a decline raises one alarm', async (h) => {
        const a = await h.enrollDevice('a');
        const open = a.openShift();
        const sale = a.cardSale(open.id, 2_000, LOCAL_APPROVAL, CARD);
        const r1 = refund(a, open.id, sale.id, 500);
        const r2 = refund(a, open.id, sale.id, 1_800);
        const mismatch = refund(a, open.id, sale.id, 10, { card: { ...CARD, token: 'tok_other_1' } });
        await sendAll(h, a, [open, sale, r1, r2, mismatch]);
        assert.equal(await h.storage.enrollCardRefunds(T0, 10, ids(10, 'eeee')), 3);
        // Enrolled declined at once: no card tender of the sale was paid by that card.
        const mismatched = (await h.storage.listCardRefunds(sale.id)).find((r) => r.opId === mismatch.id);
        assert.deepEqual([mismatched?.state, mismatched?.declineCode], ['declined', 'card_mismatch']);

        const waiting = await h.storage.claimCardRefunds('p1', T0, LEASE, 10);
        assert.deepEqual(
          waiting.map((c) => [c.opId, c.capture.kind]),
          [
            [r1.id, 'waiting'],
            [r2.id, 'waiting'],
          ],
        );
        assert.deepEqual(await h.storage.claimCardRefunds('p2', T0, LEASE, 10), [], 'leased to p1');
        assert.equal(
          await h.storage.deferCardRefund({
            opId: r1.id,
            tenderIndex: 0,
            owner: 'p2',
            attempts: 1,
            nextAttemptAt: T0,
            error: 'x',
          }),
          false,
          'only the holder defers',
        );
        for (const c of waiting) {
          assert.equal(
            await h.storage.deferCardRefund({
              ...c,
              owner: 'p1',
              attempts: 1,
              nextAttemptAt: T0 + 5,
              error: 'waiting',
            }),
            true,
          );
        }
        assert.deepEqual(await h.storage.claimCardRefunds('p2', T0, LEASE, 10), [], 'backing off');
        await capture(h);
        const claimed = await h.storage.claimCardRefunds('p2', T0 + 5, LEASE, 10);
        assert.deepEqual(
          claimed.map((c) => [c.opId, c.attempts, c.capture]),
          [
            [r1.id, 1, { kind: 'captured', authorizationId: `auth_${'0'.repeat(24)}` }],
            [r2.id, 1, { kind: 'captured', authorizationId: `auth_${'0'.repeat(24)}` }],
          ],
        );
        const authorizationId = `auth_${'0'.repeat(24)}`;
        const answer = (
          opId: string,
          outcome: Parameters<typeof h.storage.recordCardRefund>[0]['outcome'],
          tag: string,
        ) =>
          h.storage.recordCardRefund({
            opId,
            tenderIndex: 0,
            owner: 'p2',
            at: T0 + 6,
            exceptionId: ids(1, tag)[0] as string,
            outcome,
          });
        const done = await answer(r1.id, { status: 'refunded', authorizationId, refundId: 'rfnd_1' }, 'ffff');
        assert.deepEqual([done?.state, done?.refundId, done?.claimedBy], ['refunded', 'rfnd_1', null]);
        const again = await answer(r1.id, { status: 'declined', authorizationId, code: 'x', message: 'x' }, 'ffff');
        assert.deepEqual([again?.state, again?.refundId], ['refunded', 'rfnd_1'], 'the first answer stays');
        const declined = await answer(
          r2.id,
          { status: 'declined', authorizationId, code: 'refund_over_capture', message: 'at most 1500 more' },
          'ab01',
        );
        assert.equal(declined?.state, 'declined');
        await answer(
          r2.id,
          { status: 'declined', authorizationId, code: 'refund_over_capture', message: 'again' },
          'ab02',
        );
        assert.equal(
          await answer(
            '01900000-0000-7000-8000-00000000dead',
            { status: 'refunded', authorizationId, refundId: 'r' },
            'ab03',
          ),
          null,
        );
        const alarms = (await h.storage.listExceptions(0, 100)).items.filter((x) => x.type === 'card_refund_declined');
        assert.deepEqual(
          alarms.map((x) => [x.opId, x.severity, x.detail.code]).sort(),
          [
            [mismatch.id, 'alarm', 'card_mismatch'],
            [r2.id, 'alarm', 'refund_over_capture'],
          ].sort(),
        );
        assert.deepEqual(await h.storage.claimCardRefunds('p3', T0 + 10 * LEASE, LEASE, 10), [], 'nothing pending');
      });
    });
  });
}
