/**
 * GET /v1/admin/forwarding/deadlines (the console's Money at risk): the
 * offline-approved card payments not yet forwarded, most urgent first, each
 * with its deadline (the forwarding deadline after min(approvedAt,
 * receivedAt)), on every backend; settled payments leave the list; the card
 * token never appears.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { ForwardingDeadlineRow } from '../../model/forwarding-deadline-row.js';
import { T0 } from '../../testing/harness.js';
import { offlineSales } from '../../testing/payments.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const HOUR = 3_600_000;

for (const backend of STORAGE_BACKENDS) {
  describe(`forwarding deadlines: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('lists unforwarded payments most urgent first with their deadline; a settled one leaves', async (h) => {
      const early = await h.enrollDevice('early');
      const late = await h.enrollDevice('late');
      h.clock.advance(HOUR);
      const [lateSale] = await offlineSales(h, late, [700]);
      h.clock.advance(-HOUR); // the early device's sales were approved an hour before the late one's
      const [first, second] = await offlineSales(h, early, [1_000, 2_000]);
      const get = async (query = '') => {
        const res = await h.request<{ deadlineHours: number; items: ForwardingDeadlineRow[] }>(
          'GET',
          `/v1/admin/forwarding/deadlines${query}`,
          { admin: true },
        );
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body;
      };
      const listed = await get();
      assert.equal(listed.deadlineHours, 72);
      assert.deepEqual(
        listed.items.map((r) => [r.opId, r.deviceLabel, r.amount, r.deadlineAt - r.deadlineFrom, r.stage]),
        [
          [first, 'early', 1_000, 72 * HOUR, null],
          [second, 'early', 2_000, 72 * HOUR, null],
          [lateSale, 'late', 700, 72 * HOUR, null],
        ],
      );
      assert.ok((listed.items[0]?.deadlineFrom ?? 0) < (listed.items[2]?.deadlineFrom ?? 0));
      assert.ok(!JSON.stringify(listed).includes('tok_'), 'no card token');
      assert.deepEqual(
        (await get('?limit=1')).items.map((r) => r.opId),
        [first],
      );

      await h.storage.settleOfflinePayment({
        payment: { opId: first as string, tenderIndex: 0 },
        owner: 'w1',
        settlement: { status: 'approved', processorId: 'auth_1', at: T0 + 1 },
        exceptionId: h.service.newId(),
      });
      assert.deepEqual(
        (await get()).items.map((r) => r.opId),
        [second, lateSale],
      );
      const bad = await h.request('GET', '/v1/admin/forwarding/deadlines?limit=0', { admin: true });
      assert.deepEqual([bad.status, bad.error.field], [400, 'query.limit']);
    });
  });
}
