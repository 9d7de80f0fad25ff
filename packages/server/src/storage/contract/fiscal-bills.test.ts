/**
 * The e-invoicing part of the storage suite (every backend): accepted
 * sales enrolled as bills once, each device's bills claimed one at a time
 * in seq order under a lease, the authority's answer recorded once — a
 * duplicate answer never gives a bill a second number, an answer for an
 * unknown bill stores nothing, a number out of order is flagged.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { receiptNumber } from '@holdfast/domain';
import type { FiscalOutcome } from '../../model/fiscal-bill.js';
import { type Harness, T0, type TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const LEASE = 30_000;

const registered = (n: number): FiscalOutcome => ({
  status: 'registered',
  fiscalNumber: `FE-${String(n).padStart(8, '0')}`,
  sequence: n,
  registeredAt: T0,
});

/** Opens a shift on `d` and records cash sales of `totals`; their op ids in seq order. */
async function sales(h: Harness, d: TestDevice, totals: readonly number[]): Promise<string[]> {
  const open = d.openShift();
  const ops = totals.map((t) => d.sale(open.id, t));
  const res = await h.send(d.batch([open, ...ops]));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return ops.map((o) => o.id);
}

async function exceptionsOf(h: Harness, type: string) {
  const page = await h.storage.listExceptions(0, 1000);
  return page.items.filter((x) => x.type === type);
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('fiscal bills', () => {
      test('enroll: one bill per accepted sale, once, with its provisional number; other kinds are not bills', async (h) => {
        const a = await h.enrollDevice('a');
        const ids = await sales(h, a, [500, 700]);
        assert.equal(await h.storage.enrollFiscalBills(T0, 100), 2);
        assert.equal(await h.storage.enrollFiscalBills(T0, 100), 0, 'enrolling again makes none');
        const bills = await h.storage.listFiscalBills(null);
        assert.deepEqual(
          bills.map((b) => [b.opId, b.seq, b.total, b.lines, b.state, b.provisionalNumber, b.fiscalNumber]),
          [
            [ids[0], 2, 500, 1, 'pending', receiptNumber(a.id, 2), null],
            [ids[1], 3, 700, 1, 'pending', receiptNumber(a.id, 3), null],
          ],
        );
      });

      test('claim: only each device its lowest pending bill, leased; the next once the first is answered', async (h) => {
        const a = await h.enrollDevice('a');
        const b = await h.enrollDevice('b');
        const aIds = await sales(h, a, [100, 200]);
        const bIds = await sales(h, b, [300]);
        await h.storage.enrollFiscalBills(T0, 100);
        const first = await h.storage.claimFiscalBills('w1', T0, LEASE, 10);
        assert.deepEqual(first.map((x) => x.opId).sort(), [aIds[0], bIds[0]].sort());
        assert.deepEqual(await h.storage.claimFiscalBills('w2', T0 + 1, LEASE, 10), [], 'leased, and a[1] waits');
        // A lease that ran out is taken over, still the same bill (never a[1] before a[0]).
        const takeover = await h.storage.claimFiscalBills('w2', T0 + LEASE, LEASE, 10);
        assert.deepEqual(takeover.map((x) => x.opId).sort(), [aIds[0], bIds[0]].sort());
        assert.equal(
          await h.storage.deferFiscalBill({
            opId: aIds[0] as string,
            owner: 'w1',
            attempts: 1,
            nextAttemptAt: 0,
            error: 'x',
          }),
          false,
          'the old owner cannot defer',
        );
        const rec = await h.storage.recordFiscalAnswer({
          opId: aIds[0] as string,
          outcome: registered(1),
          at: T0,
          exceptionId: 'x1',
        });
        assert.equal(rec.kind, 'recorded');
        const next = await h.storage.claimFiscalBills('w3', T0 + LEASE, LEASE, 10);
        assert.deepEqual(
          next.map((x) => x.opId),
          [aIds[1]],
        );
      });

      test('defer: backoff stored, claim released; not claimable before next attempt', async (h) => {
        const a = await h.enrollDevice('a');
        const [id] = await sales(h, a, [100]);
        await h.storage.enrollFiscalBills(T0, 100);
        await h.storage.claimFiscalBills('w1', T0, LEASE, 10);
        assert.equal(
          await h.storage.deferFiscalBill({
            opId: id as string,
            owner: 'w1',
            attempts: 1,
            nextAttemptAt: T0 + 5000,
            error: 'timeout',
          }),
          true,
        );
        assert.deepEqual(await h.storage.claimFiscalBills('w1', T0 + 4999, LEASE, 10), []);
        const again = await h.storage.claimFiscalBills('w1', T0 + 5000, LEASE, 10);
        assert.deepEqual(
          again.map((x) => [x.opId, x.attempts, x.lastError]),
          [[id, 1, 'timeout']],
        );
      });

      test('answers: recorded once; the same again changes nothing; a different one keeps the first with an alarm', async (h) => {
        const a = await h.enrollDevice('a');
        const [id, id2] = await sales(h, a, [100, 200]);
        await h.storage.enrollFiscalBills(T0, 100);
        const opId = id as string;
        assert.equal(
          (await h.storage.recordFiscalAnswer({ opId, outcome: registered(7), at: T0, exceptionId: 'x1' })).kind,
          'recorded',
        );
        assert.equal(
          (await h.storage.recordFiscalAnswer({ opId, outcome: registered(7), at: T0, exceptionId: 'x2' })).kind,
          'same',
        );
        const conflict = await h.storage.recordFiscalAnswer({
          opId,
          outcome: registered(9),
          at: T0,
          exceptionId: 'x3',
        });
        assert.equal(conflict.kind, 'conflict');
        const [bill] = await h.storage.listFiscalBills(a.id);
        assert.deepEqual([bill?.state, bill?.fiscalNumber], ['registered', 'FE-00000007'], 'the first number kept');
        assert.equal((await exceptionsOf(h, 'fiscal_answer_conflict')).length, 1);
        // A number another bill holds is never given to a second bill.
        const taken = await h.storage.recordFiscalAnswer({
          opId: id2 as string,
          outcome: registered(7),
          at: T0,
          exceptionId: 'x4',
        });
        assert.equal(taken.kind, 'conflict');
        assert.equal((await h.storage.listFiscalBills(a.id))[1]?.state, 'pending');
        assert.equal((await exceptionsOf(h, 'fiscal_answer_conflict')).length, 2);
      });

      test('an answer for an unknown bill stores nothing', async (h) => {
        const result = await h.storage.recordFiscalAnswer({
          opId: '019a0000-0000-7000-8000-000000000000',
          outcome: registered(1),
          at: T0,
          exceptionId: 'x1',
        });
        assert.equal(result.kind, 'unknown_bill');
        assert.deepEqual(await h.storage.listFiscalBills(null), []);
      });

      test('a rejection is final, with a fiscal_rejected alarm; the device goes on to its next bill', async (h) => {
        const a = await h.enrollDevice('a');
        const [id, id2] = await sales(h, a, [0, 200]);
        await h.storage.enrollFiscalBills(T0, 100);
        const rec = await h.storage.recordFiscalAnswer({
          opId: id as string,
          outcome: { status: 'rejected', rejectCode: 'zero_total', reason: 'total 0', registeredAt: T0 },
          at: T0,
          exceptionId: 'x1',
        });
        assert.equal(rec.kind, 'recorded');
        const [x] = await exceptionsOf(h, 'fiscal_rejected');
        assert.deepEqual([x?.opId, x?.severity, x?.device], [id, 'alarm', a.id]);
        const next = await h.storage.claimFiscalBills('w1', T0, LEASE, 10);
        assert.deepEqual(
          next.map((b) => b.opId),
          [id2],
        );
      });

      test('a fiscal number lower than an earlier bill of the device got is recorded and flagged', async (h) => {
        const a = await h.enrollDevice('a');
        const [id, id2] = await sales(h, a, [100, 200]);
        await h.storage.enrollFiscalBills(T0, 100);
        await h.storage.recordFiscalAnswer({ opId: id as string, outcome: registered(5), at: T0, exceptionId: 'x1' });
        const late = await h.storage.recordFiscalAnswer({
          opId: id2 as string,
          outcome: registered(3),
          at: T0,
          exceptionId: 'x2',
        });
        assert.deepEqual([late.kind, late.kind === 'recorded' && late.outOfOrder], ['recorded', true]);
        const [x] = await exceptionsOf(h, 'fiscal_out_of_order');
        assert.deepEqual([x?.opId, x?.severity], [id2, 'warning']);
      });
      test('deadline watch: a warning then an alarm per pending bill, each once; a registered bill none', async (h) => {
        const a = await h.enrollDevice('a');
        const [done, late] = await sales(h, a, [100, 200]);
        await h.storage.enrollFiscalBills(T0, 100);
        await h.storage.recordFiscalAnswer({ opId: done as string, outcome: registered(1), at: T0, exceptionId: 'x0' });
        const HOUR = 3_600_000;
        const query = (now: number) => ({
          now,
          deadlineMs: 24 * HOUR,
          warnAfterMs: 18 * HOUR,
          exceptionIds: [`xd-${now}-1`, `xd-${now}-2`],
        });
        assert.equal(await h.storage.raiseFiscalDeadlines(query(T0 + 17 * HOUR)), 0, 'not yet');
        assert.equal(await h.storage.raiseFiscalDeadlines(query(T0 + 19 * HOUR)), 1);
        assert.equal(await h.storage.raiseFiscalDeadlines(query(T0 + 20 * HOUR)), 0, 'a warning once');
        assert.equal(await h.storage.raiseFiscalDeadlines(query(T0 + 25 * HOUR)), 1);
        assert.equal(await h.storage.raiseFiscalDeadlines(query(T0 + 26 * HOUR)), 0, 'an alarm once');
        const raised = await exceptionsOf(h, 'fiscal_deadline');
        assert.deepEqual(
          raised.map((x) => [x.opId, x.severity, x.detail.stage]),
          [
            [late, 'warning', 'warning'],
            [late, 'alarm', 'missed'],
          ],
        );
        assert.equal((await h.storage.listFiscalBills(a.id))[1]?.deadlineStage, 'missed');
      });
    });
  });
}
