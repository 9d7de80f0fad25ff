/**
 * Running totals stay exact: a device recording maximal amounts, again and
 * again, in one shift must not push a shift total past 2^53 and so make its
 * later batches and the shift listing fail. The bound (MAX_SHIFT_TOTAL) is
 * applied at ingest: the op past it is a fact, so it is accepted, raises a
 * `shift_rule` exception (`total_out_of_range`) and leaves the shift's
 * totals as they were; the device keeps syncing. On every backend.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { MAX_SHIFT_TOTAL } from '@holdfast/domain';
import { BATCH_MAX_OPS, MAX_AMOUNT, type Op } from '@holdfast/protocol';
import type { ExceptionRecord } from '../../model/exception.js';
import type { ShiftRecord } from '../../model/shift.js';
import type { Harness, TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

async function sendAll(h: Harness, d: TestDevice, ops: Op[]): Promise<string[]> {
  const statuses: string[] = [];
  for (let i = 0; i < ops.length; i += BATCH_MAX_OPS) {
    const res = await h.send(d.batch(ops.slice(i, i + BATCH_MAX_OPS)));
    assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
    statuses.push(...res.body.results.map((r) => r.status));
  }
  return statuses;
}

async function shifts(h: Harness, device: string): Promise<ShiftRecord[]> {
  const res = await h.request<{ shifts: ShiftRecord[] }>('GET', `/v1/admin/shifts?device=${device}`, { admin: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.shifts;
}

for (const backend of STORAGE_BACKENDS) {
  describe(`shift totals are bounded at ingest: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('cash moved in past MAX_SHIFT_TOTAL: accepted, raised, totals unchanged; the device keeps syncing', async (h) => {
      const d = await h.enrollDevice('lane-big');
      const open = d.openShift();
      const fill = MAX_SHIFT_TOTAL / MAX_AMOUNT; // exactly reaches the bound
      const ops = [open, ...Array.from({ length: fill }, () => d.cashMove(open.id, 'in', MAX_AMOUNT))];
      assert.ok((await sendAll(h, d, ops)).every((s) => s === 'accepted'));
      assert.equal((await shifts(h, d.id))[0]?.cashIn, MAX_SHIFT_TOTAL, 'up to the bound, totals are exact');

      const over = [d.cashMove(open.id, 'in', MAX_AMOUNT), d.sale(open.id, 5), d.cashMove(open.id, 'in', 1)];
      assert.deepEqual(await sendAll(h, d, over), ['accepted', 'accepted', 'accepted'], 'facts are accepted');
      const [shift] = await shifts(h, d.id);
      assert.equal(shift?.cashIn, MAX_SHIFT_TOTAL, 'the ops past the bound leave cashIn as it was');
      assert.equal(shift?.salesTotal, 5, 'other totals still move');
      const raised = await h.request<{ items: ExceptionRecord[] }>('GET', '/v1/admin/exceptions?limit=100', {
        admin: true,
      });
      const outOfRange = raised.body.items.filter(
        (x) => x.type === 'shift_rule' && (x.detail as { code?: string }).code === 'total_out_of_range',
      );
      assert.deepEqual(
        outOfRange.map((x) => x.opId).sort(),
        [over[0]?.id, over[2]?.id].sort(),
        'one total_out_of_range exception per op past the bound',
      );

      // The device is not stuck: it closes this shift and opens the next one.
      const close = d.closeShift(open.id, 0);
      const next = d.openShift();
      assert.deepEqual(await sendAll(h, d, [close, next, d.cashMove(next.id, 'in', 7)]), [
        'accepted',
        'accepted',
        'accepted',
      ]);
      const all = await shifts(h, d.id);
      assert.equal(all.find((s) => s.id === next.id)?.cashIn, 7);
      for (const s of all) {
        for (const value of [s.salesTotal, s.cashSales, s.cardSales, s.cashIn, s.cashOut, s.expectedCash ?? 0]) {
          assert.ok(Number.isSafeInteger(value), `${s.id}: ${value} is exact`);
        }
      }
    });
  });
}
