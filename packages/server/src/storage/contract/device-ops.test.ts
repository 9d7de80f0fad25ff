/**
 * One device's ops, newest first and paged by seq (GET
 * /v1/admin/devices/:id/ops; the console's device page: recent ops and the
 * ones the server rejected), on every backend: pages do not overlap or skip,
 * the status filter keeps only what it names, another device's ops never
 * appear, and bad input is refused naming its parameter.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { StoredOp } from '../../model/batch.js';
import { saleBody } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';
import type { Page } from '../storage.js';

for (const backend of STORAGE_BACKENDS) {
  describe(`device ops: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('pages newest first by seq; the rejected ones alone with status=rejected', async (h) => {
      const d = await h.enrollDevice();
      const other = await h.enrollDevice();
      const otherOpen = other.openShift();
      assert.equal((await h.send(other.batch([otherOpen, other.sale(otherOpen.id, 1)]))).status, 200);
      const open = d.openShift();
      const ops = [open];
      for (let i = 0; i < 5; i++) ops.push(d.sale(open.id, 100 + i));
      const bad = d.chain.next('sale.recorded', { ...saleBody(open.id, 100), total: 101 });
      ops.push(bad, d.sale(open.id, 7));
      const sent = await h.send(d.batch(ops));
      assert.equal(sent.status, 200);

      const get = (query: string) =>
        h.request<Page<StoredOp>>('GET', `/v1/admin/devices/${d.id}/ops${query}`, { admin: true });
      const seen: number[] = [];
      let query = '?limit=3';
      for (;;) {
        const page = await get(query);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        assert.ok(page.body.items.length <= 3);
        for (const item of page.body.items) assert.equal(item.op.device, d.id);
        seen.push(...page.body.items.map((s) => s.op.seq));
        if (page.body.next === null) break;
        query = `?limit=3&before=${page.body.next}`;
      }
      assert.deepEqual(seen, [8, 7, 6, 5, 4, 3, 2, 1]);

      const rejected = await get('?status=rejected');
      assert.deepEqual(
        rejected.body.items.map((s) => [s.op.id, s.result.status, s.result.status === 'rejected' && s.result.field]),
        [[bad.id, 'rejected', 'body.total']],
      );
      assert.equal(rejected.body.next, null);
      const accepted = await get('?status=accepted&before=8&limit=200');
      assert.deepEqual(
        accepted.body.items.map((s) => s.op.seq),
        [6, 5, 4, 3, 2, 1],
      );
    });

    test('refuses bad parameters naming them, and an unknown device', async (h) => {
      const d = await h.enrollDevice();
      for (const [query, field] of [
        ['?limit=0', 'query.limit'],
        ['?limit=201', 'query.limit'],
        ['?before=0', 'query.before'],
        ['?before=x', 'query.before'],
        ['?status=dead', 'query.status'],
      ]) {
        const res = await h.request('GET', `/v1/admin/devices/${d.id}/ops${query}`, { admin: true });
        assert.deepEqual([res.status, res.error.code, res.error.field], [400, 'invalid_request', field], query);
      }
      const unknown = await h.request('GET', '/v1/admin/devices/0190a0a0-0000-7000-8000-000000000000/ops', {
        admin: true,
      });
      assert.deepEqual([unknown.status, unknown.error.code], [404, 'not_found']);
      const notId = await h.request('GET', '/v1/admin/devices/nope/ops', { admin: true });
      assert.deepEqual([notId.status, notId.error.field], [400, 'id']);
    });
  });
}
