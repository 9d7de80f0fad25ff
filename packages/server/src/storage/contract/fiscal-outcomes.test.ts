/**
 * E-invoicing, the rest of the storage suite (every backend;
 * docs/e-invoicing.md): permanent refusals, operators' actions on a
 * rejected bill (through the operator API, audited with the actor),
 * credit notes after their bill, and per-location jurisdiction deadlines.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { Actor, Op, SaleRefundedBody } from '@holdfast/protocol';
import type { ExceptionView } from '../../model/exception-action.js';
import type { FiscalBill, FiscalCreditNote, FiscalOutcome } from '../../model/fiscal-bill.js';
import { type Harness, T0, type TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const LEASE = 30_000;
const HOUR = 3_600_000;
const APPROVED: Actor = { staff: 'ana', approvedBy: 'sup-1' };
const NONE = { mode: 'none', outcome: 'approved', policy: null } as const;

const registered = (n: number): FiscalOutcome => ({
  status: 'registered',
  fiscalNumber: `FE-${String(n).padStart(8, '0')}`,
  sequence: n,
  registeredAt: T0,
});
const rejected: FiscalOutcome = {
  status: 'rejected',
  rejectCode: 'malformed_tax_id',
  reason: 'bad tax id',
  registeredAt: T0,
};

async function shopSales(
  h: Harness,
  d: TestDevice,
  totals: readonly number[],
): Promise<{ shift: string; ids: string[] }> {
  const open = d.openShift();
  const ops = totals.map((t) => d.sale(open.id, t));
  const res = await h.send(d.batch([open, ...ops]));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { shift: open.id, ids: ops.map((o) => o.id) };
}

function refundOp(d: TestDevice, shift: string, sale: string, amount: number): Op {
  const body: SaleRefundedBody = { shift, sale, currency: 'EUR', amount, tender: 'cash' };
  return d.chain.next('sale.refunded', body, NONE, undefined, APPROVED);
}

async function exceptionsOf(h: Harness, type: string): Promise<ExceptionView[]> {
  const res = await h.request<{ items: ExceptionView[] }>('GET', `/v1/admin/exceptions?limit=1000&type=${type}`, {
    admin: true,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.items;
}

async function billOf(h: Harness, opId: string): Promise<FiscalBill> {
  const bill = (await h.storage.listFiscalBills(null)).find((b) => b.opId === opId);
  assert.ok(bill, `bill ${opId}`);
  return bill;
}

/** Claims `opId` as `owner` and records `outcome` for it. */
async function answer(h: Harness, opId: string, outcome: FiscalOutcome): Promise<void> {
  const claimed = await h.storage.claimFiscalBills('w1', h.clock.now(), LEASE, 100);
  assert.ok(
    claimed.some((b) => b.opId === opId),
    `${opId} claimable`,
  );
  const r = await h.storage.recordFiscalAnswer({ opId, outcome, at: h.clock.now(), exceptionId: crypto.randomUUID() });
  assert.equal(r.kind, 'recorded');
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('fiscal outcomes', () => {
      test('a permanent refusal: no retry, one fiscal_refused alarm; the device goes on', async (h) => {
        const a = await h.enrollDevice('a');
        const { ids } = await shopSales(h, a, [100, 200]);
        await h.storage.enrollFiscalBills(T0, 100);
        const [first] = await h.storage.claimFiscalBills('w1', T0, LEASE, 10);
        assert.equal(first?.opId, ids[0]);
        const refusal = { opId: ids[0] as string, code: 'tax_id_deregistered', reason: 'struck off', at: T0 };
        assert.equal(
          await h.storage.refuseFiscalDocument('bill', { ...refusal, owner: 'w2', exceptionId: crypto.randomUUID() }),
          false,
          'only the claim holder refuses',
        );
        assert.equal(
          await h.storage.refuseFiscalDocument('bill', { ...refusal, owner: 'w1', exceptionId: crypto.randomUUID() }),
          true,
        );
        assert.equal(
          await h.storage.refuseFiscalDocument('bill', { ...refusal, owner: 'w1', exceptionId: crypto.randomUUID() }),
          false,
          'a refused bill is refused once',
        );
        const bill = await billOf(h, ids[0] as string);
        assert.deepEqual([bill.state, bill.refused, bill.rejectCode], ['rejected', true, 'tax_id_deregistered']);
        const alarms = await exceptionsOf(h, 'fiscal_refused');
        assert.deepEqual(
          alarms.map((x) => [x.opId, x.severity]),
          [[ids[0], 'alarm']],
        );
        // Never claimed again; the device's next bill is.
        const next = await h.storage.claimFiscalBills('w1', T0 + 10 * LEASE, LEASE, 10);
        assert.deepEqual(
          next.map((b) => b.opId),
          [ids[1]],
        );
      });

      test('resubmit a rejected bill, corrected: pending again under the next submission; audited; the alarm resolved', async (h) => {
        const a = await h.enrollDevice('a');
        const { ids } = await shopSales(h, a, [100]);
        const id = ids[0] as string;
        await h.storage.enrollFiscalBills(T0, 100);
        // Acting on a bill that is not rejected, or does not exist: coded errors, nothing changes.
        const early = await h.request('POST', `/v1/admin/fiscal/bills/${id}/actions`, {
          admin: true,
          payload: { action: 'resubmit', note: 'try' },
        });
        assert.equal(early.status, 409);
        assert.equal(early.error.code, 'fiscal_bill_not_rejected');
        const unknown = await h.request('POST', '/v1/admin/fiscal/bills/nope/actions', {
          admin: true,
          payload: { action: 'non_fiscal', note: 'x' },
        });
        assert.equal(unknown.status, 404);
        assert.equal(unknown.error.code, 'fiscal_bill_unknown');
        await answer(h, id, rejected);
        const bad = await h.request('POST', `/v1/admin/fiscal/bills/${id}/actions`, {
          admin: true,
          payload: { action: 'reprint', note: 'x' },
        });
        assert.equal(bad.status, 400);
        assert.equal(bad.error.field, 'body.action');
        const taxOnCancel = await h.request('POST', `/v1/admin/fiscal/bills/${id}/actions`, {
          admin: true,
          payload: { action: 'cancel', note: 'x', sellerTaxId: 'ESB12345678' },
        });
        assert.equal(taxOnCancel.status, 400);
        assert.equal(taxOnCancel.error.field, 'body.sellerTaxId');
        assert.equal((await billOf(h, id)).state, 'rejected', 'refused requests changed nothing');

        const sup = await h.operator('sue', 'supervisor');
        const res = await h.request<{ bill: FiscalBill; actions: { action: string; by: string; data: object }[] }>(
          'POST',
          `/v1/admin/fiscal/bills/${id}/actions`,
          {
            headers: sup,
            payload: { action: 'resubmit', note: 'tax id corrected', sellerTaxId: 'ESB12345678' },
          },
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(
          [res.body.bill.state, res.body.bill.submission, res.body.bill.sellerTaxId, res.body.bill.rejectCode],
          ['pending', 1, 'ESB12345678', null],
        );
        assert.deepEqual(
          res.body.actions.map((x) => [x.action, x.by]),
          [['resubmit', 'sue']],
        );
        assert.deepEqual(res.body.actions[0]?.data, {
          rejectCode: 'malformed_tax_id',
          rejectReason: 'bad tax id',
          refused: false,
          submission: 0,
          sellerTaxId: 'ESB12345678',
        });
        const [alarm] = await exceptionsOf(h, 'fiscal_rejected');
        assert.equal(alarm?.status, 'resolved');
        assert.equal(alarm?.actions[0]?.by, 'sue');
        const again = await h.request('POST', `/v1/admin/fiscal/bills/${id}/actions`, {
          headers: sup,
          payload: { action: 'resubmit', note: 'twice' },
        });
        assert.equal(again.error.code, 'fiscal_bill_not_rejected', 'a pending bill takes no action');
        // A second rejection of the resubmission is a new alarm (not deduplicated into the first).
        await answer(h, id, { ...rejected, rejectCode: 'rule', reason: 'still wrong' });
        assert.equal((await exceptionsOf(h, 'fiscal_rejected')).length, 2);
        // A viewer may read but not act.
        const viewer = await h.operator('val', 'viewer');
        const denied = await h.request('POST', `/v1/admin/fiscal/bills/${id}/actions`, {
          headers: viewer,
          payload: { action: 'non_fiscal', note: 'x' },
        });
        assert.equal(denied.status, 403);
        const read = await h.request<{ bills: FiscalBill[] }>('GET', '/v1/admin/fiscal/bills?state=rejected', {
          headers: viewer,
        });
        assert.deepEqual(
          read.body.bills.map((b) => b.opId),
          [id],
        );
      });

      test('non_fiscal settles a rejected bill for good; cancel enrols a credit note that cancels it', async (h) => {
        const a = await h.enrollDevice('a');
        const { ids } = await shopSales(h, a, [100, 200]);
        await h.storage.enrollFiscalBills(T0, 100);
        await answer(h, ids[0] as string, rejected);
        await answer(h, ids[1] as string, rejected);
        const nf = await h.request<{ bill: FiscalBill }>('POST', `/v1/admin/fiscal/bills/${ids[0]}/actions`, {
          admin: true,
          payload: { action: 'non_fiscal', note: 'zero-rated sample, not a bill' },
        });
        assert.equal(nf.status, 200, JSON.stringify(nf.body));
        assert.deepEqual([nf.body.bill.state, nf.body.bill.resolution], ['rejected', 'non_fiscal']);
        const cancel = await h.request<{ bill: FiscalBill; creditNote: string; creditNotes: FiscalCreditNote[] }>(
          'POST',
          `/v1/admin/fiscal/bills/${ids[1]}/actions`,
          { admin: true, payload: { action: 'cancel', note: 'customer took it back' } },
        );
        assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
        assert.equal(cancel.body.bill.resolution, 'cancelled');
        assert.equal(cancel.body.creditNote, `cancel-${ids[1]}`);
        assert.deepEqual(
          cancel.body.creditNotes.map((n) => [n.reason, n.total, n.state, n.billFiscalNumber]),
          [['cancel', 200, 'pending', null]],
        );
        const settled = await h.request('POST', `/v1/admin/fiscal/bills/${ids[1]}/actions`, {
          admin: true,
          payload: { action: 'non_fiscal', note: 'again' },
        });
        assert.equal(settled.error.code, 'fiscal_bill_not_rejected', 'a settled bill takes no second action');
        const notes = await h.storage.claimFiscalCreditNotes('w1', h.clock.now(), LEASE, 10);
        assert.deepEqual(
          notes.map((n) => n.opId),
          [`cancel-${ids[1]}`],
        );
        const rec = await h.storage.recordFiscalCreditAnswer({
          opId: `cancel-${ids[1]}`,
          outcome: registered(7),
          at: T0,
          exceptionId: crypto.randomUUID(),
        });
        assert.equal(rec.kind, 'recorded');
        const same = await h.storage.recordFiscalCreditAnswer({
          opId: `cancel-${ids[1]}`,
          outcome: registered(7),
          at: T0,
          exceptionId: crypto.randomUUID(),
        });
        assert.equal(same.kind, 'same');
        const conflict = await h.storage.recordFiscalCreditAnswer({
          opId: `cancel-${ids[1]}`,
          outcome: registered(8),
          at: T0,
          exceptionId: crypto.randomUUID(),
        });
        assert.equal(conflict.kind, 'conflict');
        assert.equal((await exceptionsOf(h, 'fiscal_answer_conflict')).length, 1);
        const unknown = await h.storage.recordFiscalCreditAnswer({
          opId: 'cancel-nobody',
          outcome: registered(9),
          at: T0,
          exceptionId: crypto.randomUUID(),
        });
        assert.equal(unknown.kind, 'unknown_bill');
        const [note] = await h.storage.listFiscalCreditNotes(ids[1] as string);
        assert.equal(note?.fiscalNumber, 'FE-00000007', 'the first answer kept');
      });

      test('a refund is a credit note, claimable only once its bill is registered, naming its fiscal number; once', async (h) => {
        const a = await h.enrollDevice('a');
        const { shift, ids } = await shopSales(h, a, [1_000]);
        const sale = ids[0] as string;
        const refund = refundOp(a, shift, sale, 400);
        const res = await h.send(a.batch([refund]));
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.results[0]?.status, 'accepted', JSON.stringify(res.body));
        assert.equal(await h.storage.enrollFiscalBills(T0, 100), 2, 'the bill and its credit note');
        assert.equal(await h.storage.enrollFiscalBills(T0, 100), 0, 'once');
        assert.deepEqual(
          await h.storage.claimFiscalCreditNotes('w1', T0, LEASE, 10),
          [],
          'not before its bill is registered',
        );
        await answer(h, sale, registered(1));
        const notes = await h.storage.claimFiscalCreditNotes('w1', T0, LEASE, 10);
        assert.deepEqual(
          notes.map((n) => [n.opId, n.billOpId, n.reason, n.total, n.billFiscalNumber]),
          [[refund.id, sale, 'sale.refunded', 400, 'FE-00000001']],
        );
        assert.deepEqual(await h.storage.claimFiscalCreditNotes('w2', T0 + 1, LEASE, 10), [], 'leased');
        // Another document's number is never taken.
        const taken = await h.storage.recordFiscalCreditAnswer({
          opId: refund.id,
          outcome: registered(1),
          at: T0,
          exceptionId: crypto.randomUUID(),
        });
        assert.equal(taken.kind, 'conflict');
        const ok = await h.storage.recordFiscalCreditAnswer({
          opId: refund.id,
          outcome: registered(2),
          at: T0,
          exceptionId: crypto.randomUUID(),
        });
        assert.equal(ok.kind, 'recorded');
        const list = await h.request<{ creditNotes: FiscalCreditNote[] }>('GET', '/v1/admin/fiscal/credit-notes', {
          admin: true,
        });
        assert.deepEqual(
          list.body.creditNotes.map((n) => [n.opId, n.state, n.fiscalNumber]),
          [[refund.id, 'registered', 'FE-00000002']],
        );
      });

      test("per-location jurisdiction: each bill watched against its own deadline, an alarm once when it's past", async (h) => {
        const jur = await h.request('PUT', '/v1/admin/fiscal/jurisdictions/shop-mx', {
          admin: true,
          payload: { jurisdiction: 'MX' },
        });
        assert.equal(jur.status, 200, JSON.stringify(jur.body));
        const unknown = await h.request('PUT', '/v1/admin/fiscal/jurisdictions/shop-xx', {
          admin: true,
          payload: { jurisdiction: 'XX' },
        });
        assert.equal(unknown.status, 400);
        assert.equal(unknown.error.field, 'body.jurisdiction');
        assert.equal(
          (
            await h.request('PUT', '/v1/admin/fiscal/jurisdictions/shop-in', {
              admin: true,
              payload: { jurisdiction: 'IN' },
            })
          ).status,
          200,
        );
        const mx = await h.enrollDevice('mx');
        const india = await h.enrollDevice('in');
        const other = await h.enrollDevice('other');
        for (const [d, location] of [
          [mx, 'shop-mx'],
          [india, 'shop-in'],
        ] as const) {
          const placed = await h.request('POST', `/v1/admin/devices/${d.id}/placement`, {
            admin: true,
            payload: { merchant: 'm1', location, event: null },
          });
          assert.equal(placed.status, 200, JSON.stringify(placed.body));
        }
        const mxIds = (await shopSales(h, mx, [100])).ids;
        const inIds = (await shopSales(h, india, [100])).ids;
        const otherIds = (await shopSales(h, other, [100])).ids;
        await h.storage.enrollFiscalBills(T0, 100);
        const bills = new Map((await h.storage.listFiscalBills(null)).map((b) => [b.opId, b]));
        assert.deepEqual(
          [mxIds[0], inIds[0], otherIds[0]].map((id) => [
            bills.get(id as string)?.jurisdiction,
            bills.get(id as string)?.deadlineMs,
          ]),
          [
            ['MX', 72 * HOUR],
            ['IN', 24 * HOUR],
            [null, null],
          ],
        );
        const sweep = (now: number) =>
          h.storage.raiseFiscalDeadlines({
            now,
            deadlineMs: 48 * HOUR,
            warnAfterMs: 36 * HOUR,
            exceptionIds: Array.from({ length: 50 }, () => crypto.randomUUID()),
          });
        // At 25 h: India's 24 h deadline is missed (an alarm, straight away); Mexico's 72 h not near; the default 48 h not near.
        assert.equal(await sweep(T0 + 25 * HOUR), 1);
        assert.equal(await sweep(T0 + 25 * HOUR), 0, 'once');
        let deadline = await exceptionsOf(h, 'fiscal_deadline');
        assert.deepEqual(
          deadline.map((x) => [x.opId, x.severity, (x.detail as { jurisdiction: string }).jurisdiction]),
          [[inIds[0], 'alarm', 'IN']],
        );
        // At 40 h: the default bill warned (36 h of 48 h); at 55 h: Mexico warned (54 h of 72 h), the default missed.
        assert.equal(await sweep(T0 + 40 * HOUR), 1);
        assert.equal(await sweep(T0 + 55 * HOUR), 2);
        assert.equal(await sweep(T0 + 73 * HOUR), 1, "Mexico's alarm");
        assert.equal(await sweep(T0 + 100 * HOUR), 0);
        deadline = await exceptionsOf(h, 'fiscal_deadline');
        assert.deepEqual(
          deadline
            .map((x) => `${x.opId === mxIds[0] ? 'mx' : x.opId === inIds[0] ? 'in' : 'other'}:${x.severity}`)
            .sort(),
          ['in:alarm', 'mx:alarm', 'mx:warning', 'other:alarm', 'other:warning'],
        );
        const listed = await h.request<{
          known: Record<string, unknown>;
          locations: { location: string; setBy: string }[];
        }>('GET', '/v1/admin/fiscal/jurisdictions', { admin: true });
        assert.deepEqual(Object.keys(listed.body.known).sort(), ['BR', 'CO', 'IN', 'MX']);
        assert.deepEqual(
          listed.body.locations.map((l) => l.location),
          ['shop-in', 'shop-mx'],
        );
      });
    });
  });
}
