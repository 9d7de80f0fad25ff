/**
 * The card refunder on SQLite against a real processor simulator: card
 * sales made and forwarded through the real ingest path and forwarder,
 * voided and refunded by the real correction ops, and every refund checked
 * against the processor's own records (the card's balance at the
 * processor: charged and credited back exactly once).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Actor, Op, SaleRefundedBody, WalletToppedUpBody, WalletTopUpReversedBody } from '@holdfast/protocol';
import type { CardRefund } from '../model/card-refund.js';
import { type SimFixture, startSim } from '../testing/forwarding-fixture.js';
import { createHarness, type Harness, type TestDevice } from '../testing/harness.js';
import { LOCAL_APPROVAL } from '../testing/payments.js';
import { type CardRefundEvent, CardRefunder, type CardRefunderOptions, cardRefundKeyOf } from './card-refunder.js';
import { Forwarder } from './forwarder.js';

const LEASE = 10_000;
const APPROVED: Actor = { staff: 'ana', approvedBy: 'sup-1' };
const NONE = { mode: 'none', outcome: 'approved', policy: null } as const;
const CARD = { token: 'tok_limited', brand: 'visa', last4: '4242' } as const;

function refunder(h: Harness, f: SimFixture, extra: Partial<CardRefunderOptions> = {}): CardRefunder {
  return new CardRefunder({
    storage: h.storage,
    processor: f.client,
    clock: h.clock,
    owner: 'refunder-1',
    batchSize: 50,
    leaseMs: LEASE,
    timeoutMs: 2_000,
    ...extra,
  });
}

async function forwardAll(h: Harness, f: SimFixture): Promise<void> {
  const fwd = new Forwarder({
    storage: h.storage,
    processor: f.client,
    clock: h.clock,
    owner: 'fwd-1',
    batchSize: 50,
    leaseMs: LEASE,
    timeoutMs: 2_000,
  });
  for (let round = 0; round < 40; round++) {
    await fwd.runOnce();
    h.clock.advance(3_600_000);
    if ((await h.storage.listOfflinePayments(null)).every((p) => p.settledAt !== null || p.refusedAt !== null)) return;
  }
  throw new Error('payments left unforwarded');
}

/** Runs rounds, the clock past every backoff between them, until no card refund is pending. */
async function drain(h: Harness, r: CardRefunder, maxRounds = 40): Promise<CardRefund[]> {
  for (let round = 1; round <= maxRounds; round++) {
    await r.runOnce();
    h.clock.advance(3_600_000);
    const rows = await h.storage.listCardRefunds(null);
    if (rows.every((x) => x.state !== 'pending')) return rows;
  }
  throw new Error(`card refunds left pending after ${maxRounds} rounds`);
}

function refundOp(
  d: TestDevice,
  shift: string,
  sale: string,
  amount: number,
  extra: Partial<SaleRefundedBody> = {},
): Op {
  const body: SaleRefundedBody = { shift, sale, currency: 'EUR', amount, tender: 'card', card: CARD, ...extra };
  return d.chain.next('sale.refunded', body, NONE, undefined, APPROVED);
}

async function sendAll(h: Harness, d: TestDevice, ops: Op[]): Promise<void> {
  const res = await h.send(d.batch(ops));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  for (const r of res.body.results) assert.equal(r.status, 'accepted', JSON.stringify(r));
}

async function balance(f: SimFixture): Promise<number | null | undefined> {
  return f.sim.service.card(CARD.token)?.balance;
}

async function alarms(h: Harness) {
  return (await h.storage.listExceptions(0, 500)).items.filter((x) => x.type === 'card_refund_declined');
}

describe('CardRefunder (SQLite, processor simulator)', () => {
  it('refunds and voids reach the processor once each, though most answers are lost', async () => {
    const h = await createHarness();
    const f = await startSim({ timeoutAfterCommitRate: 0.7, cards: { [CARD.token]: { balance: 100_000 } } });
    try {
      const a = await h.enrollDevice('a');
      const b = await h.enrollDevice('b');
      const open = a.openShift();
      const big = a.cardSale(open.id, 3_000, LOCAL_APPROVAL, CARD);
      const small = a.cardSale(open.id, 1_500, LOCAL_APPROVAL, CARD);
      const voided = a.chain.next(
        'sale.voided',
        { shift: open.id, sale: small.id, currency: 'EUR', cash: 0, card: 1_500 },
        NONE,
        undefined,
        APPROVED,
      );
      await sendAll(h, a, [open, big, small, voided]);
      // Device B refunds A's big sale in two parts, on the clerk's word.
      const bOpen = b.openShift();
      const first = refundOp(b, bOpen.id, big.id, 1_000);
      const second = refundOp(b, bOpen.id, big.id, 2_000);
      await sendAll(h, b, [bOpen, first, second]);
      await forwardAll(h, f);
      assert.equal(await balance(f), 100_000 - 4_500, 'both sales charged once');

      const events: CardRefundEvent[] = [];
      const rows = await drain(h, refunder(h, f, { onEvent: (e) => events.push(e) }));
      const byOp = (x: unknown[], y: unknown[]) => String(x[0]).localeCompare(String(y[0]));
      assert.deepEqual(
        rows.map((x) => [x.opId, x.kind, x.amount, x.state]).sort(byOp),
        [
          [voided.id, 'void', 1_500, 'refunded'],
          [first.id, 'refund', 1_000, 'refunded'],
          [second.id, 'refund', 2_000, 'refunded'],
        ].sort(byOp),
      );
      assert.equal(await balance(f), 100_000, 'every refund credited back exactly once');
      for (const row of rows) {
        const found = await f.client.findRefundByKey(cardRefundKeyOf(row));
        assert.deepEqual([found?.id, found?.amount], [row.refundId, row.amount]);
      }
      assert.ok(
        events.some((e) => e.kind === 'refunded' && e.recovered),
        'some answers were lost and found by key',
      );
      assert.deepEqual(await alarms(h), []);
      const shown = await h.request<{ cardRefunds: CardRefund[] }>('GET', `/v1/admin/sales/${big.id}/corrections`, {
        admin: true,
      });
      assert.deepEqual(
        shown.body.cardRefunds.map((x) => [x.opId, x.state, x.amount]).sort(),
        [
          [first.id, 'refunded', 1_000],
          [second.id, 'refunded', 2_000],
        ].sort(),
      );
      // Another round changes nothing: every row is answered.
      assert.deepEqual(await refunder(h, f).runOnce(), {
        enrolled: 0,
        claimed: 0,
        refunded: 0,
        declined: 0,
        deferred: 0,
      });
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('waits for the sale’s card payment to be captured, then refunds it', async () => {
    const h = await createHarness();
    const f = await startSim({ cards: { [CARD.token]: { balance: 10_000 } } });
    try {
      const a = await h.enrollDevice('a');
      const open = a.openShift();
      const sale = a.cardSale(open.id, 2_000, LOCAL_APPROVAL, CARD);
      await sendAll(h, a, [open, sale, refundOp(a, open.id, sale.id, 500)]);
      const summary = await refunder(h, f).runOnce();
      assert.deepEqual([summary.enrolled, summary.deferred, summary.refunded], [1, 1, 0]);
      const [row] = await h.storage.listCardRefunds(sale.id);
      assert.match(row?.lastError ?? '', /not forwarded yet/);
      await forwardAll(h, f);
      await drain(h, refunder(h, f));
      assert.equal(await balance(f), 10_000 - 2_000 + 500);
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('a refund above the capture, of another card, or of a declined payment is an alarm, never a refund', async () => {
    const h = await createHarness();
    const f = await startSim({ cards: { [CARD.token]: { balance: 10_000 }, tok_blocked: { blocked: true } } });
    try {
      const a = await h.enrollDevice('a');
      const b = await h.enrollDevice('b');
      const open = a.openShift();
      const sale = a.cardSale(open.id, 1_000, LOCAL_APPROVAL, CARD);
      const declined = a.cardSale(open.id, 700, LOCAL_APPROVAL, { ...CARD, token: 'tok_blocked' });
      await sendAll(h, a, [open, sale, declined]);
      await forwardAll(h, f);
      // Recorded offline on B, which could not see the sale: over it, with another card, of a declined payment.
      const bOpen = b.openShift();
      const over = refundOp(b, bOpen.id, sale.id, 1_200);
      const otherCard = refundOp(b, bOpen.id, sale.id, 100, { card: { ...CARD, token: 'tok_other' } });
      const ofDeclined = refundOp(b, bOpen.id, declined.id, 700, { card: { ...CARD, token: 'tok_blocked' } });
      await sendAll(h, b, [bOpen, over, otherCard, ofDeclined]);
      const rows = await drain(h, refunder(h, f));
      const byOp = new Map(rows.map((x) => [x.opId, x]));
      assert.deepEqual(
        [over, otherCard, ofDeclined].map((o) => [byOp.get(o.id)?.state, byOp.get(o.id)?.declineCode]),
        [
          ['declined', 'refund_over_capture'],
          ['declined', 'card_mismatch'],
          ['declined', 'not_captured'],
        ],
      );
      assert.equal(await balance(f), 10_000 - 1_000, 'nothing refunded');
      const raised = await alarms(h);
      assert.deepEqual(raised.map((x) => x.opId).sort(), [over.id, otherCard.id, ofDeclined.id].sort());
      assert.ok(raised.every((x) => x.severity === 'alarm' && x.device === b.id));
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('a process that dies after the processor refunded, before recording it: the next one finds the same refund', async () => {
    const h = await createHarness();
    const f = await startSim({ cards: { [CARD.token]: { balance: 10_000 } } });
    try {
      const a = await h.enrollDevice('a');
      const open = a.openShift();
      const sale = a.cardSale(open.id, 2_000, LOCAL_APPROVAL, CARD);
      await sendAll(h, a, [open, sale, refundOp(a, open.id, sale.id, 800)]);
      await forwardAll(h, f);
      // The first process's refund reaches the real processor; the process dies before it records the answer
      // (its round never finishes: nothing after the processor's commit runs, as after a SIGKILL).
      let reached!: () => void;
      const committed = new Promise<void>((resolve) => {
        reached = resolve;
      });
      const dying = refunder(h, f, {
        owner: 'refunder-dies',
        processor: {
          refund: async (key, request, timeoutMs) => {
            await f.client.refund(key, request, timeoutMs);
            reached();
            return new Promise<never>(() => undefined);
          },
          findRefundByKey: (key, timeoutMs) => f.client.findRefundByKey(key, timeoutMs),
        },
      });
      void dying.runOnce();
      await committed;
      assert.equal((await h.storage.listCardRefunds(sale.id))[0]?.state, 'pending');
      // Its lease still holds: another process takes nothing yet.
      assert.equal((await refunder(h, f, { owner: 'refunder-2' }).runOnce()).claimed, 0);
      h.clock.advance(LEASE);
      const rows = await drain(h, refunder(h, f, { owner: 'refunder-2' }));
      assert.equal(rows[0]?.state, 'refunded');
      assert.equal(await balance(f), 10_000 - 2_000 + 800, 'refunded once');
      assert.equal((await f.client.stats()).sinceStart.replayed >= 1, true, 'the second sending was a replay');
    } finally {
      await h.close();
      await f.close();
    }
  });

  it('a card top-up reversed goes back to its card once; a cash one or an uncaptured one is an alarm', async () => {
    const h = await createHarness();
    const f = await startSim({
      timeoutAfterCommitRate: 0.5,
      cards: { [CARD.token]: { balance: 10_000 }, tok_blocked: { blocked: true } },
    });
    try {
      const a = await h.enrollDevice('a');
      const open = a.openShift();
      const topUp = (uid: string, amount: number, paid: 'cash' | 'card', token: string = CARD.token) =>
        a.chain.next(
          'wallet.topped_up',
          {
            shift: open.id,
            currency: 'EUR',
            wristband: uid,
            amount,
            counter: 1,
            balanceBefore: 0,
            paid,
            ...(paid === 'card' ? { card: { ...CARD, token } } : {}),
          } satisfies WalletToppedUpBody,
          paid === 'card' ? LOCAL_APPROVAL : NONE,
        );
      const reverse = (top: Op, amount: number, counter: number, before: number) => {
        const b = top.body as WalletToppedUpBody;
        return a.chain.next(
          'wallet.topup_reversed',
          {
            shift: open.id,
            currency: 'EUR',
            wristband: b.wristband,
            amount,
            counter,
            balanceBefore: before,
            topup: top.id,
            tender: 'card',
          } satisfies WalletTopUpReversedBody,
          NONE,
          undefined,
          APPROVED,
        );
      };
      const byCard = topUp('04A1B2C3D4E5F6', 2_000, 'card');
      const inCash = topUp('04A1B2C3D4E5F7', 800, 'cash');
      const refused = topUp('04A1B2C3D4E5F8', 600, 'card', 'tok_blocked');
      await sendAll(h, a, [open, byCard, inCash, refused]);
      await forwardAll(h, f);
      assert.equal(await balance(f), 8_000, 'the card top-up charged once');
      // Two parts of the card top-up; a cash top-up "to the card"; a top-up whose card payment was declined.
      const first = reverse(byCard, 1_500, 2, 2_000);
      const rest = reverse(byCard, 500, 3, 500);
      const ofCash = reverse(inCash, 800, 2, 800);
      const ofDeclined = reverse(refused, 600, 2, 600);
      await sendAll(h, a, [first, rest, ofCash, ofDeclined]);
      const rows = await drain(h, refunder(h, f));
      const byOp = new Map(rows.map((x) => [x.opId, x]));
      assert.deepEqual(
        [first, rest, ofCash, ofDeclined].map((o) => {
          const r = byOp.get(o.id);
          return [r?.kind, r?.saleOpId, r?.amount, r?.state, r?.declineCode];
        }),
        [
          ['refund', byCard.id, 1_500, 'refunded', null],
          ['refund', byCard.id, 500, 'refunded', null],
          ['refund', inCash.id, 800, 'declined', 'card_mismatch'],
          ['refund', refused.id, 600, 'declined', 'not_captured'],
        ],
      );
      assert.equal(await balance(f), 10_000, 'the card top-up given back exactly once, in two parts');
      for (const o of [first, rest]) {
        const row = byOp.get(o.id) as CardRefund;
        const found = await f.client.findRefundByKey(cardRefundKeyOf(row));
        assert.deepEqual([found?.id, found?.amount], [row.refundId, row.amount]);
      }
      const raised = await alarms(h);
      assert.deepEqual(raised.map((x) => x.opId).sort(), [ofCash.id, ofDeclined.id].sort());
      assert.ok(
        raised.every((x) => /top-up reversal of card top-up/.test(x.message)),
        JSON.stringify(raised),
      );
      // Nothing left the drawer for the card reversals; the server also flags the cash top-up given back by card.
      const shift = (await h.storage.listShifts(null)).find((x) => x.id === open.id);
      assert.equal(shift?.cashOut, 0);
      const invalid = (await h.storage.listExceptions(0, 500)).items.filter((x) => x.type === 'topup_reversal_invalid');
      assert.deepEqual(
        invalid.map((x) => x.opId),
        [ofCash.id],
      );
      assert.deepEqual(await refunder(h, f).runOnce(), {
        enrolled: 0,
        claimed: 0,
        refunded: 0,
        declined: 0,
        deferred: 0,
      });
    } finally {
      await h.close();
      await f.close();
    }
  });
});
