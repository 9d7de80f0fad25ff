/**
 * The sale-corrections part of the storage suite (every backend of
 * testing/storage-backends.ts; docs/corrections.md): voids and refunds
 * judged against their sale at ingest, across devices, a refund that
 * arrives before its sale held (`refund_unmatched`) and judged when the
 * sale lands, and never more given back than the sale took.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Actor, Op, SaleBody, SaleRefundedBody, SaleVoidedBody } from '@holdfast/protocol';
import type { ExceptionView } from '../../model/exception-action.js';
import type { SaleCorrectionRecord } from '../../model/sale-correction.js';
import { cardTender, type Harness, type TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const APPROVED: Actor = { staff: 'ana', approvedBy: 'sup-1' };
const NONE = { mode: 'none', outcome: 'approved', policy: null } as const;

/** A sale of two lines: 2 × 500 and 1 × 1 000 (total 2 000). */
function twoLines(shift: string, tenders: SaleBody['tenders'] = [{ type: 'cash', amount: 2_000, tendered: 2_000 }]) {
  return {
    shift,
    currency: 'EUR',
    lines: [
      { sku: 'MUG', name: 'Mug', qty: 2, unitPrice: 500 },
      { sku: 'HAT', name: 'Hat', qty: 1, unitPrice: 1_000 },
    ],
    total: 2_000,
    tenders,
  } satisfies SaleBody;
}

async function shop(h: Harness, label: string): Promise<{ d: TestDevice; shift: string }> {
  const d = await h.enrollDevice(label);
  const open = d.openShift();
  assert.equal((await h.send(d.batch([open]))).status, 200);
  return { d, shift: open.id };
}

async function sendAll(h: Harness, d: TestDevice, ops: Op[]): Promise<void> {
  const res = await h.send(d.batch(ops));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  for (const r of res.body.results) assert.equal(r.status, 'accepted', JSON.stringify(r));
}

function refundOp(
  s: { d: TestDevice; shift: string },
  sale: string,
  amount: number,
  extra: Partial<SaleRefundedBody> = {},
  actor: Actor | undefined = APPROVED,
): Op {
  const body: SaleRefundedBody = { shift: s.shift, sale, currency: 'EUR', amount, tender: 'cash', ...extra };
  return s.d.chain.next('sale.refunded', body, NONE, undefined, actor);
}

function voidOp(
  s: { d: TestDevice; shift: string },
  body: Partial<SaleVoidedBody> & { sale: string },
  actor = APPROVED,
) {
  return s.d.chain.next(
    'sale.voided',
    { shift: s.shift, currency: 'EUR', cash: 0, card: 0, ...body },
    NONE,
    undefined,
    actor,
  );
}

async function exceptions(h: Harness, ...types: string[]): Promise<ExceptionView[]> {
  const res = await h.request<{ items: ExceptionView[] }>('GET', '/v1/admin/exceptions?limit=500', { admin: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items.filter((x) => types.includes(x.type));
}

async function corrections(h: Harness, sale: string) {
  const res = await h.request<{ sale: string; counted: number; corrections: SaleCorrectionRecord[] }>(
    'GET',
    `/v1/admin/sales/${sale}/corrections`,
    { admin: true },
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function expectedCash(h: Harness, shift: string): Promise<number> {
  const s = (await h.storage.listShifts(null)).find((x) => x.id === shift);
  assert.ok(s, `shift ${shift}`);
  return s.openingFloat + s.cashSales + s.cashIn - s.cashOut;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('sale corrections', () => {
      test('refunds that reach the server before their sale are held, then judged when it lands', async (h) => {
        const a = await shop(h, 'a');
        const b = await shop(h, 'b');
        const sale = a.d.chain.next('sale.recorded', twoLines(a.shift));
        // B refunds A's sale before A synced it: 1 000 for both mugs, then 1 500 more (over the 2 000 sale).
        const first = refundOp(b, sale.id, 1_000, { lines: [{ line: 0, qty: 2 }] });
        const second = refundOp(b, sale.id, 1_500);
        await sendAll(h, b.d, [first, second]);
        const held = await exceptions(h, 'refund_unmatched');
        assert.deepEqual(
          held.map((x) => [x.opId, x.status]),
          [
            [first.id, 'open'],
            [second.id, 'open'],
          ],
        );
        assert.deepEqual(await exceptions(h, 'refund_over_sale'), [], 'nothing judged without the sale');
        assert.deepEqual(
          (await corrections(h, sale.id)).corrections.map((c) => c.state),
          ['held', 'held'],
        );
        assert.equal(await expectedCash(h, b.shift), 10_000 - 2_500, 'the cash left B’s drawer either way');

        await sendAll(h, a.d, [sale]);
        const judged = await corrections(h, sale.id);
        assert.deepEqual(
          judged.corrections.map((c) => [c.opId, c.state]),
          [
            [first.id, 'counted'],
            [second.id, 'counted'],
          ],
        );
        assert.equal(judged.counted, 2_500);
        const resolved = await exceptions(h, 'refund_unmatched');
        assert.deepEqual(
          resolved.map((x) => [x.status, x.actions[0]?.by]),
          [
            ['resolved', 'holdfast'],
            ['resolved', 'holdfast'],
          ],
        );
        const over = await exceptions(h, 'refund_over_sale');
        assert.deepEqual(
          over.map((x) => [x.opId, x.device, x.detail.refundedBefore, x.detail.saleTotal]),
          [[second.id, b.d.id, 1_000, 2_000]],
        );
        assert.match(over[0]?.message ?? '', /2500 given back across corrections of a sale of 2000/);
      });

      test('a refund of a known sale: over the sale, over a line, a line it never had, no approver', async (h) => {
        const a = await shop(h, 'a');
        const b = await shop(h, 'b');
        const sale = a.d.chain.next('sale.recorded', twoLines(a.shift));
        await sendAll(h, a.d, [sale]);
        await sendAll(h, b.d, [refundOp(b, sale.id, 500, { lines: [{ line: 0, qty: 1 }] })]);
        assert.deepEqual(await exceptions(h, 'refund_over_sale', 'refund_invalid', 'refund_unmatched'), []);

        const twoMugs = refundOp(b, sale.id, 1_000, { lines: [{ line: 0, qty: 2 }] });
        const noLine = refundOp(b, sale.id, 100, { lines: [{ line: 7, qty: 1 }] });
        const unapproved = refundOp(b, sale.id, 100, {}, { staff: 'ana' });
        await sendAll(h, b.d, [twoMugs, noLine, unapproved]);
        const over = await exceptions(h, 'refund_over_sale');
        assert.deepEqual(
          over.map((x) => x.opId),
          [twoMugs.id],
        );
        assert.match(over[0]?.message ?? '', /line 0: 3 units given back, 2 sold/);
        const invalid = await exceptions(h, 'refund_invalid');
        assert.deepEqual(
          invalid.map((x) => x.opId),
          [noLine.id, unapproved.id],
        );
        assert.match(invalid[0]?.message ?? '', /line 7: the sale has 2 lines/);
        assert.match(invalid[1]?.message ?? '', /needs a supervisor's approval and names no approver/);
        assert.equal((await corrections(h, sale.id)).counted, 1_700, 'facts stand: every refund is counted');
      });

      test('a sale void: its cash out of the drawer in the same shift; another shift, wrong parts, twice are raised', async (h) => {
        const a = await shop(h, 'a');
        const b = await shop(h, 'b');
        const mixed = twoLines(a.shift, [{ type: 'cash', amount: 1_200, tendered: 1_200 }, cardTender(800)]);
        const sale = a.d.chain.next('sale.recorded', mixed);
        await sendAll(h, a.d, [sale]);
        assert.equal(await expectedCash(h, a.shift), 11_200);
        await sendAll(h, a.d, [voidOp(a, { sale: sale.id, cash: 1_200, card: 800 })]);
        assert.equal(await expectedCash(h, a.shift), 10_000, 'the void gave the cash back');
        assert.deepEqual(await exceptions(h, 'sale_void_invalid', 'refund_over_sale'), []);

        const other = a.d.chain.next('sale.recorded', twoLines(a.shift));
        await sendAll(h, a.d, [other]);
        const elsewhere = voidOp(b, { sale: other.id, cash: 2_000 });
        const wrongParts = voidOp(a, { sale: other.id, cash: 1_000 });
        const again = voidOp(a, { sale: sale.id, cash: 1_200, card: 800 });
        const selfApproved = voidOp(a, { sale: other.id, cash: 2_000 }, { staff: 'ana', approvedBy: 'ana' });
        await sendAll(h, b.d, [elsewhere]);
        await sendAll(h, a.d, [wrongParts, again, selfApproved]);
        const invalid = await exceptions(h, 'sale_void_invalid');
        const byOp = new Map(invalid.map((x) => [x.opId, x.message]));
        assert.match(byOp.get(elsewhere.id) ?? '', /voided in its own shift/);
        assert.match(byOp.get(wrongParts.id) ?? '', /void gives back cash 1000 and card 0; the sale took cash 2000/);
        assert.match(byOp.get(again.id) ?? '', /already voided/);
        // Approved by nobody but the clerk: without a roster the shift's clerk (ana) is known.
        assert.match(byOp.get(selfApproved.id) ?? '', /approved by ana, the clerk who recorded it/);
        // Each void after the first of a sale also gives back more than the sale took.
        assert.deepEqual(
          (await exceptions(h, 'refund_over_sale')).map((x) => x.opId),
          [wrongParts.id, again.id, selfApproved.id],
        );
      });

      test('wristband refunds count with the sale’s other corrections', async (h) => {
        const a = await shop(h, 'a');
        const band = {
          type: 'wristband',
          amount: 2_000,
          wristband: '04A1B2C3D4E5F6',
          counter: 2,
          balanceBefore: 5_000,
        } as const;
        const top = a.d.chain.next('wallet.topped_up', {
          shift: a.shift,
          currency: 'EUR',
          wristband: band.wristband,
          amount: 5_000,
          counter: 1,
          balanceBefore: 0,
          paid: 'cash',
        });
        const sale = a.d.chain.next('sale.recorded', twoLines(a.shift, [band]));
        const back = a.d.chain.next(
          'wallet.refunded',
          {
            shift: a.shift,
            currency: 'EUR',
            wristband: band.wristband,
            amount: 1_500,
            counter: 3,
            balanceBefore: 3_000,
            sale: sale.id,
          },
          NONE,
          undefined,
          APPROVED,
        );
        const cash = refundOp(a, sale.id, 1_000);
        await sendAll(h, a.d, [top, sale, back, cash]);
        assert.equal((await corrections(h, sale.id)).counted, 2_500);
        assert.deepEqual(
          (await exceptions(h, 'refund_over_sale')).map((x) => x.opId),
          [cash.id],
        );
      });

      test('a sale and its refund from two devices at once: the refund is never left held', async (h) => {
        for (let round = 0; round < 5; round++) {
          const a = await shop(h, `a${round}`);
          const b = await shop(h, `b${round}`);
          const sale = a.d.chain.next('sale.recorded', twoLines(a.shift));
          const refund = refundOp(b, sale.id, 2_000);
          const [x, y] = await Promise.all([h.send(a.d.batch([sale])), h.send(b.d.batch([refund]))]);
          assert.equal(x.status, 200, JSON.stringify(x.body));
          assert.equal(y.status, 200, JSON.stringify(y.body));
          const list = await corrections(h, sale.id);
          assert.deepEqual(
            list.corrections.map((c) => c.state),
            ['counted'],
            `round ${round}`,
          );
        }
        assert.ok((await exceptions(h, 'refund_unmatched')).every((x) => x.status === 'resolved'));
        assert.deepEqual(await exceptions(h, 'refund_over_sale'), []);
      });
    });
  });
}
